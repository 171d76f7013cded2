# pipelines/rounds.mk - one set of file rules per search round (run by search.sh).
#
#   round-RRR/archs.list    frozen list of the round's genotype files (sample-arch)
#   round-RRR/rewards.done  every child trained and scored (GNU parallel, child.sh)
#   round-RRR/done          controller updated (round-RRR/policy.h5, $(RUN)/policy.h5),
#                           history.tsv rewritten
# Round r's sampling depends on round r-1's done marker: rounds run in order,
# children of a round run in parallel.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

pad = $(shell printf %03d $(1))
LAST := $(shell echo $$(( $(ROUNDS) - 1 )))

.PHONY: rounds
rounds: $(RUN)/round-$(call pad,$(LAST))/done

# SCHEDULE=sha: rung-K.done for K = 0..RUNGS-1 between the list and the rewards
RUNG_LAST := $(if $(filter sha,$(SCHEDULE)),$(shell echo $$(( $(RUNGS) - 1 ))))

define RUNG
$(RUN)/round-$(2)/rung-$(3).done: $(if $(filter 0,$(3)),$(RUN)/round-$(2)/archs.list,$(RUN)/round-$(2)/rung-$(shell echo $$(( $(3) - 1 ))).done)
	@bash pipelines/round.sh rung $(1) $(3)
endef

define ROUND
$(RUN)/round-$(2)/archs.list: $(if $(3),$(RUN)/round-$(3)/done,$(RUN)/settings)
	@bash pipelines/round.sh sample $(1)
ifeq ($(RUNG_LAST),)
$(RUN)/round-$(2)/rewards.done: $(RUN)/round-$(2)/archs.list
	@bash pipelines/round.sh train $(1)
else
$$(foreach k,$$(shell seq 0 $(RUNG_LAST)),$$(eval $$(call RUNG,$(1),$(2),$$(k))))
$(RUN)/round-$(2)/rewards.done: $(RUN)/round-$(2)/rung-$(RUNG_LAST).done
	@bash pipelines/round.sh final $(1)
endif
$(RUN)/round-$(2)/done: $(RUN)/round-$(2)/rewards.done
	@bash pipelines/round.sh update $(1)
endef

# one shell for all rounds ("R:RRR:previous RRR"), not two per round: 1000 rounds
# parse in a fraction of a second instead of seconds, at every make call
ROUND_TRIPLES := $(shell seq 0 $(LAST) | awk '{ printf "%d:%03d:%s\n", $$1, $$1, ($$1 ? sprintf("%03d", $$1 - 1) : "") }')
$(foreach t,$(ROUND_TRIPLES),$(eval $(call ROUND,$(word 1,$(subst :, ,$(t))),$(word 2,$(subst :, ,$(t))),$(word 3,$(subst :, ,$(t))))))
