/*
 * nb201search.c - one whole NB201 search in memory (see nb201.h): the
 * benchmark driver behind `make benchmark-strategies`. Rewards are the
 * table's validation accuracy / 100, as lookup-child writes them.
 */
#include "nb201.h"

#include <stdlib.h>
#include <string.h>

#include "strategy.h"
#include "util.h"

int nb201_search(const struct nb201_table *t, const struct nb201_search_config *c,
		 double *curve_valid, double *curve_test)
{
	struct space s;
	struct policy p;
	struct policy_trace tr;
	struct evo_member *hist;
	struct strategy_state st = { .evo = &c->evo };
	int *acts, rl = c->strategy->needs_policy;
	double *rew, best_v = -1, best_t = 0;
	int n = 0, rc = 0;

	if (c->budget < 1 || c->batch < 1)
		return error("nb201 search: budget and batch must be >= 1");
	if (space_get(&s, "nb201") < 0)
		return -1;
	if (rl && policy_init(&p, &s, &c->policy, c->seed) < 0)
		return -1;
	if (rl)
		policy_trace_init(&tr, &p);
	hist = xcalloc((size_t)c->budget, sizeof(*hist));
	st.space = &s;
	st.policy = rl ? &p : NULL;
	st.trace = rl ? &tr : NULL;
	st.hist = hist;
	acts = xcalloc((size_t)c->batch * s.ndecisions, sizeof(int));
	rew = xcalloc((size_t)c->batch, sizeof(double));
	for (int round = 0; n < c->budget; round++) {
		int m = c->budget - n < c->batch ? c->budget - n : c->batch;

		for (int i = 0; i < m; i++) {
			int *a = acts + (size_t)i * s.ndecisions;
			struct rng r;

			rng_stream(&r, c->seed, (uint64_t)round, (uint64_t)i, RNG_SAMPLE);
			st.nhist = n;
			c->strategy->propose(&st, &r, a, NULL);
		}
		for (int i = 0; i < m; i++) {
			int *a = acts + (size_t)i * s.ndecisions, code = nb201_code(a);

			rew[i] = t->valid[code] / 100;
			memcpy(hist[n].a, a, (size_t)s.ndecisions * sizeof(int));
			hist[n].reward = rew[i];
			if (t->valid[code] > best_v) {
				best_v = t->valid[code];
				best_t = t->test[code];
			}
			curve_valid[n] = best_v;
			curve_test[n] = best_t;
			n++;
		}
		if (c->strategy->update && n < c->budget) {
			struct policy_stats ps;

			if (c->strategy->update(&st, m, acts, rew, &ps) < 0) {
				rc = -1;
				break;
			}
		}
	}
	if (rl) {
		policy_trace_free(&tr);
		policy_free(&p);
	}
	free(hist);
	free(acts);
	free(rew);
	return rc;
}
