#!/usr/bin/env bash
# t0950-bench.sh - the benchmark programs behind `make bench` still run and
# print what bench/bench.sh parses: bench-net (train and eval, 1 and 2
# threads: the first-step losses agree, so the data-parallel split of a
# training step is also checked through a tool), --export, bench-ops. With
# PyTorch installed (make deps-bench) it also runs bench/bench.sh on one tiny
# case: PyTorch's first-step loss must match (the network-level parity
# check); without it that part is skipped.
set -u
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0
t() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$2"; }
close() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-5 * (b < 0 ? -b : b) + 1e-6) }'; }

bin/build-net -q --genotype bench/sampled-child.txt --cells 1 --filters 4 -o "$tmp/net.h5" >/dev/null
bn() { build/bench/bench-net -q --warmup 1 --repeat 2 --batch 16 "$@" "$tmp/net.h5"; }
tr1=$(bn --mode train --threads 1)
tr2=$(bn --mode train --threads 2)
ev1=$(bn --mode eval --threads 1)
ev2=$(bn --mode eval --threads 2)
for f in img/s ms loss0 rss-kb gflops blas; do
	t "bench-net prints $f" '[ -n "$(field $f "$tr1")" ] && [ -n "$(field $f "$ev2")" ]'
done
t "train: 2 threads (split batch) give the 1-thread first loss ($(field loss0 "$tr1"))" \
	'close "$(field loss0 "$tr2")" "$(field loss0 "$tr1")"'
t "eval: 2 threads give the 1-thread loss ($(field loss0 "$ev1"))" \
	'close "$(field loss0 "$ev2")" "$(field loss0 "$ev1")"'
# (eval runs on the network file's BN statistics, not calibrated: large but finite)
t "train and eval losses are finite and positive" \
	'awk -v a="$(field loss0 "$tr1")" -v b="$(field loss0 "$ev1")" "BEGIN { exit !(a > 0 && b > 0 && a < 100 && b < 1e30) }"'
build/bench/bench-net -q --export "$tmp/net" "$tmp/net.h5"
t "--export writes the tape, images and labels" '[ -s "$tmp/net.tape" ] && [ -s "$tmp/net.x" ] && [ -s "$tmp/net.y" ]'
t "the tape names the network's steps" 'grep -q "^step conv " "$tmp/net.tape" && grep -q "^net input 0 " "$tmp/net.tape"'
ops=$(build/bench/bench-ops --threads 1)
t "bench-ops prints the FMA and sgemm peaks and per-op times" \
	'grep -q "^fma-peak [0-9]" <<<"$ops" && grep -q "^sgemm-peak [0-9]" <<<"$ops" &&
	 [ "$(grep -c "^op [a-z0-9x-]* [0-9.]*$" <<<"$ops")" -ge 10 ]'
ds=$(build/bench/bench-ops --dataset "$tmp/none.h5" 2>&1)
rc=$?
t "bench-ops --dataset on a missing file: exit 3 and a message" '[ $rc -eq 3 ] && [ -n "$ds" ]'
build/bench/bench-net -q --mode sideways "$tmp/net.h5" >/dev/null 2>"$tmp/err"
rc=$?
t "bench-net rejects a bad --mode: exit 2, one line naming it" \
	'[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q sideways "$tmp/err"'

if /usr/bin/python3 -c 'import torch, h5py' 2>/dev/null; then
	out=$(BENCH_NETS=bench/sampled-child.txt:1:4:16 BENCH_THREADS=1 BENCH_MODES='train eval' BENCH_WARMUP=1 \
		BENCH_REPEAT=1 BENCH_ROUNDS=1 BENCH_SEARCH_CHILDREN=0 BENCH_DIR="$tmp/run" bash bench/bench.sh 2>&1)
	line=$(grep "^bench: sampled-child-n1-f4-b16-train-t1 " <<<"$out")
	t "bench.sh prints the case line (batch 16) with a ratio and a peak fraction" \
		'[ -n "$(field ratio "$line")" ] && awk -v f="$(field peak-fraction "$line")" "BEGIN { exit !(f > 0 && f < 1) }" &&
		 grep -q "^bench: fma-peak [0-9]" <<<"$out"'
	line=$(grep "^bench: sampled-child-n1-f4-b16-eval-t1 " <<<"$out")
	t "bench.sh runs the eval case on the calibrated copy (a ratio, no error)" \
		'[ -n "$(field ratio "$line")" ]' || sed 's/^/# /' <<<"$out"
	loss=$(grep "sampled-child-n1-f4-b16-train-t1: loss0" <<<"$out")
	t "PyTorch's first-step loss matches nasnet-c's" \
		'close "$(field pytorch "$loss")" "$(field nasnet-c "$loss")"'
else
	n=$((n + 1)); echo "ok $n # skip bench.sh needs python3-torch (make deps-bench)"
	n=$((n + 1)); echo "ok $n # skip the eval case needs python3-torch"
	n=$((n + 1)); echo "ok $n # skip PyTorch parity needs python3-torch"
fi
echo "1..$n"
