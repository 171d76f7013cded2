#!/usr/bin/env bash
# run.sh - run the libFuzzer harnesses build/fuzz/fuzz_<name> (built by
# pipelines/fuzz.mk) one after another, SECONDS each, with ASan + UBSan; a
# line per harness, then "N passed, N failed" (a harness passes when it found
# no crash of ours). Exit status is non-zero on any failure.
#
#   tests/fuzz/run.sh [--seconds N] [--timeout S] [--out DIR] [--seed N] [--fresh] NAME...
#
# --out DIR (build/fuzz): DIR/corpus/<name> is the corpus libFuzzer adds to;
# the seeds in tests/fuzz/corpus/<name> are only read. Crashing inputs go to
# DIR/crashes/<name>/ (copy them to tests/fuzz/regress/<name>/ once fixed),
# logs to DIR/logs/<name>.log, "name runs crashes exit upstream" lines to
# DIR/stats.tsv. --fresh (the `make test` leg): the corpus is a temporary
# copy of the seeds and of tests/fuzz/regress/<name>/, so that nothing is
# carried from run to run. --seed N fixes libFuzzer's random seed: the same
# inputs in the same order every run (the run length still follows the clock).
# --timeout S (10): an input running longer is a crash (in an h5* harness, a
# hang inside libhdf5 is filed as upstream; each costs S seconds, twice).
#
# HDF5 1.10's own decoder crashes on many corrupt files, so the h5* harnesses
# run in fork mode, going on past crashes, and a crash whose first frame
# outside the sanitizer runtime and libc is inside libhdf5 is filed under
# DIR/upstream/<name>/ (not ours to fix; it does not fail the harness).
# Inside `make test` (TEST_LEG, TEST_TOTALS) the closing line is prefixed with
# the leg and the counts are added to TEST_TOTALS, as tests/run.sh does.
set -u
cd "$(dirname "$0")/../.."
seconds=60 timeout=10 out=build/fuzz seed= fresh=0
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--fresh) fresh=1; shift ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: tests/fuzz/run.sh [--seconds N] [--timeout S] [--out DIR] [--seed N] [--fresh] NAME..." >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nasnet-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/logs"
: >"$out/stats.tsv"
export HDF5_USE_FILE_LOCKING=FALSE TMPDIR=$tmp
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# the first frame of a crash report that is none of the sanitizer's, libFuzzer's or libc's
# (libc's frames show as libc.so, or by glibc source path when debug info is installed:
# "in __memcpy_avx512_unaligned_erms string/../sysdeps/x86_64/multiarch/...")
top_frame() {
	grep -E '^ +#[0-9]+ 0x' |
		grep -vE 'fuzzer::|__sanitizer|__interceptor|libc\.so|sysdeps/|asan_|ubsan_|in (malloc|calloc|realloc|free) ' |
		head -1
}

pass=0 fail=0
for h in "$@"; do
	bin=build/fuzz/fuzz_$h log=$out/logs/$h.log crashes=$out/crashes/$h upstream=$out/upstream/$h
	unrepro=$out/unreproduced/$h
	if [ $fresh = 1 ]; then
		corpus=$tmp/corpus-$h
		mkdir -p "$corpus"
		rm -rf "$crashes" "$upstream"
		find "tests/fuzz/corpus/$h" "tests/fuzz/regress/$h" -type f -exec cp -t "$corpus" {} + 2>/dev/null
		seeds=()
	else
		corpus=$out/corpus/$h
		mkdir -p "$corpus"
		seeds=("tests/fuzz/corpus/$h")
	fi
	rm -rf "$unrepro"
	mkdir -p "$crashes" "$upstream" "$unrepro"
	case $h in
	h5*) mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1) ;;
	*) mode=() ;;
	esac
	start=$(date +%s)
	# shellcheck disable=SC2086
	"$bin" "${mode[@]}" ${seed:+-seed=$seed} -max_total_time="$seconds" -timeout="$timeout" \
		-rss_limit_mb=2048 -malloc_limit_mb=512 -close_fd_mask=2 \
		-artifact_prefix="$crashes/" "$corpus" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	runs=$(grep -oE '^Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' ||
		grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
	# each saved input is replayed alone: in fork mode an input can be saved
	# empty, and a job's leak report sums every input it ran (HDF5 keeps global
	# state), so an input that runs clean alone is filed under unreproduced/
	# (kept for a look, not a finding); one whose crash is inside libhdf5 under
	# upstream/; the others are ours and fail the harness
	for c in "$crashes"/*; do
		[ -f "$c" ] || continue
		replay=$(timeout $((timeout + 60)) "$bin" -timeout="$timeout" "$c" 2>&1) && { mv "$c" "$unrepro/"; continue; }
		case $(printf '%s\n' "$replay" | top_frame) in
		*libhdf5*) mv "$c" "$upstream/" ;;
		esac
	done
	ncrash=$(find "$crashes" -type f | wc -l)
	nup=$(find "$upstream" -type f | wc -l)
	# fork mode exits non-zero after the crashes it went past: those are counted above
	case $h in h5*) rc=0 ;; esac
	printf '%s\t%s\t%s\t%s\t%s\n' "$h" "${runs:-0}" "$ncrash" "$rc" "$nup" >>"$out/stats.tsv"
	line=$(printf '%-40s %9s runs %2d crash(es) %2d in libhdf5 (%ss)' "fuzz_$h" "${runs:-0}" \
		"$ncrash" "$nup" "$(( $(date +%s) - start ))")
	if [ "$rc" -eq 0 ] && [ "$ncrash" -eq 0 ] && [ -n "$runs" ]; then
		pass=$((pass + 1))
		echo "ok   $line"
	else
		fail=$((fail + 1))
		echo "FAIL $line"
		echo "     exit $rc; log $log; inputs in $crashes/"
		grep -m3 -E 'ERROR|runtime error|SUMMARY' "$log" | sed 's/^/     /'
	fi
done
echo "${TEST_LEG:+$TEST_LEG: }$pass passed, $fail failed"
[ -n "${TEST_TOTALS:-}" ] && echo "$pass $fail ${TEST_LEG:-fuzz}" >>"$TEST_TOTALS"
[ "$fail" -eq 0 ]
