/*
 * cost.c - child network cost and budgets (cost.h).
 */
#include "cost.h"

#include <inttypes.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "util.h"

void budget_init(struct budget *b)
{
	memset(b, 0, sizeof(*b));
}

int budget_active(const struct budget *b)
{
	return b->max_params > 0 || b->max_macs > 0;
}

int budget_count(const struct budget *b, const struct genotype *g, const struct macro_config *m,
		 int64_t *params, int64_t *macs)
{
	struct macro_config t = *m;
	struct net *n;

	if (b->cells > 0)
		t.cells = b->cells;
	if (b->filters > 0)
		t.filters = b->filters;
	/* batch 0, no rng: the tape only */
	n = net_create(g, &t, 0, NULL);
	if (!n)
		return -1;
	*params = n->n_params;
	*macs = n->n_macs;
	net_free(n);
	return 0;
}

int budget_fits(const struct budget *b, const struct genotype *g, const struct macro_config *m,
		int64_t *params, int64_t *macs)
{
	if (budget_count(b, g, m, params, macs) < 0)
		return -1;
	return !((b->max_params > 0 && *params > b->max_params) ||
		 (b->max_macs > 0 && *macs > b->max_macs));
}

const char *budget_text(const struct budget *b, char *buf, size_t n)
{
	int k = 0;

	buf[0] = 0;
	if (b->max_params > 0)
		k = snprintf(buf, n, "%" PRId64 " params", b->max_params);
	if (b->max_macs > 0 && k >= 0 && (size_t)k < n)
		snprintf(buf + k, n - (size_t)k, "%s%" PRId64 " mult-adds", k ? " and " : "",
			 b->max_macs);
	/* the size, when it is not the child's */
	for (int i = 0; i < 2; i++) {
		int v = i ? b->filters : b->cells;
		size_t len = strlen(buf);

		if (v > 0)
			snprintf(buf + len, n - len, " %s%s=%d", strchr(buf, '=') ? "" : "at ",
				 i ? "F" : "N", v);
	}
	return buf;
}

/* one definition of the timing plan: batch, warm-up calls, timed calls */
static const struct { int batch, warmup, repeats; } latency_plan[COST_LATENCY_BATCHES] = {
	{ 1, 5, 21 },
	{ 64, 1, 7 },
};
const int cost_latency_batch[COST_LATENCY_BATCHES] = { 1, 64 };

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int cost_latency_ms(struct net *n, int batch, double *ms)
{
	int plan = -1, threads = omp_get_max_threads();
	size_t in = (size_t)n->macro.in_c * n->macro.in_h * n->macro.in_w;
	double t[32];
	float *img, *logits;

	for (int i = 0; i < COST_LATENCY_BATCHES; i++)
		if (latency_plan[i].batch == batch)
			plan = i;
	if (plan < 0)
		return error("latency: no timing plan for batch %d", batch);
	img = xmalloc(in * (size_t)batch * sizeof(float));
	logits = xmalloc((size_t)n->macro.classes * (size_t)batch * sizeof(float));
	/* a fixed non-zero pattern: zeros could take a different path in the kernels */
	for (size_t i = 0; i < in * (size_t)batch; i++)
		img[i] = (float)((i * 7919u) % 255u) / 255.0f - 0.5f;
	omp_set_num_threads(1);
	for (int k = 0; k < latency_plan[plan].warmup; k++)
		net_infer(n, img, batch, logits);
	for (int k = 0; k < latency_plan[plan].repeats; k++) {
		double t0 = now_seconds();

		net_infer(n, img, batch, logits);
		t[k] = (now_seconds() - t0) * 1e3;
	}
	omp_set_num_threads(threads);
	qsort(t, (size_t)latency_plan[plan].repeats, sizeof(double), cmp_double);
	*ms = t[latency_plan[plan].repeats / 2];
	free(img);
	free(logits);
	return 0;
}
