/*
 * test_net_split.c - the data-parallel training step of lib/net/net.c: with T > 1
 * threads the batch is split into T slices, each taken through the whole
 * tape by one thread, meeting only at batch norm and at the gradient sum.
 *
 * Checks, on NASNet-A N=2 F=4 with the aux head, dropout and drop path on
 * (stem convolution, separable convolutions, both pools, factorized
 * reductions, identity), batch 7 (slices of unequal size):
 *  - the batch-norm slice kernels against the whole-batch kernels, on
 *    channels with a large mean (where a naive merge would cancel);
 *  - T = 2 and T = 3 against the whole-batch step (T = 1): the same loss,
 *    logits, parameter gradients and BN running statistics up to rounding,
 *    and the same dropout/drop-path masks (the rng ends in the same state);
 *  - T = 2 twice: bit-identical (the merge order is fixed, not timed);
 *  - evaluation (running statistics) through the split forward.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "arrays.h"
#include "genotype.h"
#include "net.h"
#include "ops.h"
#include "rng.h"
#include "../tap.h"
#include "util.h"

enum { B = 7, HWIN = 12, K = 10 };

struct result {
	float loss, *logits, *grad, *buffer, *eval_logits;
	size_t np, nb;   /* floats of parameters (gradients), buffers */
	uint64_t rng_after;
	int split;
};

static void free_result(struct result *r)
{
	free(r->logits);
	free(r->grad);
	free(r->buffer);
	free(r->eval_logits);
}

/* one training step (then one evaluation) of a fresh network with T threads */
static struct result step(int T)
{
	struct genotype g;
	struct macro_config m;
	struct rng init, drop, data;
	struct result res;
	int32_t labels[B];

	omp_set_num_threads(T);
	rng_seed(&init, 7);
	rng_seed(&drop, 11);
	rng_seed(&data, 13);
	genotype_builtin(&g, "nasnet-a");
	memset(&m, 0, sizeof(m));
	m.stem = STEM_CIFAR;
	m.cells = 2;
	m.filters = 4;
	m.in_c = 1;
	m.in_h = m.in_w = HWIN;
	m.classes = K;
	m.aux = 1;
	m.bn_momentum = 0.1f;
	m.bn_eps = 1e-3f;
	m.dropout_keep = 0.7f;

	struct net *n = net_create(&g, &m, B, &init);
	float *x = rand_floats(&data, (size_t)B * HWIN * HWIN, -1, 2);

	for (int i = 0; i < B; i++)
		labels[i] = (int32_t)rng_below(&data, K);
	net_set_loss(n, 0.4f, 0.1f);
	net_forward(n, x, labels, 1, 0.6f, 0.5f, &drop, &res.loss);
	res.split = n->split;
	res.logits = copy_floats(net_logits(n), (size_t)B * K);
	net_backward(n);
	res.np = n->nparam_floats;
	res.nb = n->nbuffer_floats;
	res.grad = copy_floats(n->grad, n->nparam_floats);
	res.buffer = copy_floats(n->buffer, n->nbuffer_floats);
	res.rng_after = rng_u64(&drop);
	net_forward(n, x, NULL, 0, 1, 0, NULL, NULL);
	res.eval_logits = copy_floats(net_logits(n), (size_t)B * K);
	free(x);
	net_free(n);
	return res;
}

/* largest |a| (for a gradient's scale) */
static double max_abs(const float *a, size_t n)
{
	double m = 0;

	for (size_t i = 0; i < n; i++)
		if (fabs(a[i]) > m)
			m = fabs(a[i]);
	return m;
}

static void bn_slices(void)
{
	enum { N = 5, C = 3, HW = 37, T = 2, N0 = 2 };
	struct rng r;
	size_t sz = (size_t)N * C * HW, stride = BN_PART(C);

	rng_seed(&r, 5);
	float *x = rand_floats(&r, sz, -1, 1), *dy = rand_floats(&r, sz, -1, 1);
	float *gamma = rand_floats(&r, C, 0.5f, 1.5f), *beta = rand_floats(&r, C, -1, 1);

	for (int n = 0; n < N; n++)   /* channel 1: mean 1000, spread 1 */
		for (int i = 0; i < HW; i++)
			x[((size_t)n * C + 1) * HW + i] += 1000;

	float want[N * C * HW], got[N * C * HW], mean[C], rstd[C], smean[C], srstd[C];
	float rm[C] = { 0 }, rv[C] = { 1, 1, 1 }, srm[C] = { 0 }, srv[C] = { 1, 1, 1 };
	double parts[T * BN_PART(C)];
	float coef[3 * C];
	const float *xs[T] = { x, x + (size_t)N0 * C * HW };
	const float *dys[T] = { dy, dy + (size_t)N0 * C * HW };
	const int Ns[T] = { N0, N - N0 };

	batchnorm_forward_train(want, mean, rstd, rm, rv, x, gamma, beta, N, C, HW, 0.1f, 1e-3f);
	for (int u = 0; u < T; u++)
		batchnorm_slice_moments(parts + u * stride, xs[u], Ns[u], C, HW);
	for (int u = 0; u < T; u++) {
		int one = u == 0;

		batchnorm_slice_combine(coef, one ? smean : NULL, one ? srstd : NULL,
					one ? srm : NULL, one ? srv : NULL, parts, stride, T, gamma,
					beta, C, HW, 0.1f, 1e-3f);
		batchnorm_slice_normalize(got + (xs[u] - x), xs[u], coef, Ns[u], C, HW);
	}
	close_arrays("BN slices: output", got, want, sz, 1e-5, 1e-5);
	close_arrays("BN slices: saved mean", smean, mean, C, 1e-6, 1e-7);
	close_arrays("BN slices: saved rstd", srstd, rstd, C, 1e-5, 0);
	close_arrays("BN slices: running mean", srm, rm, C, 1e-6, 1e-7);
	close_arrays("BN slices: running var", srv, rv, C, 1e-5, 0);

	float dx[N * C * HW] = { 0 }, sdx[N * C * HW] = { 0 };
	float dg[C] = { 0 }, db[C] = { 0 }, sdg[C] = { 0 }, sdb[C] = { 0 };

	batchnorm_backward(dx, dg, db, dy, x, mean, rstd, gamma, N, C, HW);
	for (int u = 0; u < T; u++)
		batchnorm_slice_grad_sums(parts + u * stride, dys[u], xs[u], mean, Ns[u], C, HW);
	for (int u = 0; u < T; u++)
		batchnorm_slice_backward(sdx + (xs[u] - x), u == 0 ? sdg : NULL, u == 0 ? sdb : NULL,
					 parts, stride, T, dys[u], xs[u], mean, rstd, gamma, Ns[u],
					 C, HW);
	close_arrays("BN slices: input gradient", sdx, dx, sz, 1e-4, 1e-5);
	close_arrays("BN slices: gamma gradient", sdg, dg, C, 1e-4, 1e-5);
	close_arrays("BN slices: beta gradient", sdb, db, C, 1e-5, 1e-5);
	free(x);
	free(dy);
	free(gamma);
	free(beta);
}

int main(void)
{
	bn_slices();

	struct result one = step(1);

	ok(one.split == 1, "one thread: the whole batch (split %d)", one.split);
	for (int T = 2; T <= 3; T++) {
		struct result s = step(T);
		const size_t np = one.np, nb = one.nb;

		ok(s.split == T, "%d threads: %d slices (got %d)", T, T, s.split);
		ok(fabs(s.loss - one.loss) <= 1e-5 * fabs(one.loss), "%d slices: loss %.7g, whole %.7g",
		   T, (double)s.loss, (double)one.loss);
		ok(s.rng_after == one.rng_after, "%d slices: the same masks drawn (rng state)", T);
		close_arrays("split logits", s.logits, one.logits, (size_t)B * K, 1e-4, 1e-5);
		close_arrays("split parameter gradients", s.grad, one.grad, np, 1e-3,
			     1e-5 * max_abs(one.grad, np));
		close_arrays("split BN running statistics", s.buffer, one.buffer, nb, 1e-5, 1e-6);
		close_arrays("split evaluation logits", s.eval_logits, one.eval_logits, (size_t)B * K,
			     1e-4, 1e-5);
		if (T == 2) {
			struct result again = step(2);

			ok(again.loss == s.loss && !memcmp(again.grad, s.grad, sizeof(float) * np) &&
				   !memcmp(again.buffer, s.buffer, sizeof(float) * nb) &&
				   !memcmp(again.logits, s.logits, sizeof(float) * B * K),
			   "2 slices twice: bit-identical loss, logits, gradients, statistics");
			free_result(&again);
		}
		free_result(&s);
	}
	free_result(&one);
	return tap_exit();
}
