/*
 * pointwise.h - direct kernel for the "P-vector" products of 1x1 stride-1
 * convolutions (lib/ops/pointwise.c), used by lib/ops/conv.c instead of cblas_sgemm.
 */
#ifndef NASNET_POINTWISE_H
#define NASNET_POINTWISE_H

/* Smallest P the direct kernel handles. */
#define PW_MIN_P 16

/* Nonzero when pw_gemm handles P columns and should replace cblas_sgemm on this CPU (AVX2, AVX-512). */
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

/* pw_gemm with b's row j at b + boff[j] (not j * P): the implicit im2col of conv.c */
void pw_gemm_rows(float *out, const float *a, long ars, long acs, const float *b,
		  const long *boff, int M, int Kd, int P, int accumulate);

/* Vector length pw_dot's L must be a multiple of. */
#define PW_DOT_VL 16
/*
 * out[i * ldo + j] += sum over g < G, l < L of a[g * ag + i * lda + l] *
 * b[g * bg + boff[j] + l], i < M, j < Nr (the weight gradient of conv.c:
 * dout rows against implicit im2col rows, G images at a time). L a multiple
 * of PW_DOT_VL; each sum in a fixed order.
 */
void pw_dot(float *out, long ldo, const float *a, long lda, long ag, const float *b, long bg,
	    const long *boff, int G, int M, int Nr, int L);

#endif
