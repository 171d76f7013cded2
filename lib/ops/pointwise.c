/*
 * pointwise.c - direct register-blocked product for 1x1 stride-1 convolutions:
 *   out (M, P) (+)= A (M, Kd) . b (Kd, P),  P = H*W the vector dimension.
 *
 * sgemm packs both operands, zero-fills the output (beta 0) and its kernel is
 * tuned for large square-ish products; here M, Kd are 8..400 and P is
 * 49..1024, so a direct kernel that reads b in place and writes out once is
 * faster. A micro-tile of MR output rows x NV vectors of columns lives in
 * registers; the loop over j broadcasts A[i][j] and loads b[j][p..]. Column
 * blocks are the outer loop so the b panel (Kd x NV vectors) stays in cache
 * across all row blocks.
 *
 * Columns: full NV-vector tiles, then single vectors, then one last vector
 * ending at column P that overlaps the previous one; only its new lanes are
 * stored (so it also works when accumulating). Rows: tiles of MR, then 4, 2,
 * 1. Each element is one in-order sum over j, so every tile shape gives the
 * same bits for a given clone.
 *
 * ISA: an AVX-512 instance (16-float vectors, 8x2 tile = 16 zmm accumulators)
 * and a generic 8-float instance (6x2 tile, 12 ymm on AVX2) compiled for AVX2
 * and the baseline; the AVX-512 one is chosen at run time when the CPU has it.
 * With AVX-512 the kernel runs ~2x sgemm (Haswell kernel) on NASNet shapes.
 * The AVX2 instance alone only matches sgemm, but it also enables conv.c's
 * implicit im2col (no col matrix, no col2im), and on an AVX2-only core (AMD
 * EPYC, OpenBLAS Zen kernels) that made a sampled child's training step
 * 13 % and its evaluation 14 % cheaper in CPU time (bench-net, three
 * alternating runs), NASNet-A no slower: pw_fast() says yes from AVX2 up.
 */
#include "pointwise.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(NASNET_NO_CLONES)
#define PW_X86 1
#define PW_GEN_ATTR __attribute__((target_clones("avx2", "default")))
#else
#define PW_X86 0
#define PW_GEN_ATTR
#endif

#define PW_INLINE static inline __attribute__((always_inline))

/*
 * One tile: rows [i0, i0+MR), vectors at columns p0, p0+VW, ...; NV vectors.
 * Stores lanes >= skip of the first vector only when NV == 1 (tail overlap).
 */
#define PW_DEFINE(SUF, VT, VW)                                                                  \
	PW_INLINE void tile_##SUF(float *out, const float *a, long ars, long acs,              \
				  const float *b, const long *boff, int Kd, int P, int i0, int p0, \
				  int MR, int NV, int skip, int accumulate)                       \
	{                                                                                       \
		VT acc[8][3];                                                                   \
		_Pragma("GCC unroll 8") for (int r = 0; r < MR; r++)                            \
			_Pragma("GCC unroll 3") for (int v = 0; v < NV; v++)                    \
				acc[r][v] = (VT){0};                                            \
		for (int j = 0; j < Kd; j++) {                                                  \
			const float *bj = b + (boff ? boff[j] : (long)j * P) + p0;              \
			const float *aj = a + (long)i0 * ars + (long)j * acs;                   \
			VT x[3];                                                                \
			_Pragma("GCC unroll 3") for (int v = 0; v < NV; v++)                    \
				memcpy(&x[v], bj + v * VW, sizeof(VT));                         \
			_Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {                  \
				const float s = aj[r * ars];                                    \
				_Pragma("GCC unroll 3") for (int v = 0; v < NV; v++)            \
					acc[r][v] += s * x[v];                                  \
			}                                                                       \
		}                                                                               \
		_Pragma("GCC unroll 8") for (int r = 0; r < MR; r++) {                          \
			float *o = out + (long)(i0 + r) * P + p0;                               \
			if (skip) {                                                             \
				for (int l = skip; l < VW; l++)                                 \
					o[l] = accumulate ? o[l] + acc[r][0][l] : acc[r][0][l]; \
				continue;                                                       \
			}                                                                       \
			_Pragma("GCC unroll 3") for (int v = 0; v < NV; v++) {                  \
				VT y = acc[r][v];                                               \
				if (accumulate) {                                               \
					VT old;                                                 \
					memcpy(&old, o + v * VW, sizeof(VT));                   \
					y = old + y;                                            \
				}                                                               \
				memcpy(o + v * VW, &y, sizeof(VT));                             \
			}                                                                       \
		}                                                                               \
	}                                                                                       \
                                                                                                \
	/* all row tiles of one column tile */                                                 \
	PW_INLINE void rows_##SUF(float *out, const float *a, long ars, long acs,              \
				  const float *b, const long *boff, int M, int Kd, int P, int p0, \
				  int MRX, int NV, int skip, int accumulate)                      \
	{                                                                                       \
		int i = 0;                                                                      \
		for (; i + MRX <= M; i += MRX)                                                  \
			tile_##SUF(out, a, ars, acs, b, boff, Kd, P, i, p0, MRX, NV, skip, accumulate); \
		if (MRX > 4 && i + 4 <= M) {                                                    \
			tile_##SUF(out, a, ars, acs, b, boff, Kd, P, i, p0, 4, NV, skip, accumulate); \
			i += 4;                                                                 \
		}                                                                               \
		if (i + 2 <= M) {                                                               \
			tile_##SUF(out, a, ars, acs, b, boff, Kd, P, i, p0, 2, NV, skip, accumulate); \
			i += 2;                                                                 \
		}                                                                               \
		if (i < M)                                                                      \
			tile_##SUF(out, a, ars, acs, b, boff, Kd, P, i, p0, 1, NV, skip, accumulate); \
	}

/* every column tile of out (M, P) */
#define PW_GEMM_BODY(SUF, VW, MR2, MR1)                                                         \
	PW_INLINE void gemm_##SUF(float *out, const float *a, long ars, long acs, const float *b, \
				  const long *boff, int M, int Kd, int P, int accumulate)         \
	{                                                                                       \
		int p = 0;                                                                      \
		for (; p + 2 * VW <= P; p += 2 * VW)                                            \
			rows_##SUF(out, a, ars, acs, b, boff, M, Kd, P, p, MR2, 2, 0, accumulate); \
		for (; p + VW <= P; p += VW)                                                    \
			rows_##SUF(out, a, ars, acs, b, boff, M, Kd, P, p, MR1, 1, 0, accumulate); \
		if (p < P) /* the last VW columns; lanes before p were done */                  \
			rows_##SUF(out, a, ars, acs, b, boff, M, Kd, P, P - VW, MR1, 1,         \
				   p - (P - VW), accumulate);                                   \
	}

/*
 * pw_dot: out (M, Nr) += sum over G groups g of A_g (M, L) . B_g^T (L, Nr),
 * A_g row i at a + g ag + i lda, B_g row j at b + g bg + boff[j] (the
 * implicit im2col rows of conv.c, G images at once), L a multiple of VW. A
 * tile of up to 4 x 4 dot products keeps 16 vector accumulators over all G
 * groups, each reduced to one float at the end: 8 loads feed 16 FMAs, and
 * on small planes the reduction is paid once per G images.
 */
#define PW_DOT_DEFINE(SUF, VT, VW)                                                              \
	PW_INLINE void dot_tile_##SUF(float *out, long ldo, const float *a, long lda, long ag,  \
				      const float *b, long bg, const long *boff, int G, int i0,   \
				      int j0, int MR, int NR, int L)                              \
	{                                                                                       \
		VT acc[4][4];                                                                   \
		_Pragma("GCC unroll 4") for (int r = 0; r < MR; r++)                            \
			_Pragma("GCC unroll 4") for (int c = 0; c < NR; c++)                    \
				acc[r][c] = (VT){0};                                            \
		for (int g = 0; g < G; g++) {                                                   \
			const float *ar[4], *br[4];                                             \
			_Pragma("GCC unroll 4") for (int r = 0; r < MR; r++)                    \
				ar[r] = a + g * ag + (long)(i0 + r) * lda;                      \
			_Pragma("GCC unroll 4") for (int c = 0; c < NR; c++)                    \
				br[c] = b + g * bg + boff[j0 + c];                              \
			for (int p = 0; p < L; p += VW) {                                       \
				VT x[4], y[4];                                                  \
				_Pragma("GCC unroll 4") for (int r = 0; r < MR; r++)            \
					memcpy(&x[r], ar[r] + p, sizeof(VT));                   \
				_Pragma("GCC unroll 4") for (int c = 0; c < NR; c++)            \
					memcpy(&y[c], br[c] + p, sizeof(VT));                   \
				_Pragma("GCC unroll 4") for (int r = 0; r < MR; r++)            \
					_Pragma("GCC unroll 4") for (int c = 0; c < NR; c++)    \
						acc[r][c] += x[r] * y[c];                       \
			}                                                                       \
		}                                                                               \
		_Pragma("GCC unroll 4") for (int r = 0; r < MR; r++)                            \
			_Pragma("GCC unroll 4") for (int c = 0; c < NR; c++) {                  \
				float t = 0;                                                    \
				for (int l = 0; l < VW; l++)                                    \
					t += acc[r][c][l];                                      \
				out[(long)(i0 + r) * ldo + j0 + c] += t;                        \
			}                                                                       \
	}                                                                                       \
                                                                                                \
	PW_INLINE void dot_cols_##SUF(float *out, long ldo, const float *a, long lda, long ag,  \
				      const float *b, long bg, const long *boff, int G, int i0,   \
				      int MR, int Nr, int L)                                      \
	{                                                                                       \
		int j = 0;                                                                      \
		for (; j + 4 <= Nr; j += 4)                                                     \
			dot_tile_##SUF(out, ldo, a, lda, ag, b, bg, boff, G, i0, j, MR, 4, L);  \
		if (j + 2 <= Nr) {                                                              \
			dot_tile_##SUF(out, ldo, a, lda, ag, b, bg, boff, G, i0, j, MR, 2, L);  \
			j += 2;                                                                 \
		}                                                                               \
		if (j < Nr)                                                                     \
			dot_tile_##SUF(out, ldo, a, lda, ag, b, bg, boff, G, i0, j, MR, 1, L);  \
	}                                                                                       \
                                                                                                \
	PW_INLINE void dot_##SUF(float *out, long ldo, const float *a, long lda, long ag,       \
				 const float *b, long bg, const long *boff, int G, int M, int Nr, \
				 int L)                                                           \
	{                                                                                       \
		int i = 0;                                                                      \
		for (; i + 4 <= M; i += 4)                                                      \
			dot_cols_##SUF(out, ldo, a, lda, ag, b, bg, boff, G, i, 4, Nr, L);      \
		if (i + 2 <= M) {                                                               \
			dot_cols_##SUF(out, ldo, a, lda, ag, b, bg, boff, G, i, 2, Nr, L);      \
			i += 2;                                                                 \
		}                                                                               \
		if (i < M)                                                                      \
			dot_cols_##SUF(out, ldo, a, lda, ag, b, bg, boff, G, i, 1, Nr, L);      \
	}

#if PW_X86
typedef float v16 __attribute__((vector_size(64)));
PW_DEFINE(512, v16, 16)
PW_GEMM_BODY(512, 16, 8, 8)
PW_DOT_DEFINE(512, v16, 16)

__attribute__((target("avx512f"))) static void pw_gemm_512(float *out, const float *a, long ars,
							    long acs, const float *b, int M,
							    int Kd, int P, int accumulate)
{
	gemm_512(out, a, ars, acs, b, NULL, M, Kd, P, accumulate);
}

__attribute__((target("avx512f"))) static void pw_gemm_rows_512(float *out, const float *a,
								 long ars, long acs,
								 const float *b, const long *boff,
								 int M, int Kd, int P,
								 int accumulate)
{
	gemm_512(out, a, ars, acs, b, boff, M, Kd, P, accumulate);
}

__attribute__((target("avx512f"))) static void pw_dot_512(float *out, long ldo, const float *a,
							   long lda, long ag, const float *b,
							   long bg, const long *boff, int G, int M,
							   int Nr, int L)
{
	dot_512(out, ldo, a, lda, ag, b, bg, boff, G, M, Nr, L);
}
#endif

typedef float v8 __attribute__((vector_size(32)));
PW_DEFINE(gen, v8, 8)
PW_GEMM_BODY(gen, 8, 6, 4)
PW_DOT_DEFINE(gen, v8, 8)

PW_GEN_ATTR static void pw_gemm_gen(float *out, const float *a, long ars, long acs,
				    const float *b, const long *boff, int M, int Kd, int P,
				    int accumulate)
{
	gemm_gen(out, a, ars, acs, b, boff, M, Kd, P, accumulate);
}

PW_GEN_ATTR static void pw_dot_gen(float *out, long ldo, const float *a, long lda, long ag,
				   const float *b, long bg, const long *boff, int G, int M, int Nr,
				   int L)
{
	dot_gen(out, ldo, a, lda, ag, b, bg, boff, G, M, Nr, L);
}

int pw_fast(int P)
{
#if PW_X86
	return P >= PW_MIN_P &&
	       (__builtin_cpu_supports("avx512f") ||
		(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")));
#else
	(void)P;
	return 0;
#endif
}

void pw_gemm(float *out, const float *a, long ars, long acs, const float *b, int M, int Kd,
	     int P, int accumulate)
{
#if PW_X86
	if (__builtin_cpu_supports("avx512f")) {
		pw_gemm_512(out, a, ars, acs, b, M, Kd, P, accumulate);
		return;
	}
#endif
	pw_gemm_gen(out, a, ars, acs, b, NULL, M, Kd, P, accumulate);
}

void pw_gemm_rows(float *out, const float *a, long ars, long acs, const float *b,
		  const long *boff, int M, int Kd, int P, int accumulate)
{
#if PW_X86
	if (__builtin_cpu_supports("avx512f")) {
		pw_gemm_rows_512(out, a, ars, acs, b, boff, M, Kd, P, accumulate);
		return;
	}
#endif
	pw_gemm_gen(out, a, ars, acs, b, boff, M, Kd, P, accumulate);
}

void pw_dot(float *out, long ldo, const float *a, long lda, long ag, const float *b, long bg,
	    const long *boff, int G, int M, int Nr, int L)
{
#if PW_X86
	if (__builtin_cpu_supports("avx512f")) {
		pw_dot_512(out, ldo, a, lda, ag, b, bg, boff, G, M, Nr, L);
		return;
	}
#endif
	pw_dot_gen(out, ldo, a, lda, ag, b, bg, boff, G, M, Nr, L);
}
