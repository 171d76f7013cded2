/*
 * nb201.h - the NAS-Bench-201 CIFAR-10 12-epoch table (data/README.md):
 * 15,625 cells with validation and test accuracy, indexed by the cell's
 * action code (space.h nb201_code), so a lookup is one array access.
 */
#ifndef NASNET_NB201_H
#define NASNET_NB201_H

#include <stddef.h>
#include <stdint.h>

#include "evolution.h"
#include "policy.h"
#include "space.h"

struct strategy;

struct nb201_table {
	double valid[NB201_CELLS];   /* validation accuracy (%), by nb201_code */
	double test[NB201_CELLS];    /* test accuracy (%) */
	int index[NB201_CELLS];      /* row index in NAS-Bench-201 */
};

/* Read the gzip'd CSV (header "index,cell,cifar10_valid_12ep,cifar10_test_12ep");
 * every one of the 15,625 cells must appear exactly once. */
int nb201_load(struct nb201_table *t, const char *path);
/* Default table path: $NASNET_NB201, data/nb201-cifar10-12epoch.csv.gz if it is
 * here, else the installed copy (dataref_share); buf holds the latter. */
const char *nb201_default_path(char *buf, size_t n);

/*
 * A whole search in memory (nb201search.c), for the strategy benchmark: the
 * same steps as the tool pipeline (sample-arch -> lookup-child ->
 * update-policy, one round of `batch` cells at a time) on the same library
 * code and RNG streams: child i of round r draws from
 * rng_stream(seed, r, i, RNG_SAMPLE); the policy is made from `seed`.
 */
struct nb201_search_config {
	const struct strategy *strategy;
	int budget;                   /* cells evaluated */
	int batch;                    /* cells per round (= per policy update) */
	uint64_t seed;
	struct policy_config policy;
	struct evolution_config evo;
};

/* curve_valid/curve_test (budget): after k+1 cells, the validation accuracy
 * of the best cell by validation so far and that cell's test accuracy. */
int nb201_search(const struct nb201_table *t, const struct nb201_search_config *c,
		 double *curve_valid, double *curve_test);

#endif
