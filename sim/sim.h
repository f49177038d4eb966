/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the simulator's modules share: the event kinds of the one scheduler
 * and the histogram used for queue depths and flow statistics.
 *
 * Units: time in picoseconds inside the simulator (the hosts see ns),
 * sizes in bytes, rates in bits per second.
 */
#ifndef SX_SIM_H
#define SX_SIM_H

#include <stdint.h>

enum sx_sim_ev {
	SX_EV_HOST_WAKE,   /* idx: host; stale unless it matches the host's wake time */
	SX_EV_TXDONE,      /* ptr: link whose wire became free */
	SX_EV_ARRIVE,      /* ptr: packet at the far end of its link */
	SX_EV_LINK_CHANGE, /* idx: index into the fabric's change list */
	SX_EV_PFC,         /* ptr: link; idx: 1 pause, 0 resume (at its sender) */
	SX_EV_FLOW_START,  /* idx: flow */
	SX_EV_SAMPLE,      /* time series */
	SX_EV_WINDOW,      /* start of the measurement window */
	SX_EV_END,         /* end of the measured duration */
	SX_EV_MAX,
};

/*
 * Log-linear histogram of non-negative integers: exact below 16, then 16
 * sub-buckets per power of two (relative error under 6.25%).
 */
#define SX_HIST_SUB     16
#define SX_HIST_BUCKETS (SX_HIST_SUB * 48)

struct sx_hist {
	uint64_t count;
	uint64_t max;
	double sum;
	uint64_t b[SX_HIST_BUCKETS];
};

static inline unsigned int
sx_hist_index(uint64_t v)
{
	unsigned int e;

	if (v < SX_HIST_SUB)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v); /* >= 4 */
	return (e - 3) * SX_HIST_SUB + (unsigned int)((v >> (e - 4)) & (SX_HIST_SUB - 1));
}

static inline void
sx_hist_add(struct sx_hist *h, uint64_t v)
{
	unsigned int i = sx_hist_index(v);

	if (i >= SX_HIST_BUCKETS)
		i = SX_HIST_BUCKETS - 1;
	h->b[i]++;
	h->count++;
	h->sum += (double)v;
	if (v > h->max)
		h->max = v;
}

/* The upper bound of the bucket holding the q-quantile (0 <= q <= 1). */
uint64_t sx_hist_quantile(const struct sx_hist *h, double q);

/* The q-quantile of @p v (n values, sorted in place), linear interpolation. */
double sx_quantile_sorted(const double *v, size_t n, double q);

#endif
