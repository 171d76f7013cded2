/*
 * sample.h - one search round's genotype files: the loop of sample-arch.
 * Child i of round R draws its actions from rng_stream(seed, R, i,
 * RNG_SAMPLE) through the strategy's propose (strategy.h) and, unless a
 * training seed is given, its training seed from rng_stream(seed, R, i,
 * RNG_INIT); so any child can be re-made alone.
 */
#ifndef NASNET_SAMPLE_H
#define NASNET_SAMPLE_H

#include <stdint.h>
#include <stdio.h>

#include "childcfg.h"
#include "cost.h"
#include "h5io.h"
#include "history.h"
#include "strategy.h"

struct sample_round {
	const struct strategy *strategy;
	const struct strategy_state *state;   /* space, policy and trace, evolution, history */
	const struct child_config *cfg;       /* written into every file */
	uint64_t seed;
	int64_t train_seed;                   /* every child's training seed; -1: one each */
	int round, count;
	const char *dir;                      /* writes DIR/arch_0000.h5 ... */
	/* MAX_PARAMS/MAX_MACS (NULL or inactive: none): child i draws again
	 * from its own stream until a cell fits, at most BUDGET_MAX_DRAWS times;
	 * the refused draws are recorded in its file (/sample/refused) */
	const struct budget *budget;
};

/* Write the round's genotype files (atomically, each with its sampling
 * record, one sync per batch); print "PATH<TAB>genotype text" for each on
 * `list` (NULL: none). A child that already has a reward (ARCH.reward.h5 or
 * ARCH.r0.reward.h5) for another genotype refuses the whole round before
 * anything is written: SAMPLE_REFUSED (error() printed); a budget no draw
 * meets: SAMPLE_OVER_BUDGET, nothing written; else 0 or -1. */
#define SAMPLE_REFUSED (-2)
/* A budget no draw of some child met (error() printed, nothing written). */
#define SAMPLE_OVER_BUDGET (-3)
int sample_round(const struct sample_round *sr, const struct provenance *prov, FILE *list);

/* The evolution members (actions, reward) of an evaluated history; malloc'd,
 * at least one element. */
struct evo_member *sample_members(const struct evaluated *e, int n);

#endif
