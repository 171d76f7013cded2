#!/bin/bash
# bench.sh - `make bench`: nasnet-c against PyTorch on the same networks.
#
# For each case (network x train/eval x threads) it runs build/bench/bench-net
# and bench/torch_net.py (NCHW and channels_last, the faster one counts) in
# separate processes, each reporting the median step time after a warm-up and
# its own peak RSS, and prints
#   bench: <case> nasnet-c <x> img/s pytorch <y> img/s ratio <x/y> rss-ratio <r> gflops <g> peak-fraction <f>
# (g: nasnet-c's achieved GFLOP/s, 2 x MACs per image, x 3 for training; f:
# g over this core's FMA peak times the threads, the peak measured at the
# start of the same run by bench-ops), then the first-step losses of both
# sides (the network-level parity check), the sgemm peak, the 2-thread
# speedups and the per-op table of bench/bench-ops.sh (1 thread). Networks:
# NASNet-A N=1 F=8 and N=2 F=16, DARTS-V2 N=1 F=8, AmoebaNet-A N=1 F=8, two
# children the search sampled (bench/sampled-child.txt: dense 1x3-3x1,
# 1x7-7x1 and 3x3 convolutions; bench/sampled-child-2.txt: dilated
# convolutions and 5x5/7x7 pools), at batch 64 and 32 (a search's CHILD_BATCH
# choices), and the first one at transfer's default size N=2 F=16 (what
# `make transfer` retrains), on 1x28x28, written by bin/build-net (seed 1).
# An eval step is net_infer (what score and transfer run) against a
# torch.no_grad() forward with BN running statistics.
#
# Last, the search-level figures: one round of the default `make search`
# (default child settings, JOBS=2, BENCH_SEARCH_CHILDREN children) in a
# scratch run folder, timed, printed as children trained per hour; then one
# of its children run again alone, its wall time split into process starts,
# dataset reading, training, scoring and the rest (network build, file writes).
#
# The VM's speed drifts by 10-30 % over minutes, so each case alternates the
# two sides BENCH_ROUNDS times and reports each side's median round.
#
# Environment: BENCH_WARMUP (2), BENCH_REPEAT (5), BENCH_ROUNDS (3), BENCH_THREADS ("1 2"),
# BENCH_NETS (see NETS below, empty: none; genotype:cells:filters[:batch], the genotype a
# built-in name or a file, batch 64 by default), BENCH_MODES
# ("train eval"), BENCH_DIR (build/bench/run), BENCH_SEARCH_CHILDREN (4; 0
# skips the search figure).
set -eu -o pipefail

# glibc's malloc returns every large block to the kernel (mmap/munmap, heap
# trimming), and PyTorch frees and reallocates its activations each step: on
# this VM the page faults that follow made PyTorch's eval 3-20x slower and
# erratic (26-190 img/s for NASNet-A N1F8 against 530-560 with these two
# settings). Give both sides the tuned allocator a careful PyTorch user would
# run with; nasnet-c allocates once and does not notice.
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296

PY=/usr/bin/python3
WARMUP=${BENCH_WARMUP:-2}
REPEAT=${BENCH_REPEAT:-5}
ROUNDS=${BENCH_ROUNDS:-3}
THREADS=${BENCH_THREADS:-1 2}
NETS=${BENCH_NETS-nasnet-a:1:8 nasnet-a:2:16 darts-v2:1:8 amoebanet-a:1:8 \
bench/sampled-child.txt:1:8 bench/sampled-child.txt:1:8:32 bench/sampled-child-2.txt:1:8 \
bench/sampled-child-2.txt:1:8:32 bench/sampled-child.txt:2:16}
MODES=${BENCH_MODES:-train eval}
DIR=${BENCH_DIR:-build/bench/run}
mkdir -p "$DIR"

if ! $PY -c 'import torch, h5py' 2>/dev/null; then
	echo "bench: $PY lacks torch or h5py (make deps-bench)" >&2
	exit 1
fi

median() {   # median of the arguments
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

field() {   # field NAME LINE: the word after NAME
	awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$2"
}

# this core's FMA peak, in the same run as the cases it is the limit of
fma=$(build/bench/bench-ops --sgemm-only | awk '/^fma-peak/ { print $2 }')
echo "bench: fma-peak $fma GFLOP/s per core (float FMA loop, 1 thread; load: $(uptime | sed 's/.*load average: //'))"

declare -A CIPS
summary=()
for spec in $NETS; do
	IFS=: read -r geno cells filters batch <<<"$spec"
	batch=${batch:-64}
	name=$(basename "${geno%.txt}")-n$cells-f$filters
	[ "$batch" = 64 ] || name+=-b$batch
	net=$DIR/$name.h5
	bin/build-net -q --genotype "$geno" --cells "$cells" --filters "$filters" -o "$net" >/dev/null
	build/bench/bench-net -q --batch "$batch" --export "$DIR/$name" "$net"
	# eval runs a copy whose BN running statistics are those of the batch
	$PY bench/torch_net.py "$net" "$DIR/$name" --calibrate "$DIR/$name.eval.h5"
	for mode in $MODES; do
		netm=$net
		[ "$mode" = train ] || netm=$DIR/$name.eval.h5
		for t in $THREADS; do
			# ROUNDS alternations of both sides; each side's median round counts
			xs=; ys=; gs=
			for ((r = 0; r < ROUNDS; r++)); do
				c=$(build/bench/bench-net -q --mode "$mode" --threads "$t" --batch "$batch" \
					--warmup "$WARMUP" --repeat "$REPEAT" "$netm")
				best=; bl=
				for fmt in nchw cl; do
					p=$($PY bench/torch_net.py "$netm" "$DIR/$name" --mode "$mode" \
						--threads "$t" --format "$fmt" --warmup "$WARMUP" \
						--repeat "$REPEAT")
					if [ -z "$best" ] || awk -v a="$(field img/s "$p")" \
						-v b="$(field img/s "$bl")" 'BEGIN { exit !(a > b) }'; then
						best=$fmt; bl=$p
					fi
				done
				xs+=" $(field img/s "$c")"; ys+=" $(field img/s "$bl")"; gs+=" $(field gflops "$c")"
			done
			x=$(median $xs); y=$(median $ys); g=$(median $gs)
			cr=$(field rss-kb "$c"); pr=$(field rss-kb "$bl")
			CIPS[$name-$mode-t$t]=$x
			printf 'bench: %s-%s-t%s nasnet-c %s img/s pytorch %s img/s ratio %.2f rss-ratio %.2f gflops %s peak-fraction %.3f\n' \
				"$name" "$mode" "$t" "$x" "$y" "$(awk -v a="$x" -v b="$y" 'BEGIN { print a / b }')" \
				"$(awk -v a="$cr" -v b="$pr" 'BEGIN { print a / b }')" "$g" \
				"$(awk -v a="$g" -v p="$fma" -v t="$t" 'BEGIN { print (p > 0 ? a / (p * t) : 0) }')"
			summary+=("  $name-$mode-t$t: loss0 nasnet-c $(field loss0 "$c") pytorch $(field loss0 "$bl") ($best); nasnet-c $(field gflops "$c") GFLOP/s, rss $((cr / 1024)) MB vs $((pr / 1024)) MB")
		done
	done
done

echo "first-step losses (must agree) and achieved GFLOP/s (2 x MACs x 3 for training):"
printf '%s\n' "${summary[@]}"
peak=$(build/bench/bench-ops --sgemm-only | awk '/^sgemm-peak/ { print $2 }')
echo "sgemm peak (1 thread, 512^3): $peak GFLOP/s; FMA peak $fma GFLOP/s; blas: $(build/bench/bench-net --version 2>/dev/null | sed 's/.*OpenBLAS core //')"
for key in "${!CIPS[@]}"; do
	case $key in *-t1)
		k2=${key%-t1}-t2
		[ -z "${CIPS[$k2]:-}" ] || printf '2-thread speedup %s: %.2f\n' "${key%-t1}" \
			"$(awk -v a="${CIPS[$k2]}" -v b="${CIPS[$key]}" 'BEGIN { print a / b }')"
		;;
	esac
done | sort

echo "per-op forward + backward times (make bench-ops):"
BENCH_THREADS=1 bash bench/bench-ops.sh

SEARCH_CHILDREN=${BENCH_SEARCH_CHILDREN:-4}
if [ "$SEARCH_CHILDREN" -gt 0 ]; then
	run=$DIR/search
	rm -rf "$run"
	make -s --no-print-directory data/fashion-mnist.h5 >/dev/null   # not timed
	t0=$(date +%s.%N)
	make -s --no-print-directory search RUN="$run" ROUNDS=1 CHILDREN="$SEARCH_CHILDREN" JOBS=2 \
		>"$DIR/search.log" 2>&1 || { echo "bench: the search round failed, see $DIR/search.log" >&2; exit 1; }
	t1=$(date +%s.%N)
	awk -v n="$SEARCH_CHILDREN" -v a="$t0" -v b="$t1" 'BEGIN {
		printf "bench: search default children (N=1 F=8, 1 epoch on 5,000 images, JOBS=2): %d in %.0f s = %.0f children/hour\n", n, b - a, n * 3600 / (b - a)
		printf "bench: search children-per-hour %.0f\n", n * 3600 / (b - a) }'

	# the breakdown of one child's wall time, its job (pipelines/child.sh) run
	# again alone on one thread: train-child, then score
	ch=$DIR/child
	rm -rf "$ch"; mkdir -p "$ch"
	cp "$run/round-000/arch_0000.h5" "$ch/arch.h5"
	wall() {   # wall seconds of a command
		local a b
		a=$(date +%s.%N); "$@" >/dev/null || return 1; b=$(date +%s.%N)
		awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }'
	}
	starts=
	for i in 1 2 3 4 5; do starts+=" $(wall bin/train-child --version)"; done
	start=$(median $starts)
	read -r _ _ load_train _ load_valid < <(build/bench/bench-ops --dataset data/fashion-mnist.h5)
	wt=$(wall bin/train-child --quiet --threads 1 "$ch/arch.h5")
	ws=$(wall bin/score --quiet --threads 1 "$ch/arch.h5")
	ts=$(h5dump -a /train_seconds "$ch/arch.stats.h5" | awk '/\(0\)/ { print $2 }')
	awk -v st="$start" -v lt="$load_train" -v lv="$load_valid" -v wt="$wt" -v ws="$ws" -v ts="$ts" 'BEGIN {
		tot = wt + ws; other = wt - ts - st - lt; sc = ws - st - lv
		printf "bench: child breakdown (one default child alone, 1 thread): total %.1f s =", tot
		printf " process starts %.2f (2 x %.2f) + dataset reading %.2f (train %.2f, valid %.2f)", 2 * st, st, lt + lv, lt, lv
		printf " + training %.1f + scoring %.1f (5,000 valid images) + other %.2f (network build, file writes)\n", ts, sc, other
		printf "bench: child breakdown shares: start %.1f%% data %.1f%% train %.1f%% score %.1f%% other %.1f%%\n",
			200 * st / tot, 100 * (lt + lv) / tot, 100 * ts / tot, 100 * sc / tot, 100 * other / tot }'
fi
