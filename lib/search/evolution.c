/*
 * evolution.c - regularized evolution and random sampling (evolution.h).
 * Deterministic: every draw comes from the caller's RNG stream.
 */
#include "evolution.h"

#include <string.h>

void evolution_config_default(struct evolution_config *c)
{
	c->population = 20;
	c->tournament = 5;
}

void space_sample_uniform(const struct space *s, struct rng *r, int *a)
{
	for (int i = 0; i < s->ndecisions; i++)
		a[i] = (int)rng_below(r, (uint64_t)s->d[i].nchoices);
}

/* decisions of `kind` that have at least two choices */
static int candidates(const struct space *s, int kind, int *out)
{
	int n = 0;

	for (int i = 0; i < s->ndecisions; i++)
		if (s->d[i].kind == kind && s->d[i].nchoices > 1)
			out[n++] = i;
	return n;
}

void evolution_mutate(const struct space *s, const int *parent, struct rng *r, int *child)
{
	int ops[SPACE_MAX_DECISIONS], ins[SPACE_MAX_DECISIONS];
	int nops = candidates(s, DEC_OP, ops), nins = candidates(s, DEC_INPUT, ins);
	int *pick = ops, n = nops, d, k;

	memcpy(child, parent, (size_t)s->ndecisions * sizeof(int));
	if (nins && (!nops || rng_below(r, 2))) {
		pick = ins;
		n = nins;
	}
	if (!n)
		return;
	d = pick[rng_below(r, (uint64_t)n)];
	k = (int)rng_below(r, (uint64_t)(s->d[d].nchoices - 1));
	child[d] = k >= parent[d] ? k + 1 : k;
}

int evolution_propose(const struct space *s, const struct evolution_config *c,
		      const struct evo_member *hist, int n, struct rng *r, int *child)
{
	const struct evo_member *pop, *best = NULL;

	if (n < c->population || n == 0) {
		space_sample_uniform(s, r, child);
		return 0;
	}
	pop = hist + (n - c->population);
	for (int i = 0; i < c->tournament; i++) {
		const struct evo_member *m = &pop[rng_below(r, (uint64_t)c->population)];

		if (!best || m->reward > best->reward)
			best = m;
	}
	evolution_mutate(s, best->a, r, child);
	return 1;
}
