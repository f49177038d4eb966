/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `adaptive`: spray over a small set of entropies and replace the ones
 * whose packets come back marked or lost.
 *
 * The QP sends round robin over `paths` slots, each holding an entropy.
 * Feedback decides which stay (docs/multipath.md):
 *   - a packet declared lost (SACK hole past the reorder window) or a
 *     retransmit timeout retires its entropy at once: the path may be down;
 *   - ECN-CE echoed by the receiver (the SX_SR_ACK_ECE header) adds a mark
 *     to the entropy's slot; `ecn_retire` marks retire it. Marks decay: a
 *     slot's count halves every `decay_pkts` packets delivered on it, so a
 *     path that is marked now and then, as every path is under load, stays;
 *   - a retired slot gets a fresh random entropy (exploration), which is
 *     sent on at once and judged like the others.
 *
 * This is REPS (Bonato et al., "REPS: Recycled Entropy Packet Spraying",
 * 2024) with slots instead of its recycle buffer: REPS reuses an entropy
 * only once an unmarked ACK returns it and otherwise explores, which needs
 * a mark per packet; scalex's echo names one marked entropy per ACK, so it
 * counts marks per slot instead. Like PLB (Qureshi et al., SIGCOMM 2022) it
 * repaths on persistent marks and on timeouts, but per packet over many
 * paths rather than moving a whole flow. It reacts to delay only through
 * ECN and timeouts, not to RTT samples per path.
 */
#include "path_priv.h"

enum { P_PATHS, P_ECN_RETIRE, P_DECAY, P_MAX };

static const struct sx_param adaptive_params[P_MAX] = {
	[P_PATHS] = {"paths", "count", 8, 1, SX_PATH_SLOTS,
		     "entropies in use at a time (slots)", SX_PARAM_INT},
	[P_ECN_RETIRE] = {"ecn_retire", "count", 2, 1, 65535,
			  "echoed ECN-CE marks on a slot that retire its entropy",
			  SX_PARAM_INT},
	[P_DECAY] = {"decay_pkts", "count", 32, 1, 1000000,
		     "packets delivered on a slot that halve its marks", SX_PARAM_INT},
};

struct adaptive {
	uint64_t rng;
	uint32_t next;                   /* round robin */
	uint16_t marks[SX_PATH_SLOTS];   /* decaying ECN-CE count */
	uint32_t acked[SX_PATH_SLOTS];   /* deliveries since the last halving */
};
SX_PATH_PRIV_FITS(struct adaptive);

static bool
in_use(const struct sx_path_state *s, uint16_t e)
{
	for (unsigned int i = 0; i < SX_PATH_SLOTS; i++)
		if (s->slot[i].entropy == e)
			return true;
	return false;
}

/* A random entropy no slot holds (the QP's own excluded: ACKs use it). */
static uint16_t
explore(struct sx_path_state *s, struct adaptive *a)
{
	uint16_t e;

	do
		e = sx_path_entropy_at(s->base,
				       1 + sx_path_rand_below(&a->rng, SX_PATH_SET_MAX - 1));
	while (in_use(s, e));
	return e;
}

static void
adaptive_init(struct sx_path_state *s, const double *p, uint16_t base)
{
	struct adaptive *a = SX_PATH_PRIV(s, struct adaptive);

	a->rng = base;
	a->next = 0;
	/* Every slot gets an entropy, used or not, so that `paths` can grow
	 * live; nslots counts the slots sent on so far. */
	s->nslots = (uint16_t)p[P_PATHS];
	for (unsigned int i = 0; i < SX_PATH_SLOTS; i++) {
		s->slot[i].entropy = 0;
		a->marks[i] = 0;
		a->acked[i] = 0;
	}
	for (unsigned int i = 0; i < SX_PATH_SLOTS; i++)
		s->slot[i].entropy = explore(s, a);
}

static uint16_t
adaptive_next(struct sx_path_state *s, const double *p, uint64_t now_ns)
{
	struct adaptive *a = SX_PATH_PRIV(s, struct adaptive);
	uint32_t n = (uint32_t)p[P_PATHS];
	uint32_t i = a->next < n ? a->next : 0;

	(void)now_ns;
	a->next = i + 1;
	if (n > s->nslots)
		s->nslots = (uint16_t)n;
	s->slot[i].pkts++;
	return s->slot[i].entropy;
}

static int
adaptive_slot_of(const struct sx_path_state *s, const double *p, uint16_t entropy)
{
	(void)p;
	for (unsigned int i = 0; i < SX_PATH_SLOTS; i++)
		if (s->slot[i].entropy == entropy)
			return (int)i;
	return -1;
}

static void
retire(struct sx_path_state *s, struct adaptive *a, unsigned int i)
{
	s->slot[i].retired++;
	s->slot[i].entropy = explore(s, a);
	a->marks[i] = 0;
	a->acked[i] = 0;
}

static void
adaptive_feedback(struct sx_path_state *s, const double *p, uint16_t entropy,
		  enum sx_path_signal sig, uint64_t now_ns)
{
	struct adaptive *a = SX_PATH_PRIV(s, struct adaptive);
	int i = adaptive_slot_of(s, p, entropy);

	(void)now_ns;
	if (i < 0)
		return; /* an entropy already retired: nothing to decide */
	switch (sig) {
	case SX_PATH_SIG_ACK:
		if (++a->acked[i] >= (uint32_t)p[P_DECAY]) {
			a->acked[i] = 0;
			a->marks[i] >>= 1;
		}
		return;
	case SX_PATH_SIG_ECN:
		if (a->marks[i] < UINT16_MAX)
			a->marks[i]++;
		if (a->marks[i] >= (uint32_t)p[P_ECN_RETIRE])
			retire(s, a, (unsigned int)i);
		return;
	case SX_PATH_SIG_LOSS:
	case SX_PATH_SIG_TIMEOUT:
		retire(s, a, (unsigned int)i);
		return;
	default:
		return;
	}
}

const struct sx_path_ops sx_path_adaptive = {
	.name = "adaptive",
	.help = "spray over a few entropies, replace those that see ECN or loss (REPS-like; needs sr)",
	.params = adaptive_params,
	.nparams = P_MAX,
	.init = adaptive_init,
	.next = adaptive_next,
	.feedback = adaptive_feedback,
	.slot_of = adaptive_slot_of,
	.reorders = 1,
};
