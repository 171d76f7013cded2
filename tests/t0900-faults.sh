#!/usr/bin/env bash
# t0900-faults.sh - I/O fault injection (tests/faultinject/failinject.c, an
# LD_PRELOAD shim) for the tools that write nasnet-c files: show-genotype -o,
# build-net -o, import-data idx, sample-arch, update-policy and score.
#
# Each tool first runs clean under the shim, which counts its write/pwrite,
# fsync, rename and close calls; then call numbers spread over that range are
# made to fail with EIO or ENOSPC, once ("write:N") or from then on, a disk
# that stays full ("write:N+"). Whenever the fault hits, the tool must exit
# non-zero with exactly one stderr line naming the output file, leave no
# temporary file, and leave the previous output byte-identical. The one
# exception is the last fsync, of the folder after the rename: the new file
# is then already complete in place (lib/core/atomic.h), so it may hold the new
# content, never a mix. Then a real 1 MB tmpfs that fills up, when we may
# mount one.
set -u
cd "$(dirname "$0")/.."
export SOURCE_DATE_EPOCH=1700000000 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export NASNET_NB201=$PWD/data/nb201-cifar10-12epoch.csv.gz
unset MAKEFLAGS MFLAGS MAKELEVEL
T=$(mktemp -d "${TMPDIR:-/tmp}/t0900.XXXXXX") || exit 1
trap 'umount "$T/small" 2>/dev/null; rm -rf "$T"' EXIT
B=$PWD/bin
PY=/usr/bin/python3
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }

SO=$T/failinject.so
if ! cc -shared -fPIC -O1 -o "$SO" tests/faultinject/failinject.c -ldl; then
	echo "1..0 # SKIP cannot build the shim"
	exit 0
fi
# ASan builds (make check-asan) need their runtime first; the shim goes after it
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# ---- inputs ----
mkdir -p "$T/in"
$PY - "$T/in" <<'PYEOF'
import struct, sys
d = sys.argv[1]
def idx(name, n, labels):
    open(f"{d}/{name}-img", "wb").write(struct.pack(">IIII", 0x803, n, 6, 6) +
                                         bytes((i * 7) % 256 for i in range(n * 36)))
    open(f"{d}/{name}-lab", "wb").write(struct.pack(">II", 0x801, n) + bytes(labels))
idx("train", 8, [0, 1, 0, 1, 1, 0, 1, 0])
idx("test", 4, [1, 0, 1, 0])
PYEOF
G='[custom] normal: identity@0 + max_pool_3x3@1 | concat 2 || reduce: max_pool_3x3@0 + conv_1x1@1 | concat 2'
(cd "$T/in" && "$B/sample-arch" -q --space nb201 --seed 7 --hidden 16 --count 0 --out . \
	--round 0 --save-policy p0.h5 && mkdir r0 &&
	"$B/sample-arch" -q --policy p0.h5 --count 3 --out r0 --round 0 >/dev/null &&
	"$B/lookup-child" -q r0/arch_000?.h5 >/dev/null) ||
	notok "controller inputs (sample-arch, lookup-child)"

# ---- the tools ----
# run_<name> VARIANT [ENV...] writes $O; variants "new" and "prev" give different
# bytes; ENV (FAILINJECT=..., LD_PRELOAD=...) goes to the tool's process only
run_show_genotype() {
	local v=enas
	[ "$1" = new ] && v=nasnet-a
	shift
	env "$@" "$B/show-genotype" -o "$O" $v
}
run_build_net() {
	local v=9
	[ "$1" = new ] && v=1
	shift
	env "$@" "$B/build-net" -q --genotype "$G" --filters 2 --input 1x8x8 --classes 2 \
		--seed $v -o "$O"
}
run_import_data() {
	local i=$T/in v=3
	[ "$1" = new ] && v=2
	shift
	env "$@" "$B/import-data" idx -q --train-images "$i/train-img" --train-labels "$i/train-lab" \
		--test-images "$i/test-img" --test-labels "$i/test-lab" --valid $v -o "$O"
}
# sample-arch writes DIR/arch_0000.h5: $O is that file
run_sample_arch() {
	local v=1
	[ "$1" = new ] && v=0
	shift
	env "$@" "$B/sample-arch" -q --policy "$T/in/p0.h5" --count 1 --out "${O%/*}" --round $v
}
run_update_policy() {
	local v=reinforce
	[ "$1" = new ] && v=ppo
	shift
	env "$@" "$B/update-policy" -q --policy "$T/in/p0.h5" -o "$O" --algo $v "$T/in/r0"
}
run_score() {
	local v=diverged
	[ "$1" = new ] && v=oom
	shift
	env "$@" "$B/score" -q --failed $v -o "$O" "$T/in/r0/arch_0000.h5"
}

# call numbers to try out of 1..N: both ends and spread in between
spread() {
	local N=$1
	[ "$N" -ge 1 ] || return 0
	printf '%s\n' 1 $((N / 3)) $((2 * N / 3)) $((N - 1)) "$N" |
		awk -v N="$N" '$1 >= 1 && $1 <= N' | sort -n -u
}

hits=0
for name in show-genotype build-net import-data sample-arch update-policy score; do
	fn=run_${name//-/_}
	out=$T/out-$name
	rm -rf "$out"; mkdir -p "$out"
	if [ $name = sample-arch ]; then export O=$out/arch_0000.h5; else export O=$out/$name.h5; fi
	rm -f "$T/count"
	if ! $fn new FAILINJECT_COUNT="$T/count" LD_PRELOAD="$SO" >/dev/null 2>"$T/err" ||
		[ ! -s "$T/count" ]; then
		notok "$name: clean run under the shim ($(head -c 200 "$T/err"))"
		continue
	fi
	cp "$O" "$T/new.h5"
	read -r _ W _ F _ R _ C <"$T/count"
	if ! $fn prev >/dev/null 2>"$T/err" || cmp -s "$O" "$T/new.h5"; then
		notok "$name: a previous output different from the new one"
		continue
	fi
	cp "$O" "$T/prev.h5"
	faults=
	e=EIO
	for k in $(spread "$W"); do faults="$faults write:$k:$e"; [ $e = EIO ] && e=ENOSPC || e=EIO; done
	faults="$faults write:$(((W + 1) / 2))+:ENOSPC"
	for k in $(seq 1 "$F"); do faults="$faults fsync:$k:EIO"; done
	for k in $(seq 1 "$R"); do faults="$faults rename:$k:EIO"; done
	for k in $(seq 1 "$C"); do faults="$faults close:$k:EIO close:$k:ENOSPC"; done
	good=0 bad=
	for f in $faults; do
		cp "$T/prev.h5" "$O"; rm -f "$T/log"
		$fn new FAILINJECT="$f" FAILINJECT_LOG="$T/log" LD_PRELOAD="$SO" >/dev/null 2>"$T/err"
		rc=$?
		if [ ! -s "$T/log" ]; then
			bad="$bad [$f not reached]"
			continue
		fi
		hits=$((hits + 1))
		why=
		[ $rc -ne 0 ] || why="$why exit 0"
		[ "$(wc -l <"$T/err")" -eq 1 ] || why="$why $(wc -l <"$T/err") stderr lines"
		grep -qF "$(basename "$O")" "$T/err" || why="$why message names no file"
		left=$(ls -A "$out" | grep -vxF "$(basename "$O")")
		[ -z "$left" ] || why="$why left '$left'"
		if [ "$f" = "fsync:$F:EIO" ]; then
			cmp -s "$O" "$T/prev.h5" || cmp -s "$O" "$T/new.h5" ||
				why="$why output neither previous nor new"
		else
			cmp -s "$O" "$T/prev.h5" || why="$why previous output changed"
		fi
		if [ -z "$why" ]; then
			good=$((good + 1))
		else
			bad="$bad [$f:$why: $(head -c 160 "$T/err" | tr '\n' ' ')]"
		fi
	done
	if [ -z "$bad" ]; then
		ok "$name: $good faults (of $W writes, $F fsyncs, $R renames, $C closes): exit non-zero, one line naming the file, no temporary, previous output intact"
	else
		notok "$name:$bad"
	fi
	# the new output after the faults: a clean run still works
	$fn new >/dev/null 2>&1 && cmp -s "$O" "$T/new.h5" && ok "$name: a clean run after the faults gives the new output" ||
		notok "$name: a clean run after the faults"
done
echo "# $hits faults injected"

# ---- standard output on a full device: the printed result is output too ----
for name in show-genotype build-net import-data; do
	O=$T/stdout-$name.h5
	run_${name//-/_} new >/dev/full 2>"$T/err"; rc=$?
	if [ $name = import-data ]; then
		# import-data -q prints nothing on stdout
		[ $rc -eq 0 ] && ok "$name -q: nothing printed, a full stdout does not matter" ||
			notok "$name -q with stdout on /dev/full: rc $rc"
		continue
	fi
	[ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "No space left" "$T/err" &&
		ok "$name with stdout on /dev/full: exit 1, one line" ||
		notok "$name with stdout on /dev/full: rc $rc, $(head -c 200 "$T/err")"
done

# ---- a real full filesystem ----
mkdir -p "$T/small"
if mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
	for name in build-net update-policy; do
		fn=run_${name//-/_}
		rm -f "$T/small"/*
		export O=$T/small/$name.h5
		$fn prev >/dev/null 2>&1 && cp "$O" "$T/prev.h5"
		rm -f "$T/small/filler"
		# leave a few kB: enough to start the file, not to finish it
		avail=$(df -B1 --output=avail "$T/small" | tail -1)
		head -c $((avail - 8192)) /dev/zero >"$T/small/filler" 2>/dev/null
		if [ $name = build-net ]; then
			"$B/build-net" -q --filters 8 --input 1x16x16 -o "$O" >/dev/null 2>"$T/err"; rc=$?
		else
			$fn new >/dev/null 2>"$T/err"; rc=$?
		fi
		left=$(ls -A "$T/small" | grep -vxF -e "$name.h5" -e filler)
		if [ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "$name.h5" "$T/err" &&
			[ -z "$left" ] && cmp -s "$O" "$T/prev.h5"; then
			ok "$name on a full 1 MB tmpfs: exit $rc, one line, no temporary, previous file intact"
		else
			notok "$name on a full 1 MB tmpfs: rc $rc, left '$left', $(head -c 200 "$T/err")"
		fi
	done
	umount "$T/small"
else
	n=$((n + 1)); echo "ok $n # SKIP cannot mount a tmpfs here"
fi
echo "1..$n"
