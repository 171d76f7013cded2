# bench.mk - `make bench`: nasnet-c against PyTorch (Debian's python3-torch) on
# the same networks (bench/bench.sh prints one line per case, the GFLOP/s and
# the sgemm peak); `make bench-ops`: the per-op table (bench/bench-ops.c next
# to bench/torch_ops.py). Not part of `make test`, which only checks that the
# programs still run and agree (tests/t0950-bench.sh). BENCH_REPEAT,
# BENCH_NETS, BENCH_THREADS, ... pick what runs (see bench/bench.sh).

BENCH_BIN := build/bench/bench-net build/bench/bench-ops

build/bench/%: build/obj/bench/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(LIBA) $(LDLIBS_ALL)

.PHONY: bench bench-ops bench-tools
bench-tools: $(BENCH_BIN) bin/build-net

bench: bench-tools
	@bash bench/bench.sh

bench-ops: bench-tools
	@bash bench/bench-ops.sh
