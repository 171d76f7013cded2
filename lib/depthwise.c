/*
 * depthwise.c - depthwise 2-D convolution, channel multiplier 1, over NCHW
 * floats: out (N, C, OH, OW) from in (N, C, H, W) and w (C, 1, kh, kw), with
 * any stride and dilation under the geometry of struct conv_shape.
 *
 * Direct loops, not tiny gemms. Each input plane is first copied into a
 * zero-padded buffer covering every tap of every output (PH x PW), so the
 * loops have no bounds checks: forward computes each output row as one
 * vector loop over ox with the kh*kw taps summed in (ky, kx) order in a
 * register; backward accumulates the input gradient into a padded buffer
 * (added back to din) and the weight gradient as per-row float dot products
 * summed in double in a fixed order. The plane kernels are compiled for
 * AVX-512 / AVX2 / baseline and picked at run time (simd.h); strided taps
 * become strided vector loads. Threads split independent planes (forward)
 * or channels (backward, which owns dw[c] and every din plane of channel c),
 * so results do not depend on the thread count. The *_ref functions are the
 * naive oracles.
 */
#include "ops.h"
#include "simd.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* copy plane x (H, W) into the zeroed padded buffer p (PH, PW) */
static void pad_plane(float *p, const float *x, const struct conv_shape *s, int PH, int PW)
{
	memset(p, 0, sizeof(*p) * (size_t)PH * PW);
	for (int y = 0; y < s->H; y++) {
		int py = y + s->pt, n = s->W;

		if (py < 0 || py >= PH)
			continue;
		if (s->pl + n > PW)
			n = PW - s->pl;
		memcpy(p + (size_t)py * PW + s->pl, x + (size_t)y * s->W, sizeof(*x) * (size_t)n);
	}
}

/* d[ox] += a * x[ox * sw] for ox in [0, n) */
static inline __attribute__((always_inline)) void
axpy_strided(float *restrict d, const float *restrict x, float a, int n, const int sw)
{
#pragma omp simd
	for (int ox = 0; ox < n; ox++)
		d[ox] += a * x[ox * sw];
}

/* x[ox * sw] += a * g[ox] for ox in [0, n) */
static inline __attribute__((always_inline)) void
scatter_strided(float *restrict x, const float *restrict g, float a, int n, const int sw)
{
#pragma omp simd
	for (int ox = 0; ox < n; ox++)
		x[ox * sw] += a * g[ox];
}

/* acc[ox] += g[ox] * x[ox * sw] for ox in [0, n): the dw products, lane by lane */
static inline __attribute__((always_inline)) void
mac_strided(float *restrict acc, const float *restrict g, const float *restrict x, int n,
	    const int sw)
{
#pragma omp simd
	for (int ox = 0; ox < n; ox++)
		acc[ox] += g[ox] * x[ox * sw];
}

/*
 * Rows are computed OWp = OW rounded up to 16 wide (into scratch rows, over a
 * padded plane wide enough), so the vector loops never run a scalar
 * remainder: 28 -> 32, 14 -> 16, 7 -> 16 columns.
 */
static int round_row(int OW)
{
	return (OW + 15) & ~15;
}

/* dispatch a strided helper with a constant stride for 1 and 2 */
#define BY_STRIDE(f, sw, ...)                   \
	do {                                    \
		if ((sw) == 1)                  \
			f(__VA_ARGS__, 1);      \
		else if ((sw) == 2)             \
			f(__VA_ARGS__, 2);      \
		else                            \
			f(__VA_ARGS__, (sw));   \
	} while (0)

/*
 * One plane: o (OH, OW) from x (H, W) through a zero-padded copy pad (PH, PW),
 * so that every tap reads in bounds. Each output sums its taps in (ky, kx)
 * order in a register; the ox loop is the vector loop.
 */
SIMD_CLONES
static void dw_plane(float *restrict o, const float *restrict x, const float *restrict wc,
		     const struct conv_shape *s, float *restrict pad, float *restrict row, int PH,
		     int PW, int OWp)
{
	const int OH = s->OH, OW = s->OW, kh = s->kh, kw = s->kw;
	const int sh = s->sh, sw = s->sw, dil = s->dil;

	pad_plane(pad, x, s, PH, PW);
	for (int oy = 0; oy < OH; oy++) {
		const float *prow = pad + (size_t)oy * sh * PW;
		float *orow = o + (size_t)oy * OW;

		for (int ox = 0; ox < OWp; ox++)
			row[ox] = 0;
		for (int ky = 0; ky < kh; ky++)
			for (int kx = 0; kx < kw; kx++)
				BY_STRIDE(axpy_strided, sw, row,
					  prow + (size_t)ky * dil * PW + (size_t)kx * dil,
					  wc[ky * kw + kx], OWp);
		memcpy(orow, row, sizeof(*orow) * (size_t)OW);
	}
}

void depthwise_forward(float *out, const float *in, const float *w, const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	const int kh = s->kh, kw = s->kw, dil = s->dil;
	const int planes = s->N * C;
	const int par = (size_t)planes * OH * OW * kh * kw >= OPS_PAR_MIN;
	const int OWp = round_row(OW);
	/* padded plane: every tap of every (rounded-up) output in range */
	const int PH = (OH - 1) * s->sh + (kh - 1) * dil + 1, PW = (OWp - 1) * s->sw + (kw - 1) * dil + 1;

	if (planes <= 0 || OH <= 0 || OW <= 0)
		return;
#pragma omp parallel if (par)
	{
		float *pad = xmalloc(sizeof(*pad) * (size_t)PH * PW);
		float *row = xmalloc(sizeof(*row) * (size_t)OWp);

#pragma omp for schedule(static)
		for (int p = 0; p < planes; p++)
			dw_plane(out + (size_t)p * OH * OW, in + (size_t)p * H * W,
				 w + (size_t)(p % C) * kh * kw, s, pad, row, PH, PW, OWp);
		free(pad);
		free(row);
	}
}

/*
 * One plane of one channel: dxp (PH, PW) += the padded input gradient, and
 * ac[tap] += sum over the plane of dout * input, through the zero-padded copy
 * xp (PH, PW) of the input plane. The products of each tap are summed per
 * column over the rows in acc (kh*kw, OW), then each tap's columns in double
 * in a fixed order.
 */
SIMD_CLONES
static void dw_plane_backward(float *restrict dxp, double *restrict ac, float *restrict acc,
			      float *restrict grow, const float *restrict g,
			      const float *restrict xp, const float *restrict wc,
			      const struct conv_shape *s, int PW, int OWp)
{
	const int OH = s->OH, OW = s->OW, kh = s->kh, kw = s->kw;
	const int sh = s->sh, sw = s->sw, dil = s->dil;

	if (ac)
		memset(acc, 0, sizeof(*acc) * (size_t)kh * kw * OWp);
	for (int ox = OW; ox < OWp; ox++)
		grow[ox] = 0;
	for (int oy = 0; oy < OH; oy++) {
		memcpy(grow, g + (size_t)oy * OW, sizeof(*grow) * (size_t)OW);

		for (int ky = 0; ky < kh; ky++)
			for (int kx = 0; kx < kw; kx++) {
				size_t base = (size_t)(oy * sh + ky * dil) * PW + (size_t)kx * dil;

				if (ac)
					BY_STRIDE(mac_strided, sw, acc + (size_t)(ky * kw + kx) * OWp,
						  grow, xp + base, OWp);
				if (dxp)
					BY_STRIDE(scatter_strided, sw, dxp + base, grow,
						  wc[ky * kw + kx], OWp);
			}
	}
	if (ac)
		for (int t = 0; t < kh * kw; t++) {
			double sum = 0;

			for (int ox = 0; ox < OW; ox++)
				sum += acc[(size_t)t * OWp + ox];
			ac[t] += sum;
		}
}

/*
 * Stride 1: the input gradient as a correlation of the zero-padded output
 * gradient with the flipped kernel, dx[y][x] += sum over taps (ky, kx order)
 * of w[ky][kx] * g[y + pt - ky*dil][x + pl - kx*dil], one register-resident
 * row at a time (no read-after-write through memory, unlike a scatter).
 * gp (GH, GW) holds g at offset ((kh-1)*dil - pt, (kw-1)*dil - pl).
 */
SIMD_CLONES
static void dw_plane_dx_s1(float *restrict dx, const float *restrict g, float *restrict gp,
			   float *restrict row, const float *restrict wc,
			   const struct conv_shape *s, int GH, int GW, int Wp)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW, kh = s->kh, kw = s->kw;
	const int dil = s->dil, A = (kh - 1) * dil - s->pt, Bc = (kw - 1) * dil - s->pl;

	memset(gp, 0, sizeof(*gp) * (size_t)GH * GW);
	for (int oy = 0; oy < OH; oy++)
		memcpy(gp + (size_t)(oy + A) * GW + Bc, g + (size_t)oy * OW, sizeof(*g) * (size_t)OW);
	for (int y = 0; y < H; y++) {
		for (int x = 0; x < Wp; x++)
			row[x] = 0;
		for (int ky = 0; ky < kh; ky++)
			for (int kx = 0; kx < kw; kx++)
				axpy_strided(row, gp + (size_t)(y + (kh - 1 - ky) * dil) * GW +
						  (size_t)(kw - 1 - kx) * dil,
					     wc[ky * kw + kx], Wp, 1);
		float *d = dx + (size_t)y * W;

		for (int x = 0; x < W; x++)
			d[x] += row[x];
	}
}

/*
 * One channel per thread: it owns dw[c] and the din planes of channel c, so
 * results do not depend on the thread count. Each plane is padded once, its
 * input gradient accumulated in a padded buffer and added back.
 */
void depthwise_backward(float *din, float *dw, const float *dout, const float *in,
			const float *w, const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	const int kh = s->kh, kw = s->kw, dil = s->dil, KK = kh * kw;
	const int par = (size_t)s->N * C * OH * OW * KK >= OPS_PAR_MIN;
	const int OWp = round_row(OW);
	const int PH = (OH - 1) * s->sh + (kh - 1) * dil + 1, PW = (OWp - 1) * s->sw + (kw - 1) * dil + 1;

	/* stride 1 SAME (pads within the kernel reach): din by correlation, not scatter */
	const int s1 = s->sh == 1 && s->sw == 1 && OH == H && OW == W && s->pt >= 0 &&
		       s->pl >= 0 && s->pt <= (kh - 1) * dil && s->pl <= (kw - 1) * dil;
	const int Wp = round_row(W), GH = H + (kh - 1) * dil, GW = Wp + (kw - 1) * dil;

	if (s->N <= 0 || C <= 0 || OH <= 0 || OW <= 0)
		return;
#pragma omp parallel if (par)
	{
		float *gp = s1 && din ? xmalloc(sizeof(*gp) * (size_t)GH * GW) : NULL;
		float *row = s1 && din ? xmalloc(sizeof(*row) * (size_t)Wp) : NULL;
		float *xp = xmalloc(sizeof(*xp) * (size_t)PH * PW);
		float *dxp = xmalloc(sizeof(*dxp) * (size_t)PH * PW);
		double *ac = xmalloc(sizeof(*ac) * (size_t)KK);
		float *acc = xmalloc(sizeof(*acc) * (size_t)KK * OWp);
		float *grow = xmalloc(sizeof(*grow) * (size_t)OWp);

#pragma omp for schedule(static)
		for (int c = 0; c < C; c++) {
			for (int t = 0; t < KK; t++)
				ac[t] = 0;
			for (int n = 0; n < s->N; n++) {
				size_t p = (size_t)n * C + c;

				if (dw)
					pad_plane(xp, in + p * H * W, s, PH, PW);
				if (din && s1) {
					dw_plane_dx_s1(din + p * H * W, dout + p * OH * OW, gp, row,
						       w + (size_t)c * KK, s, GH, GW, Wp);
					if (dw)
						dw_plane_backward(NULL, ac, acc, grow, dout + p * OH * OW,
								  xp, w + (size_t)c * KK, s, PW, OWp);
					continue;
				}
				if (din)
					memset(dxp, 0, sizeof(*dxp) * (size_t)PH * PW);
				dw_plane_backward(din ? dxp : NULL, dw ? ac : NULL, acc, grow,
						  dout + p * OH * OW, xp, w + (size_t)c * KK, s, PW, OWp);
				if (!din)
					continue;
				float *dx = din + p * H * W;

				for (int y = 0; y < H; y++) {
					int py = y + s->pt;

					if (py < 0 || py >= PH)
						continue;
					for (int x = 0; x < W && s->pl + x < PW; x++)
						dx[(size_t)y * W + x] += dxp[(size_t)py * PW + s->pl + x];
				}
			}
			if (dw)
				for (int t = 0; t < KK; t++)
					dw[(size_t)c * KK + t] += (float)ac[t];
		}
		free(xp);
		free(dxp);
		free(ac);
		free(acc);
		free(grow);
		free(gp);
		free(row);
	}
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
