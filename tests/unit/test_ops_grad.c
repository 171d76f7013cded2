/*
 * test_ops_grad.c - finite-difference gradient checks for every primitive of
 * lib/ops/ops.h, for every input and parameter.
 *
 * Each case has a forward (float) and a backward. The scalar checked is
 * L = sum(out * dout) with fixed random dout, accumulated in double. For
 * every element x_i of every input and parameter, the central difference
 * (L(x_i + h) - L(x_i - h)) / (actual float step), h = 1e-2, must match the
 * analytic gradient within 1e-3 + 1e-2 * |fd|. Gradient buffers start from
 * random values and the check subtracts them, so a backward that overwrites
 * instead of accumulating fails too. Inputs avoid kinks: ReLU inputs stay
 * 0.1 away from 0, max-pool inputs are distinct with gaps of 0.03 (> 2h).
 */
#include "ops.h"
#include "rng.h"
#include "../tap.h"
#include "util.h"

#include <math.h>
#include <string.h>

#define MAXP 4
#define STEP 1e-2
#define RTOL 1e-2
#define ATOL 1e-3

struct gcase {
	char name[96];
	int np;
	const char *pname[MAXP];
	float *p[MAXP], *g[MAXP];   /* inputs/parameters and their gradients */
	size_t n[MAXP];
	float *out, *dout;          /* (nout) */
	size_t nout;
	void (*fwd)(struct gcase *);
	void (*bwd)(struct gcase *);
	/* op settings and saved intermediates */
	struct conv_shape s;
	int N, C, H, W, F, K, k;
	int Cs[3];
	float keep, smoothing, scale;
	int32_t *labels, *argmax;
	float *mean, *rstd, *rm, *rv, *work, *mask;
	uint64_t seed;
};

static struct rng R;

static float *urand(size_t n, float lo, float hi)
{
	float *a = xmalloc(sizeof(*a) * (n ? n : 1));

	for (size_t i = 0; i < n; i++)
		a[i] = lo + (hi - lo) * rng_float(&R);
	return a;
}

static void add_param(struct gcase *c, const char *name, float *p, size_t n)
{
	c->pname[c->np] = name;
	c->p[c->np] = p;
	c->n[c->np] = n;
	c->np++;
}

static double weighted_loss(struct gcase *c)
{
	double L = 0;

	c->fwd(c);
	for (size_t i = 0; i < c->nout; i++)
		L += (double)c->out[i] * c->dout[i];
	return L;
}

/* Run the case: analytic gradients, then a central difference per element. */
static void run(struct gcase *c)
{
	float *g0[MAXP];

	c->dout = urand(c->nout, -1, 1);
	for (int j = 0; j < c->np; j++) {
		c->g[j] = urand(c->n[j], -1, 1);
		g0[j] = xmalloc(sizeof(float) * c->n[j]);
		memcpy(g0[j], c->g[j], sizeof(float) * c->n[j]);
	}
	c->fwd(c);
	c->bwd(c);
	for (int j = 0; j < c->np; j++) {
		double worst = -INFINITY, wa = 0, wf = 0;
		size_t wi = 0;

		for (size_t i = 0; i < c->n[j]; i++) {
			float orig = c->p[j][i], xp = (float)(orig + STEP), xm = (float)(orig - STEP);
			double lp, lm, fd, an, ex;

			c->p[j][i] = xp;
			lp = weighted_loss(c);
			c->p[j][i] = xm;
			lm = weighted_loss(c);
			c->p[j][i] = orig;
			fd = (lp - lm) / ((double)xp - xm);
			an = (double)c->g[j][i] - g0[j][i];
			ex = fabs(an - fd) - (ATOL + RTOL * fabs(fd));
			if (isnan(an) || ex > worst) {
				worst = isnan(an) ? INFINITY : ex;
				wi = i;
				wa = an;
				wf = fd;
			}
		}
		if (worst > 0)
			diag("%s d%s[%zu]: analytic %.6g, finite difference %.6g", c->name,
			     c->pname[j], wi, wa, wf);
		ok(worst <= 0, "%s: d%s (%zu values)", c->name, c->pname[j], c->n[j]);
		free(g0[j]);
		free(c->g[j]);
	}
	free(c->dout);
}

static void free_case(struct gcase *c)
{
	for (int j = 0; j < c->np; j++)
		free(c->p[j]);
	free(c->out);
	free(c->labels);
	free(c->argmax);
	free(c->mean);
	free(c->rstd);
	free(c->rm);
	free(c->rv);
	free(c->work);
	free(c->mask);
}

/* ---- convolution ---- */

static void conv_fwd(struct gcase *c)
{
	conv2d_forward(c->out, c->p[0], c->p[1], &c->s, c->work, 1);
}

static void conv_bwd(struct gcase *c)
{
	conv2d_backward(c->g[0], c->g[1], c->dout, c->p[0], c->p[1], &c->s, c->work, 1);
}

static void test_conv(int kh, int kw, int sh, int sw, int dil, int H, int W, int valid)
{
	struct gcase c = { 0 };
	const int N = 2, C = 3, K = 4;

	if (valid)
		conv_shape_valid(&c.s, N, C, H, W, K, kh, kw, sh, sw);
	else
		conv_shape_same(&c.s, N, C, H, W, K, kh, kw, sh, sw, dil);
	snprintf(c.name, sizeof(c.name), "conv %dx%d s%dx%d d%d %s %dx%d", kh, kw, sh, sw, dil,
		 valid ? "valid" : "same", H, W);
	add_param(&c, "in", urand((size_t)N * C * H * W, -1, 1), (size_t)N * C * H * W);
	add_param(&c, "w", urand((size_t)K * C * kh * kw, -1, 1), (size_t)K * C * kh * kw);
	c.nout = (size_t)N * K * c.s.OH * c.s.OW;
	c.out = xmalloc(sizeof(float) * c.nout);
	c.work = xmalloc(sizeof(float) * (conv2d_workspace(&c.s, 1) + 1));
	c.fwd = conv_fwd;
	c.bwd = conv_bwd;
	run(&c);
	free_case(&c);
}

/* ---- depthwise ---- */

static void dw_fwd(struct gcase *c)
{
	depthwise_forward(c->out, c->p[0], c->p[1], &c->s);
}

static void dw_bwd(struct gcase *c)
{
	depthwise_backward(c->g[0], c->g[1], c->dout, c->p[0], c->p[1], &c->s);
}

static void test_depthwise(int k, int st, int dil, int H, int W)
{
	struct gcase c = { 0 };
	const int N = 2, C = 3;

	conv_shape_same(&c.s, N, C, H, W, C, k, k, st, st, dil);
	snprintf(c.name, sizeof(c.name), "depthwise %dx%d s%d d%d %dx%d", k, k, st, dil, H, W);
	add_param(&c, "in", urand((size_t)N * C * H * W, -1, 1), (size_t)N * C * H * W);
	add_param(&c, "w", urand((size_t)C * k * k, -1, 1), (size_t)C * k * k);
	c.nout = (size_t)N * C * c.s.OH * c.s.OW;
	c.out = xmalloc(sizeof(float) * c.nout);
	c.fwd = dw_fwd;
	c.bwd = dw_bwd;
	run(&c);
	free_case(&c);
}

/* ---- batch norm (training mode) ---- */

static void bn_fwd(struct gcase *c)
{
	batchnorm_forward_train(c->out, c->mean, c->rstd, c->rm, c->rv, c->p[0], c->p[1], c->p[2],
				c->N, c->C, c->H * c->W, 0.1f, 1e-3f);
}

static void bn_bwd(struct gcase *c)
{
	batchnorm_backward(c->g[0], c->g[1], c->g[2], c->dout, c->p[0], c->mean, c->rstd, c->p[1],
			   c->N, c->C, c->H * c->W);
}

static void test_batchnorm(int N, int C, int H, int W)
{
	struct gcase c = { 0 };
	size_t n = (size_t)N * C * H * W;

	c.N = N; c.C = C; c.H = H; c.W = W;
	snprintf(c.name, sizeof(c.name), "batchnorm train N%d C%d %dx%d", N, C, H, W);
	add_param(&c, "in", urand(n, -1, 2), n);
	add_param(&c, "gamma", urand(C, 0.5, 1.5), C);
	add_param(&c, "beta", urand(C, -1, 1), C);
	c.nout = n;
	c.out = xmalloc(sizeof(float) * n);
	c.mean = xmalloc(sizeof(float) * C);
	c.rstd = xmalloc(sizeof(float) * C);
	c.rm = urand(C, 0, 0);
	c.rv = urand(C, 1, 1);
	c.fwd = bn_fwd;
	c.bwd = bn_bwd;
	run(&c);
	free_case(&c);
}

/* ---- relu, add, concat, gap ---- */

static void relu_fwd(struct gcase *c)
{
	relu_forward(c->out, c->p[0], c->nout);
}

static void relu_bwd(struct gcase *c)
{
	relu_backward(c->g[0], c->dout, c->p[0], c->nout);
}

static void test_relu(void)
{
	struct gcase c = { 0 };
	size_t n = 2 * 3 * 5 * 5;
	float *x = urand(n, -1, 1);

	for (size_t i = 0; i < n; i++)   /* stay clear of the kink */
		x[i] += x[i] < 0 ? -0.1f : 0.1f;
	snprintf(c.name, sizeof(c.name), "relu");
	add_param(&c, "in", x, n);
	c.nout = n;
	c.out = xmalloc(sizeof(float) * n);
	c.fwd = relu_fwd;
	c.bwd = relu_bwd;
	run(&c);
	free_case(&c);
}

static void add_fwd(struct gcase *c)
{
	add_forward(c->out, c->p[0], c->p[1], c->nout);
}

static void add_bwd(struct gcase *c)
{
	accumulate(c->g[0], c->dout, c->nout);
	accumulate(c->g[1], c->dout, c->nout);
}

static void test_add(void)
{
	struct gcase c = { 0 };
	size_t n = 2 * 3 * 4 * 5;

	snprintf(c.name, sizeof(c.name), "add");
	add_param(&c, "a", urand(n, -1, 1), n);
	add_param(&c, "b", urand(n, -1, 1), n);
	c.nout = n;
	c.out = xmalloc(sizeof(float) * n);
	c.fwd = add_fwd;
	c.bwd = add_bwd;
	run(&c);
	free_case(&c);
}

static void concat_fwd(struct gcase *c)
{
	const float *in[3] = { c->p[0], c->p[1], c->p[2] };

	concat_forward(c->out, in, c->Cs, 3, c->N, c->H * c->W);
}

static void concat_bwd(struct gcase *c)
{
	float *din[3] = { c->g[0], c->g[1], c->g[2] };

	concat_backward(din, c->dout, c->Cs, 3, c->N, c->H * c->W);
}

static void test_concat(void)
{
	struct gcase c = { 0 };
	static const char *names[3] = { "in0", "in1", "in2" };

	c.N = 2; c.H = 3; c.W = 4;
	c.Cs[0] = 2; c.Cs[1] = 3; c.Cs[2] = 1;
	snprintf(c.name, sizeof(c.name), "concat 2+3+1 channels");
	for (int i = 0; i < 3; i++) {
		size_t n = (size_t)c.N * c.Cs[i] * c.H * c.W;

		add_param(&c, names[i], urand(n, -1, 1), n);
	}
	c.nout = (size_t)c.N * 6 * c.H * c.W;
	c.out = xmalloc(sizeof(float) * c.nout);
	c.fwd = concat_fwd;
	c.bwd = concat_bwd;
	run(&c);
	free_case(&c);
}

static void gap_fwd(struct gcase *c)
{
	gap_forward(c->out, c->p[0], c->N, c->C, c->H * c->W);
}

static void gap_bwd(struct gcase *c)
{
	gap_backward(c->g[0], c->dout, c->N, c->C, c->H * c->W);
}

static void test_gap(void)
{
	struct gcase c = { 0 };

	c.N = 2; c.C = 3; c.H = 5; c.W = 4;
	snprintf(c.name, sizeof(c.name), "global average pool");
	add_param(&c, "in", urand(120, -1, 1), 120);
	c.nout = 6;
	c.out = xmalloc(sizeof(float) * c.nout);
	c.fwd = gap_fwd;
	c.bwd = gap_bwd;
	run(&c);
	free_case(&c);
}

/* ---- pooling ---- */

static void avg_fwd(struct gcase *c)
{
	avgpool_forward(c->out, c->p[0], &c->s);
}

static void avg_bwd(struct gcase *c)
{
	avgpool_backward(c->g[0], c->dout, &c->s);
}

static void max_fwd(struct gcase *c)
{
	maxpool_forward(c->out, c->argmax, c->p[0], &c->s);
}

static void max_bwd(struct gcase *c)
{
	maxpool_backward(c->g[0], c->dout, c->argmax, &c->s);
}

static void test_pool(int is_max, int k, int st, int H, int W)
{
	struct gcase c = { 0 };
	const int N = 2, C = 2;
	size_t n = (size_t)N * C * H * W;
	float *x = urand(n, -1, 1);

	conv_shape_same(&c.s, N, C, H, W, C, k, k, st, st, 1);
	snprintf(c.name, sizeof(c.name), "%s pool %dx%d s%d %dx%d", is_max ? "max" : "avg", k, k,
		 st, H, W);
	if (is_max) {   /* distinct values 0.03 apart: no ties within a step */
		int *perm = xmalloc(sizeof(int) * n);

		for (size_t i = 0; i < n; i++)
			perm[i] = (int)i;
		rng_shuffle(&R, perm, (int)n);
		for (size_t i = 0; i < n; i++)
			x[i] = 0.03f * perm[i] - 0.015f * n;
		free(perm);
	}
	add_param(&c, "in", x, n);
	c.nout = (size_t)N * C * c.s.OH * c.s.OW;
	c.out = xmalloc(sizeof(float) * c.nout);
	c.argmax = xmalloc(sizeof(int32_t) * c.nout);
	c.fwd = is_max ? max_fwd : avg_fwd;
	c.bwd = is_max ? max_bwd : avg_bwd;
	run(&c);
	free_case(&c);
}

/* ---- factorized reduction ---- */

static void fr_fwd(struct gcase *c)
{
	factorized_reduce_forward(c->out, c->p[0], c->p[1], c->p[2], c->N, c->C, c->H, c->W, c->F,
				  c->work, 1);
}

static void fr_bwd(struct gcase *c)
{
	factorized_reduce_backward(c->g[0], c->g[1], c->g[2], c->dout, c->p[0], c->p[1], c->p[2],
				   c->N, c->C, c->H, c->W, c->F, c->work, 1);
}

static void test_factorized(int H, int W)
{
	struct gcase c = { 0 };
	const int N = 2, C = 3, F = 4;
	size_t n = (size_t)N * C * H * W;

	c.N = N; c.C = C; c.H = H; c.W = W; c.F = F;
	snprintf(c.name, sizeof(c.name), "factorized reduce %dx%d", H, W);
	add_param(&c, "in", urand(n, -1, 1), n);
	add_param(&c, "w1", urand((size_t)F / 2 * C, -1, 1), (size_t)F / 2 * C);
	add_param(&c, "w2", urand((size_t)F / 2 * C, -1, 1), (size_t)F / 2 * C);
	c.nout = (size_t)N * F * ((H + 1) / 2) * ((W + 1) / 2);
	c.out = xmalloc(sizeof(float) * c.nout);
	c.work = xmalloc(sizeof(float) * factorized_reduce_workspace(N, C, H, W, F, 1));
	c.fwd = fr_fwd;
	c.bwd = fr_bwd;
	run(&c);
	free_case(&c);
}

/* ---- linear ---- */

static void lin_fwd(struct gcase *c)
{
	linear_forward(c->out, c->p[0], c->p[1], c->p[2], c->N, c->C, c->K);
}

static void lin_bwd(struct gcase *c)
{
	linear_backward(c->g[0], c->g[1], c->g[2], c->dout, c->p[0], c->p[1], c->N, c->C, c->K);
}

static void test_linear(void)
{
	struct gcase c = { 0 };

	c.N = 3; c.C = 7; c.K = 5;
	snprintf(c.name, sizeof(c.name), "linear 7->5 N3");
	add_param(&c, "in", urand(21, -1, 1), 21);
	add_param(&c, "w", urand(35, -1, 1), 35);
	add_param(&c, "b", urand(5, -1, 1), 5);
	c.nout = 15;
	c.out = xmalloc(sizeof(float) * c.nout);
	c.fwd = lin_fwd;
	c.bwd = lin_bwd;
	run(&c);
	free_case(&c);
}

/* ---- softmax cross-entropy: out is the scalar loss, dout[0] its weight ---- */

static void xent_fwd(struct gcase *c)
{
	c->out[0] = softmax_xent_forward(c->work, c->p[0], c->labels, c->N, c->K, c->smoothing);
}

static void xent_bwd(struct gcase *c)
{
	softmax_xent_backward(c->g[0], c->work, c->labels, c->N, c->K, c->smoothing, c->dout[0]);
}

static void test_xent(float smoothing)
{
	struct gcase c = { 0 };

	c.N = 4; c.K = 6; c.smoothing = smoothing;
	snprintf(c.name, sizeof(c.name), "softmax xent smoothing %.2g", smoothing);
	add_param(&c, "logits", urand(24, -2, 2), 24);
	c.labels = xmalloc(sizeof(int32_t) * c.N);
	for (int i = 0; i < c.N; i++)
		c.labels[i] = (int32_t)rng_below(&R, c.K);
	c.work = xmalloc(sizeof(float) * 24);
	c.nout = 1;
	c.out = xmalloc(sizeof(float));
	c.fwd = xent_fwd;
	c.bwd = xent_bwd;
	run(&c);
	free_case(&c);
}

/* ---- dropout and drop path: the same seed gives the same mask at every call ---- */

static void drop_fwd(struct gcase *c)
{
	struct rng r;

	rng_seed(&r, c->seed);
	dropout_forward(c->out, c->mask, c->p[0], c->nout, c->keep, &r);
}

static void drop_bwd(struct gcase *c)
{
	dropout_backward(c->g[0], c->dout, c->mask, c->nout);
}

static void dpath_fwd(struct gcase *c)
{
	struct rng r;

	rng_seed(&r, c->seed);
	droppath_forward(c->out, c->mask, c->p[0], c->N, c->nout / c->N, c->keep, &r);
}

static void dpath_bwd(struct gcase *c)
{
	droppath_backward(c->g[0], c->dout, c->mask, c->N, c->nout / c->N);
}

static void test_dropout(int path)
{
	struct gcase c = { 0 };
	size_t n = 8 * 20;

	c.N = 8; c.keep = 0.6f; c.seed = 77;
	snprintf(c.name, sizeof(c.name), "%s keep 0.6", path ? "drop path" : "dropout");
	add_param(&c, "in", urand(n, -1, 1), n);
	c.nout = n;
	c.out = xmalloc(sizeof(float) * n);
	c.mask = xmalloc(sizeof(float) * n);
	c.fwd = path ? dpath_fwd : drop_fwd;
	c.bwd = path ? dpath_bwd : drop_bwd;
	run(&c);

	/* the mask itself: values in {0, 1/keep}, some of each, per example for drop path */
	size_t nm = path ? (size_t)c.N : n, zeros = 0, bad = 0;
	c.fwd(&c);
	for (size_t i = 0; i < nm; i++) {
		if (c.mask[i] == 0)
			zeros++;
		else if (c.mask[i] != 1.0f / c.keep)
			bad++;
	}
	for (size_t i = 0; i < n; i++)
		if (c.out[i] != c.p[0][i] * c.mask[path ? i / (n / c.N) : i])
			bad++;
	ok(!bad && zeros > 0 && zeros < nm, "%s: mask in {0, 1/keep}, %zu of %zu dropped",
	   c.name, zeros, nm);
	c.keep = 1.0f;
	struct rng r, r0;
	rng_seed(&r, 5);
	r0 = r;
	if (path)
		droppath_forward(c.out, c.mask, c.p[0], c.N, n / c.N, 1.0f, &r);
	else
		dropout_forward(c.out, c.mask, c.p[0], n, 1.0f, &r);
	ok(!memcmp(c.out, c.p[0], sizeof(float) * n) && !memcmp(&r, &r0, sizeof(r)),
	   "%s: keep 1 is the identity and draws nothing", path ? "drop path" : "dropout");
	free_case(&c);
}

int main(void)
{
	rng_seed(&R, 20240601);

	/* kh kw sh sw dil H W valid */
	test_conv(1, 1, 1, 1, 1, 5, 6, 0);
	test_conv(1, 1, 2, 2, 1, 7, 6, 0);
	test_conv(3, 3, 1, 1, 1, 6, 5, 0);
	test_conv(3, 3, 2, 2, 1, 7, 7, 0);
	test_conv(3, 3, 2, 2, 1, 8, 6, 0);
	test_conv(1, 3, 1, 2, 1, 6, 7, 0);
	test_conv(3, 1, 2, 1, 1, 7, 6, 0);
	test_conv(1, 7, 1, 1, 1, 5, 9, 0);
	test_conv(7, 1, 1, 1, 1, 9, 5, 0);
	test_conv(1, 7, 1, 2, 1, 5, 8, 0);
	test_conv(7, 1, 2, 1, 1, 9, 5, 0);
	test_conv(3, 3, 1, 1, 2, 7, 6, 0);
	test_conv(3, 3, 2, 2, 2, 8, 7, 0);
	test_conv(3, 3, 2, 2, 1, 9, 8, 1);

	/* k stride dil H W */
	test_depthwise(3, 1, 1, 6, 7);
	test_depthwise(3, 2, 1, 7, 7);
	test_depthwise(5, 1, 1, 7, 6);
	test_depthwise(5, 2, 1, 8, 8);
	test_depthwise(7, 1, 1, 8, 9);
	test_depthwise(7, 2, 1, 9, 8);
	test_depthwise(3, 1, 2, 7, 7);
	test_depthwise(5, 1, 2, 8, 9);
	test_depthwise(3, 2, 2, 9, 8);

	test_batchnorm(2, 3, 4, 5);
	test_batchnorm(3, 2, 1, 1);
	test_relu();
	test_add();
	test_concat();
	test_gap();

	/* max? k stride H W */
	test_pool(0, 3, 1, 6, 5);
	test_pool(0, 3, 2, 7, 8);
	test_pool(0, 3, 2, 8, 8);
	test_pool(1, 3, 1, 5, 6);
	test_pool(1, 3, 2, 7, 7);
	test_pool(1, 5, 1, 6, 6);
	test_pool(1, 5, 2, 8, 7);
	test_pool(1, 7, 1, 7, 8);
	test_pool(1, 7, 2, 9, 9);

	test_factorized(6, 6);
	test_factorized(7, 5);
	test_factorized(5, 8);
	test_linear();
	test_xent(0);
	test_xent(0.1f);
	test_dropout(0);
	test_dropout(1);
	return tap_exit();
}
