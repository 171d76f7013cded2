/*
 * rng.c - xoshiro256** (Blackman & Vigna) seeded through splitmix64.
 */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1;
}

void rng_stream(struct rng *r, uint64_t seed, uint64_t a, uint64_t b, enum rng_purpose purpose)
{
	uint64_t x = seed;
	uint64_t h = splitmix64(&x);

	x = h ^ a;
	h = splitmix64(&x);
	x = h ^ b;
	h = splitmix64(&x);
	x = h ^ (uint64_t)purpose;
	rng_seed(r, splitmix64(&x));
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_u64(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint32_t rng_u32(struct rng *r)
{
	return (uint32_t)(rng_u64(r) >> 32);
}

float rng_float(struct rng *r)
{
	return (float)(rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

double rng_double(struct rng *r)
{
	return (double)(rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	uint64_t limit = -n % n; /* 2^64 mod n: reject below it for uniformity */
	uint64_t x;

	do
		x = rng_u64(r);
	while (x < limit);
	return x % n;
}

double rng_normal(struct rng *r)
{
	double u1, u2;

	do
		u1 = rng_double(r);
	while (u1 <= 0.0);
	u2 = rng_double(r);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void rng_shuffle(struct rng *r, int *a, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)rng_below(r, (uint64_t)i + 1);
		int t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
}
