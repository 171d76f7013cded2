/*
 * conv.c - dense 2-D convolution (no bias, no groups) over NCHW floats, and
 * the TF "SAME"/"VALID" window geometry shared by every windowed op.
 *
 * The fast path is im2col + cblas_sgemm, one image at a time:
 *   col (C*kh*kw, OH*OW) = im2col(in_n),  out_n (K, OH*OW) = w (K, C*kh*kw) . col
 * A 1x1 stride-1 convolution (never padded) multiplies the NCHW planes
 * directly, with no copy: out_n and din_n through the direct kernel of
 * pointwise.c when pw_fast() (AVX2 or AVX-512), else through sgemm. Backward reuses
 * the same buffer: first dw += dout_n . col^T, then dcol = w^T . dout_n
 * scattered back by col2im. A convolution of stride 1 (or of a vertical
 * stride only) whose padding at most doubles the plane's width skips the
 * col matrix altogether (the implicit im2col below: padded planes read in
 * place by pointwise.c's row-table kernels): 2-5x faster than im2col +
 * sgemm on the 28x28, 14x14 and 7x7 planes of a search's children, and
 * on the 7x1 (stride 2x1) half of a reducing 1x7-7x1 pair.
 *
 * Threads split the batch (OpenBLAS runs single-threaded inside: the gemms
 * of one image are too small for BLAS threading to pay, and two thread pools
 * on two cores would fight). Thread t owns a static slice of the images and
 * a workspace slot: the output and input gradient of each image are computed
 * by one thread, so they do not depend on the thread count; the weight
 * gradient is summed per thread and the partial sums are added in thread
 * order, so it is deterministic for a given thread count. conv2d_*_ref are
 * the naive seven-loop oracles (double accumulation) used by the tests.
 */
#include "ops.h"
#include "pointwise.h"

#include <cblas.h>
#include <omp.h>
#include <string.h>

static int same_out(int in, int s)
{
	return (in + s - 1) / s;
}

static int same_pad_total(int in, int out, int k, int s, int dil)
{
	int t = (out - 1) * s + (k - 1) * dil + 1 - in;

	return t > 0 ? t : 0;
}

void conv_shape_same(struct conv_shape *s, int N, int C, int H, int W, int K,
		     int kh, int kw, int sh, int sw, int dil)
{
	s->N = N; s->C = C; s->H = H; s->W = W; s->K = K;
	s->kh = kh; s->kw = kw; s->sh = sh; s->sw = sw; s->dil = dil;
	s->OH = same_out(H, sh);
	s->OW = same_out(W, sw);
	s->pt = same_pad_total(H, s->OH, kh, sh, dil) / 2;
	s->pl = same_pad_total(W, s->OW, kw, sw, dil) / 2;
}

void conv_shape_valid(struct conv_shape *s, int N, int C, int H, int W, int K,
		      int kh, int kw, int sh, int sw)
{
	s->N = N; s->C = C; s->H = H; s->W = W; s->K = K;
	s->kh = kh; s->kw = kw; s->sh = sh; s->sw = sw; s->dil = 1;
	s->OH = H >= kh ? (H - kh) / sh + 1 : 0;
	s->OW = W >= kw ? (W - kw) / sw + 1 : 0;
	s->pt = 0;
	s->pl = 0;
}

/* A 1x1 stride-1 unpadded convolution: the input planes are already the col matrix. */
static int is_pointwise(const struct conv_shape *s)
{
	return s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->pt == 0 &&
	       s->pl == 0 && s->OH == s->H && s->OW == s->W;
}

/*
 * The implicit im2col. Copy the image once into a zero-padded plane of
 * Wp = OW + (kw-1) dil columns; on the "wide" output grid of OH rows x Wp
 * columns, row (c, ky, kx) of the col matrix is then that plane itself from
 * offset c Hp Wp + ky dil Wp + kx dil: no copy per tap. The product runs
 * over the wide grid and its Wp - OW extra columns per row are dropped
 * (forward) or zero (weight gradient). With a vertical stride sh the
 * padded plane is split into sh phase planes (phase a: padded rows a,
 * a + sh, ...) and tap (ky, kx) reads phase ky dil % sh from row
 * ky dil / sh: the same product. The input gradient of a stride-1
 * convolution is the same kind of product again: dout padded into a plane
 * of Wg = W + (kw-1) dil columns, against the flipped, transposed weights;
 * a strided one scatters w^T . dout back by col2im.
 */
struct implicit {
	int S;            /* phase planes per channel, sh (sw is 1) */
	int Hp, Wp, Pw;   /* one (phase) plane of the padded input; wide output plane OH * Wp */
	int L;            /* Pw rounded up to PW_DOT_VL (weight gradient) */
	int din;          /* stride 1: the input gradient is implicit too */
	int Hg, Wg, Pg;   /* padded dout plane; wide input-gradient plane H * Wg */
	int tg, lg;       /* where dout starts in its padded plane */
	int G;            /* images per weight-gradient product (L G >= IMPLICIT_DOT_MIN) */
	size_t xpad, gpad;   /* floats of the padded planes, with read slack */
	size_t col;       /* strided: the col buffer of the input gradient */
};

/* the weight gradient's dot products span at least this many floats (up to
 * IMPLICIT_G_MAX images): measured on 7x7 planes, 32 channels */
#define IMPLICIT_DOT_MIN 512
#define IMPLICIT_G_MAX 8

static int implicit_geometry(struct implicit *g, const struct conv_shape *s)
{
	const int ey = (s->kh - 1) * s->dil, ex = (s->kw - 1) * s->dil;

	/* a horizontal stride scatters every other pixel (measured no faster than
	 * im2col); a vertical one only splits the rows */
	if (is_pointwise(s) || s->sh > 2 || s->sw != 1)
		return 0;
	g->S = s->sh;
	g->Hp = s->OH + ey / s->sh;
	g->Wp = s->OW + ex;
	g->Pw = s->OH * g->Wp;
	g->L = (g->Pw + PW_DOT_VL - 1) / PW_DOT_VL * PW_DOT_VL;
	g->G = (IMPLICIT_DOT_MIN + g->L - 1) / g->L;
	if (g->G > IMPLICIT_G_MAX)
		g->G = IMPLICIT_G_MAX;
	g->xpad = (size_t)s->C * g->S * g->Hp * g->Wp + (size_t)ex + PW_DOT_VL;
	g->din = s->sh == 1;
	if (g->din) {
		g->Hg = s->H + ey;
		g->Wg = s->W + ex;
		g->Pg = s->H * g->Wg;
		g->tg = ey - s->pt;
		g->lg = ex - s->pl;
		g->gpad = (size_t)s->K * g->Hg * g->Wg + (size_t)ex + PW_DOT_VL;
		g->col = 0;
	} else {
		g->Hg = g->Wg = g->Pg = g->tg = g->lg = 0;
		g->gpad = 0;
		g->col = (size_t)s->C * s->kh * s->kw * s->OH * s->OW;
	}
	/* the wide grids at most 2x the real ones: at 7x7, 32 channels, a 1x7
	 * convolution (13/7 wide) still runs 1.8x faster than im2col */
	return pw_fast(g->Pw) && g->Wp <= 2 * s->OW &&
	       (!g->din || (pw_fast(g->Pg) && g->Wg <= 2 * s->W));
}

/* floats of one row-offset table entry (a long) */
#define OFF_FLOATS (sizeof(long) / sizeof(float))

/*
 * One thread's slot, then (all paths) a weight-gradient partial of K*C*kh*kw.
 * im2col: the col buffer (none for a pointwise convolution). Implicit:
 * tables | G padded inputs | G wide outputs or douts | padded dout | wide
 * din | flipped weights (stride 1) or col (strided).
 */
static size_t slot_floats(const struct conv_shape *s)
{
	const size_t CKK = (size_t)s->C * s->kh * s->kw, KKK = (size_t)s->K * s->kh * s->kw;
	size_t dw = (size_t)s->K * CKK, col;
	struct implicit g;

	if (implicit_geometry(&g, s))
		col = OFF_FLOATS * (CKK + KKK) + (g.xpad + (size_t)s->K * g.L) * g.G + g.gpad +
		      (size_t)s->C * g.Pg + (size_t)s->C * KKK * g.din + g.col;
	else
		col = is_pointwise(s) ? 0 : CKK * s->OH * s->OW;
	return col + dw;
}

size_t conv2d_workspace(const struct conv_shape *s, int threads)
{
	return slot_floats(s) * (size_t)(threads > 1 ? threads : 1);
}

void ops_sum_partials(float *dw, const float *work, size_t slot, size_t off, size_t n, int T)
{
#pragma omp for schedule(static)
	for (size_t i = 0; i < n; i++) {
		float acc = dw[i];

		for (int u = 1; u < T; u++)
			acc += work[slot * (size_t)u + off + i];
		dw[i] = acc;
	}
}

/* threads to use: at most `threads` (the workspace slots), the OpenMP limit and N */
int ops_batch_threads(int threads, int N)
{
	int t = omp_get_max_threads();

	if (t > threads)
		t = threads;
	if (t > N)
		t = N;
	return t > 1 ? t : 1;
}

/*
 * Output columns [*lo, *hi) whose input column ox*st - pad + off lies inside
 * [0, len): the bounds-free interior of one kernel tap.
 */
static void tap_range(int *lo, int *hi, int off, int pad, int st, int len, int out)
{
	int a = pad - off, b = len - 1 + pad - off;   /* need a <= ox*st <= b */
	int l = a <= 0 ? 0 : (a + st - 1) / st;
	int h = b < 0 ? -1 : b / st;

	if (h > out - 1)
		h = out - 1;
	*lo = l;
	*hi = h + 1 > l ? h + 1 : l;
}

/* col (C*kh*kw, OH*OW) from one image in (C, H, W); padding reads as zero. */
static void im2col(float *restrict col, const float *restrict in, const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	const int kh = s->kh, kw = s->kw, sh = s->sh, sw = s->sw, dil = s->dil;
	const int rows = C * kh * kw;

	for (int r = 0; r < rows; r++) {
		int c = r / (kh * kw), ky = r / kw % kh, kx = r % kw;
		const float *plane = in + (size_t)c * H * W;
		float *dst = col + (size_t)r * OH * OW;
		int lo, hi;

		tap_range(&lo, &hi, kx * dil, s->pl, sw, W, OW);
		for (int oy = 0; oy < OH; oy++) {
			int iy = oy * sh - s->pt + ky * dil;
			float *d = dst + (size_t)oy * OW;

			if (iy < 0 || iy >= H) {
				memset(d, 0, sizeof(*d) * OW);
				continue;
			}
			const float *row = plane + (size_t)iy * W;
			const int off = kx * dil - s->pl;
			for (int ox = 0; ox < lo; ox++)
				d[ox] = 0;
			if (sw == 1)   /* the common case: a contiguous run */
				memcpy(d + lo, row + lo + off, sizeof(*d) * (size_t)(hi - lo));
			else
				for (int ox = lo; ox < hi; ox++)
					d[ox] = row[ox * sw + off];
			for (int ox = hi; ox < OW; ox++)
				d[ox] = 0;
		}
	}
}

/* din (C, H, W) += col2im(dcol (C*kh*kw, OH*OW)) */
static void col2im_add(float *restrict din, const float *restrict col, const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, OH = s->OH, OW = s->OW;
	const int kh = s->kh, kw = s->kw, sh = s->sh, sw = s->sw, dil = s->dil;

	for (int c = 0; c < C; c++) {
		float *plane = din + (size_t)c * H * W;

		for (int ky = 0; ky < kh; ky++)
			for (int kx = 0; kx < kw; kx++) {
				const float *src = col + ((size_t)(c * kh + ky) * kw + kx) * OH * OW;
				int lo, hi;

				tap_range(&lo, &hi, kx * dil, s->pl, sw, W, OW);
				for (int oy = 0; oy < OH; oy++) {
					int iy = oy * sh - s->pt + ky * dil;

					if (iy < 0 || iy >= H)
						continue;
					float *row = plane + (size_t)iy * W;
					const int off = kx * dil - s->pl;
					const float *g = src + (size_t)oy * OW;

					if (sw == 1) {   /* contiguous: vectorised */
						float *r1 = row + off;

						for (int ox = lo; ox < hi; ox++)
							r1[ox] += g[ox];
					} else {
						for (int ox = lo; ox < hi; ox++)
							row[ox * sw + off] += g[ox];
					}
				}
			}
	}
}

/* the parts of an implicit-path slot */
struct islot {
	long *xoff, *goff;        /* CKK col rows in xpad, K kh kw rows in gpad */
	float *xpad, *wide, *gpad, *dwide, *wflip, *col;
};

static struct islot islot(float *slot, const struct conv_shape *s, const struct implicit *g)
{
	const size_t CKK = (size_t)s->C * s->kh * s->kw, KKK = (size_t)s->K * s->kh * s->kw;
	struct islot p;

	p.xoff = (long *)slot;
	p.goff = p.xoff + CKK;
	p.xpad = slot + OFF_FLOATS * (CKK + KKK);
	p.wide = p.xpad + g->xpad * g->G;
	p.gpad = p.wide + (size_t)s->K * g->L * g->G;
	p.dwide = p.gpad + g->gpad;
	p.wflip = p.dwide + (size_t)s->C * g->Pg;
	p.col = p.wflip + (size_t)s->C * KKK * g->din;
	for (int c = 0, j = 0; c < s->C; c++)
		for (int ky = 0; ky < s->kh; ky++)
			for (int kx = 0; kx < s->kw; kx++) {
				const int y = ky * s->dil;

				p.xoff[j++] = (((long)c * g->S + y % s->sh) * g->Hp + y / s->sh) *
						      g->Wp + (long)kx * s->dil;
			}
	for (int k = 0, j = 0; k < s->K && g->din; k++)
		for (int ky = 0; ky < s->kh; ky++)
			for (int kx = 0; kx < s->kw; kx++)
				p.goff[j++] = ((long)k * g->Hg + (long)ky * s->dil) * g->Wg +
					      (long)kx * s->dil;
	return p;
}

/*
 * The image (C, H, W), padded by (pt, pl), into its zeroed phase planes
 * (C, sh, Hp, Wp); rows and columns no tap reads are left out.
 */
static void pad_phases(float *dst, const float *src, const struct conv_shape *s,
		       const struct implicit *g)
{
	for (int c = 0; c < s->C; c++)
		for (int y = 0; y < s->H; y++) {
			const int yp = y + s->pt, yq = yp / s->sh;
			const float *row = src + ((size_t)c * s->H + y) * s->W;
			float *d = dst + ((size_t)c * g->S + (size_t)(yp % s->sh)) * g->Hp * g->Wp +
				   (size_t)yq * g->Wp;

			if (yq >= g->Hp)
				continue;
			memcpy(d + s->pl, row,
			       sizeof(float) * (size_t)(s->W < g->Wp - s->pl ? s->W : g->Wp - s->pl));
		}
}

/* the image's planes (n, H, W) into a zeroed padded buffer at (top, left) */
static void pad_planes(float *dst, int Hd, int Wd, int top, int left, const float *src, int n,
		       int H, int W)
{
	for (int c = 0; c < n; c++)
		for (int y = 0; y < H; y++)
			memcpy(dst + ((size_t)c * Hd + y + top) * Wd + left,
			       src + ((size_t)c * H + y) * W, sizeof(float) * (size_t)W);
}

/* first image of a call: the padding (and slack) of a buffer is zero from here on */
static void zero_slot_buffer(float *p, size_t n)
{
	memset(p, 0, sizeof(float) * n);
}

/* out_n (K, OH, OW) = conv(in_n) through the implicit col matrix */
static void implicit_forward(float *out_n, const float *in_n, const float *w,
			     const struct conv_shape *s, const struct implicit *g,
			     const struct islot *p, int first)
{
	const int CKK = s->C * s->kh * s->kw;

	if (first)
		zero_slot_buffer(p->xpad, g->xpad);
	pad_phases(p->xpad, in_n, s, g);
	/* wide (K, OH * Wp) = w (K, CKK) . col (CKK, OH * Wp) */
	pw_gemm_rows(p->wide, w, CKK, 1, p->xpad, p->xoff, s->K, CKK, g->Pw, 0);
	for (int k = 0; k < s->K; k++)
		for (int oy = 0; oy < s->OH; oy++)
			memcpy(out_n + ((size_t)k * s->OH + oy) * s->OW,
			       p->wide + (size_t)k * g->Pw + (size_t)oy * g->Wp,
			       sizeof(float) * (size_t)s->OW);
}

/* flipped, transposed weights: wflip (C, K kh kw), wflip[c][k][ky][kx] = w[k][c][kh-1-ky][kw-1-kx] */
static void flip_weights(float *wflip, const float *w, const struct conv_shape *s)
{
	const int kk = s->kh * s->kw;

	for (int c = 0; c < s->C; c++)
		for (int k = 0; k < s->K; k++)
			for (int i = 0; i < kk; i++)
				wflip[((size_t)c * s->K + k) * kk + i] =
					w[((size_t)k * s->C + c) * kk + (kk - 1 - i)];
}

/* part (K, CKK) += dout_n . col^T and din_n += the transposed convolution of dout_n */
/*
 * part (K, CKK) += sum over the gn images n0.. of dout_n . col_n^T: the
 * images' padded planes and wide dout rows side by side in the G slots, one
 * pw_dot for all of them (on small planes a dot product of one image is too
 * short to amortise the reduction of its accumulators)
 */
static void implicit_dw(float *part, const float *dout, const float *in, int gn,
			const struct conv_shape *s, const struct implicit *g, const struct islot *p,
			int first)
{
	const int CKK = s->C * s->kh * s->kw;
	const size_t in_sz = (size_t)s->C * s->H * s->W, out_sz = (size_t)s->K * s->OH * s->OW;
	const size_t wide = (size_t)s->K * g->L;

	if (first) {
		zero_slot_buffer(p->xpad, g->xpad * g->G);
		zero_slot_buffer(p->wide, wide * g->G);
	}
	for (int i = 0; i < gn; i++) {
		const float *dout_n = dout + out_sz * i;
		float *w_i = p->wide + wide * i;

		pad_phases(p->xpad + g->xpad * i, in + in_sz * i, s, g);
		/* dout on the wide grid, rows L long (the columns beyond OW and Pw stay zero) */
		for (int k = 0; k < s->K; k++)
			for (int oy = 0; oy < s->OH; oy++)
				memcpy(w_i + (size_t)k * g->L + (size_t)oy * g->Wp,
				       dout_n + ((size_t)k * s->OH + oy) * s->OW,
				       sizeof(float) * (size_t)s->OW);
	}
	pw_dot(part, CKK, p->wide, g->L, (long)wide, p->xpad, (long)g->xpad, p->xoff, gn, s->K,
	       CKK, g->L);
}

/* din_n += the transposed convolution of dout_n */
static void implicit_din(float *din_n, const float *dout_n, const float *w,
			 const struct conv_shape *s, const struct implicit *g,
			 const struct islot *p, int first)
{
	const int KKK = s->K * s->kh * s->kw;

	if (first) {
		zero_slot_buffer(p->gpad, g->gpad);
		flip_weights(p->wflip, w, s);
	}
	pad_planes(p->gpad, g->Hg, g->Wg, g->tg, g->lg, dout_n, s->K, s->OH, s->OW);
	/* dwide (C, H * Wg) = wflip (C, K kh kw) . gcol */
	pw_gemm_rows(p->dwide, p->wflip, KKK, 1, p->gpad, p->goff, s->C, KKK, g->Pg, 0);
	for (int c = 0; c < s->C; c++)
		for (int y = 0; y < s->H; y++) {
			float *d = din_n + ((size_t)c * s->H + y) * s->W;
			const float *q = p->dwide + (size_t)c * g->Pg + (size_t)y * g->Wg;

			for (int x = 0; x < s->W; x++)
				d[x] += q[x];
		}
}

/* din_n += col2im(w^T (CKK, K) . dout_n (K, P)) through the col buffer */
static void col_din(float *din_n, const float *dout_n, const float *w, float *col,
		    const struct conv_shape *s)
{
	const int K = s->K, CKK = s->C * s->kh * s->kw, P = s->OH * s->OW;

	if (pw_fast(P))
		pw_gemm(col, w, 1, CKK, dout_n, CKK, K, P, 0);
	else
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, P, K, 1.0f, w, CKK,
			    dout_n, P, 0.0f, col, P);
	col2im_add(din_n, col, s);
}

void conv2d_forward(float *out, const float *in, const float *w, const struct conv_shape *s,
		    float *work, int threads)
{
	const int K = s->K, CKK = s->C * s->kh * s->kw, P = s->OH * s->OW;
	const size_t in_sz = (size_t)s->C * s->H * s->W, out_sz = (size_t)K * P;
	const int T = ops_batch_threads(threads, s->N);

	if (!out_sz)
		return;
	if (!CKK) {   /* no input channels: the sum is empty */
		memset(out, 0, sizeof(*out) * out_sz * s->N);
		return;
	}
	struct implicit g;
	const int imp = implicit_geometry(&g, s);

#pragma omp parallel num_threads(T) if (T > 1)
	{
		float *col = work + slot_floats(s) * (size_t)omp_get_thread_num();
		struct islot p = { 0 };
		int first = 1;

		if (imp)
			p = islot(col, s, &g);
#pragma omp for schedule(static)
		for (int n = 0; n < s->N; n++) {
			const float *in_n = in + n * in_sz;   /* (C, H, W) */
			const float *b = in_n;

			if (imp) {
				implicit_forward(out + n * out_sz, in_n, w, s, &g, &p, first);
				first = 0;
				continue;
			}
			if (!is_pointwise(s)) {
				im2col(col, in_n, s);
				b = col;
			}
			/* out_n (K, P) = w (K, CKK) . b (CKK, P) */
			if (pw_fast(P))   /* direct kernel: no packing, out_n written once */
				pw_gemm(out + n * out_sz, w, CKK, 1, b, K, CKK, P, 0);
			else
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, K, P, CKK,
					    1.0f, w, CKK, b, P, 0.0f, out + n * out_sz, P);
		}
	}
}

/* Thread t's images: the same static split as `omp for schedule(static)`. */
static void my_images(int *lo, int *hi, int N, int T, int t)
{
	int q = N / T, r = N % T;

	*lo = t * q + (t < r ? t : r);
	*hi = *lo + q + (t < r);
}

void conv2d_backward(float *din, float *dw, const float *dout, const float *in, const float *w,
		     const struct conv_shape *s, float *work, int threads)
{
	const int K = s->K, CKK = s->C * s->kh * s->kw, P = s->OH * s->OW;
	const size_t in_sz = (size_t)s->C * s->H * s->W, out_sz = (size_t)K * P;
	const size_t slot = slot_floats(s), nw = (size_t)K * CKK;
	const int pw = is_pointwise(s);
	const int T = ops_batch_threads(threads, s->N);
	struct implicit g;
	const int imp = implicit_geometry(&g, s);

	if (!out_sz || !CKK)   /* (BLAS rejects zero leading dimensions) */
		return;
#pragma omp parallel num_threads(T) if (T > 1)
	{
		const int t = omp_get_thread_num();
		float *col = work + slot * (size_t)t;
		/* thread 0 adds straight into dw; the others into their slot, summed below */
		float *part = t == 0 ? dw : col + slot - nw;
		int lo, hi;

		my_images(&lo, &hi, s->N, T, t);
		struct islot p = { 0 };

		if (imp) {
			p = islot(col, s, &g);
			if (dw && t != 0)
				memset(part, 0, sizeof(*part) * nw);
		}
		for (int n = lo; imp && dw && n < hi; n += g.G)
			implicit_dw(part, dout + n * out_sz, in + n * in_sz,
				    hi - n < g.G ? hi - n : g.G, s, &g, &p, n == lo);
		for (int n = lo; imp && din && n < hi; n++)
			if (g.din)
				implicit_din(din + n * in_sz, dout + n * out_sz, w, s, &g, &p,
					     n == lo);
			else
				col_din(din + n * in_sz, dout + n * out_sz, w, p.col, s);
		for (int n = lo; !imp && n < hi; n++) {
			const float *in_n = in + n * in_sz;
			const float *dout_n = dout + n * out_sz;   /* (K, OH*OW) */

			if (dw) {
				const float *b = in_n;

				if (!pw) {
					im2col(col, in_n, s);
					b = col;
				}
				/* part (K, CKK) (+)= dout_n (K, P) . b^T (P, CKK) */
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, K, CKK, P, 1.0f,
					    dout_n, P, b, P, t == 0 || n > lo ? 1.0f : 0.0f, part, CKK);
			}
			if (din) {
				float *din_n = din + n * in_sz;

				if (pw && pw_fast(P)) {
					/* din_n (C, HW) += w^T (C, K) . dout_n (K, HW) */
					pw_gemm(din_n, w, 1, CKK, dout_n, CKK, K, P, 1);
				} else if (pw) {
					cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, P, K,
						    1.0f, w, CKK, dout_n, P, 1.0f, din_n, P);
				} else {
					col_din(din_n, dout_n, w, col, s);
				}
			}
		}
		if (dw && T > 1) {   /* (T <= N: every thread wrote its partial) */
#pragma omp barrier
			ops_sum_partials(dw, work, slot, slot - nw, nw, T);
		}
	}
}

void conv2d_forward_ref(float *out, const float *in, const float *w, const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, K = s->K, OH = s->OH, OW = s->OW;

	for (int n = 0; n < s->N; n++)
		for (int k = 0; k < K; k++)
			for (int oy = 0; oy < OH; oy++)
				for (int ox = 0; ox < OW; ox++) {
					double acc = 0;

					for (int c = 0; c < C; c++)
						for (int ky = 0; ky < s->kh; ky++)
							for (int kx = 0; kx < s->kw; kx++) {
								int iy = oy * s->sh - s->pt + ky * s->dil;
								int ix = ox * s->sw - s->pl + kx * s->dil;

								if (iy < 0 || iy >= H || ix < 0 || ix >= W)
									continue;
								acc += (double)in[(((size_t)n * C + c) * H + iy) * W + ix] *
								       w[(((size_t)k * C + c) * s->kh + ky) * s->kw + kx];
							}
					out[(((size_t)n * K + k) * OH + oy) * OW + ox] = (float)acc;
				}
}

void conv2d_backward_ref(float *din, float *dw, const float *dout, const float *in,
			 const float *w, const struct conv_shape *s)
{
	const int C = s->C, H = s->H, W = s->W, K = s->K, OH = s->OH, OW = s->OW;

	for (int n = 0; n < s->N; n++)
		for (int k = 0; k < K; k++)
			for (int oy = 0; oy < OH; oy++)
				for (int ox = 0; ox < OW; ox++) {
					float g = dout[(((size_t)n * K + k) * OH + oy) * OW + ox];

					for (int c = 0; c < C; c++)
						for (int ky = 0; ky < s->kh; ky++)
							for (int kx = 0; kx < s->kw; kx++) {
								int iy = oy * s->sh - s->pt + ky * s->dil;
								int ix = ox * s->sw - s->pl + kx * s->dil;
								size_t ii = (((size_t)n * C + c) * H + iy) * W + ix;
								size_t wi = (((size_t)k * C + c) * s->kh + ky) * s->kw + kx;

								if (iy < 0 || iy >= H || ix < 0 || ix >= W)
									continue;
								if (din)
									din[ii] += g * w[wi];
								if (dw)
									dw[wi] += g * in[ii];
							}
				}
}
