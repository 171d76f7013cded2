/*
 * ops.h - the numeric primitives of the child networks, as forward/backward
 * pairs over plain float NCHW arrays (llm.c argument order: outputs first,
 * then saved intermediates, then inputs and weights, then dimensions).
 *
 * Contract:
 *  - Every *_backward ACCUMULATES (+=) into its gradient outputs; callers
 *    zero gradient buffers in one place. A NULL gradient pointer means
 *    "not needed" (e.g. din of the first layer); every backward accepts it.
 *  - Padding follows TensorFlow "SAME": output = ceil(in / stride), total
 *    padding max((out-1)*stride + (k-1)*dil + 1 - in, 0), of which
 *    floor(total/2) goes top/left and the rest bottom/right.
 *  - Weights use PyTorch layouts: conv (K, C, kh, kw); depthwise (C, 1, kh, kw);
 *    linear (out, in).
 *  - Each fast kernel keeps a naive *_ref twin that is its test oracle.
 *  - Results are deterministic for a given thread count, and the OpenMP
 *    kernels (depthwise, pooling, batch norm, im2col) are bit-identical for
 *    any thread count: each output is computed by one thread in a fixed
 *    order. They go parallel only above OPS_PAR_MIN units of work (ops_par), since a
 *    parallel region costs more than a tiny layer (and much more on a
 *    loaded machine).
 */
#ifndef NASNET_OPS_H
#define NASNET_OPS_H

#include <omp.h>
#include <stddef.h>
#include <stdint.h>

struct rng;

/* smallest work (multiply-adds or elements) for which a kernel uses OpenMP threads */
#define OPS_PAR_MIN 32768

/* go parallel: enough work, and not already inside a parallel region (net_infer's
 * threads each run whole images; a nested region would only add its cost) */
static inline int ops_par(size_t work)
{
	return work >= OPS_PAR_MIN && !omp_in_parallel();
}

/* Geometry of a convolution / pooling window under TF SAME padding. */
struct conv_shape {
	int N, C, H, W;   /* input */
	int K;            /* output channels (== C for depthwise and pooling) */
	int kh, kw;       /* window */
	int sh, sw;       /* stride */
	int dil;          /* dilation (same in both directions) */
	int OH, OW;       /* output = ceil(H/sh), ceil(W/sw) */
	int pt, pl;       /* top / left padding (bottom/right get the rest) */
};

/* Fill a conv_shape for SAME padding. */
void conv_shape_same(struct conv_shape *s, int N, int C, int H, int W, int K,
		     int kh, int kw, int sh, int sw, int dil);
/* Fill a conv_shape for VALID padding (stem conv of the ImageNet stem, aux head). */
void conv_shape_valid(struct conv_shape *s, int N, int C, int H, int W, int K,
		      int kh, int kw, int sh, int sw);

/* ---- convolution (im2col / direct + cblas_sgemm; 1x1 stride 1 without im2col) ---- */
/*
 * Floats of scratch space conv2d_* need to run with up to `threads` threads
 * (one slot each). The batch is split over min(threads, OpenMP's limit, N)
 * threads; OpenBLAS must be single-threaded (cli_apply_threads sees to it).
 */
size_t conv2d_workspace(const struct conv_shape *s, int threads);
/* out (N,K,OH,OW) = conv(in (N,C,H,W), w (K,C,kh,kw)) */
void conv2d_forward(float *out, const float *in, const float *w, const struct conv_shape *s,
		    float *work, int threads);
/* din (N,C,H,W) += ..., dw (K,C,kh,kw) += ... from dout (N,K,OH,OW) */
void conv2d_backward(float *din, float *dw, const float *dout, const float *in, const float *w,
		     const struct conv_shape *s, float *work, int threads);
/* threads a batch-split kernel uses: min(threads, omp_get_max_threads(), N), at least 1 */
int ops_batch_threads(int threads, int N);
/*
 * The weight-gradient reduction of the batch-split kernels, called by all T
 * threads of their parallel region once every partial is complete: thread 0
 * accumulated into dw (n floats), thread u into work + u * slot + off; dw +=
 * the partials in thread order (deterministic), the n floats split over the
 * threads. Ends with the barrier of its loop.
 */
void ops_sum_partials(float *dw, const float *work, size_t slot, size_t off, size_t n, int T);
void conv2d_forward_ref(float *out, const float *in, const float *w, const struct conv_shape *s);
void conv2d_backward_ref(float *din, float *dw, const float *dout, const float *in,
			 const float *w, const struct conv_shape *s);

/* ---- depthwise convolution, multiplier 1: w (C,1,kh,kw), s->K == s->C ---- */
void depthwise_forward(float *out, const float *in, const float *w, const struct conv_shape *s);
void depthwise_backward(float *din, float *dw, const float *dout, const float *in,
			const float *w, const struct conv_shape *s);
void depthwise_forward_ref(float *out, const float *in, const float *w,
			   const struct conv_shape *s);
void depthwise_backward_ref(float *din, float *dw, const float *dout, const float *in,
			    const float *w, const struct conv_shape *s);

/* ---- batch norm over (N, HW) per channel ---- */
/* training: batch statistics; saves mean[C], rstd[C]; updates running stats
 * running = (1-momentum)*running + momentum*batch (running_var unbiased, as PyTorch) */
void batchnorm_forward_train(float *out, float *mean, float *rstd, float *running_mean,
			     float *running_var, const float *in, const float *gamma,
			     const float *beta, int N, int C, int HW, float momentum, float eps);
void batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
			    const float *running_mean, const float *running_var, int N, int C,
			    int HW, float eps);
/* din += ..., dgamma += ..., dbeta += ... (training-mode backward) */
void batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
			const float *in, const float *mean, const float *rstd, const float *gamma,
			int N, int C, int HW);

/*
 * Batch norm over a batch split into slices held apart (net.c's data-parallel
 * training step, one slice per thread). Forward: each slice fills its part
 * (batchnorm_slice_moments); once all parts are complete every slice merges
 * them in slice order (batchnorm_slice_combine: the same coefficients in
 * every thread; one thread passes mean/rstd/running to be written) and
 * normalises its own examples. Backward likewise: batchnorm_slice_grad_sums,
 * then batchnorm_slice_backward. A part is BN_PART(C) doubles; parts lie
 * `stride` doubles apart.
 */
#define BN_PART(C) (2 + 2 * (size_t)(C))
void batchnorm_slice_moments(double *part, const float *in, int N, int C, int HW);
void batchnorm_slice_combine(float *coef, float *mean, float *rstd, float *running_mean,
			     float *running_var, const double *parts, size_t stride, int T,
			     const float *gamma, const float *beta, int C, int HW, float momentum,
			     float eps);
/* out = a * (in - mf) + b with coef (3C) = mf, a, b from batchnorm_slice_combine */
void batchnorm_slice_normalize(float *out, const float *in, const float *coef, int N, int C,
			       int HW);
void batchnorm_slice_grad_sums(double *part, const float *dout, const float *in,
			       const float *mean, int N, int C, int HW);
void batchnorm_slice_backward(float *din, float *dgamma, float *dbeta, const double *parts,
			      size_t stride, int T, const float *dout, const float *in,
			      const float *mean, const float *rstd, const float *gamma, int N,
			      int C, int HW);

/* ---- activations and elementwise ---- */
void relu_forward(float *out, const float *in, size_t n);
/* din += dout * (in > 0) */
void relu_backward(float *din, const float *dout, const float *in, size_t n);
/* out = a + b */
void add_forward(float *out, const float *a, const float *b, size_t n);
/* x[0..n) = 0, split over the threads when large (gradient buffers before a backward) */
void zero_floats(float *x, size_t n);
/* y += x (the backward of add and of identity) */
void accumulate(float *y, const float *x, size_t n);

/* concat along channels: out (N, sum C_i, HW) from k inputs (N, C_i, HW) */
void concat_forward(float *out, const float *const *in, const int *C, int k, int N, int HW);
/* din_i += slice of dout */
void concat_backward(float *const *din, const float *dout, const int *C, int k, int N, int HW);

/* ---- pooling (window from conv_shape, K == C) ---- */
/* average over real pixels only (TF SAME: padding not counted) */
void avgpool_forward(float *out, const float *in, const struct conv_shape *s);
void avgpool_backward(float *din, const float *dout, const struct conv_shape *s);
/* max pool; argmax (N,C,OH,OW) int32 index into the input plane, saved for backward */
void maxpool_forward(float *out, int32_t *argmax, const float *in, const struct conv_shape *s);
void maxpool_backward(float *din, const float *dout, const int32_t *argmax,
		      const struct conv_shape *s);
void avgpool_forward_ref(float *out, const float *in, const struct conv_shape *s);
void avgpool_backward_ref(float *din, const float *dout, const struct conv_shape *s);
void maxpool_forward_ref(float *out, const float *in, const struct conv_shape *s);
/* finds each window's first maximum in `in` itself (checks the saved argmax path) */
void maxpool_backward_ref(float *din, const float *dout, const float *in,
			  const struct conv_shape *s);

/* global average pool: out (N,C) from in (N,C,HW) */
void gap_forward(float *out, const float *in, int N, int C, int HW);
void gap_backward(float *din, const float *dout, int N, int C, int HW);

/* ---- factorized reduction: two strided 1x1 paths, the second shifted by one pixel ----
 * out (N, F, ceil(H/2), ceil(W/2)): channels [0,F/2) = w1 . in[:, :, 0::2, 0::2],
 * channels [F/2,F) = w2 . in[:, :, 1::2, 1::2] (zero where the shift runs off the edge).
 * w1, w2: (F/2, C). No ReLU or BN inside (the caller composes ReLU -> this -> BN). */
void factorized_reduce_forward(float *out, const float *in, const float *w1, const float *w2,
			       int N, int C, int H, int W, int F, float *work, int threads);
void factorized_reduce_backward(float *din, float *dw1, float *dw2, const float *dout,
				const float *in, const float *w1, const float *w2, int N, int C,
				int H, int W, int F, float *work, int threads);
/* scratch floats for up to `threads` threads (batch split as in conv2d_*) */
size_t factorized_reduce_workspace(int N, int C, int H, int W, int F, int threads);
void factorized_reduce_forward_ref(float *out, const float *in, const float *w1,
				   const float *w2, int N, int C, int H, int W, int F);
void factorized_reduce_backward_ref(float *din, float *dw1, float *dw2, const float *dout,
				    const float *in, const float *w1, const float *w2, int N,
				    int C, int H, int W, int F);

/* ---- fully connected: out (N, Fo) = in (N, Fi) . w^T (Fo, Fi) + b (Fo) ----
 * (not named I/O: <complex.h>, pulled in by cblas.h, defines I). b may be NULL. */
void linear_forward(float *out, const float *in, const float *w, const float *b, int N, int Fi,
		    int Fo);
void linear_backward(float *din, float *dw, float *db, const float *dout, const float *in,
		     const float *w, int N, int Fi, int Fo);
void linear_forward_ref(float *out, const float *in, const float *w, const float *b, int N,
			int Fi, int Fo);
void linear_backward_ref(float *din, float *dw, float *db, const float *dout, const float *in,
			 const float *w, int N, int Fi, int Fo);

/* ---- softmax cross-entropy with label smoothing eps (0 = off) ----
 * probs (N, K) saved; returns the mean loss over the batch. */
float softmax_xent_forward(float *probs, const float *logits, const int32_t *labels, int N,
			   int K, float smoothing);
/* dlogits += scale * d(mean loss)/dlogits */
void softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels, int N,
			   int K, float smoothing, float scale);

/* ---- dropout / drop path ---- */
/* mask (n) in {0, 1/keep}; out = in * mask */
void dropout_forward(float *out, float *mask, const float *in, size_t n, float keep,
		     struct rng *r);
/* the two halves of the forwards (net.c draws every mask of a step before
 * the threads apply them): mask (n) in {0, 1/keep}, one rng_float() per unit
 * in index order, none when keep >= 1; dropout out = in * mask; drop path
 * out[n] = in[n] * mask[n] over `per` elements (mask (N) from dropout_mask) */
void dropout_mask(float *mask, size_t n, float keep, struct rng *r);
void dropout_apply(float *out, const float *mask, const float *in, size_t n);
void droppath_apply(float *out, const float *mask, const float *in, int N, size_t per);
void dropout_backward(float *din, const float *dout, const float *mask, size_t n);
/* per-example: mask (N) in {0, 1/keep}; out[n] = in[n] * mask[n] over `per` elements */
void droppath_forward(float *out, float *mask, const float *in, int N, size_t per, float keep,
		      struct rng *r);
void droppath_backward(float *din, const float *dout, const float *mask, int N, size_t per);

#endif
