/*
 * test_ops_ref.c - every fast kernel of lib/ops/ops.h against its naive *_ref
 * oracle on seeded random shapes, forward and backward: convolution (all
 * kernel shapes of the search space, strides 1/2 per axis, dilation 1/2,
 * SAME and VALID), depthwise, average and max pooling, factorized
 * reduction, linear. Gradient buffers start from the same random values in
 * both runs, so both must accumulate. Shapes include the degenerate ones
 * (1x1 images, windows larger than the image). Also checks that the
 * OpenMP-parallel kernels give bit-identical results with 1 and 2 threads.
 */
#include "ops.h"
#include "rng.h"
#include "util.h"
#include "../tap.h"
#include "arrays.h"

#include <omp.h>
#include <string.h>

#define RTOL 1e-4
#define ATOL 1e-4
#define CASES 30

static struct rng R;

static int irange(int lo, int hi)
{
	return lo + (int)rng_below(&R, (uint64_t)(hi - lo + 1));
}

/* n values uniform in [-1, 1) */
static float *urand(size_t n)
{
	return rand_floats(&R, n, -1, 1);
}

/* compare fast with ref; count the failing pairs into *fails, print only those */
static void cmp(int *fails, const char *what, const char *shape, const float *got,
		const float *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)got[i] - want[i]);

		if (!(d <= ATOL + RTOL * fabs((double)want[i]))) {
			diag("%s %s: element %zu of %zu: fast %.9g ref %.9g", what, shape, i, n,
			     got[i], want[i]);
			(*fails)++;
			return;
		}
	}
}

static void random_conv_shape(struct conv_shape *s, char *desc, size_t dn)
{
	static const int ks[][2] = { { 1, 1 }, { 3, 3 }, { 5, 5 }, { 7, 7 }, { 1, 3 },
				     { 3, 1 }, { 1, 7 }, { 7, 1 } };
	int k = irange(0, 7), kh = ks[k][0], kw = ks[k][1];
	int N = irange(1, 3), C = irange(1, 8), K = irange(1, 8);
	int sh = irange(1, 2), sw = irange(1, 2), dil = kh == kw && irange(0, 2) == 0 ? 2 : 1;
	int H = irange(1, 12), W = irange(1, 12), valid = dil == 1 && irange(0, 4) == 0;

	if (valid) {
		H = H < kh ? kh : H;
		W = W < kw ? kw : W;
		conv_shape_valid(s, N, C, H, W, K, kh, kw, sh, sw);
	} else {
		conv_shape_same(s, N, C, H, W, K, kh, kw, sh, sw, dil);
	}
	snprintf(desc, dn, "N%d C%d %dx%d K%d k%dx%d s%dx%d d%d %s", N, C, H, W, K, kh, kw, sh, sw,
		 dil, valid ? "valid" : "same");
}

/* one shape, T threads: conv2d_* against the _ref oracles (and, with
 * null_grads, each backward with the other gradient NULL) */
static void check_conv_shape(int *fails, const struct conv_shape *s, const char *d, int T,
			     int null_grads)
{
	size_t ni = (size_t)s->N * s->C * s->H * s->W, nw = (size_t)s->K * s->C * s->kh * s->kw;
	size_t no = (size_t)s->N * s->K * s->OH * s->OW;
	float *in = urand(ni), *w = urand(nw), *dout = urand(no);
	float *o1 = urand(no), *o2 = urand(no), *di1 = urand(ni), *dw1 = urand(nw);
	float *di2 = copy_floats(di1, ni), *dw2 = copy_floats(dw1, nw);
	float *work = xmalloc(sizeof(float) * (conv2d_workspace(s, T) + 1));

	omp_set_num_threads(T);
	conv2d_forward(o1, in, w, s, work, T);
	conv2d_forward_ref(o2, in, w, s);
	conv2d_backward(di1, dw1, dout, in, w, s, work, T);
	conv2d_backward_ref(di2, dw2, dout, in, w, s);
	cmp(fails, "conv out", d, o1, o2, no);
	cmp(fails, "conv din", d, di1, di2, ni);
	cmp(fails, "conv dw", d, dw1, dw2, nw);
	if (null_grads) {   /* NULL gradients are skipped, the other still computed */
		memcpy(dw2, dw1, sizeof(float) * nw);
		conv2d_backward(NULL, dw1, dout, in, w, s, work, T);
		conv2d_backward_ref(NULL, dw2, dout, in, w, s);
		cmp(fails, "conv dw (din NULL)", d, dw1, dw2, nw);
		memcpy(di2, di1, sizeof(float) * ni);
		conv2d_backward(di1, NULL, dout, in, w, s, work, T);
		conv2d_backward_ref(di2, NULL, dout, in, w, s);
		cmp(fails, "conv din (dw NULL)", d, di1, di2, ni);
	}
	free(in); free(w); free(dout); free(o1); free(o2); free(di1); free(dw1);
	free(di2); free(dw2); free(work);
}

static void test_conv(void)
{
	int fails = 0, saved = omp_get_max_threads();

	for (int t = 0; t < CASES; t++) {
		struct conv_shape s;
		char d[160];
		/* 1, 2 and 3 threads split the batch in turn */
		int T = 1 + t % 3;

		random_conv_shape(&s, d, sizeof(d));
		check_conv_shape(&fails, &s, d, T, 1);
	}
	omp_set_num_threads(saved);
	ok(!fails, "conv2d fast == ref on %d random shapes", CASES);
}

/*
 * Convolutions of the sizes a search trains (28, 14, 7 and odd sizes; the
 * 1xk/kx1 pairs, dilated 3x3, 5x5, 7x7, 1x1), stride 1 and the reduction
 * cells' strides 2x2, 1x2, 2x1: the implicit-im2col path of conv.c
 * (phase planes when strided), with channel counts that leave every tile
 * remainder, SAME and VALID, 1 and 2 threads.
 */
static void test_conv_nasnet(void)
{
	static const int ks[][3] = { { 3, 3, 1 }, { 1, 3, 1 }, { 3, 1, 1 }, { 1, 7, 1 },
				     { 7, 1, 1 }, { 3, 3, 2 }, { 5, 5, 1 }, { 7, 7, 1 },
				     { 1, 1, 1 } };
	static const int strides[][2] = { { 1, 1 }, { 2, 2 }, { 1, 2 }, { 2, 1 } };
	static const int sizes[] = { 28, 14, 7, 9, 15 };
	static const int chans[][2] = { { 8, 8 }, { 5, 13 }, { 16, 3 }, { 1, 9 } };
	int fails = 0, cases = 0, saved = omp_get_max_threads();

	for (int k = 0; k < 9; k++)
		for (int st = 0; st < 4; st++)
			for (int z = 0; z < 5; z++)
				for (int ch = 0; ch < 4; ch++) {
					struct conv_shape s;
					char d[160];
					int H = sizes[z], W = sizes[(z + ch) % 5];
					int sh = strides[st][0], sw = strides[st][1];
					int T = 1 + (k + z + ch) % 2;
					int valid = (k + ch + z) % 4 == 3 && ks[k][2] == 1;

					if ((k == 8 && st == 0) || (z + ch + st) % 2)
						continue;   /* (pointwise: test_pointwise; half the rest) */
					if (valid)
						conv_shape_valid(&s, 3, chans[ch][0], H, W, chans[ch][1],
								 ks[k][0], ks[k][1], sh, sw);
					else
						conv_shape_same(&s, 3, chans[ch][0], H, W, chans[ch][1],
								ks[k][0], ks[k][1], sh, sw, ks[k][2]);
					snprintf(d, sizeof(d), "N3 C%d %dx%d K%d k%dx%d s%dx%d d%d %s T%d",
						 s.C, H, W, s.K, s.kh, s.kw, sh, sw, s.dil,
						 valid ? "valid" : "same", T);
					check_conv_shape(&fails, &s, d, T, 0);
					cases++;
				}
	omp_set_num_threads(saved);
	ok(!fails, "conv2d fast == ref on %d NASNet-sized shapes, strides 1 and 2", cases);
}

static void test_depthwise(void)
{
	int fails = 0;

	for (int t = 0; t < CASES; t++) {
		struct conv_shape s;
		char d[160];
		int k = 2 * irange(0, 3) + 1, st = irange(1, 2), dil = irange(1, 2);
		int N = irange(1, 3), C = irange(1, 8), H = irange(1, 14), W = irange(1, 14);

		conv_shape_same(&s, N, C, H, W, C, k, k, st, st, dil);
		snprintf(d, sizeof(d), "N%d C%d %dx%d k%d s%d d%d", N, C, H, W, k, st, dil);
		size_t ni = (size_t)N * C * H * W, nw = (size_t)C * k * k;
		size_t no = (size_t)N * C * s.OH * s.OW;
		float *in = urand(ni), *w = urand(nw), *dout = urand(no);
		float *o1 = urand(no), *o2 = urand(no), *di1 = urand(ni), *dw1 = urand(nw);
		float *di2 = copy_floats(di1, ni), *dw2 = copy_floats(dw1, nw);

		depthwise_forward(o1, in, w, &s);
		depthwise_forward_ref(o2, in, w, &s);
		depthwise_backward(di1, dw1, dout, in, w, &s);
		depthwise_backward_ref(di2, dw2, dout, in, w, &s);
		cmp(&fails, "depthwise out", d, o1, o2, no);
		cmp(&fails, "depthwise din", d, di1, di2, ni);
		cmp(&fails, "depthwise dw", d, dw1, dw2, nw);
		free(in); free(w); free(dout); free(o1); free(o2); free(di1); free(dw1);
		free(di2); free(dw2);
	}
	ok(!fails, "depthwise fast == ref on %d random shapes", CASES);
}

static void test_pool(int is_max)
{
	int fails = 0;

	for (int t = 0; t < CASES; t++) {
		struct conv_shape s;
		char d[160];
		int k = 2 * irange(0, 3) + 1, st = irange(1, 2);
		int N = irange(1, 3), C = irange(1, 6), H = irange(1, 14), W = irange(1, 14);

		conv_shape_same(&s, N, C, H, W, C, k, k, st, st, 1);
		snprintf(d, sizeof(d), "N%d C%d %dx%d k%d s%d", N, C, H, W, k, st);
		size_t ni = (size_t)N * C * H * W, no = (size_t)N * C * s.OH * s.OW;
		float *in = urand(ni), *dout = urand(no), *o1 = urand(no), *o2 = urand(no);
		float *di1 = urand(ni), *di2 = copy_floats(di1, ni);
		int32_t *am = xmalloc(sizeof(*am) * no);

		if (is_max) {
			maxpool_forward(o1, am, in, &s);
			maxpool_forward_ref(o2, in, &s);
			maxpool_backward(di1, dout, am, &s);
			maxpool_backward_ref(di2, dout, in, &s);
		} else {
			avgpool_forward(o1, in, &s);
			avgpool_forward_ref(o2, in, &s);
			avgpool_backward(di1, dout, &s);
			avgpool_backward_ref(di2, dout, &s);
		}
		cmp(&fails, is_max ? "maxpool out" : "avgpool out", d, o1, o2, no);
		cmp(&fails, is_max ? "maxpool din" : "avgpool din", d, di1, di2, ni);
		free(in); free(dout); free(o1); free(o2); free(di1); free(di2); free(am);
	}
	ok(!fails, "%s fast == ref on %d random shapes", is_max ? "maxpool" : "avgpool", CASES);
}

static void test_factorized(void)
{
	int fails = 0, saved = omp_get_max_threads();

	for (int t = 0; t < CASES; t++) {
		char d[160];
		/* 1, 2 and 3 threads split the batch in turn */
		int T = 1 + t % 3;
		int N = irange(1, 3), C = irange(1, 8), H = irange(1, 13), W = irange(1, 13);
		int F = 2 * irange(1, 5);

		snprintf(d, sizeof(d), "N%d C%d %dx%d F%d T%d", N, C, H, W, F, T);
		omp_set_num_threads(T);
		size_t ni = (size_t)N * C * H * W, nw = (size_t)F / 2 * C;
		size_t no = (size_t)N * F * ((H + 1) / 2) * ((W + 1) / 2);
		float *in = urand(ni), *w1 = urand(nw), *w2 = urand(nw), *dout = urand(no);
		float *o1 = urand(no), *o2 = urand(no);
		float *di1 = urand(ni), *di2 = copy_floats(di1, ni);
		float *da1 = urand(nw), *db1 = urand(nw);
		float *da2 = copy_floats(da1, nw), *db2 = copy_floats(db1, nw);
		float *work = xmalloc(sizeof(float) * factorized_reduce_workspace(N, C, H, W, F, T));

		factorized_reduce_forward(o1, in, w1, w2, N, C, H, W, F, work, T);
		factorized_reduce_forward_ref(o2, in, w1, w2, N, C, H, W, F);
		factorized_reduce_backward(di1, da1, db1, dout, in, w1, w2, N, C, H, W, F, work, T);
		factorized_reduce_backward_ref(di2, da2, db2, dout, in, w1, w2, N, C, H, W, F);
		cmp(&fails, "factorized out", d, o1, o2, no);
		cmp(&fails, "factorized din", d, di1, di2, ni);
		cmp(&fails, "factorized dw1", d, da1, da2, nw);
		cmp(&fails, "factorized dw2", d, db1, db2, nw);
		free(in); free(w1); free(w2); free(dout); free(o1); free(o2); free(di1); free(di2);
		free(da1); free(db1); free(da2); free(db2); free(work);
	}
	omp_set_num_threads(saved);
	ok(!fails, "factorized reduce fast == ref on %d random shapes", CASES);
}

static void test_linear(void)
{
	int fails = 0;

	for (int t = 0; t < CASES; t++) {
		char d[160];
		int N = irange(1, 9), Fi = irange(1, 40), Fo = irange(1, 12);

		snprintf(d, sizeof(d), "N%d %d->%d", N, Fi, Fo);
		size_t ni = (size_t)N * Fi, nw = (size_t)Fo * Fi, no = (size_t)N * Fo;
		float *in = urand(ni), *w = urand(nw), *b = urand(Fo), *dout = urand(no);
		float *o1 = urand(no), *o2 = urand(no);
		float *di1 = urand(ni), *di2 = copy_floats(di1, ni);
		float *dw1 = urand(nw), *dw2 = copy_floats(dw1, nw);
		float *db1 = urand(Fo), *db2 = copy_floats(db1, Fo);

		linear_forward(o1, in, w, b, N, Fi, Fo);
		linear_forward_ref(o2, in, w, b, N, Fi, Fo);
		linear_backward(di1, dw1, db1, dout, in, w, N, Fi, Fo);
		linear_backward_ref(di2, dw2, db2, dout, in, w, N, Fi, Fo);
		cmp(&fails, "linear out", d, o1, o2, no);
		cmp(&fails, "linear din", d, di1, di2, ni);
		cmp(&fails, "linear dw", d, dw1, dw2, nw);
		cmp(&fails, "linear db", d, db1, db2, Fo);
		free(in); free(w); free(b); free(dout); free(o1); free(o2); free(di1); free(di2);
		free(dw1); free(dw2); free(db1); free(db2);
	}
	ok(!fails, "linear fast == ref on %d random shapes", CASES);
}

/* The OpenMP kernels give the same bits with 1 and 2 threads. */
static void test_threads(void)
{
	struct conv_shape s;
	const int N = 4, C = 8, H = 32, W = 31;   /* above OPS_PAR_MIN */
	size_t ni = (size_t)N * C * H * W, no;
	float *in = urand(ni), *w = urand(C * 25), *g = urand(C), *b = urand(C), *res[2][6];
	int saved = omp_get_max_threads(), same = 1;

	conv_shape_same(&s, N, C, H, W, C, 5, 5, 2, 2, 1);
	no = (size_t)N * C * s.OH * s.OW;
	if (ni < OPS_PAR_MIN || no * 25 < OPS_PAR_MIN)
		diag("test_threads: shape too small to run the kernels in parallel");
	size_t M = 2 * ni + (size_t)C * 25;   /* room for any two outputs of one kernel */
	float *dout = urand(no), *dbn = urand(ni);
	for (int t = 0; t < 2; t++) {
		float *mean = xcalloc(C, sizeof(float)), *rstd = xcalloc(C, sizeof(float));
		int32_t *am = xmalloc(sizeof(*am) * no);

		omp_set_num_threads(t + 1);
		for (int j = 0; j < 6; j++)
			res[t][j] = xcalloc(M, sizeof(float));
		depthwise_forward(res[t][0], in, w, &s);
		depthwise_backward(res[t][1], res[t][1] + ni, dout, in, w, &s);
		avgpool_forward(res[t][2], in, &s);
		maxpool_forward(res[t][3], am, in, &s);
		maxpool_backward(res[t][3] + no, dout, am, &s);
		batchnorm_forward_train(res[t][4], mean, rstd, NULL, NULL, in, g, b, N, C, H * W,
					0.1f, 1e-3f);
		batchnorm_backward(res[t][5], res[t][5] + ni, res[t][5] + ni + C, dbn, in, mean, rstd,
				   g, N, C, H * W);
		free(mean); free(rstd); free(am);
	}
	omp_set_num_threads(saved);
	for (int j = 0; j < 6; j++) {
		same &= !memcmp(res[0][j], res[1][j], sizeof(float) * M);
		free(res[0][j]);
		free(res[1][j]);
	}
	ok(same, "depthwise, pooling and batch norm are bit-identical with 1 and 2 threads");
	free(in); free(w); free(g); free(b); free(dout); free(dbn);
}

/* Every backward accepts NULL for a gradient it need not compute (crashes otherwise). */
static void test_null_grads(void)
{
	struct conv_shape s;
	const int N = 2, C = 4, H = 6, W = 5;
	size_t ni = (size_t)N * C * H * W;
	float *in = urand(ni), *w = urand(C * C * 9), *g = urand(ni), *p = urand(ni);
	float *work = xmalloc(sizeof(float) * ni * 9);
	int32_t lab[2] = { 0, 1 }, *am = xcalloc(ni, sizeof(int32_t));

	conv_shape_same(&s, N, C, H, W, C, 3, 3, 1, 1, 1);
	conv2d_backward(NULL, NULL, g, in, w, &s, work, 1);
	depthwise_backward(NULL, NULL, g, in, w, &s);
	avgpool_backward(NULL, g, &s);
	maxpool_backward(NULL, g, am, &s);
	batchnorm_backward(NULL, NULL, NULL, g, in, w, w, w, N, C, H * W);
	relu_backward(NULL, g, in, ni);
	gap_backward(NULL, g, N, C, H * W);
	factorized_reduce_backward(NULL, NULL, NULL, g, in, w, w, N, C, H, W, C, work, 1);
	linear_backward(NULL, NULL, NULL, g, in, w, N, C, C);
	softmax_xent_backward(NULL, p, lab, N, C, 0.1f, 1);
	dropout_backward(NULL, g, p, ni);
	droppath_backward(NULL, g, p, N, ni / N);
	ok(1, "every backward accepts NULL gradients");
	free(in); free(w); free(g); free(p); free(work); free(am);
}

int main(void)
{
	rng_seed(&R, 31337);
	test_conv();
	test_conv_nasnet();
	test_depthwise();
	test_pool(0);
	test_pool(1);
	test_factorized();
	test_linear();
	test_threads();
	test_null_grads();
	return tap_exit();
}
