/*
 * elementwise.c - the cheap ops of a cell: ReLU, add, accumulate (the
 * backward of add and identity), channel concatenation and global average
 * pooling, over NCHW floats. Every backward accumulates (+=). All loops are
 * element-independent or reduce in a fixed order, so results are exact and
 * deterministic, and the same for any thread count: threads take static
 * slices of the elements (or of the images) above OPS_PAR_MIN elements.
 */
#include "ops.h"
#include "simd.h"

#include <omp.h>
#include <string.h>

SIMD_CLONES
void relu_forward(float *out, const float *in, size_t n)
{
#pragma omp parallel for simd schedule(static) if (parallel: ops_par(n))
	for (size_t i = 0; i < n; i++)
		out[i] = in[i] > 0 ? in[i] : 0;
}

SIMD_CLONES
void relu_backward(float *din, const float *dout, const float *in, size_t n)
{
	if (!din)
		return;
#pragma omp parallel for simd schedule(static) if (parallel: ops_par(n))
	for (size_t i = 0; i < n; i++)
		din[i] += in[i] > 0 ? dout[i] : 0;
}

void zero_floats(float *x, size_t n)
{
	if (!ops_par(n)) {
		memset(x, 0, sizeof(*x) * n);
		return;
	}
#pragma omp parallel
	{
		const size_t T = (size_t)omp_get_num_threads(), t = (size_t)omp_get_thread_num();
		const size_t lo = n * t / T, hi = n * (t + 1) / T;

		memset(x + lo, 0, sizeof(*x) * (hi - lo));
	}
}

SIMD_CLONES
void add_forward(float *out, const float *a, const float *b, size_t n)
{
#pragma omp parallel for simd schedule(static) if (parallel: ops_par(n))
	for (size_t i = 0; i < n; i++)
		out[i] = a[i] + b[i];
}

SIMD_CLONES
void accumulate(float *y, const float *x, size_t n)
{
#pragma omp parallel for simd schedule(static) if (parallel: ops_par(n))
	for (size_t i = 0; i < n; i++)
		y[i] += x[i];
}

/* out (N, sum C_i, HW) from in_i (N, C_i, HW) */
void concat_forward(float *out, const float *const *in, const int *C, int k, int N, int HW)
{
	size_t total = 0;

	for (int i = 0; i < k; i++)
		total += (size_t)C[i];
#pragma omp parallel for schedule(static) if (ops_par(total * HW * N))
	for (int n = 0; n < N; n++) {
		float *o = out + (size_t)n * total * HW;

		for (int i = 0; i < k; i++) {
			size_t sz = (size_t)C[i] * HW;

			memcpy(o, in[i] + n * sz, sizeof(*o) * sz);
			o += sz;
		}
	}
}

/* din_i (N, C_i, HW) += its channel slice of dout (N, sum C_i, HW); NULL din_i skipped */
void concat_backward(float *const *din, const float *dout, const int *C, int k, int N, int HW)
{
	size_t total = 0;

	for (int i = 0; i < k; i++)
		total += (size_t)C[i];
#pragma omp parallel for schedule(static) if (ops_par(total * HW * N))
	for (int n = 0; n < N; n++) {
		const float *g = dout + (size_t)n * total * HW;

		for (int i = 0; i < k; i++) {
			size_t sz = (size_t)C[i] * HW;

			if (din[i]) {
				float *d = din[i] + n * sz;

#pragma omp simd
				for (size_t j = 0; j < sz; j++)
					d[j] += g[j];
			}
			g += sz;
		}
	}
}

/* out (N, C) = mean over HW of in (N, C, HW), summed in double */
void gap_forward(float *out, const float *in, int N, int C, int HW)
{
#pragma omp parallel for schedule(static) if (ops_par((size_t)N * C * HW))
	for (size_t p = 0; p < (size_t)N * C; p++) {
		const float *x = in + p * HW;
		double acc = 0;

		for (int i = 0; i < HW; i++)
			acc += x[i];
		out[p] = (float)(acc / HW);
	}
}

/* din (N, C, HW) += dout (N, C) / HW */
void gap_backward(float *din, const float *dout, int N, int C, int HW)
{
	if (!din)
		return;
#pragma omp parallel for schedule(static) if (ops_par((size_t)N * C * HW))
	for (size_t p = 0; p < (size_t)N * C; p++) {
		float v = dout[p] / HW;
		float *dx = din + p * HW;

		for (int i = 0; i < HW; i++)
			dx[i] += v;
	}
}
