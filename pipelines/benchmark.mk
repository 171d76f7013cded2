# benchmark.mk - `make benchmark-strategies`: PPO, REINFORCE, random search and
# regularized evolution on the NAS-Bench-201 CIFAR-10 12-epoch table, each
# BENCH_SEEDS searches of BENCH_BUDGET evaluated cells (rounds of
# BENCH_BATCH). Prints mean +- sd (and standard error) of the test accuracy of
# the best-by-validation cell per strategy, writes the curves to
# build/bench/strategies-<s>.tsv and the plot to build/bench/strategies.png.
# The driver (bin/nb201-search) runs lib/search/nb201search.c: the same sampling,
# evolution, table and policy-update code as sample-arch / lookup-child /
# update-policy. Controller settings for this 100-cell budget: --hidden 32,
# --policy-lr 0.02 (see nb201-search --help); evolution P=20, S=5.

BENCH_SEEDS ?= 100
BENCH_BUDGET ?= 100
BENCH_BATCH ?= 10
# every strategy of lib/search/strategy.c's table unless given
BENCH_STRATEGIES ?=
BENCH_DIR := build/bench

.PHONY: benchmark-strategies
benchmark-strategies: bin/nb201-search
	@mkdir -p $(BENCH_DIR)
	@start=$$(date +%s); \
	strategies="$(or $(BENCH_STRATEGIES),$$(bin/nb201-search --list-strategies | cut -f1))"; \
	for s in $$strategies; do \
		bin/nb201-search --strategy $$s --seeds $(BENCH_SEEDS) --budget $(BENCH_BUDGET) \
			--batch $(BENCH_BATCH) --curve $(BENCH_DIR)/strategies-$$s.tsv; \
	done | tee $(BENCH_DIR)/strategies.txt; \
	echo "total $$(( $$(date +%s) - start )) s" | tee -a $(BENCH_DIR)/strategies.txt
	@if command -v gnuplot >/dev/null; then \
		gnuplot -e "dir='$(BENCH_DIR)'" \
			-e "strategies='$(or $(BENCH_STRATEGIES),$$(bin/nb201-search --list-strategies | cut -f1 | paste -sd' '))'" \
			bench/plot_strategies.gp && \
		echo "plot: $(BENCH_DIR)/strategies.png"; \
	else \
		echo "gnuplot not found (apt-get install gnuplot-nox): no plot"; \
	fi
