/*
 * pointwise.h - direct kernel for the "P-vector" products of 1x1 stride-1
 * convolutions (lib/pointwise.c), used by lib/conv.c instead of cblas_sgemm.
 */
#ifndef NASNET_POINTWISE_H
#define NASNET_POINTWISE_H

/* Smallest P the direct kernel handles. */
#define PW_MIN_P 16

/* Nonzero when pw_gemm handles P columns and beats cblas_sgemm on this CPU (AVX-512). */
int pw_fast(int P);

/*
 * out (M, P) = A (M, Kd) . b (Kd, P)   (accumulate == 0), or
 * out (M, P) += A (M, Kd) . b (Kd, P)  (accumulate != 0),
 * with A[i][j] = a[i * ars + j * acs] (w: ars = C, acs = 1; w^T: ars = 1,
 * acs = C) and b, out row-major with row stride P. Requires P >= PW_MIN_P.
 * Each output is summed over j in order 0..Kd-1, so results do not depend on
 * blocking or threads.
 */
void pw_gemm(float *out, const float *a, long ars, long acs, const float *b, int M, int Kd,
	     int P, int accumulate);

#endif
