/*
 * test_net_infer.c - net_infer, the chunked forward-only path of score and
 * transfer, against its oracle net_forward(train = 0): after a few training
 * steps (so the BN running statistics are not the defaults), the logits of
 * two full chunks and a partial one agree to float rounding;
 * they are byte-identical with 1 and 2 threads and on a second call (the
 * arenas are reused); net_infer needs no batch arena (a network built with
 * batch 0 gives the same logits); and the aux head does not run.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "genotype.h"
#include "net.h"
#include "rng.h"
#include "../tap.h"
#include "util.h"

/* two full chunks and a partial one */
enum { B = 2 * NET_INFER_CHUNK + 3, HW = 12, K = 10 };

static void config(struct macro_config *m)
{
	memset(m, 0, sizeof(*m));
	m->stem = STEM_CIFAR;
	m->cells = 2;
	m->filters = 4;
	m->in_c = 1;
	m->in_h = m->in_w = HW;
	m->classes = K;
	m->aux = 1;
	m->bn_momentum = 0.5f;
	m->bn_eps = 1e-3f;
	m->dropout_keep = 1;
}

int main(void)
{
	struct genotype g;
	struct macro_config m;
	struct rng r;
	int32_t labels[B];
	float *x = xmalloc(sizeof(*x) * B * HW * HW);
	float want[B * K], got1[B * K], got2[B * K], again[B * K], fresh[B * K];

	rng_seed(&r, 11);
	genotype_builtin(&g, "nasnet-a");
	config(&m);
	for (int i = 0; i < B * HW * HW; i++)
		x[i] = (float)rng_normal(&r);
	for (int i = 0; i < B; i++)
		labels[i] = (int32_t)rng_below(&r, K);

	struct net *n = net_create(&g, &m, B, &r);

	if (!ok(n != NULL, "NASNet-A N=2 F=4 with aux head builds"))
		return tap_exit();
	/* move the running statistics and weights away from their defaults */
	net_set_loss(n, 0.4f, 0.1f);
	for (int step = 0; step < 3; step++) {
		net_forward(n, x, labels, 1, 1.0f, 0.0f, NULL, NULL);
		net_backward(n);
		for (size_t i = 0; i < n->nparam_floats; i++)
			n->param[i] -= 0.05f * n->grad[i];
	}
	net_forward(n, x, NULL, 0, 1.0f, 0.0f, NULL, NULL);
	memcpy(want, net_logits(n), sizeof(want));

	omp_set_num_threads(1);
	ok(net_infer(n, x, B, got1) == 0, "net_infer runs (1 thread)");
	close_arrays("logits: net_infer vs net_forward(train=0)", got1, want, B * K, 1e-5, 1e-6);
	omp_set_num_threads(2);
	net_infer(n, x, B, got2);
	ok(!memcmp(got1, got2, sizeof(got1)), "1 and 2 threads: byte-identical logits");
	net_infer(n, x, B, again);
	ok(!memcmp(got2, again, sizeof(got2)), "a second call: byte-identical logits");
	net_infer(n, x + 4 * HW * HW, 1, again);   /* image 4: inside chunk 0 */
	close_arrays("one image alone vs in its chunk", again, got2 + 4 * K, K, 1e-5, 1e-6);

	/* a plan-only network with the same parameters and buffers */
	struct net *p = net_create(&g, &m, 0, NULL);

	net_alloc_params(p);
	memcpy(p->param, n->param, sizeof(float) * n->nparam_floats);
	memcpy(p->buffer, n->buffer, sizeof(float) * n->nbuffer_floats);
	ok(p->act == NULL && p->dact == NULL, "batch 0: no batch arena");
	net_infer(p, x, B, fresh);
	ok(!memcmp(got2, fresh, sizeof(fresh)), "a batch-0 network: byte-identical logits");
	ok(p->act == NULL && p->dact == NULL, "net_infer allocates no batch arena");

	net_free(p);
	net_free(n);
	free(x);
	return tap_exit();
}
