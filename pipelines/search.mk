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
# The child settings (CHILD_N, CHILD_F, ...), their flags and defaults are one
# table in lib/arch/childcfg.c: `bin/sample-arch --list-settings` prints them, and
# search.sh fills in the defaults. Set on the command line or in the
# environment, they reach search.sh without an export here.
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
SSH_WORKDIR ?=

# The run settings, their kinds and which of them define a run (a later call
# must agree) are listed once, in pipelines/settings.list; the child settings
# are the table in lib/arch/childcfg.c. search.sh checks them all.
SEARCH_SETTINGS := $(shell sed -n 's/^\([A-Z][A-Z0-9_]*\) .*/\1/p' pipelines/settings.list)

# TRANSFER_N/TRANSFER_F reach search.sh as SEARCH_TRANSFER_N/F: exported under
# their own names they would carry experiment.mk's defaults into every recipe
# (make test's searches among them) as if a user had set them
export RUN $(filter-out TRANSFER_N TRANSFER_F,$(SEARCH_SETTINGS)) SSHLOGINFILE SSH_TRANSFER SSH_WORKDIR LAUNCH \
	SEARCH_TRANSFER_N SEARCH_TRANSFER_F

.PHONY: search status report
search: all $(if $(filter data/fashion-mnist.h5,$(DATA)),data/fashion-mnist.h5)
	@bash pipelines/search.sh

status:
	@ROUNDS_GIVEN=$(if $(filter command line,$(origin ROUNDS)),$(ROUNDS)) bash pipelines/status.sh "$(RUN)"

report: all
	@bash pipelines/report.sh $(RUN)
