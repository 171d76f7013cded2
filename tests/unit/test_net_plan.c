/*
 * test_net_plan.c - the activation memory plan of lib/net/net.c: tensors share
 * memory only when their lifetimes do not overlap. Checks that the planned
 * arenas are much smaller than one slot per tensor, that no two tensors live
 * at the same time overlap, that two identical training steps (with the aux
 * head) give bit-identical losses, parameter gradients and image gradient
 * (a gradient buffer reused without being zeroed, or a value overwritten
 * before its backward, would break this or test_net_grad), and that
 * evaluation after training still gives the same logits twice.
 */
#include <stdlib.h>
#include <string.h>

#include "genotype.h"
#include "net.h"
#include "rng.h"
#include "../tap.h"
#include "util.h"

static size_t tsz(const struct net *n, int t)
{
	return (size_t)n->tensors[t].C * n->tensors[t].H * n->tensors[t].W;
}

int main(void)
{
	struct genotype g;
	struct macro_config m;
	struct rng r;
	struct net *n;
	const int B = 3;
	int32_t labels[3] = { 1, 4, 9 };
	size_t naive = 0;

	rng_seed(&r, 7);
	genotype_builtin(&g, "nasnet-a");
	memset(&m, 0, sizeof(m));
	m.stem = STEM_CIFAR;
	m.cells = 2;
	m.filters = 4;
	m.in_c = 1;
	m.in_h = m.in_w = 12;
	m.classes = 10;
	m.aux = 1;
	m.bn_momentum = 0.1f;
	m.bn_eps = 1e-3f;
	m.dropout_keep = 1;
	n = net_create(&g, &m, B, &r);
	if (!ok(n != NULL, "NASNet-A N=2 F=4 with aux head builds"))
		return tap_exit();
	for (int t = 0; t < n->ntensors; t++)
		naive += tsz(n, t);
	ok(n->act_per_example < naive * 6 / 10, "values: %zu floats/example planned, %zu unplanned",
	   n->act_per_example, naive);
	ok(n->grad_per_example < naive / 3, "gradients: %zu floats/example planned, %zu unplanned",
	   n->grad_per_example, naive);

	/* gradient lifetimes [producer, last use] that overlap must not share memory */
	int bad = 0;
	int *prod = xmalloc(sizeof(int) * (size_t)n->ntensors);

	for (int t = 0; t < n->ntensors; t++)
		prod[t] = -1;
	for (int i = 0; i < n->nsteps; i++)
		prod[n->steps[i].out] = i;
	for (int a = 0; a < n->ntensors; a++)
		for (int b = a + 1; b < n->ntensors; b++) {
			int ea = n->tensors[a].last_use, eb = n->tensors[b].last_use;
			int live = prod[a] <= eb && prod[b] <= ea;
			size_t oa = n->tensors[a].goff, ob = n->tensors[b].goff;
			int overlap = oa < ob + tsz(n, b) && ob < oa + tsz(n, a);

			bad += live && overlap;
		}
	ok(bad == 0, "no two live gradients overlap (%d pairs)", bad);
	free(prod);

	size_t nx = (size_t)B * 12 * 12, np = n->nparam_floats;
	float *x = xmalloc(sizeof(*x) * nx), *g1 = xmalloc(sizeof(*g1) * np);
	float *dx1 = xmalloc(sizeof(*dx1) * nx), *l1 = xmalloc(sizeof(*l1) * B * 10);
	float loss1, loss2;

	for (size_t i = 0; i < nx; i++)
		x[i] = (float)rng_normal(&r);
	n->need_input_grad = 1;
	net_set_loss(n, 0.4f, 0.1f);
	net_forward(n, x, labels, 1, 1.0f, 0.0f, NULL, &loss1);
	net_backward(n);
	memcpy(g1, n->grad, sizeof(*g1) * np);
	memcpy(dx1, net_dvalue(n, n->input), sizeof(*dx1) * nx);
	net_forward(n, x, labels, 1, 1.0f, 0.0f, NULL, &loss2);
	net_backward(n);
	ok(loss1 == loss2, "two identical steps: same loss (%.7g, %.7g)", (double)loss1,
	   (double)loss2);
	ok(!memcmp(g1, n->grad, sizeof(*g1) * np), "two identical steps: same parameter gradients");
	ok(!memcmp(dx1, net_dvalue(n, n->input), sizeof(*dx1) * nx),
	   "two identical steps: same image gradient");
	ok(!memcmp(x, net_value(n, n->input), sizeof(*x) * nx), "the input survives a step");

	net_forward(n, x, NULL, 0, 1.0f, 0.0f, NULL, NULL);
	memcpy(l1, net_logits(n), sizeof(*l1) * B * 10);
	net_forward(n, x, NULL, 0, 1.0f, 0.0f, NULL, NULL);
	ok(!memcmp(l1, net_logits(n), sizeof(*l1) * B * 10), "evaluation: same logits twice");
	free(x);
	free(g1);
	free(dx1);
	free(l1);
	net_free(n);
	return tap_exit();
}
