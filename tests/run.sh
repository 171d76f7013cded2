#!/usr/bin/env bash
# run.sh TEST... - run TAP producers (C test binaries, tests/t*.sh), two at a
# time, and summarise. Each test's full output goes to build/test-logs/.
# Prints one line per test file and ends with "N passed, N failed" (counted
# over TAP test points; a file that crashes or misses its plan counts as one
# failure). Exit status is non-zero on any failure.
# Inside `make test` (TEST_LEG and TEST_TOTALS set) the closing line is
# "LEG: N passed, N failed" and "N N LEG" is added to the file TEST_TOTALS.
set -u
cd "$(dirname "$0")/.."
# a log folder per run, so that concurrent runs never clobber each other;
# build/test-logs points to the latest
mkdir -p build
logs=$(mktemp -d build/test-logs.XXXXXX)
[ -d build/test-logs ] && [ ! -L build/test-logs ] && rm -rf build/test-logs
ln -sfn "$(basename "$logs")" build/test-logs
ls -dt build/test-logs.* 2>/dev/null | tail -n +6 | xargs -r rm -rf
jobs=${TEST_JOBS:-2}
# $jobs tests share the cores, so an OpenMP thread spinning at a barrier
# while its peer waits for a core burns what the other test needs: without
# this, t0350's two-thread training takes 80 s instead of 3 s beside another test
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# the slowest tests first, so that two workers finish together
slow="t0930 t0800 t0916 t0350 t0817 t0810 t0815 t0920 t0816 t0700 t0400"
ordered=()
for s in $slow; do for a in "$@"; do [[ $(basename "$a") == $s* ]] && ordered+=("$a"); done; done
for a in "$@"; do [[ " ${ordered[*]} " == *" $a "* ]] || ordered+=("$a"); done
set -- "${ordered[@]}"

run_one() {
	t=$1; logs=$2
	name=$(basename "$t"); log=$logs/$name.log
	start=$(date +%s)
	if [[ $t == *.sh ]]; then bash "$t" >"$log" 2>&1; else "./$t" >"$log" 2>&1; fi
	rc=$?
	# CPU time of the test and its children (bash's times, not in a subshell)
	times >"$log.times"
	cpu=$(awk 'NR == 2 { gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }' "$log.times")
	rm -f "$log.times"
	echo "# exit $rc, $(( $(date +%s) - start ))s, cpu ${cpu}s" >>"$log"
	pass=$(grep -c '^ok ' "$log"); fail=$(grep -c '^not ok ' "$log")
	plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$log" | cut -c4-)
	status=ok
	if [ "$rc" -ne 0 ] || [ "$fail" -gt 0 ] || [ -z "$plan" ] || [ "$plan" -ne $((pass + fail)) ]; then
		status=FAIL
		[ "$fail" -eq 0 ] && fail=1
	fi
	printf '%-4s %-40s %3d passed %3d failed (%ss)\n' "$status" "$name" "$pass" "$fail" "$(( $(date +%s) - start ))"
	if [ "$status" = FAIL ]; then
		grep -E '^not ok|^#' "$log" | head -20 | sed 's/^/     /'
	fi
}
export -f run_one
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one "$1" "$2"' _ {} "$logs" | tee "$logs/summary"
p=$(awk '/^(ok|FAIL) / {s+=$(NF-4)} END {print s+0}' "$logs/summary")
f=$(awk '/^(ok|FAIL) / {s+=$(NF-2)} END {print s+0}' "$logs/summary")
echo "${TEST_LEG:+$TEST_LEG: }$p passed, $f failed"
[ -n "${TEST_TOTALS:-}" ] && echo "$p $f ${TEST_LEG:-suite}" >>"$TEST_TOTALS"
[ "$f" -eq 0 ]
