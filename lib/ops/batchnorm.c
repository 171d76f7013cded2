/*
 * batchnorm.c - batch normalisation per channel over (N, HW), NCHW floats,
 * with PyTorch semantics:
 *   training: normalise with the batch mean and the biased batch variance;
 *             running = (1-momentum)*running + momentum*batch, where the
 *             running variance takes the unbiased variance (M/(M-1), M = N*HW);
 *   eval:     normalise with the running statistics.
 * Statistics: one channel per thread. The reductions run over each
 * (contiguous) plane in 16 float lanes, two accumulators deep; each plane's
 * lanes are then added into double lanes, and those are summed in a fixed
 * order at the end, so results do not depend on the thread count. The
 * variance is a second pass around the float mean (no cancellation for
 * large means), corrected for the rounding of that mean. The outputs
 * a * (x - mean) + b are then written in memory order, one streaming pass
 * (measured faster in a network than channel by channel). The backward gets
 * sum(dy) and sum(dy*(x-mean)) in one pass and writes dx in a second, per
 * channel while its planes are still in cache. The plane loops are compiled
 * per ISA (simd.h). Only the affine (gamma, beta) form is provided; a NULL
 * running_mean/running_var skips the update.
 */
#include "ops.h"
#include "simd.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VL 16   /* float lanes of one accumulator */

typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef float vf8 __attribute__((vector_size(VL / 2 * sizeof(float))));
typedef double vd __attribute__((vector_size(VL / 2 * sizeof(double))));
typedef int32_t vi __attribute__((vector_size(VL * sizeof(int32_t))));

/* double lanes of a running sum over planes: lo and hi halves of a vf */
struct dsum {
	vd lo, hi;
};

/* (Vectors pass through macros and pointers: by value they would change the
 * ABI of the baseline clone.) */

/* VL floats from p (unaligned) */
#define VLOAD(p)                                  \
	__extension__({                           \
		vf v_;                            \
		memcpy(&v_, (p), sizeof(v_));     \
		v_;                               \
	})

/* v where keep is all ones, +0 where it is 0 */
#define VKEEP(v, keep) ((vf)((vi)(v) & (keep)))

/*
 * *v = the last rem (0 < rem < VL) floats of plane p (HW floats): a full
 * vector ending at the plane's end (or, for planes shorter than VL, the
 * plane and zeros); *keep = the lanes that hold those rem floats.
 */
static inline __attribute__((always_inline)) void vload_tail(vf *v, vi *keep, const float *p,
							     int HW, int rem)
{
	const vi lane = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

	if (HW >= VL) {
		*keep = lane >= VL - rem;
		memcpy(v, p + HW - VL, sizeof(*v));
	} else {
		float t[VL] = { 0 };

		for (int i = 0; i < HW; i++)
			t[i] = p[i];
		*keep = lane < rem;
		memcpy(v, t, sizeof(*v));
	}
}

/* d += the lanes of a, in double */
static inline __attribute__((always_inline)) void dsum_add(struct dsum *d, const vf *a)
{
	vf8 lo, hi;

	memcpy(&lo, a, sizeof(lo));
	memcpy(&hi, (const char *)a + sizeof(lo), sizeof(hi));
	d->lo += __builtin_convertvector(lo, vd);
	d->hi += __builtin_convertvector(hi, vd);
}

static inline __attribute__((always_inline)) double dsum_total(const struct dsum *d)
{
	double s = 0;

	for (int i = 0; i < VL / 2; i++)
		s += d->lo[i];
	for (int i = 0; i < VL / 2; i++)
		s += d->hi[i];
	return s;
}

/*
 * Sums over the planes x + n*ld (n < N, HW floats each) of x - m (*s1)
 * and, if s2, of (x - m)^2 (*s2).
 */
static inline __attribute__((always_inline)) void
moments(double *s1, double *s2, const float *x, size_t ld, int N, int HW, float m)
{
	struct dsum d1 = { { 0 }, { 0 } }, d2 = { { 0 }, { 0 } };

	for (int n = 0; n < N; n++, x += ld) {
		vf a0 = { 0 }, a1 = { 0 }, q0 = { 0 }, q1 = { 0 };
		int i = 0;

		for (; i + 2 * VL <= HW; i += 2 * VL) {
			vf u = VLOAD(x + i) - m, w = VLOAD(x + i + VL) - m;

			a0 += u;
			a1 += w;
			if (s2) {
				q0 += u * u;
				q1 += w * w;
			}
		}
		if (i + VL <= HW) {
			vf u = VLOAD(x + i) - m;

			a0 += u;
			if (s2)
				q0 += u * u;
			i += VL;
		}
		if (i < HW) {
			vi keep;
			vf w;

			vload_tail(&w, &keep, x, HW, HW - i);
			w = VKEEP(w - m, keep);

			a1 += w;
			if (s2)
				q1 += w * w;
		}
		a0 += a1;
		q0 += q1;
		dsum_add(&d1, &a0);
		if (s2)
			dsum_add(&d2, &q0);
	}
	*s1 = dsum_total(&d1);
	if (s2)
		*s2 = dsum_total(&d2);
}

/* sum of x - m over the planes */
SIMD_CLONES
static double plane_sum(const float *x, size_t ld, int N, int HW, float m)
{
	double s1;

	moments(&s1, NULL, x, ld, N, HW, m);
	return s1;
}

/* sums of x - m and of (x - m)^2 over the planes */
SIMD_CLONES
static void plane_sum_sq(double *s1, double *s2, const float *x, size_t ld, int N, int HW,
			 float m)
{
	moments(s1, s2, x, ld, N, HW, m);
}

/*
 * y = a[c] * (x - m[c]) + b[c] over planes p0..p1-1 (HW floats each) of
 * channel c = p % C (centred first: a * x + b' would cancel for a large mean)
 */
SIMD_CLONES
static void planes_affine(float *y, const float *x, int p0, int p1, int C, int HW,
			  const float *m, const float *a, const float *b)
{
	for (int p = p0; p < p1; p++) {
		const int c = p % C;
		const float mc = m[c], ac = a[c], bc = b[c];
		const float *xp = x + (size_t)p * HW;
		float *yp = y + (size_t)p * HW;

#pragma omp simd
		for (int i = 0; i < HW; i++)
			yp[i] = ac * (xp[i] - mc) + bc;
	}
}

void batchnorm_forward_train(float *out, float *mean, float *rstd, float *running_mean,
			     float *running_var, const float *in, const float *gamma,
			     const float *beta, int N, int C, int HW, float momentum, float eps)
{
	const double M = (double)N * HW;
	const size_t ld = (size_t)C * HW;
	const int par = ops_par((size_t)N * C * HW);
	/* per channel: the float mean mf, scale a, shift b of out = a * (x - mf) + b */
	float *coef = xmalloc(sizeof(*coef) * 3 * (size_t)(C > 0 ? C : 1));
	float *mfs = coef, *as = coef + C, *bs = coef + 2 * C;

#pragma omp parallel if (par)
	{
#pragma omp for schedule(static)
		for (int c = 0; c < C; c++) {
			const float *x = in + (size_t)c * HW;
			double sum, sq, mu, var;

			sum = plane_sum(x, ld, N, HW, 0.0f);
			mu = sum / M;
			/* two-pass variance around the float mean mf:
			 * sum (x-mu)^2 = sum (x-mf)^2 - M (mu-mf)^2 */
			float mf = (float)mu;
			double s1;

			plane_sum_sq(&s1, &sq, x, ld, N, HW, mf);
			sq -= s1 * s1 / M;
			if (!(sq > 0))
				sq = 0;
			var = sq / M;

			double rs = 1.0 / sqrt(var + eps);

			mfs[c] = mf;
			as[c] = (float)(gamma[c] * rs);
			bs[c] = (float)(beta[c] - (mu - mf) * gamma[c] * rs);
			mean[c] = (float)mu;
			rstd[c] = (float)rs;
			if (running_mean)
				running_mean[c] =
					(float)((1.0 - momentum) * running_mean[c] + momentum * mu);
			if (running_var) {
				double unbiased = M > 1 ? sq / (M - 1) : var;

				running_var[c] = (float)((1.0 - momentum) * running_var[c] +
							 momentum * unbiased);
			}
		}
		/* the output in memory order (implicit barrier above) */
#pragma omp for schedule(static)
		for (int p = 0; p < N * C; p++)
			planes_affine(out, in, p, p + 1, C, HW, mfs, as, bs);
	}
	free(coef);
}

/* out (N,C,HW) from the running statistics, in memory order (one streaming pass) */
void batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
			    const float *running_mean, const float *running_var, int N, int C,
			    int HW, float eps)
{
	const int planes = N * C;
	const int par = ops_par((size_t)N * C * HW);
	float *a = xmalloc(sizeof(*a) * (size_t)(C > 0 ? C : 1));

	for (int c = 0; c < C; c++)
		a[c] = (float)(gamma[c] / sqrt((double)running_var[c] + eps));
#pragma omp parallel for schedule(static) if (par)
	for (int p = 0; p < planes; p++)
		planes_affine(out, in, p, p + 1, C, HW, running_mean, a, beta);
	free(a);
}

/*
 * Sums over the planes of g (*sg) and of g * (x - m) (*sgx); x, g planes at
 * stride ld, HW floats each.
 */
SIMD_CLONES
static void plane_grad_sums(double *sg, double *sgx, const float *x, const float *g, size_t ld,
			    int N, int HW, float m)
{
	struct dsum d1 = { { 0 }, { 0 } }, d2 = { { 0 }, { 0 } };

	for (int n = 0; n < N; n++, x += ld, g += ld) {
		vf a0 = { 0 }, a1 = { 0 }, q0 = { 0 }, q1 = { 0 };
		int i = 0;

		for (; i + 2 * VL <= HW; i += 2 * VL) {
			vf g0 = VLOAD(g + i), g1 = VLOAD(g + i + VL);

			a0 += g0;
			a1 += g1;
			q0 += g0 * (VLOAD(x + i) - m);
			q1 += g1 * (VLOAD(x + i + VL) - m);
		}
		if (i + VL <= HW) {
			vf g0 = VLOAD(g + i);

			a0 += g0;
			q0 += g0 * (VLOAD(x + i) - m);
			i += VL;
		}
		if (i < HW) {
			vi keep;
			vf g1, x1;

			vload_tail(&g1, &keep, g, HW, HW - i);
			vload_tail(&x1, &keep, x, HW, HW - i);
			a1 += VKEEP(g1, keep);
			q1 += VKEEP(g1 * (x1 - m), keep);
		}
		a0 += a1;
		q0 += q1;
		dsum_add(&d1, &a0);
		dsum_add(&d2, &q0);
	}
	*sg = dsum_total(&d1);
	*sgx = dsum_total(&d2);
}

/* dx += a * g + b * (x - m) + c over the planes */
SIMD_CLONES
static void plane_dx(float *dx, const float *x, const float *g, size_t ld, int N, int HW,
		     float m, float a, float b, float c)
{
	for (int n = 0; n < N; n++, x += ld, g += ld, dx += ld)
#pragma omp simd
		for (int i = 0; i < HW; i++)
			dx[i] += a * g[i] + b * (x[i] - m) + c;
}

/*
 * Channel c's backward from its two sums over the batch (M values): sg =
 * sum dy, sgd = sum dy * (x - mean); x, g, dx are the channel's planes of
 * this call's N examples (stride ld). dgamma, dbeta, din may be NULL.
 */
static void channel_backward(float *din, float *dgamma, float *dbeta, const float *x,
			     const float *g, size_t ld, int N, int HW, int c, double M, double sg,
			     double sgd, const float *mean, const float *rstd, const float *gamma)
{
	const double rs = rstd[c], sgx = sgd * rs, k = gamma[c] * rs / M;

	if (dbeta)
		dbeta[c] += (float)sg;
	if (dgamma)
		dgamma[c] += (float)sgx;
	if (din)
		plane_dx(din, x, g, ld, N, HW, mean[c], (float)(gamma[c] * rs),
			 (float)(-k * rs * sgx), (float)(-k * sg));
}

/*
 * With xhat = (x - mean) * rstd and y = gamma * xhat + beta:
 *   dbeta = sum dy, dgamma = sum dy * xhat,
 *   dx = gamma * rstd / M * (M * dy - dbeta - xhat * dgamma).
 */
void batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
			const float *in, const float *mean, const float *rstd, const float *gamma,
			int N, int C, int HW)
{
	const double M = (double)N * HW;
	const size_t ld = (size_t)C * HW;
	const int par = ops_par((size_t)N * C * HW);

#pragma omp parallel for schedule(static) if (par)
	for (int c = 0; c < C; c++) {
		const float *x = in + (size_t)c * HW, *g = dout + (size_t)c * HW;
		double sg, sgd;

		/* mean[c] is a float, so x - mean is the same as in double up to rounding */
		plane_grad_sums(&sg, &sgd, x, g, ld, N, HW, mean[c]);
		channel_backward(din ? din + (size_t)c * HW : NULL, dgamma, dbeta, x, g, ld, N, HW, c,
				 M, sg, sgd, mean, rstd, gamma);
	}
}

/*
 * A batch split into slices (net.c's data-parallel step: each thread owns
 * N_u examples in its own memory). Each slice reduces its own examples; the
 * parts are merged in slice order, so every thread derives the same numbers
 * and the result depends on the slice count, not on timing. A part is
 * BN_PART(C) doubles: N_u, then two sums per channel.
 */

/* part = { N, (mean, centred sum of squares) per channel } of this slice */
void batchnorm_slice_moments(double *part, const float *in, int N, int C, int HW)
{
	const double M = (double)N * HW;
	const size_t ld = (size_t)C * HW;

	part[0] = N;
	for (int c = 0; c < C; c++) {
		const float *x = in + (size_t)c * HW;
		/* as batchnorm_forward_train: around the float mean, corrected */
		float mf = (float)(plane_sum(x, ld, N, HW, 0.0f) / M);
		double s1, sq;

		plane_sum_sq(&s1, &sq, x, ld, N, HW, mf);
		sq -= s1 * s1 / M;
		part[2 + 2 * c] = mf + s1 / M;
		part[3 + 2 * c] = sq > 0 ? sq : 0;
	}
}

/*
 * Merge T parts (stride doubles apart) into coef (3C floats: float mean mf,
 * scale a, shift b of out = a * (x - mf) + b) by Chan's pairwise update:
 * M2 = sum M2_u + sum M_u (mean_u - mean)^2. mean/rstd (saved for the
 * backward) and the running statistics are written when non-NULL (by one
 * thread).
 */
void batchnorm_slice_combine(float *coef, float *mean, float *rstd, float *running_mean,
			     float *running_var, const double *parts, size_t stride, int T,
			     const float *gamma, const float *beta, int C, int HW, float momentum,
			     float eps)
{
	double M = 0;

	for (int u = 0; u < T; u++)
		M += parts[u * stride] * HW;
	for (int c = 0; c < C; c++) {
		double mu = 0, sq = 0;

		for (int u = 0; u < T; u++)
			mu += parts[u * stride] * HW * parts[u * stride + 2 + 2 * c];
		mu /= M;
		for (int u = 0; u < T; u++) {
			const double *p = parts + u * stride;
			double d = p[2 + 2 * c] - mu;

			sq += p[3 + 2 * c] + p[0] * HW * d * d;
		}

		double var = sq / M, rs = 1.0 / sqrt(var + eps);
		float mf = (float)mu;

		coef[c] = mf;
		coef[C + c] = (float)(gamma[c] * rs);
		coef[2 * C + c] = (float)(beta[c] - (mu - mf) * gamma[c] * rs);
		if (mean) {
			mean[c] = mf;
			rstd[c] = (float)rs;
		}
		if (running_mean)
			running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + momentum * mu);
		if (running_var) {
			double unbiased = M > 1 ? sq / (M - 1) : var;

			running_var[c] = (float)((1.0 - momentum) * running_var[c] +
						 momentum * unbiased);
		}
	}
}

/* out (N,C,HW) = coef's a * (in - mf) + b, in memory order */
void batchnorm_slice_normalize(float *out, const float *in, const float *coef, int N, int C,
			       int HW)
{
	planes_affine(out, in, 0, N * C, C, HW, coef, coef + C, coef + 2 * C);
}

/* part = { N, (sum dy, sum dy * (x - mean)) per channel } of this slice */
void batchnorm_slice_grad_sums(double *part, const float *dout, const float *in,
			       const float *mean, int N, int C, int HW)
{
	const size_t ld = (size_t)C * HW;

	part[0] = N;
	for (int c = 0; c < C; c++)
		plane_grad_sums(part + 2 + 2 * c, part + 3 + 2 * c, in + (size_t)c * HW,
				dout + (size_t)c * HW, ld, N, HW, mean[c]);
}

/* din (this slice) += ..., and dgamma, dbeta (when non-NULL: one thread) += the merged sums */
void batchnorm_slice_backward(float *din, float *dgamma, float *dbeta, const double *parts,
			      size_t stride, int T, const float *dout, const float *in,
			      const float *mean, const float *rstd, const float *gamma, int N,
			      int C, int HW)
{
	const size_t ld = (size_t)C * HW;
	double M = 0;

	for (int u = 0; u < T; u++)
		M += parts[u * stride] * HW;
	for (int c = 0; c < C; c++) {
		double sg = 0, sgd = 0;

		for (int u = 0; u < T; u++) {
			sg += parts[u * stride + 2 + 2 * c];
			sgd += parts[u * stride + 3 + 2 * c];
		}
		channel_backward(din ? din + (size_t)c * HW : NULL, dgamma, dbeta, in + (size_t)c * HW,
				 dout + (size_t)c * HW, ld, N, HW, c, M, sg, sgd, mean, rstd, gamma);
	}
}
