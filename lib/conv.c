/*
 * conv.c - dense 2-D convolution (no bias, no groups) over NCHW floats, and
 * the TF "SAME"/"VALID" window geometry shared by every windowed op.
 *
 * The fast path is im2col + cblas_sgemm, one image at a time:
 *   col (C*kh*kw, OH*OW) = im2col(in_n),  out_n (K, OH*OW) = w (K, C*kh*kw) . col
 * A 1x1 stride-1 convolution (never padded) multiplies the NCHW planes
 * directly, with no copy: out_n and din_n through the direct kernel of
 * pointwise.c when pw_fast() (AVX-512), else through sgemm. Backward reuses
 * the same buffer: first dw += dout_n . col^T, then dcol = w^T . dout_n
 * scattered back by col2im.
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

/* one thread's slot: the col buffer (unless pointwise) and a weight-gradient partial */
static size_t slot_floats(const struct conv_shape *s)
{
	size_t col = is_pointwise(s) ? 0 : (size_t)s->C * s->kh * s->kw * s->OH * s->OW;
	size_t dw = (size_t)s->K * s->C * s->kh * s->kw;

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
#pragma omp parallel num_threads(T) if (T > 1)
	{
		float *col = work + slot_floats(s) * (size_t)omp_get_thread_num();

#pragma omp for schedule(static)
		for (int n = 0; n < s->N; n++) {
			const float *in_n = in + n * in_sz;   /* (C, H, W) */
			const float *b = in_n;

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
		for (int n = lo; n < hi; n++) {
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
					/* col (CKK, P) = w^T (CKK, K) . dout_n (K, P) */
					if (pw_fast(P))
						pw_gemm(col, w, 1, CKK, dout_n, CKK, K, P, 0);
					else
						cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
							    CKK, P, K, 1.0f, w, CKK, dout_n, P,
							    0.0f, col, P);
					col2im_add(din_n, col, s);
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
