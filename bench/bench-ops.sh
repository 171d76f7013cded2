#!/bin/bash
# bench-ops.sh - `make bench-ops`: the per-op table, forward + backward ms at
# batch 64 of build/bench/bench-ops (nasnet-c) next to bench/torch_ops.py
# (PyTorch), for BENCH_THREADS (default 1), plus OpenBLAS's sgemm GFLOP/s.
set -eu -o pipefail
# the tuned allocator for both sides (see bench.sh: page faults make PyTorch's
# per-op times erratic on this VM without it)
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296
T=${BENCH_THREADS:-1}
c=$(build/bench/bench-ops --threads "$T")
p=$(/usr/bin/python3 bench/torch_ops.py --threads "$T")
grep -v '^op ' <<<"$c"
printf '%-22s %12s %12s %8s\n' "op (batch 64, $T thr)" "nasnet-c ms" "pytorch ms" ratio
join <(grep '^op ' <<<"$c" | awk '{ print $2, $3 }' | sort) \
	<(grep '^op ' <<<"$p" | awk '{ print $2, $3 }' | sort) |
	awk '{ printf "%-22s %12.3f %12.3f %8.2f\n", $1, $2, $3, $3 / $2 }'
