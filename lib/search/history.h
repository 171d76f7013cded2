/*
 * history.h - evaluated architectures: (genotype file, reward file) pairs
 * read back as action vectors of a search space, for update-policy (one
 * batch) and for evolution (the whole history of a search).
 *
 * Arguments name reward files (*.h5), folders (every *.reward.h5 in them)
 * or list files (one reward file path a line, '#' comments). Each reward
 * file names its genotype file; the genotype's space must be the expected
 * space. Actions come from the genotype's /sample record when it has one,
 * else from its cells (or nb201 cell string). A failed child counts with
 * its reward (0). Entries are sorted by (round, index, path) so the order
 * never depends on how the arguments were listed.
 */
#ifndef NASNET_HISTORY_H
#define NASNET_HISTORY_H

#include <stdint.h>

#include "space.h"

struct evaluated {
	int a[SPACE_MAX_DECISIONS];
	double reward;
	int rung;                 /* successive-halving rung of the reward (0: plain) */
	int failed;
	int64_t round, index;
	int sampled;              /* the genotype has a /sample record */
	uint64_t policy_hash;     /* of the sampling policy (when sampled) */
	char *reward_path;
	int nrefused;             /* draws a budget refused before this one */
	int32_t *refused;         /* (nrefused, decisions) */
};

/* Expand args into reward file paths (sorted within a folder). *paths is
 * malloc'd, each string too; free with history_free_paths. */
int history_expand(char *const *args, int nargs, char ***paths, int *npaths);
void history_free_paths(char **paths, int n);
/* Read every pair; *out (n) is malloc'd; free with history_free. */
int history_load(const struct space *s, char *const *args, int nargs, struct evaluated **out,
		 int *n);
void history_free(struct evaluated *e, int n);
/* The controller's batch: each child with its utility util[i]
 * (history_utilities), preceded by the draws a budget refused before it,
 * those with 0 (schemas/policy.md, "Budgets"). *actions (nb, decisions) and
 * *reward (nb) are malloc'd. */
void history_batch(const struct space *s, const struct evaluated *e, int n, const double *util,
		   int **actions, double **reward, int *nb);

/*
 * What the controller learns from when rewards were measured at different
 * budgets (successive halving; schemas/policy.md, "Rewards from mixed
 * budgets"). A child that reached a higher rung was judged better by the
 * round itself, whatever its accuracy, so children are ordered by (rung,
 * reward) and each gets its mid-rank in that order scaled to [0, 1].
 * Accuracies at different budgets are never compared directly (a promoted
 * child's accuracy is higher partly because it trained longer). When every
 * reward is from rung 0 (a plain search) the rewards are used as they are.
 */
void history_utilities(const struct evaluated *e, int n, double *out);
/* The (rung, reward) order as one number, for comparisons (evolution's tournaments). */
double history_rank_key(const struct evaluated *e);

#endif
