# pipelines/search.mk - the search loop as make rules (included by the top Makefile).
#
#   make search [ROUNDS=10] [RUN=runs/default] [CHILDREN=8] [JOBS=ncores] [STRATEGY=ppo]
#               [SPACE=nasnet] [SEED=1] [DATA=data/fashion-mnist.h5] [CHILD_N=1] [CHILD_F=8]
#               [CHILD_EPOCHS=1] [CHILD_TRAIN_IMAGES=5000] [SSHLOGINFILE=hosts] [LAUNCH='srun -n1']
#               [SCHEDULE=none|sha] [ETA=3] [RUNGS=3]
#               [BUDGET=images]
#   BUDGET       stop after the first round whose children, summed over every round,
#                processed at least this many training images (ROUNDS is then a cap)
#               [MAX_PARAMS=N] [MAX_MACS=N] [TRANSFER_N=N TRANSFER_F=F]
#               [REWARD=accuracy|mnasnet|mnasnet-hard TARGET_MACS=N|TARGET_LATENCY_MS=X REWARD_W=-0.07]
#   make status RUN=...      where a run stands
#   make report RUN=...      report.md with plots (pipelines/report.sh)
#
# The run folder is the state: settings, one folder per round (frozen list of
# architectures, genotype/weights/checkpoint/reward files, joblog, policy after
# the update), policy.h5 (newest complete policy) and history.tsv. Every file is
# written atomically by the tools; make decides what is missing, so running the
# same command again after a crash (even SIGKILL) continues where it stopped.
# Layout and settings are documented in schemas/run.md.

RUN ?= runs/default
ROUNDS ?= 10
CHILDREN ?= 8
JOBS ?= $(shell nproc)
STRATEGY ?= ppo
SPACE ?= nasnet
SEED ?= 1
DATA ?= data/fashion-mnist.h5
CHILD_N ?= 1
CHILD_F ?= 8
CHILD_EPOCHS ?= 1
CHILD_TRAIN_IMAGES ?= 5000
CHILD_BATCH ?= 64
CHILD_LR ?= 0.05
# successive halving inside a round (SCHEDULE=sha): rung 0 trains every child
# for CHILD_EPOCHS / ETA^(RUNGS-1), each next rung continues the best 1/ETA
# of the previous one ETA times longer; the top rung ends at CHILD_EPOCHS
SCHEDULE ?= none
ETA ?= 3
RUNGS ?= 3
# cost-aware search (0 / empty: off; see schemas/run.md)
MAX_PARAMS ?= 0
MAX_MACS ?= 0
# the size a budget is counted at: TRANSFER_N/TRANSFER_F only when given
# (command line or environment), not experiment.mk's defaults of the same name
SEARCH_TRANSFER_N := $(if $(filter command line environment,$(origin TRANSFER_N)),$(TRANSFER_N))
SEARCH_TRANSFER_F := $(if $(filter command line environment,$(origin TRANSFER_F)),$(TRANSFER_F))
REWARD ?= accuracy
TARGET_MACS ?=
TARGET_LATENCY_MS ?=
REWARD_W ?= -0.07
SSHLOGINFILE ?=
LAUNCH ?=
SSH_TRANSFER ?= 0
BUDGET ?=

# Settings that define a run: a later call must agree (ROUNDS, JOBS, SSHLOGINFILE
# and LAUNCH may change between calls).
SEARCH_SETTINGS := STRATEGY SPACE SEED DATA CHILDREN CHILD_N CHILD_F CHILD_EPOCHS \
	CHILD_TRAIN_IMAGES CHILD_BATCH CHILD_LR SCHEDULE ETA RUNGS BUDGET \
	MAX_PARAMS MAX_MACS TRANSFER_N TRANSFER_F REWARD TARGET_MACS TARGET_LATENCY_MS REWARD_W

export RUN ROUNDS CHILDREN JOBS STRATEGY SPACE SEED DATA CHILD_N CHILD_F CHILD_EPOCHS \
	CHILD_TRAIN_IMAGES CHILD_BATCH CHILD_LR SSHLOGINFILE SSH_TRANSFER LAUNCH \
	SCHEDULE ETA RUNGS BUDGET SEARCH_SETTINGS \
	MAX_PARAMS MAX_MACS SEARCH_TRANSFER_N SEARCH_TRANSFER_F REWARD TARGET_MACS TARGET_LATENCY_MS REWARD_W

.PHONY: search status report
search: all $(if $(filter data/fashion-mnist.h5,$(DATA)),data/fashion-mnist.h5)
	@bash pipelines/search.sh

status:
	@bash pipelines/status.sh "$(RUN)"

report: all
	@bash pipelines/report.sh $(RUN)
