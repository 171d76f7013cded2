/*
 * child.h - the per-child job of a search and of transfer, once: train a
 * child (train.c), evaluate a trained child on one split of its dataset,
 * and score it into a reward file, or record it as failed with its reason.
 * train-child, score and transfer are thin mains over these; the library
 * sees no command line (struct train_env carries provenance and progress).
 *
 * Calling sequence of score:
 *   struct child_score_opts o;
 *   child_score_opts_default(&o);          // valid split, batch 250, rung 0
 *   rc = child_score("arch.h5", &o, &env, &reward);   // a train_status
 */
#ifndef NASNET_CHILD_H
#define NASNET_CHILD_H

#include "dataset.h"
#include "genofile.h"
#include "reward.h"
#include "train.h"

/* What evaluating a trained child measured. */
struct child_eval {
	double accuracy, loss;        /* on the split, BN in eval mode */
	int64_t params, mult_adds;
	int images;                   /* of the split */
	double latency_ms;            /* batch-1 latency measured here; NaN unless asked */
	struct genofile trained;      /* genotype and configuration of the network file */
};

/*
 * Load the network file `weights`, build its network and evaluate it on
 * `split` (DS_VALID or DS_TEST) of `data` (NULL: the dataset recorded in the
 * network file). With `arch` and `gf` (the genotype file it should be the
 * network of), a network file of another genotype or network configuration
 * is refused naming both files. Returns TRAIN_OK, TRAIN_ERROR, or
 * TRAIN_BADINPUT (an unreadable or mismatched file, a split with no images).
 * With `latency`, out->latency_ms is the batch-1 latency measured here (cost.h).
 */
int child_evaluate(const char *weights, const char *arch, const struct genofile *gf,
		   const char *data, unsigned split, int batch, int latency,
		   const struct train_env *env, struct child_eval *out);

struct child_score_opts {
	const char *out;              /* reward file; NULL: ARCH[.rK].reward.h5 */
	const char *weights;          /* NULL: ARCH[.rK].weights.h5 */
	const char *data;             /* NULL: the dataset trained on */
	const char *failed;           /* record the child as failed with this reason */
	unsigned split;               /* DS_VALID (default) or DS_TEST */
	struct reward_rule rule;      /* accuracy, cube, mnasnet (reward.h) */
	int batch;                    /* evaluation batch */
	int rung;                     /* successive-halving rung */
};

void child_score_opts_default(struct child_score_opts *o);
/*
 * score's job: the reward file of genotype file `arch`. A child with a
 * failure record (ARCH[.rK].failed.h5) or o->failed gets reward 0 and the
 * reason; otherwise its network file is evaluated (child_evaluate) and its
 * training statistics are copied. *r is what was written; *out_path (n
 * bytes) the reward file's path. Returns a train_status (TRAIN_OK,
 * TRAIN_ERROR, TRAIN_BADINPUT; TRAIN_USAGE for a rung beyond the plan).
 */
int child_score(const char *arch, const struct child_score_opts *o, const struct train_env *env,
		struct reward *r, char *out_path, size_t n);

#endif
