/*
 * onnx.h - export a network to a standard ONNX model (opset 13) for
 * inference in other runtimes (OpenCV DNN, onnxruntime, ...).
 *
 * The graph is a walk of the network's tape (lib/net/net.h), one ONNX node or
 * a few per step, so it is the network net_infer runs, step for step:
 *
 *   input  `image`  float32 (N, C, H, W), raw pixels 0..255 after resizing
 *          -> Mul/Sub: the training normalisation (x / 255 - mean) / std
 *   conv, depthwise conv   Conv (group C), TF SAME padding as explicit pads
 *   batch norm             BatchNormalization with the running statistics
 *   avg pool               AveragePool, count_include_pad 0 (padding not
 *                          counted, as the engine)
 *   max pool               MaxPool (explicit pads)
 *   factorized reduction   two Convs (1x1 stride 2; the shifted path a 2x2
 *                          stride-2 kernel zero but at (1,1), padded at the
 *                          end) and a Concat
 *   ReLU, add, concat, global average pool, FC   Relu, Add, Concat,
 *                          GlobalAveragePool, Flatten + Gemm
 *   drop path, dropout     left out (identity at inference); so is the aux head
 *   output `logits` float32 (N, classes)
 *
 * Metadata props: classes (one name a line), genotype, mean and std,
 * input (CxHxW), stem, nasnet_c_version, git_revision, source.
 *
 *   onnx_export("model.onnx", net, &meta, "w.h5");   // atomic: whole or absent
 */
#ifndef NASNET_ONNX_H
#define NASNET_ONNX_H

#include "net.h"
#include "netfile.h"

#define ONNX_OPSET 13
#define ONNX_IR_VERSION 7   /* the IR of opset 13 (ONNX 1.8) */

/* Write the model of `n` (parameters loaded) to path; source names the
 * network file in the metadata. Returns 0, or -1 after one error line. */
int onnx_export(const char *path, const struct net *n, const struct netfile_meta *m,
		const char *source);

#endif
