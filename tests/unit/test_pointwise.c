/*
 * test_pointwise.c - the direct 1x1 kernel (lib/ops/pointwise.c) against a naive
 * double product, for both A layouts (w and w^T), overwrite and accumulate,
 * over sweeps of M, Kd and P that hit every row and column remainder; its
 * row-table form (pw_gemm_rows) and the dot-product kernel (pw_dot) of the
 * implicit im2col, with rows at scattered, overlapping offsets; and
 * conv2d_forward/backward on pointwise shapes against the _ref oracles.
 */
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "pointwise.h"
#include "../tap.h"

static float frand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* want (M, P) = init + A . b in double; A[i][j] = a[i*ars + j*acs] */
static void naive(float *want, const float *init, const float *a, long ars, long acs,
		  const float *b, int M, int Kd, int P)
{
	for (int i = 0; i < M; i++)
		for (int p = 0; p < P; p++) {
			double acc = init ? init[(size_t)i * P + p] : 0;

			for (int j = 0; j < Kd; j++)
				acc += (double)a[i * ars + j * acs] * b[(size_t)j * P + p];
			want[(size_t)i * P + p] = (float)acc;
		}
}

static void check(int M, int Kd, int P, int trans, int accumulate, unsigned *seed)
{
	size_t na = (size_t)M * Kd, nb = (size_t)Kd * P, no = (size_t)M * P;
	float *a = malloc(sizeof(float) * na), *b = malloc(sizeof(float) * nb);
	float *got = malloc(sizeof(float) * (no + 1)), *want = malloc(sizeof(float) * no);
	float *init = malloc(sizeof(float) * no);
	long ars = trans ? 1 : Kd, acs = trans ? M : 1;

	for (size_t i = 0; i < na; i++)
		a[i] = frand(seed);
	for (size_t i = 0; i < nb; i++)
		b[i] = frand(seed);
	for (size_t i = 0; i < no; i++)
		init[i] = got[i] = accumulate ? frand(seed) : 1e30f;   /* overwrite must ignore it */
	got[no] = 12345.0f;   /* guard: nothing past the end is written */
	naive(want, accumulate ? init : NULL, a, ars, acs, b, M, Kd, P);
	pw_gemm(got, a, ars, acs, b, M, Kd, P, accumulate);
	ok(close_arrays("pw", got, want, no, 1e-5, 1e-5 * Kd) && got[no] == 12345.0f,
	   "pw_gemm M %d Kd %d P %d %s %s", M, Kd, P, trans ? "A^T" : "A",
	   accumulate ? "+=" : "=");
	free(a); free(b); free(got); free(want); free(init);
}

/* n values in [-1, 1) */
static float *frands(size_t n, unsigned *seed)
{
	float *a = malloc(sizeof(float) * (n ? n : 1));

	for (size_t i = 0; i < n; i++)
		a[i] = frand(seed);
	return a;
}

/* rows at scattered offsets that overlap (as the taps of a padded plane do) */
static long *row_table(int n, int P, unsigned *seed)
{
	long *off = malloc(sizeof(long) * (size_t)n);

	for (int j = 0; j < n; j++)
		off[j] = (long)j * (P / 3 + 1) + (long)(frand(seed) * 8 + 8);
	return off;
}

static void check_rows(int M, int Kd, int P, int accumulate, unsigned *seed)
{
	long *off = row_table(Kd, P, seed);
	size_t nb = (size_t)off[Kd - 1] + P + 16, no = (size_t)M * P, na = (size_t)M * Kd;
	float *a = frands(na, seed), *b = frands(nb, seed), *got = frands(no, seed);
	float *want = malloc(sizeof(float) * no);

	for (int i = 0; i < M; i++)
		for (int p = 0; p < P; p++) {
			double acc = accumulate ? got[(size_t)i * P + p] : 0;

			for (int j = 0; j < Kd; j++)
				acc += (double)a[(size_t)i * Kd + j] * b[off[j] + p];
			want[(size_t)i * P + p] = (float)acc;
		}
	pw_gemm_rows(got, a, Kd, 1, b, off, M, Kd, P, accumulate);
	ok(close_arrays("pw rows", got, want, no, 1e-5, 1e-5 * Kd), "pw_gemm_rows M %d Kd %d P %d %s",
	   M, Kd, P, accumulate ? "+=" : "=");
	free(off); free(a); free(b); free(got); free(want);
}

/* G groups of rows: A_g at g * ag, B_g at g * bg (the images of conv.c's weight gradient) */
static void check_dot(int M, int Nr, int L, int G, unsigned *seed)
{
	long *off = row_table(Nr, L, seed);
	const long lda = L + 5, ag = M * lda + 3, bg = off[Nr - 1] + L + 7;
	size_t nb = (size_t)(bg * G), na = (size_t)(ag * G), no = (size_t)M * Nr;
	float *a = frands(na, seed), *b = frands(nb, seed), *got = frands(no, seed);
	float *want = malloc(sizeof(float) * no);

	for (int i = 0; i < M; i++)
		for (int j = 0; j < Nr; j++) {
			double acc = got[(size_t)i * Nr + j];

			for (int g = 0; g < G; g++)
				for (int l = 0; l < L; l++)
					acc += (double)a[g * ag + i * lda + l] * b[g * bg + off[j] + l];
			want[(size_t)i * Nr + j] = (float)acc;
		}
	pw_dot(got, Nr, a, lda, ag, b, bg, off, G, M, Nr, L);
	ok(close_arrays("pw dot", got, want, no, 1e-5, 1e-5 * L * G), "pw_dot M %d Nr %d L %d G %d",
	   M, Nr, L, G);
	free(off); free(a); free(b); free(got); free(want);
}

static void check_conv(int N, int C, int H, int W, int K, unsigned *seed)
{
	struct conv_shape s;
	size_t ni, nw, no;

	conv_shape_same(&s, N, C, H, W, K, 1, 1, 1, 1, 1);
	ni = (size_t)N * C * H * W; nw = (size_t)K * C; no = (size_t)N * K * H * W;
	float *in = malloc(sizeof(float) * ni), *w = malloc(sizeof(float) * nw);
	float *out = malloc(sizeof(float) * no), *ref = malloc(sizeof(float) * no);
	float *dout = malloc(sizeof(float) * no);
	float *din = calloc(ni, sizeof(float)), *din_ref = calloc(ni, sizeof(float));
	float *dw = calloc(nw, sizeof(float)), *dw_ref = calloc(nw, sizeof(float));
	float *work = malloc(sizeof(float) * (conv2d_workspace(&s, 2) + 1));

	for (size_t i = 0; i < ni; i++)
		in[i] = frand(seed);
	for (size_t i = 0; i < nw; i++)
		w[i] = frand(seed);
	for (size_t i = 0; i < no; i++)
		dout[i] = frand(seed);
	for (size_t i = 0; i < ni; i++)
		din[i] = din_ref[i] = frand(seed);   /* backward accumulates into din */
	conv2d_forward(out, in, w, &s, work, 2);
	conv2d_forward_ref(ref, in, w, &s);
	ok(close_arrays("out", out, ref, no, 1e-5, 1e-5 * C), "conv2d_forward 1x1 N %d C %d %dx%d K %d",
	   N, C, H, W, K);
	conv2d_backward(din, dw, dout, in, w, &s, work, 2);
	conv2d_backward_ref(din_ref, dw_ref, dout, in, w, &s);
	ok(close_arrays("din", din, din_ref, ni, 1e-4, 1e-5 * K) &&
	   close_arrays("dw", dw, dw_ref, nw, 1e-4, 1e-5 * N * H * W),
	   "conv2d_backward 1x1 N %d C %d %dx%d K %d", N, C, H, W, K);
	free(in); free(w); free(out); free(ref); free(dout); free(din); free(din_ref);
	free(dw); free(dw_ref); free(work);
}

int main(void)
{
	static const int ms[] = {1, 3, 17, 64, 400};
	static const int ps[] = {16, 17, 31, 33, 49, 196, 784, 1000, 1024};
	unsigned seed = 42;

	for (size_t i = 0; i < sizeof(ms) / sizeof(*ms); i++)
		for (size_t j = 0; j < sizeof(ms) / sizeof(*ms); j++)
			for (size_t k = 0; k < sizeof(ps) / sizeof(*ps); k++) {
				int M = ms[i], Kd = ms[j], P = ps[k];

				if ((double)M * Kd * P > 3e7 && !(M == 400 && Kd == 400 && P == 196))
					continue;   /* keep the naive oracle quick */
				check(M, Kd, P, (int)((i + j + k) & 1), 0, &seed);
				check(M, Kd, P, (int)((i + j + k + 1) & 1), 1, &seed);
			}
	for (int M = 1; M <= 13; M++)   /* every row remainder against every column tail */
		for (int P = 16; P <= 50; P += 3)
			check(M, 5, P, M & 1, (P >> 1) & 1, &seed);
	for (int M = 1; M <= 9; M += 2)   /* row remainders of both; dot column remainders */
		for (int Kd = 1; Kd <= 9; Kd += 4) {
			check_rows(M, Kd, 16 + 7 * Kd, (M + Kd) & 2, &seed);
			check_dot(M, Kd + M % 3, PW_DOT_VL * (1 + Kd), 1 + (M + Kd) % 4, &seed);
		}
	check_rows(24, 9, 840, 0, &seed);
	check_dot(8, 56, 848, 1, &seed);
	check_dot(32, 224, 64, 8, &seed);
	/* conv2d_* dispatch: P in {1, 7} stay on sgemm, the rest take the kernel (with AVX-512) */
	static const int hw[][2] = {{1, 1}, {1, 7}, {7, 7}, {14, 14}, {28, 28}, {25, 40}, {32, 32}};
	for (size_t i = 0; i < sizeof(hw) / sizeof(*hw); i++) {
		check_conv(3, 17, hw[i][0], hw[i][1], 3, &seed);
		check_conv(2, 64, hw[i][0], hw[i][1], 40, &seed);
	}
	check_conv(2, 400, 7, 7, 400, &seed);
	return tap_exit();
}
