/*
 * factorized.c - the factorized reduction of NASNet (TF _reduce_prev_layer /
 * DARTS FactorizedReduce), without its ReLU and BN (the caller composes
 * ReLU -> factorized_reduce -> BN):
 *
 *   out (N, F, OH, OW), OH = ceil(H/2), OW = ceil(W/2)
 *   out[:, 0:F/2]  = w1 (F/2, C) . in[:, :, 0::2, 0::2]
 *   out[:, F/2:F]  = w2 (F/2, C) . in[:, :, 1::2, 1::2]   (0 past the edge)
 *
 * The second path is TF's "pad one zero row/column bottom-right, drop the
 * first row/column, subsample by 2"; for odd H the last row it reads is that
 * zero pad. Each path gathers its subsampled planes (C, OH*OW) into `work`
 * and calls cblas_sgemm; backward reuses the buffer for dw (with the gather)
 * and then for the gathered input gradient, which is scattered back.
 * Threads split the batch as in conv.c: one workspace slot per thread (the
 * gather buffer and partial weight gradients summed in thread order), so
 * results are deterministic for a given thread count.
 * factorized_reduce_*_ref are the naive oracles.
 */
#include "ops.h"

#include <cblas.h>
#include <omp.h>

/* one thread's slot: gather buffer (C, P), then partial dw1 and dw2 (F/2, C) each */
static size_t slot_floats(int C, int H, int W, int F)
{
	return (size_t)C * ((H + 1) / 2) * ((W + 1) / 2) + 2 * (size_t)(F / 2) * C;
}

size_t factorized_reduce_workspace(int N, int C, int H, int W, int F, int threads)
{
	(void)N;
	return slot_floats(C, H, W, F) * (size_t)(threads > 1 ? threads : 1);
}

/* g (C, OH*OW) = in_n (C, H, W) at rows 2*oy+q, columns 2*ox+q, zero outside */
static void gather(float *restrict g, const float *restrict in_n, int C, int H, int W, int q)
{
	const int OH = (H + 1) / 2, OW = (W + 1) / 2;

	for (int c = 0; c < C; c++)
		for (int oy = 0; oy < OH; oy++) {
			int iy = 2 * oy + q;
			float *d = g + ((size_t)c * OH + oy) * OW;
			const float *row = in_n + ((size_t)c * H + (iy < H ? iy : 0)) * W;

			for (int ox = 0; ox < OW; ox++) {
				int ix = 2 * ox + q;

				d[ox] = iy < H && ix < W ? row[ix] : 0;
			}
		}
}

/* din_n (C, H, W) += g (C, OH*OW) at the positions gather() read */
static void scatter_add(float *restrict din_n, const float *restrict g, int C, int H, int W,
			int q)
{
	const int OH = (H + 1) / 2, OW = (W + 1) / 2;

	for (int c = 0; c < C; c++)
		for (int oy = 0; oy < OH; oy++) {
			int iy = 2 * oy + q;
			const float *s = g + ((size_t)c * OH + oy) * OW;

			if (iy >= H)
				continue;
			float *row = din_n + ((size_t)c * H + iy) * W;
			for (int ox = 0; ox < OW; ox++) {
				int ix = 2 * ox + q;

				if (ix < W)
					row[ix] += s[ox];
			}
		}
}

void factorized_reduce_forward(float *out, const float *in, const float *w1, const float *w2,
			       int N, int C, int H, int W, int F, float *work, int threads)
{
	const int P = ((H + 1) / 2) * ((W + 1) / 2), F2 = F / 2;
	const int T = ops_batch_threads(threads, N);

#pragma omp parallel num_threads(T) if (T > 1)
	{
		float *g = work + slot_floats(C, H, W, F) * (size_t)omp_get_thread_num();

#pragma omp for schedule(static)
		for (int n = 0; n < N; n++) {
			const float *in_n = in + (size_t)n * C * H * W;
			float *out_n = out + (size_t)n * F * P;   /* (F, P) */

			for (int q = 0; q < 2; q++) {
				gather(g, in_n, C, H, W, q);
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, F2, P, C, 1.0f,
					    q ? w2 : w1, C, g, P, 0.0f, out_n + (size_t)q * F2 * P, P);
			}
		}
	}
}

void factorized_reduce_backward(float *din, float *dw1, float *dw2, const float *dout,
				const float *in, const float *w1, const float *w2, int N, int C,
				int H, int W, int F, float *work, int threads)
{
	const int P = ((H + 1) / 2) * ((W + 1) / 2), F2 = F / 2;
	const size_t slot = slot_floats(C, H, W, F), nw = (size_t)F2 * C;
	const int T = ops_batch_threads(threads, N);

#pragma omp parallel num_threads(T) if (T > 1)
	{
		const int t = omp_get_thread_num();
		float *buf = work + slot * (size_t)t;
		float *part[2] = { buf + slot - 2 * nw, buf + slot - nw };
		int first = 1;

		if (t == 0) {   /* thread 0 adds straight into the gradients */
			part[0] = dw1;
			part[1] = dw2;
		}
#pragma omp for schedule(static)
		for (int n = 0; n < N; n++) {
			const float *in_n = in + (size_t)n * C * H * W;

			for (int q = 0; q < 2; q++) {
				const float *g = dout + ((size_t)n * F + (size_t)q * F2) * P;   /* (F/2, P) */
				const float *w = q ? w2 : w1;

				if (q ? dw2 : dw1) {   /* dw (F/2, C) (+)= g (F/2, P) . gathered^T (P, C) */
					gather(buf, in_n, C, H, W, q);
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, F2, C, P,
						    1.0f, g, P, buf, P, t == 0 || !first ? 1.0f : 0.0f,
						    part[q], C);
				}
				if (din) {  /* gathered grad (C, P) = w^T (C, F/2) . g (F/2, P) */
					cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, P, F2,
						    1.0f, w, C, g, P, 0.0f, buf, P);
					scatter_add(din + (size_t)n * C * H * W, buf, C, H, W, q);
				}
			}
			first = 0;
		}
		/* (the implicit barrier of the loop above: every partial is complete) */
		for (int q = 0; q < 2 && T > 1; q++)
			if (q ? dw2 : dw1)
				ops_sum_partials(q ? dw2 : dw1, work, slot, slot - (2 - q) * nw, nw, T);
	}
}

/* value of in[n][c] at row iy, column ix, 0 outside the image */
static float at(const float *in, int n, int c, int iy, int ix, int C, int H, int W)
{
	if (iy >= H || ix >= W)
		return 0;
	return in[(((size_t)n * C + c) * H + iy) * W + ix];
}

void factorized_reduce_forward_ref(float *out, const float *in, const float *w1,
				   const float *w2, int N, int C, int H, int W, int F)
{
	const int OH = (H + 1) / 2, OW = (W + 1) / 2, F2 = F / 2;

	for (int n = 0; n < N; n++)
		for (int f = 0; f < F; f++)
			for (int oy = 0; oy < OH; oy++)
				for (int ox = 0; ox < OW; ox++) {
					int q = f >= F2;
					const float *w = q ? w2 : w1;
					double acc = 0;

					for (int c = 0; c < C; c++)
						acc += (double)w[(size_t)(f - q * F2) * C + c] *
						       at(in, n, c, 2 * oy + q, 2 * ox + q, C, H, W);
					out[(((size_t)n * F + f) * OH + oy) * OW + ox] = (float)acc;
				}
}

void factorized_reduce_backward_ref(float *din, float *dw1, float *dw2, const float *dout,
				    const float *in, const float *w1, const float *w2, int N,
				    int C, int H, int W, int F)
{
	const int OH = (H + 1) / 2, OW = (W + 1) / 2, F2 = F / 2;

	for (int n = 0; n < N; n++)
		for (int f = 0; f < F; f++)
			for (int oy = 0; oy < OH; oy++)
				for (int ox = 0; ox < OW; ox++) {
					int q = f >= F2, iy = 2 * oy + q, ix = 2 * ox + q;
					const float *w = q ? w2 : w1;
					float *dw = q ? dw2 : dw1;
					float g = dout[(((size_t)n * F + f) * OH + oy) * OW + ox];

					if (iy >= H || ix >= W)
						continue;
					for (int c = 0; c < C; c++) {
						size_t wi = (size_t)(f - q * F2) * C + c;
						size_t ii = (((size_t)n * C + c) * H + iy) * W + ix;

						if (dw)
							dw[wi] += g * in[ii];
						if (din)
							din[ii] += g * w[wi];
					}
				}
}
