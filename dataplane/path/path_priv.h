/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to dataplane/path: the built-in policies and their helpers. */
#ifndef SX_PATH_PRIV_H
#define SX_PATH_PRIV_H

#include <stdbool.h>

#include "../util/rng.h"
#include "path.h"

/* The policy's per-QP state, laid over the fixed private area. */
#define SX_PATH_PRIV(s, type) ((type *)(void *)(s)->priv)
#define SX_PATH_PRIV_FITS(type)                                                          \
	_Static_assert(sizeof(type) <= SX_PATH_PRIV_BYTES,                               \
		       #type " does not fit in SX_PATH_PRIV_BYTES")

/*
 * A policy's entropy set is {E(i)} for i in [0, n): E(i) = 0xc000 |
 * ((base + i * K) mod 2^14) with K odd, so the n entropies are distinct for
 * any n <= 2^14, and E(0) is the QP's own. K^-1 mod 2^14 maps back.
 */
#define SX_PATH_STEP     0x2f1bu
#define SX_PATH_STEP_INV 0x1313u
#define SX_PATH_SET_MAX  (SX_PATH_SPORT_MASK + 1)

static inline uint16_t
sx_path_entropy_at(uint16_t base, uint32_t i)
{
	return (uint16_t)(SX_PATH_SPORT_BASE | ((base + i * SX_PATH_STEP) & SX_PATH_SPORT_MASK));
}

/* i such that sx_path_entropy_at(base, i) == e; e outside the range: -1. */
static inline int32_t
sx_path_index_of(uint16_t base, uint16_t e)
{
	if ((e & ~SX_PATH_SPORT_MASK) != SX_PATH_SPORT_BASE)
		return -1;
	return (int32_t)(((uint32_t)(e - base) * SX_PATH_STEP_INV) & SX_PATH_SPORT_MASK);
}

/*
 * The policies' random source: splitmix64 from the one PRNG module
 * (dataplane/util/rng.h), 8 bytes of state in their private area, seeded
 * from the QP's entropy so a run is a function of its QPNs.
 */
/* Uniform in [0, n), n > 0 (multiply-shift; bias below 2^-32). */
static inline uint32_t
sx_path_rand_below(uint64_t *x, uint32_t n)
{
	return (uint32_t)(((sx_splitmix64(x) >> 32) * (uint64_t)n) >> 32);
}

extern const struct sx_path_ops sx_path_flow;
extern const struct sx_path_ops sx_path_spray;
extern const struct sx_path_ops sx_path_flowlet;
extern const struct sx_path_ops sx_path_adaptive;

#endif
