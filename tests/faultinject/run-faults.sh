#!/usr/bin/env bash
# run-faults.sh - (to become tests/t0900-faults.sh once it passes) I/O fault injection (tests/faultinject/failinject.c, an
# LD_PRELOAD shim): for several tools, the Nth write / fsync / rename / close
# fails with ENOSPC or EIO. Whenever the fault hits, the tool must exit
# non-zero with exactly one stderr line naming the output file, leave no
# temporary file, and leave the previous output byte-identical (a failed
# fsync of the folder, after the rename, may leave the complete new file).
# Writes fail from the Nth on ("N+": a disk that stays full). Then a real
# 1 MB tmpfs that fills up, when the machine lets us mount one.
set -u
cd "$(dirname "$0")/../.."
T=$(mktemp -d "${TMPDIR:-/tmp}/t0900.XXXXXX")
trap 'umount "$T/small" 2>/dev/null; rm -rf "$T"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
PY=/usr/bin/python3

SO=$T/failinject.so
cc -shared -fPIC -O1 -o "$SO" tests/faultinject/failinject.c -ldl || { echo "1..0 # SKIP no cc"; exit 0; }
# ASan builds (make check-asan) need their runtime first; the shim goes after it
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

$PY - "$T" <<'PYEOF'
import struct, sys
T = sys.argv[1]
open(f"{T}/img", "wb").write(struct.pack(">IIII", 0x803, 4, 6, 6) + bytes(range(144)))
open(f"{T}/lab", "wb").write(struct.pack(">II", 0x801, 4) + bytes([0, 1, 0, 1]))
PYEOF
G='[custom] normal: identity@0 + max_pool_3x3@1 | concat 2 || reduce: max_pool_3x3@0 + conv_1x1@1 | concat 2'
mkdir -p "$T/out"
# name|command writing $O (run with bash -c; $O is exported) |command writing another content to $O
cases=(
"show-genotype|bin/show-genotype -o \"\$O\" nasnet-a|bin/show-genotype -o \"\$O\" enas"
"build-net|bin/build-net -q --genotype \"$G\" --filters 2 --input 1x8x8 --classes 2 -o \"\$O\"|bin/build-net -q --genotype \"$G\" --filters 2 --input 1x8x8 --classes 2 --seed 9 -o \"\$O\""
"import-data|bin/import-data idx -q --train-images $T/img --train-labels $T/lab --valid 1 -o \"\$O\"|bin/import-data idx -q --train-images $T/img --train-labels $T/lab --valid 2 -o \"\$O\""
)
faults="write:1+:ENOSPC write:3+:ENOSPC write:8+:EIO write:20+:ENOSPC fsync:1:EIO fsync:2:EIO rename:1:EIO close:1:EIO close:1:ENOSPC"
hits=0
for c in "${cases[@]}"; do
	IFS='|' read -r name cmd prevcmd <<<"$c"
	export O=$T/out/$name.h5
	rm -rf "$T/out"; mkdir -p "$T/out"
	bash -c "$cmd" >/dev/null 2>&1 && cp "$O" "$T/new.h5" || { notok "$name: clean run"; continue; }
	bash -c "$prevcmd" >/dev/null 2>&1 && cp "$O" "$T/prev.h5" || { notok "$name: previous output"; continue; }
	if cmp -s "$T/new.h5" "$T/prev.h5"; then notok "$name: previous output differs from the new one"; continue; fi
	for f in $faults; do
		cp "$T/prev.h5" "$O"; rm -f "$T/log"
		FAILINJECT=$f FAILINJECT_LOG=$T/log LD_PRELOAD=$SO bash -c "$cmd" >/dev/null 2>"$T/err"; rc=$?
		if [ ! -s "$T/log" ]; then
			[ $rc -eq 0 ] && cmp -s "$O" "$T/new.h5" && ok "$name $f: not reached, output complete" ||
				notok "$name $f: not reached, but rc $rc or output differs"
			continue
		fi
		hits=$((hits + 1))
		why=
		[ $rc -ne 0 ] || why="$why exit 0"
		[ "$(wc -l <"$T/err")" -eq 1 ] || why="$why $(wc -l <"$T/err") stderr lines"
		grep -q "$name.h5\|$T/out" "$T/err" || why="$why message names no file"
		[ -z "$(ls -A "$T/out" | grep -v "^$name.h5\$")" ] || why="$why left $(ls -A "$T/out" | tr '\n' ' ')"
		if [ "${f%%:*}" = fsync ] && [ "${f#fsync:}" = 2:EIO ]; then
			cmp -s "$O" "$T/prev.h5" || cmp -s "$O" "$T/new.h5" || why="$why output neither previous nor new"
		else
			cmp -s "$O" "$T/prev.h5" || why="$why previous output changed"
		fi
		if [ -z "$why" ]; then ok "$name $f: exit $rc, one line, previous output intact"
		else notok "$name $f:$why ($(head -c 200 "$T/err"))"; fi
	done
done
echo "# $hits faults injected"

# a real full filesystem
mkdir -p "$T/small"
if mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
	bin/show-genotype -o "$T/small/g.h5" nasnet-a >/dev/null && cp "$T/small/g.h5" "$T/gprev.h5"
	head -c 900000 /dev/zero >"$T/small/filler" 2>/dev/null
	bin/build-net -q --filters 8 --input 1x16x16 -o "$T/small/g.h5" >/dev/null 2>"$T/err"; rc=$?
	left=$(ls -A "$T/small" | grep -v '^g.h5$\|^filler$')
	[ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && [ -z "$left" ] && cmp -s "$T/small/g.h5" "$T/gprev.h5" &&
		ok "full 1 MB tmpfs: exit $rc, one line, no temporary, previous file intact" ||
		notok "full 1 MB tmpfs: rc $rc, left '$left', $(head -c 200 "$T/err")"
	umount "$T/small"
else
	n=$((n + 1)); echo "ok $n # SKIP cannot mount a tmpfs here"
fi
echo "1..$n"
