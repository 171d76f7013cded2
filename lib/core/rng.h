/*
 * rng.h - explicit-state random numbers (xoshiro256**), no globals.
 *
 * Every random decision of nasnet-c draws from a `struct rng` passed by
 * pointer. Independent streams come from rng_stream(seed, a, b, purpose):
 * e.g. (run seed, round, child index, RNG_INIT), so running children in
 * parallel or resuming never shifts any other stream. The state is four
 * 64-bit words; checkpoints save and restore it verbatim.
 */
#ifndef NASNET_RNG_H
#define NASNET_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* Purposes: distinct sub-streams derived from the same (seed, a, b). */
enum rng_purpose {
	RNG_INIT = 1,     /* weight initialisation */
	RNG_DATA = 2,     /* data order and augmentation */
	RNG_DROP = 3,     /* dropout / drop path */
	RNG_SAMPLE = 4,   /* architecture sampling */
	RNG_SPLIT = 5,    /* dataset valid/subset split */
	RNG_POLICY = 6,   /* controller initialisation / PPO minibatches */
};

void rng_seed(struct rng *r, uint64_t seed);
void rng_stream(struct rng *r, uint64_t seed, uint64_t a, uint64_t b, enum rng_purpose purpose);
uint64_t rng_u64(struct rng *r);
uint32_t rng_u32(struct rng *r);
/* uniform in [0, 1) with 24 bits (float) or 53 bits (double) */
float rng_float(struct rng *r);
double rng_double(struct rng *r);
/* uniform integer in [0, n), unbiased; n > 0 */
uint64_t rng_below(struct rng *r, uint64_t n);
/* standard normal (Box-Muller, one value per call, deterministic) */
double rng_normal(struct rng *r);
/* Fisher-Yates shuffle of an int array */
void rng_shuffle(struct rng *r, int *a, int n);

#endif
