# pipelines/export.mk - the deploy step after `make transfer` (included by the
# top Makefile; tools/export-onnx.c does the work).
#
#   make export RUN=runs/a        RUN/transfer's best network -> RUN/model.onnx
#   variables: TRANSFER_OUT (the transfer folder, default RUN/transfer),
#              ONNX (the model, default RUN/model.onnx)
#
# The best network is the row of TRANSFER_OUT/results.h5 with the highest test
# accuracy. The model takes raw 0-255 pixels (N, C, H, W) and returns logits;
# its metadata holds the class names (README "Deploy").

ONNX ?= $(RUN)/model.onnx

.PHONY: export
export: all
	bin/export-onnx --best $(or $(TRANSFER_OUT),$(RUN)/transfer) -o $(ONNX)
