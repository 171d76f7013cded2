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

/* mask (n) in {0, 1/keep}: one draw per unit in index order (none when keep >= 1) */
void dropout_mask(float *mask, size_t n, float keep, struct rng *r)
{
	for (size_t i = 0; i < n; i++)
		mask[i] = keep >= 1.0f ? 1.0f : keep_mask(r, keep);
}

/* out (n) = in * mask */
void dropout_apply(float *out, const float *mask, const float *in, size_t n)
{
#pragma omp parallel for simd schedule(static) if (parallel: ops_par(n))
	for (size_t i = 0; i < n; i++)
		out[i] = in[i] * mask[i];
}

/* mask, out (n) */
void dropout_forward(float *out, float *mask, const float *in, size_t n, float keep,
		     struct rng *r)
{
	dropout_mask(mask, n, keep, r);
	dropout_apply(out, mask, in, n);
}

void dropout_backward(float *din, const float *dout, const float *mask, size_t n)
{
	if (!din)
		return;
	for (size_t i = 0; i < n; i++)
		din[i] += dout[i] * mask[i];
}

/* out[n] = in[n] * mask[n] over `per` elements (N examples) */
void droppath_apply(float *out, const float *mask, const float *in, int N, size_t per)
{
#pragma omp parallel for schedule(static) if (ops_par(per * N))
	for (int n = 0; n < N; n++) {
		const float *x = in + (size_t)n * per;
		float *y = out + (size_t)n * per;

#pragma omp simd
		for (size_t i = 0; i < per; i++)
			y[i] = x[i] * mask[n];
	}
}

/* mask (N); out, in (N, per): the draws in example order, then the scaling */
void droppath_forward(float *out, float *mask, const float *in, int N, size_t per, float keep,
		      struct rng *r)
{
	dropout_mask(mask, (size_t)N, keep, r);
	droppath_apply(out, mask, in, N, per);
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
