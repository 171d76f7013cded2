/*
 * linear.c - the fully connected layer of the head:
 *   out (N, Fo) = in (N, Fi) . w^T (Fo, Fi) + b (Fo)
 * with cblas_sgemm, and its naive twins linear_*_ref (double accumulation)
 * as the oracle. Backward accumulates into din (N, Fi), dw (Fo, Fi), db (Fo);
 * any of them may be NULL. The bias gradient is summed in double, batch in
 * order.
 */
#include "ops.h"

#include <cblas.h>

void linear_forward(float *out, const float *in, const float *w, const float *b, int N, int Fi,
		    int Fo)
{
	if (!N || !Fo)
		return;
	if (!Fi) {
		for (size_t i = 0; i < (size_t)N * Fo; i++)
			out[i] = b ? b[i % Fo] : 0;
		return;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, Fo, Fi, 1.0f, in, Fi, w, Fi, 0.0f,
		    out, Fo);
	if (b)
		for (int n = 0; n < N; n++)
			for (int o = 0; o < Fo; o++)
				out[(size_t)n * Fo + o] += b[o];
}

void linear_backward(float *din, float *dw, float *db, const float *dout, const float *in,
		     const float *w, int N, int Fi, int Fo)
{
	if (!N || !Fo)   /* (BLAS rejects zero leading dimensions) */
		return;
	if (din && Fi)   /* din (N, Fi) += dout (N, Fo) . w (Fo, Fi) */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, Fi, Fo, 1.0f, dout, Fo, w,
			    Fi, 1.0f, din, Fi);
	if (dw && Fi)    /* dw (Fo, Fi) += dout^T (Fo, N) . in (N, Fi) */
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Fo, Fi, N, 1.0f, dout, Fo, in,
			    Fi, 1.0f, dw, Fi);
	if (db)
		for (int o = 0; o < Fo; o++) {
			double acc = 0;

			for (int n = 0; n < N; n++)
				acc += dout[(size_t)n * Fo + o];
			db[o] += (float)acc;
		}
}

void linear_forward_ref(float *out, const float *in, const float *w, const float *b, int N,
			int Fi, int Fo)
{
	for (int n = 0; n < N; n++)
		for (int o = 0; o < Fo; o++) {
			double acc = b ? b[o] : 0;

			for (int i = 0; i < Fi; i++)
				acc += (double)in[(size_t)n * Fi + i] * w[(size_t)o * Fi + i];
			out[(size_t)n * Fo + o] = (float)acc;
		}
}

void linear_backward_ref(float *din, float *dw, float *db, const float *dout, const float *in,
			 const float *w, int N, int Fi, int Fo)
{
	for (int n = 0; n < N; n++)
		for (int o = 0; o < Fo; o++) {
			float g = dout[(size_t)n * Fo + o];

			if (db)
				db[o] += g;
			for (int i = 0; i < Fi; i++) {
				if (din)
					din[(size_t)n * Fi + i] += g * w[(size_t)o * Fi + i];
				if (dw)
					dw[(size_t)o * Fi + i] += g * in[(size_t)n * Fi + i];
			}
		}
}
