/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `spray`: every request packet takes the next entropy of a set of N,
 * round robin or at random — oblivious packet spraying, as AWS SRD and
 * Ultra Ethernet's oblivious mode do from the host. It needs a receiver
 * that places out of order (selective repeat) and a loss detector that
 * tolerates reordering (dataplane/qp/rack.c).
 *
 * ECMP hashes an entropy to a path the host cannot see, so a small set
 * maps unevenly onto the paths (N = 8 entropies over 8 spines leave some
 * spines with none); the default N = 16384, the whole RoCEv2 range,
 * makes every packet's path an independent draw.
 *
 * Counters: entropy i counts in slot i mod SX_PATH_SLOTS.
 */
#include "path_priv.h"

enum { P_PATHS, P_RANDOM, P_MAX };

static const struct sx_param spray_params[P_MAX] = {
	[P_PATHS] = {"paths", "count", SX_PATH_SET_MAX, 1, SX_PATH_SET_MAX,
		     "entropies (UDP source ports) sprayed over", SX_PARAM_INT},
	[P_RANDOM] = {"random", "bool", 0, 0, 1,
		      "0: round robin over the set, 1: a random member per packet",
		      SX_PARAM_INT},
};

struct spray {
	uint64_t rng;
	uint32_t next; /* round robin: the next index */
};
SX_PATH_PRIV_FITS(struct spray);

static void
spray_init(struct sx_path_state *s, const double *p, uint16_t base)
{
	struct spray *sp = SX_PATH_PRIV(s, struct spray);
	uint32_t n = (uint32_t)p[P_PATHS];

	sp->rng = base;
	sp->next = 0;
	s->nslots = (uint16_t)(n < SX_PATH_SLOTS ? n : SX_PATH_SLOTS);
	for (uint32_t i = 0; i < s->nslots; i++)
		s->slot[i].entropy = sx_path_entropy_at(base, i);
}

static uint16_t
spray_next(struct sx_path_state *s, const double *p, uint64_t now_ns)
{
	struct spray *sp = SX_PATH_PRIV(s, struct spray);
	uint32_t n = (uint32_t)p[P_PATHS], i;
	uint16_t e;

	(void)now_ns;
	if (p[P_RANDOM] != 0) {
		i = sx_path_rand_below(&sp->rng, n);
	} else {
		/* A live change of `paths` may leave next past the end. */
		i = sp->next < n ? sp->next : 0;
		sp->next = i + 1;
	}
	e = sx_path_entropy_at(s->base, i);
	s->slot[i % s->nslots].entropy = e;
	s->slot[i % s->nslots].pkts++;
	return e;
}

static int
spray_slot_of(const struct sx_path_state *s, const double *p, uint16_t entropy)
{
	int32_t i = sx_path_index_of(s->base, entropy);

	if (i < 0 || i >= (int32_t)p[P_PATHS])
		return -1;
	return i % s->nslots;
}

const struct sx_path_ops sx_path_spray = {
	.name = "spray",
	.help = "per packet over a set of entropies, round robin or random (needs sr)",
	.params = spray_params,
	.nparams = P_MAX,
	.init = spray_init,
	.next = spray_next,
	.slot_of = spray_slot_of,
	.reorders = 1,
};
