/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Swift: Kumar et al., "Swift: Delay is Simple and Effective for Congestion
 * Control in the Datacenter", SIGCOMM 2020. Algorithm 1 (AIMD on a window
 * against a delay target) and section 3.5 (the target scaled by hop count
 * and by the flow's window).
 *
 *  - ACK, delay < target: cwnd += ai / cwnd per acked packet (ai per RTT),
 *    or ai per acked packet while cwnd < 1.
 *  - ACK, delay >= target, at most once per RTT:
 *    cwnd *= max(1 - beta (delay - target) / delay, 1 - max_mdf).
 *  - Loss (fast recovery), at most once per RTT: cwnd *= 1 - loss_mdf
 *    (the paper's max_mdf; 0 on a long-haul path whose random loss is not
 *    congestion, where delay alone says when to back off).
 *  - Timeout: the same, or cwnd = min_cwnd after retx_reset in a row.
 *  - target = base_target + hops h + host_target
 *             + clamp(a / sqrt(cwnd) + b, 0, fs_range),
 *    a = fs_range / (1/sqrt(fs_min_cwnd) - 1/sqrt(fs_max_cwnd)),
 *    b = -a / sqrt(fs_max_cwnd).
 *
 * Where scalex differs from the paper (docs/cc.md says why):
 *  - One window, not a fabric and an endpoint window: scalex's RTT sample
 *    (on_ack) cannot be split into fabric and host delay without the
 *    remote NIC's timestamps, so the whole RTT is compared with the fabric
 *    target plus host_target.
 *  - The window is in packets of packet_bytes (set it to the MTU); the QP
 *    holds new data while cwnd_bytes are in flight (dataplane/qp/req.c).
 *    Below one packet the QP paces at cwnd * packet_bytes / RTT (the
 *    paper's pacing delay RTT / cwnd) and lets one packet be in flight.
 *  - ACKs without an RTT sample reuse the latest sample (scalex measures
 *    one probe per RTT, not every ACK).
 *  - "Once per RTT" starts from the last decrease, as in the paper, but a
 *    window left unchanged (clamped, or a decrease suppressed) does not
 *    restart it (Algorithm 1's "cwnd <= cwnd_prev" would then block every
 *    later decrease under a steady ACK stream).
 *
 * Units: RTT in ns, targets in us (parameters), windows in packets of
 * packet_bytes (the state carries bytes), rates in bit/s.
 */
#include <math.h>
#include <string.h>

#include "cc_priv.h"

enum {
	P_BASE_TARGET,
	P_HOPS,
	P_HOP_SCALE,
	P_HOST_TARGET,
	P_FS_RANGE,
	P_FS_MIN_CWND,
	P_FS_MAX_CWND,
	P_AI,
	P_BETA,
	P_MAX_MDF,
	P_MIN_CWND,
	P_MAX_CWND,
	P_INIT_CWND,
	P_PACKET,
	P_RETX_RESET,
	P_LOSS_MDF,
	NPARAMS
};
_Static_assert(NPARAMS <= SX_CC_MAX_PARAMS, "Swift parameter table too large");

#define I SX_PARAM_INT

static const struct sx_param swift_params[NPARAMS] = {
	[P_BASE_TARGET] = {"base_target", "us", 10, 0, 100000,
			   "fabric delay target of a one-hop path with few flows", 0},
	[P_HOPS] = {"hops", "switches", 0, 0, 64,
		    "switches on the path (the paper reads them from the TTL)", I},
	[P_HOP_SCALE] = {"hop_scale", "us", 1, 0, 10000, "h: target added per hop", 0},
	[P_HOST_TARGET] = {"host_target", "us", 2, 0, 100000,
			   "allowance for host delay inside the RTT sample", 0},
	[P_FS_RANGE] = {"fs_range", "us", 20, 0, 100000,
			"flow scaling: most target added, at fs_min_cwnd", 0},
	[P_FS_MIN_CWND] = {"fs_min_cwnd", "packets", 0.1, 0.001, 1,
			   "flow scaling: window where the added target is fs_range", 0},
	[P_FS_MAX_CWND] = {"fs_max_cwnd", "packets", 100, 1, 1000000,
			   "flow scaling: window where the added target reaches 0", 0},
	[P_AI] = {"ai", "packets", 1, 0, 1000, "additive increase per RTT", 0},
	[P_BETA] = {"beta", "fraction", 0.8, 0, 1,
		    "multiplicative decrease per unit of relative delay above target", 0},
	[P_MAX_MDF] = {"max_mdf", "fraction", 0.5, 0, 1,
		       "deepest cut per RTT (also the cut on loss)", 0},
	[P_MIN_CWND] = {"min_cwnd", "packets", 0.001, 0.0001, 1,
			"smallest window (paces one packet per RTT / min_cwnd)", 0},
	[P_MAX_CWND] = {"max_cwnd", "packets", 1024, 1, 1000000, "largest window", 0},
	[P_INIT_CWND] = {"init_cwnd", "packets", 16, 0.0001, 1000000,
			 "window of a new QP", 0},
	[P_PACKET] = {"packet_bytes", "bytes", 4096, 64, 65536,
		      "bytes per window packet (the QP's MTU)", I},
	[P_RETX_RESET] = {"retx_reset", "timeouts", 5, 1, 1000,
			  "timeouts in a row that reset the window to min_cwnd", I},
	[P_LOSS_MDF] = {"loss_mdf", "fraction", 0.5, 0, 1,
			"cut on a loss round (the paper: max_mdf); 0 where loss is not congestion",
			0},
};

#undef I

static const struct sx_cc_preset swift_presets[] = {
	{
		.name = "paper",
		.source = "Kumar et al., SIGCOMM 2020, Algorithm 1 and section 3.5 "
			  "(beta, max_mdf, fs_min_cwnd, fs_max_cwnd, ai); delay targets ours",
		.v = {
			[P_BASE_TARGET] = 10,
			[P_HOPS] = 0,
			[P_HOP_SCALE] = 1,
			[P_HOST_TARGET] = 2,
			[P_FS_RANGE] = 20,
			[P_FS_MIN_CWND] = 0.1,
			[P_FS_MAX_CWND] = 100,
			[P_AI] = 1,
			[P_BETA] = 0.8,
			[P_MAX_MDF] = 0.5,
			[P_MIN_CWND] = 0.001,
			[P_MAX_CWND] = 1024,
			[P_INIT_CWND] = 16,
			[P_PACKET] = 4096,
			[P_RETX_RESET] = 5,
			[P_LOSS_MDF] = 0.5,
		},
	},
};

struct swift {
	double cwnd;         /* packets */
	uint64_t delay_ns;   /* latest RTT sample, 0 before the first */
	uint64_t last_dec_ns;
	uint32_t retx;       /* timeouts in a row */
};
SX_CC_PRIV_FITS(struct swift);

/* Section 3.5: the target for the current window, in ns. */
static double
target_ns(const struct swift *w, const double *p)
{
	double t = p[P_BASE_TARGET] + p[P_HOPS] * p[P_HOP_SCALE] + p[P_HOST_TARGET];
	double lo = p[P_FS_MIN_CWND], hi = p[P_FS_MAX_CWND];

	if (hi > lo) {
		double a = p[P_FS_RANGE] / (1.0 / sqrt(lo) - 1.0 / sqrt(hi));
		double b = -a / sqrt(hi);

		t += sx_cc_clamp(a / sqrt(w->cwnd) + b, 0.0, p[P_FS_RANGE]);
	}
	return t * SX_CC_NS_PER_US;
}

static int
can_decrease(const struct swift *w, uint64_t now_ns)
{
	return w->delay_ns != 0 && now_ns >= w->last_dec_ns &&
	       now_ns - w->last_dec_ns >= w->delay_ns;
}

/* Clamp, note a decrease, and turn the window into a pacing rate. */
static void
finish(struct sx_cc_state *s, struct swift *w, const double *p, double prev, uint64_t now_ns)
{
	w->cwnd = sx_cc_clamp(w->cwnd, p[P_MIN_CWND], p[P_MAX_CWND]);
	if (w->cwnd < prev)
		w->last_dec_ns = now_ns;
	s->cwnd_bytes = (uint64_t)(w->cwnd * p[P_PACKET] + 0.5);
	/* Below one packet: pace one packet per RTT / cwnd; above, the window rules. */
	if (w->cwnd < 1.0 && w->delay_ns != 0)
		s->rate_bps = sx_cc_rate_u64(w->cwnd * p[P_PACKET] * 8.0 * 1e9 /
						     (double)w->delay_ns,
					     s->line_rate_bps);
	else
		s->rate_bps = s->line_rate_bps;
}

static void
swift_init(struct sx_cc_state *s, const double *p, uint64_t line_rate_bps, uint64_t now_ns)
{
	struct swift *w = SX_CC_PRIV(s, struct swift);

	memset(s, 0, sizeof(*s));
	s->line_rate_bps = line_rate_bps > 0 ? line_rate_bps : 1;
	s->rate_bps = s->line_rate_bps;
	w->cwnd = p[P_INIT_CWND];
	w->last_dec_ns = now_ns;
	finish(s, w, p, w->cwnd, now_ns);
}

static void
swift_on_ack(struct sx_cc_state *s, const double *p, uint32_t acked_bytes, uint64_t rtt_ns,
	     uint64_t now_ns)
{
	struct swift *w = SX_CC_PRIV(s, struct swift);
	double prev = w->cwnd, target, acked;

	if (rtt_ns != 0)
		w->delay_ns = rtt_ns;
	if (w->delay_ns == 0)
		return;
	w->retx = 0;
	target = target_ns(w, p);
	acked = (double)acked_bytes / p[P_PACKET];
	if ((double)w->delay_ns < target) {
		/* additive increase: ai per RTT, or per packet below one packet */
		if (w->cwnd >= 1.0)
			w->cwnd += p[P_AI] / w->cwnd * acked;
		else
			w->cwnd += p[P_AI] * acked;
	} else if (can_decrease(w, now_ns)) {
		double d = (double)w->delay_ns;
		double f = 1.0 - p[P_BETA] * (d - target) / d;

		w->cwnd *= f > 1.0 - p[P_MAX_MDF] ? f : 1.0 - p[P_MAX_MDF];
	}
	finish(s, w, p, prev, now_ns);
}

static void
swift_on_loss(struct sx_cc_state *s, const double *p, uint64_t now_ns)
{
	struct swift *w = SX_CC_PRIV(s, struct swift);
	double prev = w->cwnd;

	w->retx = 0;
	if (can_decrease(w, now_ns))
		w->cwnd *= 1.0 - p[P_LOSS_MDF];
	finish(s, w, p, prev, now_ns);
}

static void
swift_on_timeout(struct sx_cc_state *s, const double *p, uint64_t now_ns)
{
	struct swift *w = SX_CC_PRIV(s, struct swift);
	double prev = w->cwnd;

	if (w->retx < UINT32_MAX)
		w->retx++;
	if (w->retx >= p[P_RETX_RESET])
		w->cwnd = p[P_MIN_CWND];
	else if (can_decrease(w, now_ns))
		w->cwnd *= 1.0 - p[P_MAX_MDF];
	finish(s, w, p, prev, now_ns);
}

const struct sx_cc_ops sx_cc_swift = {
	.name = "swift",
	.params = swift_params,
	.nparams = NPARAMS,
	.presets = swift_presets,
	.npresets = sizeof(swift_presets) / sizeof(swift_presets[0]),
	.init = swift_init,
	.on_ack = swift_on_ack,
	.on_loss = swift_on_loss,
	.on_timeout = swift_on_timeout,
};
