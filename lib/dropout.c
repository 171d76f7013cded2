/*
 * dropout.c - inverted dropout and per-example drop path.
 *
 * Each kept unit is scaled by 1/keep so the expectation is unchanged and the
 * network needs no rescaling at eval time; the mask holds 0 or 1/keep and is
 * saved for backward. Randomness comes only from the `struct rng` passed in:
 * one rng_float() draw per element (dropout) or per example (drop path), in
 * index order, unit kept when draw < keep. With keep >= 1 nothing is drawn and
 * the mask is all ones, so turning the op off does not shift the stream.
 */
#include "ops.h"
#include "rng.h"

static float keep_mask(struct rng *r, float keep)
{
	return rng_float(r) < keep ? 1.0f / keep : 0.0f;
}

/* mask, out (n) */
void dropout_forward(float *out, float *mask, const float *in, size_t n, float keep,
		     struct rng *r)
{
	for (size_t i = 0; i < n; i++) {
		mask[i] = keep >= 1.0f ? 1.0f : keep_mask(r, keep);
		out[i] = in[i] * mask[i];
	}
}

void dropout_backward(float *din, const float *dout, const float *mask, size_t n)
{
	if (!din)
		return;
	for (size_t i = 0; i < n; i++)
		din[i] += dout[i] * mask[i];
}

/* mask (N); out, in (N, per) */
void droppath_forward(float *out, float *mask, const float *in, int N, size_t per, float keep,
		      struct rng *r)
{
	/* the draws in example order, then the scaling (any thread count) */
	for (int n = 0; n < N; n++)
		mask[n] = keep >= 1.0f ? 1.0f : keep_mask(r, keep);
#pragma omp parallel for schedule(static) if (ops_par(per * N))
	for (int n = 0; n < N; n++) {
		const float *x = in + (size_t)n * per;
		float *y = out + (size_t)n * per;

#pragma omp simd
		for (size_t i = 0; i < per; i++)
			y[i] = x[i] * mask[n];
	}
}

void droppath_backward(float *din, const float *dout, const float *mask, int N, size_t per)
{
	if (!din)
		return;
#pragma omp parallel for schedule(static) if (ops_par(per * N))
	for (int n = 0; n < N; n++) {
		const float *g = dout + (size_t)n * per;
		float *dx = din + (size_t)n * per;

#pragma omp simd
		for (size_t i = 0; i < per; i++)
			dx[i] += g[i] * mask[n];
	}
}
