/*
 * arrays.h - seeded random float arrays for the kernel tests (header only).
 * Sizes of 0 still allocate one float, so every result can be freed.
 */
#ifndef NASNET_TEST_ARRAYS_H
#define NASNET_TEST_ARRAYS_H

#include <string.h>

#include "rng.h"
#include "util.h"

/* n values uniform in [lo, hi) */
static inline float *rand_floats(struct rng *r, size_t n, float lo, float hi)
{
	float *a = xmalloc(sizeof(*a) * (n ? n : 1));

	for (size_t i = 0; i < n; i++)
		a[i] = lo + (hi - lo) * rng_float(r);
	return a;
}

static inline float *copy_floats(const float *a, size_t n)
{
	float *b = xmalloc(sizeof(*b) * (n ? n : 1));

	memcpy(b, a, sizeof(*b) * n);
	return b;
}

#endif
