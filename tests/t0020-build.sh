#!/usr/bin/env bash
# t0020-build.sh - the build itself: `make` right after `make` does nothing
# (no compile, no relink: tool objects are kept, not deleted as
# intermediates), and the standalone pipelines/rounds.mk is not pulled into
# the top Makefile (it defined a bogus `rounds: /round--01/done` target).
. "$(dirname "$0")/lib.sh"

# a fresh tree (no build/, so no .d files naming the objects yet): a clean
# build must not delete the tool objects as intermediates, or the next make
# recompiles and relinks every tool
mkdir "$tmp/src" && cp -r Makefile pipelines lib tools "$tmp/src/"
make --no-print-directory -C "$tmp/src" -n all >"$tmp/fresh" 2>&1
t "a clean build keeps the tool objects (no rm of intermediates)" '! grep -q "^rm build/obj" "$tmp/fresh"'

make --no-print-directory all >"$tmp/make1" 2>&1; rc=$?
t "make all succeeds" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/make1"
make --no-print-directory all >"$tmp/make2" 2>&1; rc=$?
t "make right after make compiles and links nothing" \
	'[ $rc = 0 ] && ! grep -Eq "(^| )(cc|gcc|clang|ar) " "$tmp/make2"' || sed 's/^/# /' "$tmp/make2"
t "tool objects are kept" '[ -e build/obj/tools/score.o ] && [ -e build/obj/tools/sample-arch.o ]'
make --no-print-directory -n rounds >"$tmp/rounds" 2>&1
t "the top Makefile has no rounds target from pipelines/rounds.mk" '! grep -q "round--01" "$tmp/rounds"'
finish
