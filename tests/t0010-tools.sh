#!/usr/bin/env bash
# t0010-tools.sh - every tool: --help exits 0 on stdout and documents the exit
# codes, --version exits 0, an unknown flag exits 2 with a short message.
. "$(dirname "$0")/lib.sh"

tools=$(ls tools/*.c | sed 's#tools/\(.*\)\.c#\1#')
t "there are tools to check" '[ -n "$tools" ]'
for tool in $tools; do
	bin/$tool --help >"$tmp/out" 2>"$tmp/err"; rc=$?
	t "$tool --help exits 0 with usage on stdout" \
		'[ $rc = 0 ] && grep -q "^usage: $tool" "$tmp/out" && [ ! -s "$tmp/err" ]'
	t "$tool --help documents the exit status" 'grep -qi "exit status" "$tmp/out"'
	bin/$tool --version >"$tmp/out" 2>&1; rc=$?
	t "$tool --version exits 0 and names the BLAS core" '[ $rc = 0 ] && grep -q "OpenBLAS core" "$tmp/out"'
	bin/$tool --no-such-flag >"$tmp/out" 2>"$tmp/err"; rc=$?
	t "$tool: unknown flag exits 2, message on stderr" \
		'[ $rc = 2 ] && grep -q "no-such-flag" "$tmp/err" && [ ! -s "$tmp/out" ]'
done

# stdout write errors (a full disk): exit 1 with one line naming stdout
full() { # CMD...: run with stdout on /dev/full
	"$@" >/dev/full 2>"$tmp/err"; rc=$?
	[ $rc = 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "^${1#bin/}: stdout: No space left on device" "$tmp/err"
}
if [ -w /dev/full ]; then
	for cmd in "bin/show-genotype nasnet-a" "bin/show-genotype --list" "bin/build-net --genotype nasnet-a" \
		   "bin/draw-cell --cell normal nasnet-a" "bin/nas-check --help" "bin/score --version"; do
		t "$cmd >/dev/full exits 1 with one line" 'full $cmd'
	done
	bin/show-genotype --quiet -o "$tmp/g.h5" nasnet-a >/dev/null
	t "nas-check FILE >/dev/full exits 1 with one line" 'full bin/nas-check "$tmp/g.h5"'
	t "score --failed >/dev/full exits 1 with one line" \
		'full bin/score --quiet --failed "test" -o "$tmp/g.reward.h5" "$tmp/g.h5"'
	t "nas-history >/dev/full exits 1 with one line" 'full bin/nas-history "$tmp/g.reward.h5"'
fi

# OpenBLAS core selection: re-exec with a fast core, verified against a naive sgemm
env -u OPENBLAS_CORETYPE NASNET_BLAS_FORCE_SELECT=1 bin/build-net --version >"$tmp/out" 2>&1; rc=$?
t "a generic OpenBLAS core is replaced by a verified fast one (re-exec)" \
	'[ $rc = 0 ] && grep -Eq "core (SkylakeX|Haswell) \(selected over .*, verified\)" "$tmp/out" ||
	 ! grep -Eq "avx2|avx512f" /proc/cpuinfo'
OPENBLAS_CORETYPE=Prescott bin/build-net --version >"$tmp/out" 2>&1; rc=$?
t "a user's OPENBLAS_CORETYPE is kept and verified" \
	'[ $rc = 0 ] && grep -q "core Prescott (OPENBLAS_CORETYPE=Prescott, verified)" "$tmp/out"'
finish
