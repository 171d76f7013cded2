/*
 * predict.h - classifying image files with a trained network (tools/predict.c).
 *
 *   struct pathlist l = { 0 };
 *   predict_collect("photos/", &l);      // a PNG file, or a folder's PNGs recursively
 *   predict_image(x, l.v[i], &macro, &meta);  // decode, convert, resize, normalise
 *   ... net_infer(net, x, B, logits) ...
 *   predict_print(stdout, path, logits, K, &meta, &opts);
 *   pathlist_free(&l);
 */
#ifndef NASNET_PREDICT_H
#define NASNET_PREDICT_H

#include <stdio.h>

#include "childcfg.h"
#include "netfile.h"

struct pathlist {
	char **v;
	int n, cap;
};

void pathlist_free(struct pathlist *l);
/*
 * Append `path` if it is a file, or every *.png (any case) under it if it is
 * a folder: recursively, each folder's entries in byte order, hidden entries
 * skipped. A folder without any PNG, or a path that cannot be read, is one
 * error line and -1 (what was found before stays appended).
 */
int predict_collect(const char *path, struct pathlist *l);
/*
 * out (in_c, in_h, in_w): the PNG at path decoded (8-bit, alpha dropped),
 * converted gray <-> RGB as import-data does, resampled to the network's
 * input with import-data's image_resize, then normalised as in training:
 * (pixel / 255 - mean) / std. raw (may be NULL) gets the pixels before
 * normalisation (0..255, the input of an exported ONNX model).
 * One error line naming the file and -1 when it cannot be used.
 */
int predict_image(float *out, float *raw, const char *path, const struct macro_config *m,
		  const struct netfile_meta *meta);

enum predict_mode { PREDICT_CLASSES, PREDICT_LOGITS };
struct predict_opts {
	int mode;   /* enum predict_mode */
	int top;    /* classes per line (PREDICT_CLASSES), >= 1 */
	int csv;    /* commas and a header instead of tabs */
};
/* The header line (csv only; nothing otherwise). */
void predict_header(FILE *f, const struct netfile_meta *meta, const struct predict_opts *o);
/* One line: path, then the top classes with their softmax probability, or
 * every logit (%.9g). */
void predict_print(FILE *f, const char *path, const float *logits, int K,
		   const struct netfile_meta *meta, const struct predict_opts *o);

/*
 * The network to deploy from a transfer folder (OUT of `transfer`, default
 * RUN/transfer): the row of OUT/results.h5 with the highest test accuracy
 * (status ok; the first of equals), its weights OUT/<name>/genotype.weights.h5
 * into path. One error line and -1 when there is none.
 */
int predict_best_transferred(const char *out, char *path, size_t n, double *test_accuracy);

#endif
