/*
 * evolution.h - regularized (aging) evolution (Real et al. 2019) and
 * uniform random sampling over any search space of space.h.
 *
 * The search keeps no state of its own: the history of evaluated
 * architectures (in evaluation order) is the state. The population is the
 * last P members of the history (older ones have aged out). A child is the
 * best of S members drawn uniformly with replacement, mutated in exactly one
 * decision: with probability 1/2 an op, else an input (spaces without input
 * decisions, such as nb201, always mutate an op), set to a different choice
 * drawn uniformly. While the history holds fewer than P members the child is
 * drawn uniformly at random (the initial population).
 */
#ifndef NASNET_EVOLUTION_H
#define NASNET_EVOLUTION_H

#include "rng.h"
#include "space.h"

struct evo_member {
	int a[SPACE_MAX_DECISIONS];
	double reward;
};

struct evolution_config {
	int population;   /* P, default 20 */
	int tournament;   /* S, default 5 */
};

void evolution_config_default(struct evolution_config *c);
/* Every decision uniform (the paper's random search). */
void space_sample_uniform(const struct space *s, struct rng *r, int *a);
/* Change exactly one op or input decision to a different choice. */
void evolution_mutate(const struct space *s, const int *parent, struct rng *r, int *child);
/* One child from a history of n evaluated members (oldest first). Returns 1
 * when it was a mutation, 0 when it was a random initial member. */
int evolution_propose(const struct space *s, const struct evolution_config *c,
		      const struct evo_member *hist, int n, struct rng *r, int *child);

#endif
