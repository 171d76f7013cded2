/*
 * depthwise.c - depthwise 2-D convolution, channel multiplier 1, over NCHW
 * floats: out (N, C, OH, OW) from in (N, C, H, W) and w (C, 1, kh, kw), with
 * any stride and dilation under the geometry of struct conv_shape.
 *
 * A direct loop, not C tiny gemms. For one output row and one kernel tap
 * (ky, kx), the output columns whose input column is inside the image form
 * one contiguous range [lo, hi) (tap_range), so the innermost loop is a
 * bounds-check-free axpy over restrict pointers that the compiler vectorises
 * for stride 1 (`omp simd`: -O2's very cheap cost model would not vectorise
 * a loop that needs a scalar epilogue; each element is still computed the
 * same way, so results do not change). Taps are summed in a fixed order,
 * and threads split independent planes (forward) or channels (backward,
 * which owns dw[c] and every din plane of channel c), so results do not
 * depend on the thread count. The *_ref functions are the naive oracles.
 */
#include "ops.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Output columns [*lo, *hi) for which ox*st + off lies in [0, len). */
static void tap_range(int *lo, int *hi, int off, int st, int len, int out)
{
	int a = -off, b = len - 1 - off;   /* need a <= ox*st <= b */
	int l = a <= 0 ? 0 : (a + st - 1) / st;
	int h = b < 0 ? -1 : b / st;

	if (h > out - 1)
		h = out - 1;
	*lo = l;
	*hi = h + 1 > l ? h + 1 : l;
}

/* lo[kx], hi[kx] = lo[kw + kx]: the column range of every horizontal tap (free() it) */
static int *tap_ranges(const struct conv_shape *s)
{
	int *lo = xmalloc(sizeof(*lo) * 2 * s->kw);

	for (int kx = 0; kx < s->kw; kx++)
		tap_range(&lo[kx], &lo[s->kw + kx], kx * s->dil - s->pl, s->sw, s->W, s->OW);
	return lo;
}

/* d[ox] += a * x[ox*st + off] for ox in [lo, hi) */
static inline void axpy_tap(float *restrict d, const float *restrict x, float a, int lo, int hi,
			    int st, int off)
{
	if (st == 1) {
		const float *restrict xs = x + (off + lo);
		float *restrict ds = d + lo;

#pragma omp simd
		for (int i = 0; i < hi - lo; i++)
			ds[i] += a * xs[i];
	} else {
		for (int ox = lo; ox < hi; ox++)
			d[ox] += a * x[ox * st + off];
	}
}

/* x[ox*st + off] += a * g[ox] for ox in [lo, hi) */
static inline void scatter_tap(float *restrict x, const float *restrict g, float a, int lo, int hi,
			       int st, int off)
{
	if (st == 1) {
		float *restrict xs = x + (off + lo);
		const float *restrict gs = g + lo;

#pragma omp simd
		for (int i = 0; i < hi - lo; i++)
			xs[i] += a * gs[i];
	} else {
		for (int ox = lo; ox < hi; ox++)
			x[ox * st + off] += a * g[ox];
	}
}

/*
 * sum over ox in [lo, hi) of g[ox] * x[ox*st + off], in double. Four
 * explicit partial sums (lane i takes ox = lo + i mod 4) let the compiler use
 * vectors while fixing the order of the additions in the source.
 */
static inline double dot_tap(const float *restrict g, const float *restrict x, int lo, int hi,
			     int st, int off)
{
	double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
	int ox = lo;

	if (st == 1)
		for (; ox + 4 <= hi; ox += 4) {
			a0 += (double)g[ox] * x[ox + off];
			a1 += (double)g[ox + 1] * x[ox + 1 + off];
			a2 += (double)g[ox + 2] * x[ox + 2 + off];
			a3 += (double)g[ox + 3] * x[ox + 3 + off];
		}
	for (; ox < hi; ox++)
		a0 += (double)g[ox] * x[ox * st + off];
	return (a0 + a1) + (a2 + a3);
}

void depthwise_forward(float *out, const float *in, const float *w, const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	const int kh = s->kh, kw = s->kw, dil = s->dil;
	const int planes = s->N * C;
	const int par = (size_t)planes * OH * OW * kh * kw >= OPS_PAR_MIN;
	int *lo = tap_ranges(s), *hi = lo + kw;

#pragma omp parallel for schedule(static) if (par)
	for (int p = 0; p < planes; p++) {
		const float *plane = in + (size_t)p * H * W;          /* (H, W) */
		const float *wc = w + (size_t)(p % C) * kh * kw;     /* (kh, kw) */
		float *o = out + (size_t)p * OH * OW;                /* (OH, OW) */

		for (int oy = 0; oy < OH; oy++) {
			float *orow = o + (size_t)oy * OW;

			memset(orow, 0, sizeof(*orow) * OW);
			for (int ky = 0; ky < kh; ky++) {
				int iy = oy * s->sh - s->pt + ky * dil;

				if (iy < 0 || iy >= H)
					continue;
				for (int kx = 0; kx < kw; kx++)
					axpy_tap(orow, plane + (size_t)iy * W, wc[ky * kw + kx], lo[kx],
						 hi[kx], s->sw, kx * dil - s->pl);
			}
		}
	}
	free(lo);
}

/*
 * One channel per thread. Rows are visited (n, oy) outer and taps inner, so
 * the kh input rows and the one dout row in use stay in cache; each dw tap
 * still sums its terms in the fixed (n, oy) order, in double.
 */
void depthwise_backward(float *din, float *dw, const float *dout, const float *in,
			const float *w, const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	const int kh = s->kh, kw = s->kw, dil = s->dil, KK = kh * kw;
	const int par = (size_t)s->N * C * OH * OW * KK >= OPS_PAR_MIN;
	int *lo = tap_ranges(s), *hi = lo + kw;
	double *acc = dw ? xcalloc((size_t)C * KK, sizeof(*acc)) : NULL;   /* (C, kh*kw) */

#pragma omp parallel for schedule(static) if (par)
	for (int c = 0; c < C; c++) {
		const float *wc = w + (size_t)c * KK;
		double *ac = acc ? acc + (size_t)c * KK : NULL;

		for (int n = 0; n < s->N; n++) {
			size_t p = (size_t)n * C + c;
			const float *x = in + p * H * W;       /* (H, W) */
			float *dx = din ? din + p * H * W : NULL;

			for (int oy = 0; oy < OH; oy++) {
				const float *g = dout + (p * OH + oy) * OW;   /* (OW) */

				for (int ky = 0; ky < kh; ky++) {
					int iy = oy * s->sh - s->pt + ky * dil;

					if (iy < 0 || iy >= H)
						continue;
					for (int kx = 0; kx < kw; kx++) {
						int off = kx * dil - s->pl;

						if (ac)
							ac[ky * kw + kx] += dot_tap(g, x + (size_t)iy * W,
										  lo[kx], hi[kx], s->sw, off);
						if (dx)
							scatter_tap(dx + (size_t)iy * W, g, wc[ky * kw + kx],
								    lo[kx], hi[kx], s->sw, off);
					}
				}
			}
		}
		if (ac)
			for (int t = 0; t < KK; t++)
				dw[(size_t)c * KK + t] += (float)ac[t];
	}
	free(lo);
	free(acc);
}

void depthwise_forward_ref(float *out, const float *in, const float *w,
			   const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;

	for (int n = 0; n < s->N; n++)
		for (int c = 0; c < C; c++)
			for (int oy = 0; oy < OH; oy++)
				for (int ox = 0; ox < OW; ox++) {
					double acc = 0;

					for (int ky = 0; ky < s->kh; ky++)
						for (int kx = 0; kx < s->kw; kx++) {
							int iy = oy * s->sh - s->pt + ky * s->dil;
							int ix = ox * s->sw - s->pl + kx * s->dil;

							if (iy < 0 || iy >= H || ix < 0 || ix >= W)
								continue;
							acc += (double)in[(((size_t)n * C + c) * H + iy) * W + ix] *
							       w[((size_t)c * s->kh + ky) * s->kw + kx];
						}
					out[(((size_t)n * C + c) * OH + oy) * OW + ox] = (float)acc;
				}
}

void depthwise_backward_ref(float *din, float *dw, const float *dout, const float *in,
			    const float *w, const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;

	for (int n = 0; n < s->N; n++)
		for (int c = 0; c < C; c++)
			for (int oy = 0; oy < OH; oy++)
				for (int ox = 0; ox < OW; ox++) {
					float g = dout[(((size_t)n * C + c) * OH + oy) * OW + ox];

					for (int ky = 0; ky < s->kh; ky++)
						for (int kx = 0; kx < s->kw; kx++) {
							int iy = oy * s->sh - s->pt + ky * s->dil;
							int ix = ox * s->sw - s->pl + kx * s->dil;
							size_t ii = (((size_t)n * C + c) * H + iy) * W + ix;
							size_t wi = ((size_t)c * s->kh + ky) * s->kw + kx;

							if (iy < 0 || iy >= H || ix < 0 || ix >= W)
								continue;
							if (din)
								din[ii] += g * w[wi];
							if (dw)
								dw[wi] += g * in[ii];
						}
				}
}
