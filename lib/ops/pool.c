/*
 * pool.c - average and max pooling over NCHW floats with the window geometry
 * of struct conv_shape (normally TF SAME, K == C, dil == 1).
 *
 * Padding never takes part: the average divides by the number of real pixels
 * in the window (TF SAME avg_pool), and the max ignores padded positions (as
 * a -inf pad would). Max pooling saves, per output, the index iy*W+ix of the
 * winning pixel inside its input plane; ties go to the first pixel in
 * row-major window order.
 *
 * The fast versions (dilation 1) give one plane to each thread and treat it
 * as a flat array, in whole 16-float vectors, so that small planes (7x7,
 * 14x14) vectorise as well as large ones. Windows are separable: a row pass
 * over every position (the kw taps of the row segment centred there,
 * masked where a tap leaves the row), then a pass down kh such results,
 * read from rows of padding above and below the plane:
 *  - avg forward: row sums, then column sums times a precomputed 1/count;
 *  - avg backward, the transpose as a correlation: dout/count placed at
 *    each window centre (every sh-th row, sw-th column), then the same row
 *    and column sums gather it onto every pixel its window covers;
 *  - max forward (plain loops instead, on a copy of the plane framed by
 *    -inf, see max_plane): the first strict maximum of each row segment
 *    with its tap, then of the kh segments in order, which is the first
 *    maximum in row-major order. NaNs are skipped (as in
 *    maxpool_forward_ref); a window with nothing above -inf takes the
 *    scalar loop (its first pixel);
 *  - max backward: dout added at the saved argmax.
 * Stride 1 with output = input runs both passes flat; other strides take
 * every sw-th column of the row pass per output row. Each output is summed
 * in a fixed order by one thread (no dependence on the thread count). The
 * loops are compiled per ISA (simd.h). Other dilations use the scalar
 * loops; the *_ref versions test every tap and are the oracles.
 */
#include "ops.h"
#include "simd.h"
#include "util.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

#define KMAX 32   /* widest window of the vector paths */

/* the vector paths: dilation 1, padding inside one window */
static int pool_fast(const struct conv_shape *s)
{
	return s->dil == 1 && s->kh >= 1 && s->kw >= 1 && s->kh <= KMAX && s->kw <= KMAX &&
	       s->sh >= 1 && s->sw >= 1 &&
	       s->pt >= 0 && s->pl >= 0 && s->pt < s->kh && s->pl < s->kw && s->H > 0 &&
	       s->W > 0 && s->OH > 0 && s->OW > 0;
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

/* ---- scalar windows (other dilations, and max windows with nothing above -inf) ---- */

/* mean of the real pixels of window (oy, ox) of plane x */
static float avg_window(const float *x, const struct conv_shape *s, int oy, int ox)
{
	const int W = s->W, d = s->dil;
	int y0, y1, x0, x1, cnt;
	float acc = 0;

	clip_window(&y0, &y1, oy, s->sh, s->pt, s->kh, d, s->H);
	clip_window(&x0, &x1, ox, s->sw, s->pl, s->kw, d, W);
	cnt = ((y1 - y0 + d - 1) / d) * ((x1 - x0 + d - 1) / d);
	for (int iy = y0; iy < y1; iy += d)
		for (int ix = x0; ix < x1; ix += d)
			acc += x[(size_t)iy * W + ix];
	return cnt ? acc / cnt : 0;
}

/* first maximum of window (oy, ox) of plane x: *m (0 if empty), *best (-1 if empty) */
static void max_window(float *m, int32_t *best, const float *x, const struct conv_shape *s,
		       int oy, int ox)
{
	const int W = s->W, d = s->dil;
	int y0, y1, x0, x1, b = -1;
	float v = -FLT_MAX;

	clip_window(&y0, &y1, oy, s->sh, s->pt, s->kh, d, s->H);
	clip_window(&x0, &x1, ox, s->sw, s->pl, s->kw, d, W);
	for (int iy = y0; iy < y1; iy += d)
		for (int ix = x0; ix < x1; ix += d) {
			float t = x[(size_t)iy * W + ix];

			if (b < 0 || t > v) {
				v = t;
				b = iy * W + ix;
			}
		}
	*m = b < 0 ? 0 : v;
	*best = b;
}

/* ---- the vector paths: planes as flat arrays ---- */

/*
 * Position i = iy*W + ix of a plane; a horizontal tap at offset o is real
 * when 0 <= ix + o < W (col[i] = ix). The loops run over whole planes in
 * vectors of VL lanes (GCC vector extensions; the baseline clone splits
 * them), HW = H*W rounded up to HWp lanes, on copies with slack around
 * them. Vectors pass through macros only: as function arguments they
 * would change the baseline clone's ABI.
 */
#define VL 16

typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VL * sizeof(int32_t))));
typedef uint32_t vu __attribute__((vector_size(VL * sizeof(uint32_t))));

#define VLD(p)                                    \
	__extension__({                           \
		vf ld_;                           \
		memcpy(&ld_, (p), sizeof(ld_));   \
		ld_;                              \
	})
#define VLDI(p)                                   \
	__extension__({                           \
		vi ldi_;                          \
		memcpy(&ldi_, (p), sizeof(ldi_)); \
		ldi_;                             \
	})
/* store the first n (<= VL) lanes of v at p */
#define VSTN(p, v, n)                                                  \
	do {                                                           \
		__typeof__(v) st_ = (v);                               \
		memcpy((p), &st_, sizeof(st_[0]) * (size_t)(n));       \
	} while (0)
#define VST(p, v) VSTN(p, v, VL)
/* per lane: mask m (all ones or 0) ? a : b */
#define VSEL(m, a, b) ((vf)(((vi)(a) & (m)) | ((vi)(b) & ~(m))))
#define VSELI(m, a, b) (((a) & (m)) | ((b) & ~(m)))
/* lanes p[0], p[sw], ... p[(VL-1)*sw] (sw a constant) */
#define VLD_S(p, sw) ((sw) == 1 ? VLD(p) : (sw) == 2 ? __builtin_shufflevector(VLD(p), VLD((p) + VL), EVEN) \
						     : vgather(p, sw))
/* lane indices for __builtin_shufflevector (GCC >= 12 and clang: the fuzz build is clang) */
#define EVEN 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define LANE ((vi){ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 })
#define vgather(p, sw)                                    \
	__extension__({                                   \
		vf g_;                                    \
		for (int l_ = 0; l_ < VL; l_++)           \
			g_[l_] = (p)[l_ * (sw)];          \
		g_;                                       \
	})
/* lanes whose tap at offset o is real, for columns c */
#define TAP_OK(c, o, W) ((vi)((vu)((c) + (o)) < (vu){} + (uint32_t)(W)))

/* the kernel size as a constant for the common 3 (unrolled taps) */
#define BY_K(f, k, ...)                         \
	do {                                    \
		if ((k) == 3)                   \
			f(__VA_ARGS__, 3);      \
		else                            \
			f(__VA_ARGS__, (k));    \
	} while (0)

/* Buffers: u of the backward has SLACK(kw) floats (>= kw, a multiple of VL) before it. */
#define SLACK(kw) (((kw) + VL - 1) & ~(VL - 1))

/*
 * xs such that xs[o0 + k + l], k < kw, l < VL, reads x[i + o0 + k + l]:
 * x itself, or for the vectors at the ends of the plane (len floats
 * readable) a copy in tmp (VL + KMAX) with pad outside [0, len). o0 <= 0.
 */
#define TAPS_AT(x, len, i, o0, kw, tmp, pad)                                    \
	__extension__({                                                         \
		const float *xs_ = (x) + (i);                                   \
		if ((i) + (o0) < 0 || (i) + (o0) + (kw) - 1 + VL > (len)) {     \
			for (int l_ = 0; l_ < VL + (kw) - 1; l_++) {            \
				int q_ = (i) + (o0) + l_;                       \
				(tmp)[l_] = q_ >= 0 && q_ < (len) ? (x)[q_] : (pad); \
			}                                                       \
			xs_ = (tmp) - (o0);                                     \
		}                                                               \
		xs_;                                                            \
	})

static int round_lanes(int n)
{
	return (n + VL - 1) & ~(VL - 1);
}

/* floats of slack after the HWp lanes of a flat buffer (strided rows read past it) */
static size_t tail_slack(const struct conv_shape *s, int OWp)
{
	return (size_t)(OWp + VL) * s->sw + s->kw + 2 * VL;
}

/* col (HWp) = column of each position */
static int32_t *column_table(int W, int HWp)
{
	int32_t *col = xmalloc(sizeof(*col) * (size_t)HWp);

	for (int i = 0; i < HWp; i++)
		col[i] = i % W;
	return col;
}

/* stride 1 and output = input size: output i is centred on input i (flat loops) */
static int same_size(const struct conv_shape *s)
{
	return s->sh == 1 && s->sw == 1 && s->OH == s->H && s->OW == s->W;
}

/* ---- average pooling ---- */

/*
 * h[i] = sum over k < kw (in order) of the real taps x[i + o0 + k], i < n
 * (a multiple of VL); x has len floats, 0 beyond.
 */
static inline __attribute__((always_inline)) void
sum_taps(float *restrict h, const float *restrict x, int len, const int32_t *restrict col, int n,
	 int W, int o0, const int kw)
{
	float tmp[VL + KMAX];

	for (int i = 0; i < n; i += VL) {
		const float *xs = TAPS_AT(x, len, i, o0, kw, tmp, 0.0f);
		const vi c = VLDI(col + i);
		vf a = { 0 };

#pragma GCC unroll 8
		for (int k = 0; k < kw; k++)
			a += (vf)((vi)VLD(xs + o0 + k) & TAP_OK(c, o0 + k, W));
		VST(h + i, a);
	}
}

/* o[i] = (sum over j < kh of h[i + j*W]) * inv[i], i < n */
static inline __attribute__((always_inline)) void
sum_rows_scaled(float *restrict o, const float *restrict h, const float *restrict inv, int n,
		int W, const int kh)
{
	for (int i = 0; i < n; i += VL) {
		vf a = VLD(h + i);

#pragma GCC unroll 8
		for (int j = 1; j < kh; j++)
			a += VLD(h + i + j * W);
		a *= VLD(inv + i);
		if (n - i >= VL)
			VST(o + i, a);
		else
			VSTN(o + i, a, n - i);
	}
}

/* o[ox] = (sum over j < kh of h[j*W + ox*sw]) * inv[ox], ox < n (a multiple of VL) */
static inline __attribute__((always_inline)) void
sum_rows_strided(float *restrict o, const float *restrict h, const float *restrict inv, int n,
		 int W, int kh, const int sw)
{
	for (int ox = 0; ox < n; ox += VL) {
		vf a = VLD_S(h + ox * sw, sw);

#pragma GCC unroll 8
		for (int j = 1; j < kh; j++)
			a += VLD_S(h + j * W + ox * sw, sw);
		VST(o + ox, a * VLD(inv + ox));
	}
}

/*
 * One plane: o (OH, OW) = window means of x (H, W). hb: pt zero rows,
 * then the (H, W) sums over the kw taps of each row segment centred there,
 * then zero rows; inv (OH*OW + OWp) the reciprocal counts. Strided output
 * rows are computed OWp wide (the spare lanes are overwritten by the next
 * row), the last ones through t (OH*OW + OWp).
 */
SIMD_CLONES
static void avg_plane(float *restrict o, const float *restrict x, const float *restrict inv,
		      const int32_t *restrict col, const struct conv_shape *s,
		      float *restrict hb, float *restrict t, int HWp, int OWp)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW, kh = s->kh, kw = s->kw;
	const int HW = H * W, pt = s->pt, sh = s->sh;
	int q = OH;   /* first row through t */

	BY_K(sum_taps, kw, hb + (size_t)pt * W, x, HW, col, HWp, W, -s->pl);
	if (same_size(s)) {
		BY_K(sum_rows_scaled, kh, o, hb, inv, HW, W);
		return;
	}
	for (int oy = 0; oy < OH; oy++) {
		float *d = oy * OW + OWp <= OH * OW ? o : t;

		if (d == t && q == OH)
			q = oy;
		BY_STRIDE(sum_rows_strided, s->sw, d + (size_t)oy * OW, hb + (size_t)oy * sh * W,
			  inv + (size_t)oy * OW, OWp, W, kh);
	}
	memcpy(o + (size_t)q * OW, t + (size_t)q * OW, sizeof(*o) * (size_t)(OH - q) * OW);
}

/* inv (OH*OW + pad) = 1 / (number of real pixels of each window), 0 for empty windows and the pad */
static float *inverse_counts(const struct conv_shape *s, int pad)
{
	float *inv = xcalloc((size_t)s->OH * s->OW + pad, sizeof(*inv));

	for (int oy = 0; oy < s->OH; oy++) {
		int y0, y1;

		clip_window(&y0, &y1, oy, s->sh, s->pt, s->kh, 1, s->H);
		for (int ox = 0; ox < s->OW; ox++) {
			int x0, x1, cnt;

			clip_window(&x0, &x1, ox, s->sw, s->pl, s->kw, 1, s->W);
			cnt = (y1 - y0) * (x1 - x0);
			inv[(size_t)oy * s->OW + ox] = cnt ? 1.0f / (float)cnt : 0.0f;
		}
	}
	return inv;
}

/* out (N,C,OH,OW) = mean of the real pixels of each window of in (N,C,H,W) */
void avgpool_forward(float *out, const float *in, const struct conv_shape *s)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	const int planes = s->N * s->C;
	const int par = ops_par((size_t)planes * OH * OW * s->kh * s->kw);

	if (planes <= 0 || OH <= 0 || OW <= 0)
		return;
	if (!pool_fast(s)) {
#pragma omp parallel for schedule(static) if (par)
		for (int p = 0; p < planes; p++)
			for (int oy = 0; oy < OH; oy++)
				for (int ox = 0; ox < OW; ox++)
					out[((size_t)p * OH + oy) * OW + ox] =
						avg_window(in + (size_t)p * H * W, s, oy, ox);
		return;
	}

	const int HWp = round_lanes(H * W), OWp = round_lanes(OW);
	const size_t tail = tail_slack(s, OWp);
	float *inv = inverse_counts(s, OWp);
	int32_t *col = column_table(W, HWp);

#pragma omp parallel if (par)
	{
		float *hb = xcalloc((size_t)(H + 2 * s->kh) * W + HWp + tail, sizeof(*hb));
		float *t = xmalloc(sizeof(*t) * ((size_t)OH * OW + OWp));

#pragma omp for schedule(static)
		for (int p = 0; p < planes; p++)
			avg_plane(out + (size_t)p * OH * OW, in + (size_t)p * H * W, inv, col, s, hb, t,
				  HWp, OWp);
		free(hb);
		free(t);
	}
	free(inv);
	free(col);
}

/*
 * u[ox*sw] = ox < OW ? g[ox] * inv[ox] : 0, ox < n (a multiple of VL); for
 * sw == 2 the odd positions in between are written 0 too.
 */
static inline __attribute__((always_inline)) void
spread_row(float *restrict u, const float *restrict g, const float *restrict inv, int OW, int n,
	   const int sw)
{
	for (int ox = 0; ox < n; ox += VL) {
		vf v = VSEL(LANE + ox < OW, VLD(g + ox) * VLD(inv + ox), (vf){ 0 });

		if (sw == 1) {
			VST(u + ox, v);
		} else if (sw == 2) {
			const vf z = { 0 };

			VST(u + 2 * ox, __builtin_shufflevector(v, z, 0, 16, 1, 17, 2, 18, 3, 19, 4,
								20, 5, 21, 6, 22, 7, 23));
			VST(u + 2 * ox + VL, __builtin_shufflevector(v, z, 8, 24, 9, 25, 10, 26, 11, 27,
								     12, 28, 13, 29, 14, 30, 15, 31));
		} else {
			for (int l = 0; l < VL; l++)
				u[(ox + l) * sw] = v[l];
		}
	}
}

/* u[i] = g[i] * inv[i], i < n (u has room for whole vectors) */
static inline __attribute__((always_inline)) void
scale_plane(float *restrict u, const float *restrict g, const float *restrict inv, int n)
{
	int i = 0;

	for (; i + VL <= n; i += VL)
		VST(u + i, VLD(g + i) * VLD(inv + i));
	for (; i < n; i++)
		u[i] = g[i] * inv[i];
}

/* d[i] += sum over j < kh of h[i + j*W], i < n */
static inline __attribute__((always_inline)) void
add_rows(float *restrict d, const float *restrict h, int n, int W, const int kh)
{
	for (int i = 0; i < n; i += VL) {
		const int r = n - i < VL ? n - i : VL;
		vf a = VLD(h + i), dv;

#pragma GCC unroll 8
		for (int j = 1; j < kh; j++)
			a += VLD(h + i + j * W);
		if (r == VL) {
			dv = VLD(d + i);
			VST(d + i, dv + a);
		} else {
			float tmp[VL] = { 0 };

			memcpy(tmp, d + i, sizeof(*d) * (size_t)r);
			dv = VLD(tmp);
			VSTN(d + i, dv + a, r);
		}
	}
}

/*
 * One plane: dx (H, W) += dout/count of every window covering each pixel,
 * as a correlation: u (H, W, after SLACK zeros) holds g * inv at each
 * window centre (oy*sh, ox*sw) and zeros elsewhere; each pixel sums u over
 * the kw centres in its row whose windows reach it into hb (kh-1-pt zero
 * rows first), then dx adds hb over kh rows. gb (OH*OW + OWp) is the
 * strided case's copy of g.
 */
SIMD_CLONES
static void avg_plane_backward(float *restrict dx, const float *restrict g,
			       const float *restrict inv, const int32_t *restrict col,
			       const struct conv_shape *s, float *restrict ub, float *restrict gb,
			       float *restrict hb, int HWp, int OWp)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW, kh = s->kh, kw = s->kw;
	const int HW = H * W, sh = s->sh, pl = s->pl;
	float *restrict u = ub + SLACK(kw);

	if (same_size(s)) {
		scale_plane(u, g, inv, HW);
	} else {
		memcpy(gb, g, sizeof(*g) * (size_t)OH * OW);
		for (int oy = 0; oy < OH; oy++)
			BY_STRIDE(spread_row, s->sw, u + (size_t)oy * sh * W, gb + (size_t)oy * OW,
				  inv + (size_t)oy * OW, OW, OWp);
	}
	BY_K(sum_taps, kw, hb + (size_t)(kh - 1 - s->pt) * W, u, HW, col, HWp, W, pl - (kw - 1));
	BY_K(add_rows, kh, dx, hb, HW, W);
}

/* din (N,C,H,W) += dout / count spread over each window's real pixels */
void avgpool_backward(float *din, const float *dout, const struct conv_shape *s)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	const int planes = s->N * s->C;
	const int par = ops_par((size_t)planes * OH * OW * s->kh * s->kw);

	if (!din || planes <= 0 || OH <= 0 || OW <= 0)
		return;
	if (!pool_fast(s)) {
		const int d = s->dil;

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
		return;
	}

	const int HWp = round_lanes(H * W), OWp = round_lanes(OW);
	const size_t tail = tail_slack(s, OWp);
	float *inv = inverse_counts(s, OWp);
	int32_t *col = column_table(W, HWp);

#pragma omp parallel if (par)
	{
		float *ub = xcalloc(SLACK(s->kw) + HWp + tail, sizeof(*ub));
		float *gb = xcalloc((size_t)OH * OW + OWp, sizeof(*gb));
		float *hb = xcalloc((size_t)(H + 2 * s->kh) * W + HWp + tail, sizeof(*hb));

#pragma omp for schedule(static)
		for (int p = 0; p < planes; p++)
			avg_plane_backward(din + (size_t)p * H * W, dout + (size_t)p * OH * OW, inv,
					   col, s, ub, gb, hb, HWp, OWp);
		free(ub);
		free(gb);
		free(hb);
	}
	free(inv);
	free(col);
}

/* ---- max pooling ---- */

/*
 * Max pooling works on a copy of the plane inside a frame of -inf (pt rows
 * above, pl columns left, row stride Wf), so that every tap is a plain load
 * with no bounds mask, and both passes run flat over the framed plane in
 * long vectors whatever its width (the 16-lane vector macros above split
 * into halves and spill on AVX2, where max pooling took 39 % of a sampled
 * child's evaluation). Padding never wins: the maxima are strict.
 */
struct max_frame {
	int Wf, Hf;   /* framed width (row stride) and height */
	int nr, nc;   /* positions of the row pass and of the column pass */
};

static void max_frame_dims(struct max_frame *f, const struct conv_shape *s)
{
	int wr = (s->OW - 1) * s->sw + s->kw, hr = (s->OH - 1) * s->sh + s->kh;

	f->Wf = s->pl + s->W > wr ? s->pl + s->W : wr;
	f->Hf = s->pt + s->H > hr ? s->pt + s->H : hr;
	/* the column pass covers window origins up to the last output's */
	f->nc = (s->OH - 1) * s->sh * f->Wf + (s->OW - 1) * s->sw + 1;
	f->nr = f->nc + (s->kh - 1) * f->Wf;
}

/* (hm, hk)[i] = first maximum over k < kw of fr[i + k] and its k; (-inf, -1) if none.
 * Tap by tap over the whole array (GCC vectorises this form, not a tap loop inside). */
static inline __attribute__((always_inline)) void
max_row_pass(float *restrict hm, int32_t *restrict hk, const float *restrict fr, int n,
	     const int kw)
{
#pragma omp simd
	for (int i = 0; i < n; i++) {
		const int real = fr[i] > -INFINITY;   /* not -inf, not NaN */

		hm[i] = real ? fr[i] : -INFINITY;
		hk[i] = real ? 0 : -1;
	}
	for (int k = 1; k < kw; k++) {
#pragma omp simd
		for (int i = 0; i < n; i++) {
			const float v = fr[i + k];
			const int gt = v > hm[i];

			hm[i] = gt ? v : hm[i];
			hk[i] = gt ? k : hk[i];
		}
	}
}

/* (cm, cb)[i] = first maximum over rows j < kh of hm[i + j*Wf], and j*W + its k */
static inline __attribute__((always_inline)) void
max_col_pass(float *restrict cm, int32_t *restrict cb, const float *restrict hm,
	     const int32_t *restrict hk, int n, int Wf, int W, const int kh)
{
#pragma omp simd
	for (int i = 0; i < n; i++) {
		cm[i] = hm[i];
		cb[i] = hk[i];
	}
	for (int j = 1; j < kh; j++) {
		const float *hj = hm + (size_t)j * Wf;
		const int32_t *kj = hk + (size_t)j * Wf;

#pragma omp simd
		for (int i = 0; i < n; i++) {
			const int gt = hj[i] > cm[i];

			cm[i] = gt ? hj[i] : cm[i];
			cb[i] = gt ? j * W + kj[i] : cb[i];
		}
	}
}

/*
 * One plane: o, am (OH, OW) from x (H, W). fr: the framed plane (its frame
 * already -inf); hm, hk, cm, cb: nr, nr, nc, nc scratch. The first maximum
 * of each row segment, then of the kh segments down the window, is the
 * first maximum in row-major order. A window with nothing above -inf (all
 * -inf or NaN) takes the scalar loop, which picks its first real pixel.
 */
SIMD_CLONES
static void max_plane(float *restrict o, int32_t *restrict am, const float *restrict x,
		      const struct conv_shape *s, const struct max_frame *f,
		      float *restrict fr, float *restrict hm, int32_t *restrict hk,
		      float *restrict cm, int32_t *restrict cb)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW, Wf = f->Wf;

	for (int y = 0; y < H; y++)
		memcpy(fr + (size_t)(y + s->pt) * Wf + s->pl, x + (size_t)y * W, sizeof(*x) * (size_t)W);
	BY_K(max_row_pass, s->kw, hm, hk, fr, f->nr);
	BY_K(max_col_pass, s->kh, cm, cb, hm, hk, f->nc, Wf, W);
	for (int oy = 0; oy < OH; oy++) {
		const size_t r = (size_t)oy * s->sh * Wf;
		const int id0 = (oy * s->sh - s->pt) * W - s->pl;

		for (int ox = 0; ox < OW; ox++) {
			const size_t i = r + (size_t)ox * s->sw;
			const size_t q = (size_t)oy * OW + ox;

			if (cb[i] >= 0) {
				o[q] = cm[i];
				am[q] = id0 + ox * s->sw + cb[i];
			} else {
				max_window(o + q, am + q, x, s, oy, ox);
			}
		}
	}
}

/* fill n values of a with v */
static void fill(float *a, size_t n, float v)
{
	for (size_t i = 0; i < n; i++)
		a[i] = v;
}

/* out (N,C,OH,OW) = max over real pixels; argmax (N,C,OH,OW) = iy*W+ix of the winner */
void maxpool_forward(float *out, int32_t *argmax, const float *in, const struct conv_shape *s)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	const int planes = s->N * s->C;
	const int par = ops_par((size_t)planes * OH * OW * s->kh * s->kw);
	struct max_frame f;

	if (planes <= 0 || OH <= 0 || OW <= 0)
		return;
	if (!pool_fast(s)) {
#pragma omp parallel for schedule(static) if (par)
		for (int p = 0; p < planes; p++)
			for (int oy = 0; oy < OH; oy++)
				for (int ox = 0; ox < OW; ox++) {
					size_t i = ((size_t)p * OH + oy) * OW + ox;

					max_window(out + i, argmax + i, in + (size_t)p * H * W, s, oy,
						   ox);
				}
		return;
	}
	max_frame_dims(&f, s);

#pragma omp parallel if (par)
	{
		/* the row pass reads kw - 1 floats past nr */
		const size_t nf = (size_t)f.Hf * f.Wf + (size_t)s->kw;
		float *fr = xmalloc(sizeof(*fr) * nf);
		float *hm = xmalloc(sizeof(*hm) * (size_t)f.nr);
		int32_t *hk = xmalloc(sizeof(*hk) * (size_t)f.nr);
		float *cm = xmalloc(sizeof(*cm) * (size_t)f.nc);
		int32_t *cb = xmalloc(sizeof(*cb) * (size_t)f.nc);

		fill(fr, nf, -INFINITY);
#pragma omp for schedule(static)
		for (int p = 0; p < planes; p++)
			max_plane(out + (size_t)p * OH * OW, argmax + (size_t)p * OH * OW,
				  in + (size_t)p * H * W, s, &f, fr, hm, hk, cm, cb);
		free(fr);
		free(hm);
		free(hk);
		free(cm);
		free(cb);
	}
}

/* din (N,C,H,W) += dout routed to each window's argmax (a gather form over the
 * candidate windows of each pixel measured no faster than this scatter) */
void maxpool_backward(float *din, const float *dout, const int32_t *argmax,
		      const struct conv_shape *s)
{
	const int H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	const int planes = s->N * s->C;
	const int par = ops_par((size_t)planes * OH * OW * s->kh * s->kw);

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
