/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal to cc/: the built-in algorithms and the helpers they share.
 * Units as in cc.h: time in ns, rates in bit/s, sizes in bytes; parameter
 * rows say their own unit (us, Mb/s, ...) and the algorithm converts.
 */
#ifndef SX_CC_PRIV_H
#define SX_CC_PRIV_H

#include "cc.h"

#define SX_CC_NS_PER_US   1000.0
#define SX_CC_BPS_PER_MBPS 1e6
#define SX_CC_BPS_PER_GBPS 1e9

/* The algorithm's per-QP state, laid over the fixed private area. */
#define SX_CC_PRIV(s, type) ((type *)(void *)(s)->priv)
#define SX_CC_PRIV_CONST(s, type) ((const type *)(const void *)(s)->priv)
#define SX_CC_PRIV_FITS(type)                                                            \
	_Static_assert(sizeof(type) <= SX_CC_PRIV_BYTES,                                 \
		       #type " does not fit in SX_CC_PRIV_BYTES")

/* x clamped to [lo, hi]; lo wins if the caller passes lo > hi. */
static inline double
sx_cc_clamp(double x, double lo, double hi)
{
	if (x > hi)
		x = hi;
	if (x < lo)
		x = lo;
	return x;
}

/*
 * A rate in bit/s as the state carries it: rounded, at least 1 so that a
 * pacer never divides by zero, at most the line rate.
 */
static inline uint64_t
sx_cc_rate_u64(double bps, uint64_t line_bps)
{
	if (!(bps >= 1.0))
		return 1;
	if (bps >= (double)line_bps)
		return line_bps;
	return (uint64_t)(bps + 0.5);
}

#endif
