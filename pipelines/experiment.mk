# pipelines/experiment.mk - the paper's two claims on your own data (included by the
# top Makefile; pipelines/experiment.sh does the work, EXP/report.md is the result).
#
#   make experiment [EXP=runs/experiment] [STRATEGIES='ppo random evolution']
#                   [SCHEDULES='none sha'] [SEEDS='1 2 3'] [BUDGET=400000] [ROUNDS=200]
#                   [EXP_JOBS=1] [RANDOM_CELLS=2] [TRANSFER_N=2] [TRANSFER_F=16]
#                   [TRANSFER_EPOCHS=] [TRANSFER_STEPS=] [TRANSFER_IMAGES=] [TRANSFER_SEED=1]
#                   [TRANSFER_FLAGS=...] [DATA=...] [CHILD_*=...] [CHILDREN=9] [JOBS=ncores]
#
# 1. one `make search RUN=EXP/<strategy>-<schedule>-s<seed> ... BUDGET=...` per strategy x
#    schedule x seed, EXP_JOBS of them at a time (each runs JOBS children at a time); each
#    stops after the first round whose training images reach BUDGET (ROUNDS is a cap);
# 2. EXP/report.md and EXP/topk.png: mean of the top-1, top-5 and top-25 rewards so far
#    against training images (CPU hours on the second axis), standard-error bands across seeds;
# 3. the best cell of each search, NASNet-A and RANDOM_CELLS seeded random cells, each
#    trained by `transfer` at TRANSFER_N cells and TRANSFER_F filters and again at the filter
#    count whose parameter count is closest to NASNet-A's there: EXP/transfer.{tsv,md}.
#
#   make experiment-report [EXP=...]   rewrite EXP/report.md from what is finished (any time)
#
# EXP/settings records the settings (as a search does): a later call with other settings is
# refused; ROUNDS, JOBS and EXP_JOBS may change. Killed at any moment, the same command resumes.
# BUDGET is empty for `make search` (no budget) and 400000 for the experiment: the images
# of the default search (10 rounds of 8 children of 5000 images). CHILDREN is 9 here, not
# search's 8: successive halving with ETA=3 RUNGS=3 needs ETA^(RUNGS-1) = 9 children a round,
# and every search of the experiment draws the same number per round.

EXP ?= runs/experiment
STRATEGIES ?= ppo random evolution
SCHEDULES ?= none sha
SEEDS ?= 1 2 3
EXP_JOBS ?= 1
RANDOM_CELLS ?= 2
# transfer's own defaults (transfer --help): 2 cells per stack, 16 filters, its step budget
TRANSFER_N ?= 2
TRANSFER_F ?= 16
TRANSFER_EPOCHS ?=
TRANSFER_STEPS ?=
TRANSFER_IMAGES ?=
TRANSFER_SEED ?= 1
# ROUNDS of search.mk (10) is the length of a search without a budget; here it is a cap
EXP_ROUNDS := $(if $(filter command line,$(origin ROUNDS)),$(ROUNDS),200)
EXP_CHILDREN := $(if $(filter command line environment,$(origin CHILDREN)),$(CHILDREN),9)

# passed to experiment.sh only, not exported: an exported TRANSFER_N would reach
# every other recipe (make test's searches) as if the user had set it
EXP_VARS := EXP STRATEGIES SCHEDULES SEEDS EXP_JOBS RANDOM_CELLS TRANSFER_N TRANSFER_F \
	TRANSFER_EPOCHS TRANSFER_STEPS TRANSFER_IMAGES TRANSFER_SEED TRANSFER_FLAGS EXP_ROUNDS
EXP_ENV = $(foreach v,$(EXP_VARS),$(v)='$($(v))') CHILDREN='$(EXP_CHILDREN)'

.PHONY: experiment experiment-report help-experiment deps-experiment
help-experiment:
	@sed -n '1,/^$$/p' pipelines/experiment.mk | sed 's/^# \{0,1\}//'

# gnuplot for the plot (`all` installs the build's packages)
deps-experiment:
	@bash pipelines/deps.sh gnuplot-nox

experiment: all deps-experiment $(if $(filter data/fashion-mnist.h5,$(DATA)),data/fashion-mnist.h5)
	@$(EXP_ENV) bash pipelines/experiment.sh run

# rewrite EXP/report.md from what is there (also while the experiment runs)
experiment-report: all deps-experiment
	@$(EXP_ENV) bash pipelines/experiment.sh report
