/*
 * pool.c - average and max pooling over NCHW floats with the window geometry
 * of struct conv_shape (normally TF SAME, K == C, dil == 1).
 *
 * Padding never takes part: the average divides by the number of real pixels
 * in the window (TF SAME avg_pool), and the max ignores padded positions (as
 * a -inf pad would). Max pooling saves, per output, the index iy*W+ix of the
 * winning pixel inside its input plane; ties go to the first pixel in
 * row-major window order. The fast versions clip each window once per row
 * and column and then loop without bounds checks, one plane per thread; the
 * *_ref versions test every tap and are the oracles.
 */
#include "ops.h"

#include <float.h>
#include <math.h>

/* Window of output position o along one axis, clipped to [0, len): [*a, *b). */
static inline void clip_window(int *a, int *b, int o, int st, int pad, int k, int dil, int len)
{
	int start = o * st - pad;
	int lo = start, hi = start + (k - 1) * dil + 1;

	if (lo < 0)
		lo = start + (-start + dil - 1) / dil * dil;   /* first tap at or after 0 */
	if (hi > len)
		hi = len;
	*a = lo;
	*b = hi > lo ? hi : lo;
}

/* out (N,C,OH,OW) = mean of the real pixels of each window of in (N,C,H,W) */
void avgpool_forward(float *out, const float *in, const struct conv_shape *s)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW, d = s->dil;
	const int planes = s->N * s->C;
	const int par = (size_t)planes * OH * OW * s->kh * s->kw >= OPS_PAR_MIN;

#pragma omp parallel for schedule(static) if (par)
	for (int p = 0; p < planes; p++) {
		const float *x = in + (size_t)p * H * W;
		float *o = out + (size_t)p * OH * OW;

		for (int oy = 0; oy < OH; oy++) {
			int y0, y1;

			clip_window(&y0, &y1, oy, s->sh, s->pt, s->kh, d, H);
			for (int ox = 0; ox < OW; ox++) {
				int x0, x1, cnt;
				float acc = 0;

				clip_window(&x0, &x1, ox, s->sw, s->pl, s->kw, d, W);
				cnt = ((y1 - y0 + d - 1) / d) * ((x1 - x0 + d - 1) / d);
				for (int iy = y0; iy < y1; iy += d)
					for (int ix = x0; ix < x1; ix += d)
						acc += x[(size_t)iy * W + ix];
				o[(size_t)oy * OW + ox] = cnt ? acc / cnt : 0;
			}
		}
	}
}

/* din (N,C,H,W) += dout / count spread over each window's real pixels */
void avgpool_backward(float *din, const float *dout, const struct conv_shape *s)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW, d = s->dil;
	const int planes = s->N * s->C;
	const int par = (size_t)planes * OH * OW * s->kh * s->kw >= OPS_PAR_MIN;

	if (!din)
		return;

#pragma omp parallel for schedule(static) if (par)
	for (int p = 0; p < planes; p++) {
		float *dx = din + (size_t)p * H * W;
		const float *g = dout + (size_t)p * OH * OW;

		for (int oy = 0; oy < OH; oy++) {
			int y0, y1;

			clip_window(&y0, &y1, oy, s->sh, s->pt, s->kh, d, H);
			for (int ox = 0; ox < OW; ox++) {
				int x0, x1, cnt;

				clip_window(&x0, &x1, ox, s->sw, s->pl, s->kw, d, W);
				cnt = ((y1 - y0 + d - 1) / d) * ((x1 - x0 + d - 1) / d);
				if (!cnt)
					continue;
				float v = g[(size_t)oy * OW + ox] / cnt;
				for (int iy = y0; iy < y1; iy += d)
					for (int ix = x0; ix < x1; ix += d)
						dx[(size_t)iy * W + ix] += v;
			}
		}
	}
}

/* out (N,C,OH,OW) = max over real pixels; argmax (N,C,OH,OW) = iy*W+ix of the winner */
void maxpool_forward(float *out, int32_t *argmax, const float *in, const struct conv_shape *s)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW, d = s->dil;
	const int planes = s->N * s->C;
	const int par = (size_t)planes * OH * OW * s->kh * s->kw >= OPS_PAR_MIN;

#pragma omp parallel for schedule(static) if (par)
	for (int p = 0; p < planes; p++) {
		const float *x = in + (size_t)p * H * W;
		float *o = out + (size_t)p * OH * OW;
		int32_t *am = argmax + (size_t)p * OH * OW;

		for (int oy = 0; oy < OH; oy++) {
			int y0, y1;

			clip_window(&y0, &y1, oy, s->sh, s->pt, s->kh, d, H);
			for (int ox = 0; ox < OW; ox++) {
				int x0, x1, best = -1;
				float m = -FLT_MAX;

				clip_window(&x0, &x1, ox, s->sw, s->pl, s->kw, d, W);
				for (int iy = y0; iy < y1; iy += d)
					for (int ix = x0; ix < x1; ix += d) {
						float v = x[(size_t)iy * W + ix];

						if (best < 0 || v > m) {
							m = v;
							best = iy * W + ix;
						}
					}
				o[(size_t)oy * OW + ox] = best < 0 ? 0 : m;
				am[(size_t)oy * OW + ox] = best;
			}
		}
	}
}

/* din (N,C,H,W) += dout routed to each window's argmax */
void maxpool_backward(float *din, const float *dout, const int32_t *argmax,
		      const struct conv_shape *s)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	const int planes = s->N * s->C;
	const int par = (size_t)planes * OH * OW * s->kh * s->kw >= OPS_PAR_MIN;

	if (!din)
		return;

#pragma omp parallel for schedule(static) if (par)
	for (int p = 0; p < planes; p++) {
		float *dx = din + (size_t)p * H * W;
		const float *g = dout + (size_t)p * OH * OW;
		const int32_t *am = argmax + (size_t)p * OH * OW;

		for (int i = 0; i < OH * OW; i++)
			if (am[i] >= 0)
				dx[am[i]] += g[i];
	}
}

/* ---- naive oracles: every tap tested against the image bounds ---- */

static int tap_inside(const struct conv_shape *s, int oy, int ox, int ky, int kx, int *iy, int *ix)
{
	*iy = oy * s->sh - s->pt + ky * s->dil;
	*ix = ox * s->sw - s->pl + kx * s->dil;
	return *iy >= 0 && *iy < s->H && *ix >= 0 && *ix < s->W;
}

void avgpool_forward_ref(float *out, const float *in, const struct conv_shape *s)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW;

	for (int p = 0; p < s->N * s->C; p++)
		for (int oy = 0; oy < OH; oy++)
			for (int ox = 0; ox < OW; ox++) {
				double acc = 0;
				int cnt = 0, iy, ix;

				for (int ky = 0; ky < s->kh; ky++)
					for (int kx = 0; kx < s->kw; kx++)
						if (tap_inside(s, oy, ox, ky, kx, &iy, &ix)) {
							acc += in[((size_t)p * H + iy) * W + ix];
							cnt++;
						}
				out[((size_t)p * OH + oy) * OW + ox] = cnt ? (float)(acc / cnt) : 0;
			}
}

void avgpool_backward_ref(float *din, const float *dout, const struct conv_shape *s)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW;

	for (int p = 0; p < s->N * s->C; p++)
		for (int oy = 0; oy < OH; oy++)
			for (int ox = 0; ox < OW; ox++) {
				int cnt = 0, iy, ix;

				for (int ky = 0; ky < s->kh; ky++)
					for (int kx = 0; kx < s->kw; kx++)
						cnt += tap_inside(s, oy, ox, ky, kx, &iy, &ix);
				for (int ky = 0; ky < s->kh; ky++)
					for (int kx = 0; kx < s->kw; kx++)
						if (tap_inside(s, oy, ox, ky, kx, &iy, &ix))
							din[((size_t)p * H + iy) * W + ix] +=
								dout[((size_t)p * OH + oy) * OW + ox] / cnt;
			}
}

void maxpool_forward_ref(float *out, const float *in, const struct conv_shape *s)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW;

	for (int p = 0; p < s->N * s->C; p++)
		for (int oy = 0; oy < OH; oy++)
			for (int ox = 0; ox < OW; ox++) {
				float m = -INFINITY;
				int iy, ix;

				for (int ky = 0; ky < s->kh; ky++)
					for (int kx = 0; kx < s->kw; kx++)
						if (tap_inside(s, oy, ox, ky, kx, &iy, &ix) &&
						    in[((size_t)p * H + iy) * W + ix] > m)
							m = in[((size_t)p * H + iy) * W + ix];
				out[((size_t)p * OH + oy) * OW + ox] = m;
			}
}

/* din += dout routed to the first maximum of each window, found from `in` directly */
void maxpool_backward_ref(float *din, const float *dout, const float *in,
			  const struct conv_shape *s)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW;

	for (int p = 0; p < s->N * s->C; p++)
		for (int oy = 0; oy < OH; oy++)
			for (int ox = 0; ox < OW; ox++) {
				float m = -INFINITY;
				size_t best = 0;
				int iy, ix, found = 0;

				for (int ky = 0; ky < s->kh; ky++)
					for (int kx = 0; kx < s->kw; kx++) {
						size_t i;

						if (!tap_inside(s, oy, ox, ky, kx, &iy, &ix))
							continue;
						i = ((size_t)p * H + iy) * W + ix;
						if (!found || in[i] > m) {
							m = in[i];
							best = i;
							found = 1;
						}
					}
				if (found)
					din[best] += dout[((size_t)p * OH + oy) * OW + ox];
			}
}
