# pipelines/fidelity.mk - how far a cheap reward can be trusted (included by the Makefile).
#
#   make fidelity [RUN=runs/fidelity] [FID_CELLS=30] [FID_SEEDS=2] [HI_N=2] [HI_F=16]
#                 [HI_EPOCHS=3] [HI_TRAIN_IMAGES=0 (all)] [JOBS=ncores]
#                 and the search's SPACE SEED DATA CHILD_* ETA RUNGS
#
# FID_CELLS cells drawn uniformly from SPACE are trained at the low fidelity
# (the CHILD_* settings) with FID_SEEDS seeds, along the successive-halving
# rung plan (ETA, RUNGS) with the same seeds, and once at the high fidelity
# (HI_*). Writes RUN/fidelity.tsv, RUN/fidelity.txt (one `fidelity:` line
# per budget) and RUN/fidelity.png. A run folder like a search: resumable,
# parallel, refused on changed settings (pipelines/fidelity.sh).
FID_CELLS ?= 30
FID_SEEDS ?= 2
HI_N ?= 2
HI_F ?= 16
HI_EPOCHS ?= 3
HI_TRAIN_IMAGES ?= 0
FIDELITY_SETTINGS := SPACE SEED DATA CHILD_N CHILD_F CHILD_EPOCHS CHILD_TRAIN_IMAGES CHILD_BATCH \
	CHILD_LR ETA RUNGS FID_CELLS FID_SEEDS HI_N HI_F HI_EPOCHS HI_TRAIN_IMAGES

.PHONY: fidelity
# a fidelity study is not a search: its own default folder
fidelity: all $(if $(filter data/fashion-mnist.h5,$(DATA)),data/fashion-mnist.h5)
	@RUN='$(if $(filter command line environment,$(origin RUN)),$(RUN),runs/fidelity)' \
		FID_CELLS='$(FID_CELLS)' FID_SEEDS='$(FID_SEEDS)' HI_N='$(HI_N)' HI_F='$(HI_F)' \
		HI_EPOCHS='$(HI_EPOCHS)' HI_TRAIN_IMAGES='$(HI_TRAIN_IMAGES)' \
		FIDELITY_SETTINGS='$(FIDELITY_SETTINGS)' bash pipelines/fidelity.sh
