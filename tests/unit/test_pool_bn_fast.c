/*
 * test_pool_bn_fast.c - the vectorised pooling and batch-norm kernels
 * against their oracles on a sweep of the shapes the vector paths special-
 * case: 3x3 windows (and 1, 2, 4, 5, 6, 7) at stride 1 and 2 on square planes of
 * side 1, 2, 3, 7, 14, 28, 33 and non-square ones, C in {1, 5, 17},
 * N in {1, 3}. Average pooling matches avgpool_*_ref to 1e-5; max pooling
 * matches maxpool_*_ref exactly, also with many ties (inputs drawn from
 * four values), and its argmax is the first maximum in row-major window
 * order. Batch norm (train forward, running statistics, eval forward,
 * backward) matches a double-precision copy of the textbook formulas to
 * ~1e-5, on small and large N*HW and on data with a large mean. All
 * kernels give the same bits with 1 and 2 threads, accumulate into their
 * gradients, and accept NULL gradients.
 */
#include "ops.h"
#include "rng.h"
#include "util.h"
#include "../tap.h"
#include "arrays.h"

#include <math.h>
#include <omp.h>
#include <string.h>

static struct rng R;

/* n uniform values in [lo, hi), or from {0, 1, 2, 3} if ties */
static float *urand(size_t n, float lo, float hi, int ties)
{
	float *a = rand_floats(&R, n, lo, hi);

	for (size_t i = 0; ties && i < n; i++)
		a[i] = (float)rng_below(&R, 4);
	return a;
}

/* worst |got - want| - (atol + rtol |want|) over n values; > 0 fails */
static double excess(const float *got, const float *want, size_t n, double rtol, double atol)
{
	double worst = -1;

	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)got[i] - want[i]), e;

		e = isnan(d) ? INFINITY : d - (atol + rtol * fabs((double)want[i]));
		if (e > worst)
			worst = e;
	}
	return worst;
}

/* ---- pooling ---- */

/* first maximum of window (oy, ox) in row-major order, as an index into plane x; -1 if empty */
static int first_max(const float *x, const struct conv_shape *s, int oy, int ox)
{
	int best = -1;

	for (int ky = 0; ky < s->kh; ky++)
		for (int kx = 0; kx < s->kw; kx++) {
			int iy = oy * s->sh - s->pt + ky, ix = ox * s->sw - s->pl + kx;

			if (iy < 0 || iy >= s->H || ix < 0 || ix >= s->W)
				continue;
			if (best < 0 || x[iy * s->W + ix] > x[best])
				best = iy * s->W + ix;
		}
	return best;
}

/* one shape: 0 if fast == ref, else the number of mismatching checks (printed) */
static int pool_case(int N, int C, int H, int W, int k, int st, int ties)
{
	struct conv_shape s;
	int bad = 0;

	conv_shape_same(&s, N, C, H, W, C, k, k, st, st, 1);
	size_t ni = (size_t)N * C * H * W, no = (size_t)N * C * s.OH * s.OW;
	float *in = urand(ni, -1, 1, ties), *dout = urand(no, -1, 1, 0);
	float *o1 = urand(no, -1, 1, 0), *o2 = urand(no, -1, 1, 0);
	float *d1 = urand(ni, -1, 1, 0), *d2 = copy_floats(d1, ni);
	int32_t *am = xmalloc(sizeof(*am) * (no ? no : 1));
	double e;

	avgpool_forward(o1, in, &s);
	avgpool_forward_ref(o2, in, &s);
	if ((e = excess(o1, o2, no, 1e-5, 1e-6)) > 0)
		bad++, diag("avgpool out N%d C%d %dx%d k%d s%d: excess %g", N, C, H, W, k, st, e);
	avgpool_backward(d1, dout, &s);
	avgpool_backward_ref(d2, dout, &s);
	if ((e = excess(d1, d2, ni, 1e-5, 1e-6)) > 0)
		bad++, diag("avgpool din N%d C%d %dx%d k%d s%d: excess %g", N, C, H, W, k, st, e);

	maxpool_forward(o1, am, in, &s);
	maxpool_forward_ref(o2, in, &s);
	if (memcmp(o1, o2, sizeof(*o1) * no))
		bad++, diag("maxpool out N%d C%d %dx%d k%d s%d ties%d differs", N, C, H, W, k, st, ties);
	for (size_t i = 0; i < no; i++) {
		size_t p = i / ((size_t)s.OH * s.OW), r = i % ((size_t)s.OH * s.OW);
		int want = first_max(in + p * H * W, &s, (int)(r / s.OW), (int)(r % s.OW));

		if (am[i] != want) {
			bad++;
			diag("maxpool argmax N%d C%d %dx%d k%d s%d ties%d: output %zu got %d want %d", N,
			     C, H, W, k, st, ties, i, am[i], want);
			break;
		}
	}
	memcpy(d1, d2, sizeof(*d1) * ni);
	maxpool_backward(d1, dout, am, &s);
	maxpool_backward_ref(d2, dout, in, &s);
	if (memcmp(d1, d2, sizeof(*d1) * ni))
		bad++, diag("maxpool din N%d C%d %dx%d k%d s%d ties%d differs", N, C, H, W, k, st, ties);
	free(in); free(dout); free(o1); free(o2); free(d1); free(d2); free(am);
	return bad;
}

static void test_pool_sweep(void)
{
	static const int sides[] = { 1, 2, 3, 7, 14, 28, 33 };
	static const int rect[][2] = { { 5, 9 }, { 9, 4 }, { 28, 13 }, { 1, 17 }, { 17, 1 } };
	static const int Cs[] = { 1, 5, 17 };
	int bad = 0, cases = 0;

	for (int st = 1; st <= 2; st++)
		for (int n = 1; n <= 3; n += 2)
			for (size_t c = 0; c < sizeof Cs / sizeof *Cs; c++) {
				for (size_t h = 0; h < sizeof sides / sizeof *sides; h++)
					for (int ties = 0; ties <= 1; ties++, cases++)
						bad += pool_case(n, Cs[c], sides[h], sides[h], 3, st, ties);
				for (size_t r = 0; r < sizeof rect / sizeof *rect; r++, cases++)
					bad += pool_case(n, Cs[c], rect[r][0], rect[r][1], 3, st, 1);
			}
	ok(!bad, "3x3 pooling fast == ref on %d shapes (stride 1, 2; ties; non-square)", cases);

	bad = cases = 0;
	for (int k = 1; k <= 7; k++)
		for (int st = 1; st <= 2; st++)
			for (size_t h = 0; h < sizeof sides / sizeof *sides; h++, cases++)
				bad += pool_case(2, 3, sides[h], sides[h] + 1, k, st, (int)h & 1);
	ok(!bad, "1x1..7x7 pooling fast == ref on %d shapes", cases);
}

/* a window whose real pixels are all -inf: max and argmax as the scalar loop (first pixel) */
static void test_pool_all_ninf(void)
{
	struct conv_shape s;
	const int H = 6, W = 7;
	float in[6 * 7], out[6 * 7];
	int32_t am[6 * 7];
	int good = 1;

	conv_shape_same(&s, 1, 1, H, W, 1, 3, 3, 1, 1, 1);
	for (int i = 0; i < H * W; i++)
		in[i] = (float)i;
	for (int iy = 0; iy < 3; iy++)
		for (int ix = 0; ix < 3; ix++)
			in[iy * W + ix] = -INFINITY;
	maxpool_forward(out, am, in, &s);
	/* window (0,0) covers rows 0-1, cols 0-1: all -inf, first real pixel 0 */
	good &= out[0] == -INFINITY && am[0] == 0;
	/* window (1,1) covers rows 0-2, cols 0-2: all -inf, first real pixel 0 */
	good &= out[W + 1] == -INFINITY && am[W + 1] == 0;
	for (int oy = 0; oy < H; oy++)
		for (int ox = 0; ox < W; ox++)
			good &= am[oy * W + ox] == first_max(in, &s, oy, ox);
	ok(good, "max pooling over all -inf windows keeps the first pixel");
}

/* ---- batch norm ---- */

/* double-precision oracle: out, mean, rstd, running stats (the textbook formulas) */
static void bn_train_ref(float *out, float *mean, float *rstd, float *rm, float *rv,
			 const float *in, const float *g, const float *b, int N, int C, int HW,
			 float momentum, float eps)
{
	const double M = (double)N * HW;

	for (int c = 0; c < C; c++) {
		double sum = 0, sq = 0, mu, var, rs;

		for (int n = 0; n < N; n++)
			for (int i = 0; i < HW; i++)
				sum += in[((size_t)n * C + c) * HW + i];
		mu = sum / M;
		for (int n = 0; n < N; n++)
			for (int i = 0; i < HW; i++) {
				double d = in[((size_t)n * C + c) * HW + i] - mu;

				sq += d * d;
			}
		var = sq / M;
		rs = 1 / sqrt(var + eps);
		for (int n = 0; n < N; n++)
			for (int i = 0; i < HW; i++) {
				size_t j = ((size_t)n * C + c) * HW + i;

				out[j] = (float)(g[c] * (in[j] - mu) * rs + b[c]);
			}
		mean[c] = (float)mu;
		rstd[c] = (float)rs;
		rm[c] = (float)((1 - momentum) * rm[c] + momentum * mu);
		rv[c] = (float)((1 - momentum) * rv[c] + momentum * (M > 1 ? sq / (M - 1) : var));
	}
}

static void bn_backward_ref(float *din, float *dg, float *db, const float *dout, const float *in,
			    const float *mean, const float *rstd, const float *g, int N, int C,
			    int HW)
{
	const double M = (double)N * HW;

	for (int c = 0; c < C; c++) {
		double sg = 0, sgx = 0, rs = rstd[c];

		for (int n = 0; n < N; n++)
			for (int i = 0; i < HW; i++) {
				size_t j = ((size_t)n * C + c) * HW + i;

				sg += dout[j];
				sgx += dout[j] * ((in[j] - (double)mean[c]) * rs);
			}
		db[c] += (float)sg;
		dg[c] += (float)sgx;
		for (int n = 0; n < N; n++)
			for (int i = 0; i < HW; i++) {
				size_t j = ((size_t)n * C + c) * HW + i;
				double xh = (in[j] - (double)mean[c]) * rs;

				din[j] += (float)(g[c] * rs / M * (M * dout[j] - sg - xh * sgx));
			}
	}
}

/* one shape, data = offset + uniform(-1, 2); 0 if fast matches the oracle */
static int bn_case(int N, int C, int HW, float offset)
{
	size_t n = (size_t)N * C * HW;
	float *in = urand(n, -1, 2, 0), *g = urand(C, 0.5f, 1.5f, 0), *b = urand(C, -1, 1, 0);
	float *dout = urand(n, -1, 1, 0);
	float *o1 = xmalloc(sizeof(float) * n), *o2 = xmalloc(sizeof(float) * n);
	float *m1 = xmalloc(sizeof(float) * C), *m2 = xmalloc(sizeof(float) * C);
	float *r1 = xmalloc(sizeof(float) * C), *r2 = xmalloc(sizeof(float) * C);
	float *rm1 = urand(C, -1, 1, 0), *rv1 = urand(C, 0.5f, 2, 0);
	float *rm2 = copy_floats(rm1, C), *rv2 = copy_floats(rv1, C);
	float *di1 = urand(n, -1, 1, 0), *di2 = copy_floats(di1, n);
	float *dg1 = urand(C, -1, 1, 0), *dg2 = copy_floats(dg1, C), *db1 = urand(C, -1, 1, 0);
	float *db2 = copy_floats(db1, C);
	int bad = 0;
	double e;

	for (size_t i = 0; i < n; i++)
		in[i] += offset;
	batchnorm_forward_train(o1, m1, r1, rm1, rv1, in, g, b, N, C, HW, 0.1f, 1e-3f);
	bn_train_ref(o2, m2, r2, rm2, rv2, in, g, b, N, C, HW, 0.1f, 1e-3f);
#define CHECK(what, got, want, cnt, rtol, atol)                                              \
	do {                                                                                 \
		if ((e = excess(got, want, cnt, rtol, atol)) > 0)                            \
			bad++, diag("batchnorm %s N%d C%d HW%d offset %g: excess %g", what, N, C, \
				    HW, (double)offset, e);                                  \
	} while (0)
	CHECK("out", o1, o2, n, 1e-5, 1e-5);
	CHECK("mean", m1, m2, (size_t)C, 1e-6, 1e-6);
	CHECK("rstd", r1, r2, (size_t)C, 1e-5, 0);
	CHECK("running_mean", rm1, rm2, (size_t)C, 1e-6, 1e-6);
	CHECK("running_var", rv1, rv2, (size_t)C, 1e-5, 1e-6);

	/* the backward from the same saved statistics */
	batchnorm_backward(di1, dg1, db1, dout, in, m2, r2, g, N, C, HW);
	bn_backward_ref(di2, dg2, db2, dout, in, m2, r2, g, N, C, HW);
	CHECK("din", di1, di2, n, 1e-5, 1e-5);
	CHECK("dgamma", dg1, dg2, (size_t)C, 1e-5, 1e-4);
	CHECK("dbeta", db1, db2, (size_t)C, 1e-5, 1e-4);

	/* eval: running statistics */
	batchnorm_forward_eval(o1, in, g, b, rm2, rv2, N, C, HW, 1e-3f);
	for (int c = 0; c < C; c++) {
		double rs = 1 / sqrt((double)rv2[c] + 1e-3);

		for (int k = 0; k < N; k++)
			for (int i = 0; i < HW; i++) {
				size_t j = ((size_t)k * C + c) * HW + i;

				o2[j] = (float)(g[c] * (in[j] - rm2[c]) * rs + b[c]);
			}
	}
	CHECK("eval out", o1, o2, n, 1e-5, 1e-4);
#undef CHECK
	free(in); free(g); free(b); free(dout); free(o1); free(o2); free(m1); free(m2); free(r1);
	free(r2); free(rm1); free(rv1); free(rm2); free(rv2); free(di1); free(di2); free(dg1);
	free(dg2); free(db1); free(db2);
	return bad;
}

static void test_bn(void)
{
	/* N*HW from 1 to 64*784; HW around the 16-lane vectors (1, 15, 16, 17, 31, 33, 49, 196, 784) */
	static const int shapes[][3] = {
		{ 1, 1, 1 }, { 2, 3, 1 }, { 3, 2, 5 }, { 1, 4, 15 }, { 2, 3, 16 }, { 3, 5, 17 },
		{ 2, 2, 31 }, { 1, 3, 33 }, { 4, 17, 49 }, { 8, 5, 196 }, { 64, 3, 784 },
		{ 64, 17, 49 },
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
		bad += bn_case(shapes[i][0], shapes[i][1], shapes[i][2], 0);
		bad += bn_case(shapes[i][0], shapes[i][1], shapes[i][2], 100);
	}
	ok(!bad, "batch norm train/eval/backward == double oracle on %zu shapes x 2 offsets",
	   sizeof shapes / sizeof *shapes);
}

/* ---- threads and NULL gradients ---- */

/* every kernel's outputs with t threads, one buffer each, on shapes above OPS_PAR_MIN */
static void run_all(float **res, int t, const float *in, const float *dout, const float *g,
		    const float *b, int N, int C, int H, int W, size_t ni)
{
	const int HW = H * W;
	struct conv_shape s1, s2;

	omp_set_num_threads(t);
	conv_shape_same(&s1, N, C, H, W, C, 3, 3, 1, 1, 1);
	conv_shape_same(&s2, N, C, H, W, C, 3, 3, 2, 2, 1);
	size_t no2 = (size_t)N * C * s2.OH * s2.OW;
	int32_t *am = xmalloc(sizeof(*am) * ni);
	float *mean = res[8], *rstd = res[8] + C, *rm = res[8] + 2 * C, *rv = res[8] + 3 * C;

	avgpool_forward(res[0], in, &s1);
	avgpool_backward(res[1], dout, &s1);
	avgpool_forward(res[2], in, &s2);
	avgpool_backward(res[3], dout, &s2);
	maxpool_forward(res[4], am, in, &s1);
	maxpool_backward(res[5], dout, am, &s1);
	maxpool_forward(res[6], am, in, &s2);
	maxpool_backward(res[7], dout, am, &s2);
	memcpy(res[6] + no2, am, sizeof(*am) * no2);
	for (int c = 0; c < C; c++)
		rv[c] = 1;
	batchnorm_forward_train(res[9], mean, rstd, rm, rv, in, g, b, N, C, HW, 0.1f, 1e-3f);
	batchnorm_backward(res[10], res[11], res[11] + C, dout, in, mean, rstd, g, N, C, HW);
	batchnorm_forward_eval(res[12], in, g, b, rm, rv, N, C, HW, 1e-3f);
	free(am);
}

static void test_threads(void)
{
	enum { K = 13 };   /* outputs of run_all */
	const int N = 3, C = 17, H = 28, W = 27;   /* N*C*H*W > OPS_PAR_MIN */
	size_t ni = (size_t)N * C * H * W, M = 2 * ni + 8 * (size_t)C;
	float *in = urand(ni, -1, 1, 1), *dout = urand(ni, -1, 1, 0), *g = urand(C, 0.5f, 1.5f, 0);
	float *b = urand(C, -1, 1, 0), *res[2][K];
	int saved = omp_get_max_threads(), same = 1;

	if (ni < OPS_PAR_MIN)
		diag("test_threads: batch norm shape too small to run in parallel");
	for (int t = 0; t < 2; t++) {
		for (int j = 0; j < K; j++)
			res[t][j] = xcalloc(M, sizeof(float));
		run_all(res[t], t + 1, in, dout, g, b, N, C, H, W, ni);
	}
	omp_set_num_threads(saved);
	for (int j = 0; j < K; j++) {
		if (memcmp(res[0][j], res[1][j], sizeof(float) * M)) {
			same = 0;
			diag("test_threads: output %d differs between 1 and 2 threads", j);
		}
		free(res[0][j]);
		free(res[1][j]);
	}
	ok(same, "pooling and batch norm are bit-identical with 1 and 2 threads");
	free(in); free(dout); free(g); free(b);
}

static void test_null_grads(void)
{
	struct conv_shape s;
	const int N = 2, C = 3, H = 7, W = 5, HW = H * W;
	size_t ni = (size_t)N * C * HW;
	float *in = urand(ni, -1, 1, 0), *dout = urand(ni, -1, 1, 0), *g = urand(C, 0.5f, 1.5f, 0);
	float *mean = urand(C, -0.1f, 0.1f, 0), *rstd = urand(C, 0.5f, 1.5f, 0);
	float *din = urand(ni, -1, 1, 0), *din2 = copy_floats(din, ni);
	float *dg = urand(C, -1, 1, 0), *db = urand(C, -1, 1, 0), *dg2 = copy_floats(dg, C);
	float *db2 = copy_floats(db, C);
	int32_t *am = xcalloc(ni, sizeof(*am));
	int good = 1;

	conv_shape_same(&s, N, C, H, W, C, 3, 3, 2, 2, 1);
	avgpool_backward(NULL, dout, &s);
	maxpool_backward(NULL, dout, am, &s);
	/* dgamma and dbeta without din, din without them: each as when all are wanted */
	batchnorm_backward(NULL, dg, db, dout, in, mean, rstd, g, N, C, HW);
	batchnorm_backward(din, NULL, NULL, dout, in, mean, rstd, g, N, C, HW);
	batchnorm_backward(din2, dg2, db2, dout, in, mean, rstd, g, N, C, HW);
	good &= !memcmp(din, din2, sizeof(float) * ni) && !memcmp(dg, dg2, sizeof(float) * C) &&
		!memcmp(db, db2, sizeof(float) * C);
	batchnorm_backward(NULL, NULL, NULL, dout, in, mean, rstd, g, N, C, HW);
	ok(good, "backwards accept NULL gradients and still compute the others");
	free(in); free(dout); free(g); free(mean); free(rstd); free(din); free(din2); free(dg);
	free(db); free(dg2); free(db2); free(am);
}

int main(void)
{
	rng_seed(&R, 20240607);
	test_pool_sweep();
	test_pool_all_ninf();
	test_bn();
	test_threads();
	test_null_grads();
	return tap_exit();
}
