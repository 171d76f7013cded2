# pipelines/transfer.mk - scale the best cells up and train them for real
# (included by the top Makefile; tools/transfer.c does the work).
#
#   make transfer RUN=runs/a [TOP=3]            the top cells of a search run
#   make transfer RUN=runs/a PARETO=3           3 cells spread along its Pareto front
#   make transfer GENOTYPE=nasnet-a             named genotypes (space-separated)
#   variables: N (cells per stack), F (filters), EPOCHS, DATA, JOBS,
#              TRANSFER_OUT (default RUN/transfer, or transfer/ for GENOTYPE),
#              TRANSFER_FLAGS (any other transfer flags, e.g. --steps 100)
#
# Unset N, F and EPOCHS take transfer's defaults (transfer --help). With
# JOBS > 1 (given on the command line or in the environment) the networks
# train in parallel, one GNU parallel job each with nproc/JOBS threads;
# otherwise one after another with every core. Resumable like the search:
# each network checkpoints, a finished one keeps its result, so running the
# same command again (after Ctrl-C, exit 75, a crash or SIGKILL) continues.
# The last step prints the table and writes TRANSFER_OUT/results.{md,csv,h5}.

TOP ?= 3
PARETO ?=
N ?=
F ?=
EPOCHS ?=
GENOTYPE ?=
TRANSFER_OUT ?=
TRANSFER_FLAGS ?=

# JOBS from search.mk defaults to nproc for the search; a transfer runs in
# parallel only when asked.
TRANSFER_JOBS := $(if $(filter command line environment,$(origin JOBS)),$(JOBS),1)
TRANSFER_THREADS = $(shell n=$$(nproc); j=$(TRANSFER_JOBS); t=$$((n / j)); echo $$((t > 0 ? t : 1)))

# --run only when RUN was given (search.mk sets a default RUN) or no GENOTYPE
TRANSFER_ARGS = $(if $(or $(filter command line environment,$(origin RUN)),$(if $(GENOTYPE),,x)),--run $(RUN) $(if $(PARETO),--pareto $(PARETO),--top $(TOP))) \
	$(foreach g,$(GENOTYPE),--genotype $(g)) \
	--data $(DATA) $(if $(N),--cells $(N)) $(if $(F),--filters $(F)) \
	$(if $(EPOCHS),--epochs $(EPOCHS)) $(if $(TRANSFER_OUT),--out $(TRANSFER_OUT)) \
	--seed $(SEED) $(TRANSFER_FLAGS)

.PHONY: transfer
transfer: all $(if $(filter data/fashion-mnist.h5,$(DATA)),data/fashion-mnist.h5)
	@names=$$(bin/transfer $(TRANSFER_ARGS) --list); \
	if [ $(TRANSFER_JOBS) -gt 1 ] && [ $$(echo "$$names" | wc -l) -gt 1 ]; then \
		echo "$$names" | parallel --jobs $(TRANSFER_JOBS) --halt now,fail=1 --line-buffer \
			bin/transfer $(TRANSFER_ARGS) --threads $(TRANSFER_THREADS) --only {} '>/dev/null'; \
	fi; \
	bin/transfer $(TRANSFER_ARGS) --threads $(TRANSFER_THREADS)
