/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex's one PRNG: xoshiro256** seeded through splitmix64 (Blackman and
 * Vigna). The fault-injection port, the simulator, path policies and the
 * tools all draw from it, so every random choice is a pure function of a
 * seed the caller owns. Header-only and pure: no global state, no clock.
 */
#ifndef SX_UTIL_RNG_H
#define SX_UTIL_RNG_H

#include <stdbool.h>

#include <math.h>
#include <stdint.h>

struct sx_rng {
	uint64_t s[4];
};

static inline uint64_t
sx_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void
sx_rng_seed(struct sx_rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = sx_splitmix64(&seed);
}

static inline uint64_t
sx_rng_next(struct sx_rng *r)
{
	uint64_t *s = r->s;
	uint64_t x = s[1] * 5, res = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return res;
}

/* Uniform in [0, 1). */
static inline double
sx_rng_double(struct sx_rng *r)
{
	return (double)(sx_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-32). */
static inline uint32_t
sx_rng_below(struct sx_rng *r, uint32_t n)
{
	return (uint32_t)(((sx_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability p (false for p <= 0, NaN included). */
static inline bool
sx_rng_chance(struct sx_rng *r, double p)
{
	if (!(p > 0.0))
		return false;
	return sx_rng_double(r) < p;
}

/* Exponential with the given mean. */
static inline double
sx_rng_exp(struct sx_rng *r, double mean)
{
	return -mean * log1p(-sx_rng_double(r));
}

/* A 64-bit mixer for hashes (the splitmix64 finalizer). */
static inline uint64_t
sx_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif
