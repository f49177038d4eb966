/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `flowlet`: a QP keeps its entropy while it sends back to back and draws
 * a new one from a set of N after an idle gap of gap_us (Kandula et al.,
 * "Dynamic load balancing without packet reordering", CCR 2007; CONGA,
 * SIGCOMM 2014, picks the flowlet's path from congestion state, this
 * policy at random). A gap longer than the difference of the paths'
 * delays means the new flowlet cannot overtake the old one, so it reorders
 * rarely; it still declares `reorders` because nothing guarantees the gap
 * is long enough, and RDMA flows that never pause never change path.
 *
 * Counters: entropy i counts in slot i mod SX_PATH_SLOTS.
 */
#include "path_priv.h"

enum { P_GAP, P_PATHS, P_MAX };

static const struct sx_param flowlet_params[P_MAX] = {
	[P_GAP] = {"gap_us", "us", 10, 0.1, 1000000,
		   "idle time after which the next packet starts a new flowlet", 0},
	[P_PATHS] = {"paths", "count", 256, 1, SX_PATH_SET_MAX,
		     "entropies a flowlet's is drawn from", SX_PARAM_INT},
};

struct flowlet {
	uint64_t rng;
	uint64_t last_ns; /* last packet sent */
	uint32_t cur;     /* index of the current flowlet's entropy */
	uint32_t started; /* a packet was sent */
};
SX_PATH_PRIV_FITS(struct flowlet);

static void
flowlet_init(struct sx_path_state *s, const double *p, uint16_t base)
{
	struct flowlet *f = SX_PATH_PRIV(s, struct flowlet);
	uint32_t n = (uint32_t)p[P_PATHS];

	f->rng = base;
	f->last_ns = 0;
	f->cur = 0;
	f->started = 0;
	s->nslots = (uint16_t)(n < SX_PATH_SLOTS ? n : SX_PATH_SLOTS);
	for (uint32_t i = 0; i < s->nslots; i++)
		s->slot[i].entropy = sx_path_entropy_at(base, i);
}

static uint16_t
flowlet_next(struct sx_path_state *s, const double *p, uint64_t now_ns)
{
	struct flowlet *f = SX_PATH_PRIV(s, struct flowlet);
	uint32_t n = (uint32_t)p[P_PATHS];
	uint16_t e;

	if (f->cur >= n ||
	    (f->started && now_ns - f->last_ns > (uint64_t)(p[P_GAP] * 1000.0)))
		f->cur = sx_path_rand_below(&f->rng, n);
	f->started = 1;
	f->last_ns = now_ns;
	e = sx_path_entropy_at(s->base, f->cur);
	s->slot[f->cur % s->nslots].entropy = e;
	s->slot[f->cur % s->nslots].pkts++;
	return e;
}

static int
flowlet_slot_of(const struct sx_path_state *s, const double *p, uint16_t entropy)
{
	int32_t i = sx_path_index_of(s->base, entropy);

	if (i < 0 || i >= (int32_t)p[P_PATHS])
		return -1;
	return i % s->nslots;
}

const struct sx_path_ops sx_path_flowlet = {
	.name = "flowlet",
	.help = "a new random entropy after an idle gap (flowlet switching; needs sr)",
	.params = flowlet_params,
	.nparams = P_MAX,
	.init = flowlet_init,
	.next = flowlet_next,
	.slot_of = flowlet_slot_of,
	.reorders = 1,
};
