/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A set rate, for experiments: no feedback is used. The parameter is read
 * again on every send and ack, so a live change applies at the next packet.
 *
 * Units: rate_gbps in Gb/s (0: line rate); the state's rate in bit/s,
 * capped at the line rate and at least 1 bit/s.
 */
#include <string.h>

#include "cc_priv.h"

enum {
	P_RATE,
	NPARAMS
};

static const struct sx_param fixed_params[NPARAMS] = {
	[P_RATE] = {"rate_gbps", "Gb/s", 0, 0, 100000,
		    "sending rate, capped at the line rate (0: line rate)", 0},
};

/* No private state: the granted rate in the public part is all there is. */

static void
apply(struct sx_cc_state *s, const double *p)
{
	double r = p[P_RATE] * SX_CC_BPS_PER_GBPS;

	s->rate_bps = r > 0 ? sx_cc_rate_u64(r, s->line_rate_bps) : s->line_rate_bps;
}

static void
fixed_init(struct sx_cc_state *s, const double *p, uint64_t line_rate_bps, uint64_t now_ns)
{
	(void)now_ns;
	memset(s, 0, sizeof(*s));
	s->line_rate_bps = line_rate_bps > 0 ? line_rate_bps : 1;
	apply(s, p);
}

static void
fixed_on_send(struct sx_cc_state *s, const double *p, uint32_t bytes, uint64_t now_ns)
{
	(void)bytes;
	(void)now_ns;
	apply(s, p);
}

static void
fixed_on_ack(struct sx_cc_state *s, const double *p, uint32_t acked_bytes, uint64_t rtt_ns,
	     uint64_t now_ns)
{
	(void)acked_bytes;
	(void)rtt_ns;
	(void)now_ns;
	apply(s, p);
}

const struct sx_cc_ops sx_cc_fixed = {
	.name = "fixed",
	.params = fixed_params,
	.nparams = NPARAMS,
	.init = fixed_init,
	.on_send = fixed_on_send,
	.on_ack = fixed_on_ack,
};
