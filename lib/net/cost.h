/*
 * cost.h - what a child network costs (parameters, mult-adds per image) and
 * budgets on it (sample-arch --max-params/--max-macs, make search MAX_PARAMS
 * / MAX_MACS).
 *
 * Counting builds a plan-only network (net_create with batch 0 and no rng:
 * the tape, no weights, no activations), so checking a sampled cell against
 * a budget costs a fraction of a millisecond and never trains anything.
 * A budget may be stated for another size than the child proxy (the size
 * `transfer` will train: --budget-cells/--budget-filters, make TRANSFER_N /
 * TRANSFER_F); the input shape and classes are always the child's.
 */
#ifndef NASNET_COST_H
#define NASNET_COST_H

#include <stddef.h>
#include <stdint.h>

#include "childcfg.h"
#include "genotype.h"

/* Draws per child before sample-arch gives up on a budget no cell meets. */
#define BUDGET_MAX_DRAWS 1000

struct budget {
	int64_t max_params;   /* 0: no limit */
	int64_t max_macs;     /* 0: no limit */
	int cells, filters;   /* size the budget is stated for; 0: the child's own */
};

void budget_init(struct budget *b);
int budget_active(const struct budget *b);
/* Params and MACs of genotype g built with macro m, resized to the budget's
 * size. -1 (with a message) if the network cannot be built. */
int budget_count(const struct budget *b, const struct genotype *g, const struct macro_config *m,
		 int64_t *params, int64_t *macs);
/* 1: within every limit, 0: over one, -1: error. params/macs get the counts. */
int budget_fits(const struct budget *b, const struct genotype *g, const struct macro_config *m,
		int64_t *params, int64_t *macs);
/* "100000 params and 5000000 mult-adds at N=2 F=16", for messages. */
const char *budget_text(const struct budget *b, char *buf, size_t n);

/*
 * Latency on this machine: the median wall time, in milliseconds, of one
 * net_infer call on `batch` images with one thread, after warm-up calls
 * (COST_LATENCY_BATCHES: batch 1, 21 timed after 5; batch 64, 7 after 1).
 * Allocates the parameters when the network has none (the time does not
 * depend on their values). Not deterministic: it measures the machine.
 */
#define COST_LATENCY_BATCHES 2
extern const int cost_latency_batch[COST_LATENCY_BATCHES];
struct net;
int cost_latency_ms(struct net *n, int batch, double *ms);

#endif
