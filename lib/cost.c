/*
 * cost.c - child network cost and budgets (cost.h).
 */
#include "cost.h"

#include <inttypes.h>
#include <stdio.h>
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
