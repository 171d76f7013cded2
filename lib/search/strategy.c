/*
 * strategy.c - the table of search strategies (strategy.h).
 */
#include "strategy.h"

#include <stdio.h>
#include <string.h>

static void propose_policy(const struct strategy_state *st, struct rng *r, int *a, double *logp)
{
	policy_sample(st->policy, st->trace, r, a, logp);
}

static void propose_uniform(const struct strategy_state *st, struct rng *r, int *a, double *logp)
{
	space_sample_uniform(st->space, r, a);
	for (int k = 0; logp && k < st->space->ndecisions; k++)
		logp[k] = 0;
}

static void propose_evolution(const struct strategy_state *st, struct rng *r, int *a,
			      double *logp)
{
	evolution_propose(st->space, st->evo, st->hist, st->nhist, r, a);
	for (int k = 0; logp && k < st->space->ndecisions; k++)
		logp[k] = 0;
}

static int update_ppo(const struct strategy_state *st, int n, const int *acts, const double *rew,
		      struct policy_stats *stats)
{
	return policy_update(st->policy, POLICY_PPO, n, acts, rew, stats);
}

static int update_reinforce(const struct strategy_state *st, int n, const int *acts,
			    const double *rew, struct policy_stats *stats)
{
	return policy_update(st->policy, POLICY_REINFORCE, n, acts, rew, stats);
}

static const struct strategy strategies[] = {
	/* name, needs_policy, needs_history, propose, update */
	{ "ppo", 1, 0, propose_policy, update_ppo },
	{ "reinforce", 1, 0, propose_policy, update_reinforce },
	{ "random", 0, 0, propose_uniform, NULL },
	{ "evolution", 0, 1, propose_evolution, NULL },
};

#define NSTRATEGIES (int)(sizeof(strategies) / sizeof(strategies[0]))

const struct strategy *strategy_get(const char *name)
{
	for (int i = 0; i < NSTRATEGIES; i++)
		if (!strcmp(name, strategies[i].name))
			return &strategies[i];
	return NULL;
}

const struct strategy *strategy_at(int i)
{
	return i >= 0 && i < NSTRATEGIES ? &strategies[i] : NULL;
}

const char *strategy_names(char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < NSTRATEGIES && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", strategies[i].name);
	return buf;
}

void strategy_print_list(FILE *f)
{
	for (int i = 0; i < NSTRATEGIES; i++)
		fprintf(f, "%s\t%d\t%d\n", strategies[i].name, strategies[i].needs_policy,
			strategies[i].needs_history);
}
