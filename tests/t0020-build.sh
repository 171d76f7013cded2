#!/usr/bin/env bash
# t0020-build.sh - the build itself: `make` right after `make` does nothing
# (no compile, no relink: tool objects are kept, not deleted as
# intermediates), and the standalone pipelines/rounds.mk is not pulled into
# the top Makefile (it defined a bogus `rounds: /round--01/done` target);
# lib/ keeps its layers: a folder includes only from itself and the folders
# before it in the Makefile's LIB_DIRS (README.md "Source layout").
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

# "x.h" -> its folder; each lib/ include then must name a folder at or before
# the includer's own in LIB_DIRS, and search and train none of each other
dirs=$(sed -n 's/^LIB_DIRS := //p' Makefile)
for d in $dirs; do for f in lib/$d/*; do echo "$d ${f##*/}"; done; done >"$tmp/where"
for d in $dirs; do
	for f in lib/$d/*.[ch]; do
		sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | sed "s|^|$d $f |"
	done
done >"$tmp/includes"
awk -v dirs="$dirs" 'BEGIN { n = split(dirs, d); for (i = 1; i <= n; i++) rank[d[i]] = i }
	NR == FNR { where[$2] = $1; next }
	($3 in where) && (rank[where[$3]] > rank[$1] ||
		($1 == "search" && where[$3] == "train") || ($1 == "train" && where[$3] == "search")) {
		print $2 " includes " where[$3] "/" $3 }' "$tmp/where" "$tmp/includes" >"$tmp/upward"
t "lib/ folders are layers: no include goes up ($dirs)" \
	'[ -n "$dirs" ] && [ -s "$tmp/includes" ] && [ ! -s "$tmp/upward" ]' || sed 's/^/# /' "$tmp/upward"
t "the genotype text parser needs no HDF5 (genotext.c includes no h5io.h, genofile.h)" \
	'! grep -Eq "#include [<\"](h5io|genofile|hdf5)\.h" lib/arch/genotext.c'
finish
