/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `flow`: every packet of a QP carries the QP's one entropy, so the whole
 * QP takes one ECMP path. RoCEv2's default, and the only policy a go-back-N
 * receiver copes with: packets on one path arrive in order.
 */
#include "path_priv.h"

static void
flow_init(struct sx_path_state *s, const double *p, uint16_t base)
{
	(void)p;
	s->nslots = 1;
	s->slot[0].entropy = base;
}

static uint16_t
flow_next(struct sx_path_state *s, const double *p, uint64_t now_ns)
{
	(void)p;
	(void)now_ns;
	s->slot[0].pkts++;
	return s->base;
}

static int
flow_slot_of(const struct sx_path_state *s, const double *p, uint16_t entropy)
{
	(void)p;
	return entropy == s->base ? 0 : -1;
}

const struct sx_path_ops sx_path_flow = {
	.name = "flow",
	.help = "one entropy per QP (RoCEv2's default): the QP takes one ECMP path",
	.init = flow_init,
	.next = flow_next,
	.slot_of = flow_slot_of,
};
