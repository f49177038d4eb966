/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `adaptive`: spray, but reuse the entropies whose packets came back
 * unmarked and forget the ones that saw ECN-CE or loss.
 *
 * This is REPS (Bonato et al., "REPS: Recycled Entropy Packet Spraying for
 * Adaptive Load Balancing and Failure Mitigation", 2024): the sender keeps
 * a ring of "good" entropies. Each request packet takes the oldest one, or
 * — when the ring is empty — a fresh random entropy (exploration). Every
 * packet delivered returns its entropy to the ring; an entropy the
 * receiver echoes as ECN-CE marked (SX_SR_ACK_ECE), or whose packet is
 * declared lost or times out, is taken out of the ring ("retired"). A
 * path that marks or drops thus loses its entropies within a round trip
 * and traffic flows to the others; a dead path needs no detection at all,
 * since packets that never return never recycle their entropy. About one
 * window of entropies circulates, so an unloaded QP sprays over many paths.
 *
 * Where scalex differs from REPS: the receiver echoes one marked entropy
 * per ACK (the last one), not a mark per packet, so a marked packet's
 * entropy may come back through its ACK and be retired by the echo only
 * later; the ring holds `ring` entropies (REPS sizes it to the BDP);
 * loss is RACK's verdict (dataplane/qp/rack.c) and a timeout clears the
 * whole ring, as PLB (Qureshi et al., SIGCOMM 2022) repaths a flow after
 * a timeout. Delay is not a signal of its own: a slow path is left when its
 * queue marks.
 *
 * Counters: entropy index i (dataplane/path/path_priv.h) counts in slot
 * i mod SX_PATH_SLOTS; "retirements" counts entropies taken out of the ring.
 */
#include "path_priv.h"

#define RING_MAX 96

enum { P_RING, P_MAX };

static const struct sx_param adaptive_params[P_MAX] = {
	[P_RING] = {"ring", "count", 64, 1, RING_MAX,
		    "good entropies kept for reuse; past it, delivered ones are forgotten",
		    SX_PARAM_INT},
};

struct adaptive {
	uint64_t rng;
	uint32_t head; /* next to take */
	uint32_t n;    /* entropies in the ring */
	uint16_t ring[RING_MAX];
};
SX_PATH_PRIV_FITS(struct adaptive);

static uint32_t
slot_of_e(const struct sx_path_state *s, uint16_t e)
{
	return (uint32_t)sx_path_index_of(s->base, e) % SX_PATH_SLOTS;
}

static void
adaptive_init(struct sx_path_state *s, const double *p, uint16_t base)
{
	struct adaptive *a = SX_PATH_PRIV(s, struct adaptive);

	(void)p;
	a->rng = base;
	a->head = 0;
	a->n = 0;
	s->nslots = SX_PATH_SLOTS;
}

static uint16_t
adaptive_next(struct sx_path_state *s, const double *p, uint64_t now_ns)
{
	struct adaptive *a = SX_PATH_PRIV(s, struct adaptive);
	uint16_t e;
	uint32_t k;

	(void)p;
	(void)now_ns;
	if (a->n > 0) {
		e = a->ring[a->head];
		a->head = (a->head + 1) % RING_MAX;
		a->n--;
	} else {
		/* Explore; index 0 is the QP's own entropy, which ACKs use. */
		e = sx_path_entropy_at(s->base,
				       1 + sx_path_rand_below(&a->rng, SX_PATH_SET_MAX - 1));
	}
	k = slot_of_e(s, e);
	s->slot[k].entropy = e;
	s->slot[k].pkts++;
	return e;
}

static int
adaptive_slot_of(const struct sx_path_state *s, const double *p, uint16_t entropy)
{
	(void)p;
	if (sx_path_index_of(s->base, entropy) < 0)
		return -1;
	return (int)slot_of_e(s, entropy);
}

/* Take every copy of @p e out of the ring; how many there were. */
static uint32_t
forget(struct adaptive *a, uint16_t e)
{
	uint32_t i, kept = 0, n = a->n;

	for (i = 0; i < n; i++) {
		uint16_t x = a->ring[(a->head + i) % RING_MAX];

		if (x != e)
			a->ring[(a->head + kept++) % RING_MAX] = x;
	}
	a->n = kept;
	return n - kept;
}

static void
adaptive_feedback(struct sx_path_state *s, const double *p, uint16_t entropy,
		  enum sx_path_signal sig, uint64_t now_ns)
{
	struct adaptive *a = SX_PATH_PRIV(s, struct adaptive);
	uint32_t cap = (uint32_t)p[P_RING];

	(void)now_ns;
	if (sx_path_index_of(s->base, entropy) < 0)
		return;
	switch (sig) {
	case SX_PATH_SIG_ACK:
		/* Recycle; a live shrink of `ring` lets it drain. */
		if (a->n < cap && a->n < RING_MAX) {
			a->ring[(a->head + a->n) % RING_MAX] = entropy;
			a->n++;
		}
		return;
	case SX_PATH_SIG_ECN:
	case SX_PATH_SIG_LOSS:
		forget(a, entropy);
		s->slot[slot_of_e(s, entropy)].retired++;
		return;
	case SX_PATH_SIG_TIMEOUT:
		s->slot[slot_of_e(s, entropy)].retired += a->n;
		a->n = 0;
		return;
	default:
		return;
	}
}

const struct sx_path_ops sx_path_adaptive = {
	.name = "adaptive",
	.help = "reuse entropies that come back unmarked, drop those that see ECN or loss "
		"(REPS; needs sr)",
	.params = adaptive_params,
	.nparams = P_MAX,
	.init = adaptive_init,
	.next = adaptive_next,
	.feedback = adaptive_feedback,
	.slot_of = adaptive_slot_of,
	.reorders = 1,
};
