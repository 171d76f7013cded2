/*
 * strategy.h - the search strategies, one table (strategy.c) in the style of
 * git's commands[]: a name, what the strategy needs (a policy it samples
 * from and learns in, the history of evaluated children), how it proposes a
 * child and how it learns from a round. sample-arch, update-policy,
 * nb201-search (lib/search/nb201search.c) and, through `sample-arch
 * --list-strategies`, the round scripts and the benchmark all read it.
 *
 * Adding a strategy: a row in strategy.c and its propose (and update, if it
 * learns) functions; nothing else dispatches on strategy names.
 *
 * Calling sequence (one round; see tools/sample-arch.c, lib/search/nb201search.c):
 *   const struct strategy *s = strategy_get("evolution");
 *   struct strategy_state st = { .space = &sp, .evo = &ec, .hist = h, .nhist = n };
 *   s->propose(&st, &rng, actions, logp);           // per child
 *   if (s->update) s->update(&st, n, acts, rew, &stats);  // after the round
 */
#ifndef NASNET_STRATEGY_H
#define NASNET_STRATEGY_H

#include <stddef.h>
#include <stdio.h>

#include "evolution.h"
#include "policy.h"
#include "rng.h"
#include "space.h"

/* What proposing and learning read; a strategy uses the parts it needs. */
struct strategy_state {
	const struct space *space;
	struct policy *policy;            /* needs_policy */
	struct policy_trace *trace;       /* needs_policy: policy_trace_init'ed */
	const struct evolution_config *evo;
	const struct evo_member *hist;    /* needs_history: oldest first */
	int nhist;
};

struct strategy {
	const char *name;
	int needs_policy;    /* samples from a controller policy file */
	int needs_history;   /* proposes from the children evaluated so far */
	/* One child's actions a (space->ndecisions); logp (may be NULL) gets the
	 * log-probability of each action when there is a policy, else zeros. */
	void (*propose)(const struct strategy_state *st, struct rng *r, int *a, double *logp);
	/* Learn from n evaluated children (actions (n, D), rewards (n)); NULL
	 * when the strategy keeps no state beyond the history. */
	int (*update)(const struct strategy_state *st, int n, const int *acts, const double *rew,
		      struct policy_stats *stats);
};

/* The row of `name`, or NULL. */
const struct strategy *strategy_get(const char *name);
/* Row i (0, 1, ...), NULL past the last: for listing. */
const struct strategy *strategy_at(int i);
/* "ppo, reinforce, random, evolution" into buf (for messages); returns buf. */
#define STRATEGY_NAMES_MAX 256
const char *strategy_names(char *buf, size_t n);
/* One line per strategy: name, needs_policy, needs_history (0/1), tab-separated. */
void strategy_print_list(FILE *f);

#endif
