/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A sender-based ECN and delay CC in the style of Ultra Ethernet's NSCC
 * (Network Signal-based Congestion Control, Ultra Ethernet Transport
 * specification 1.0, 2025): a window in bytes, driven by the two signals a
 * plain switch gives, ECN marks and queueing delay, with no switch support
 * beyond ECN.
 *
 *  - Per ACK, while the current observation window has no ECN mark:
 *    delay = RTT - base RTT below target_qdelay: proportional increase,
 *      cwnd += pi_gain * acked * (target - delay) / target
 *      (the headroom decides how fast: up to pi_gain per RTT when idle);
 *    at or above it: fair increase, cwnd += fi_bytes * acked / cwnd
 *      (fi_bytes per RTT, the same for every flow).
 *  - Once per RTT (an observation window), with f the fraction of bytes
 *    ECN-marked in it: if f > 0 and delay >= target,
 *      cwnd *= 1 - min(md_gain * f, max_md).
 *    Marks with delay below target do not cut (UET's "ECN but no delay"
 *    case: a transient queue, or another flow's).
 *  - Quick adapt, on a loss or a timeout: if the last whole RTT delivered
 *    less than qa_threshold * cwnd, cwnd = what it delivered; at most once
 *    per RTT.
 *
 * Where this differs from the specification (docs/cc.md has the list):
 *  - RoCEv2 ACKs carry no ECN echo. The marks are the receiver's CNPs, one
 *    per marked packet when the receiver's min_time_between_cnps is 0 (this
 *    table's default, handed to the engine's notification point by
 *    np_config); each CNP counts as one marked packet of packet_bytes.
 *  - scalex measures one RTT sample per RTT (a probe), so "delay" is the
 *    latest sample's, not each ACK's.
 *  - The QP holds new data while cwnd_bytes are in flight
 *    (dataplane/qp/req.c); a window under one packet paces at cwnd / RTT.
 *  - No packet trimming, no multipath entropy, no NACK-driven quick adapt
 *    (scalex's losses arrive as on_loss / on_timeout).
 *
 * Units: time in ns (parameters in us), window in bytes, rates in bit/s.
 */
#include <string.h>

#include "cc_priv.h"

enum {
	P_TARGET,
	P_BASE_RTT,
	P_MD_GAIN,
	P_MAX_MD,
	P_PI_GAIN,
	P_FI_BYTES,
	P_MIN_CWND,
	P_MAX_CWND,
	P_INIT_CWND,
	P_QA_THRESHOLD,
	P_PACKET,
	P_MIN_TIME_CNPS,
	P_CNP_DSCP,
	NPARAMS
};
_Static_assert(NPARAMS <= SX_CC_MAX_PARAMS, "NSCC parameter table too large");

#define I SX_PARAM_INT

static const struct sx_param nscc_params[NPARAMS] = {
	[P_TARGET] = {"target_qdelay", "us", 4, 0.1, 100000,
		      "queueing delay (RTT - base RTT) the window aims at", 0},
	[P_BASE_RTT] = {"base_rtt", "us", 0, 0, 100000,
			"RTT of an empty path; 0: the smallest sample seen", 0},
	[P_MD_GAIN] = {"md_gain", "x", 1, 0, 100,
		       "cut per RTT = md_gain * marked fraction (at most max_md)", 0},
	[P_MAX_MD] = {"max_md", "fraction", 0.5, 0, 1, "deepest cut per RTT", 0},
	[P_PI_GAIN] = {"pi_gain", "x", 0.5, 0, 100,
		       "proportional increase: window growth per RTT at zero delay", 0},
	[P_FI_BYTES] = {"fi_bytes", "bytes", 4096, 0, 10000000,
			"fair increase per RTT at or above the target", 0},
	[P_MIN_CWND] = {"min_cwnd", "bytes", 4096, 1, 1073741824, "smallest window", 0},
	[P_MAX_CWND] = {"max_cwnd", "bytes", 4194304, 1, 1099511627776.0, "largest window", 0},
	[P_INIT_CWND] = {"init_cwnd", "bytes", 65536, 1, 1099511627776.0,
			 "window of a new QP", 0},
	[P_QA_THRESHOLD] = {"qa_threshold", "fraction", 0.5, 0, 1,
			    "quick adapt when the last RTT delivered less than this * cwnd", 0},
	[P_PACKET] = {"packet_bytes", "bytes", 4096, 64, 65536,
		      "bytes one CNP stands for (the QP's MTU)", I},
	[P_MIN_TIME_CNPS] = {"min_time_between_cnps", "us", 0, 0, 131071,
			     "notification point: at most one CNP per QP per this time", I},
	[P_CNP_DSCP] = {"cnp_dscp", "dscp", 48, 0, 63,
			"notification point: DSCP of the CNPs it sends", I},
};

#undef I

static const struct sx_cc_preset nscc_presets[] = {
	{
		.name = "default",
		.source = "scalex: the UET 1.0 NSCC structure; values ours, sized for a "
			  "100 Gb/s fabric of a few microseconds' base RTT",
		.v = {
			[P_TARGET] = 4,
			[P_BASE_RTT] = 0,
			[P_MD_GAIN] = 1,
			[P_MAX_MD] = 0.5,
			[P_PI_GAIN] = 0.5,
			[P_FI_BYTES] = 4096,
			[P_MIN_CWND] = 4096,
			[P_MAX_CWND] = 4194304,
			[P_INIT_CWND] = 65536,
			[P_QA_THRESHOLD] = 0.5,
			[P_PACKET] = 4096,
			[P_MIN_TIME_CNPS] = 0,
			[P_CNP_DSCP] = 48,
		},
	},
};

struct nscc {
	double cwnd;            /* bytes */
	uint64_t rtt_ns;        /* latest sample, 0 before the first */
	uint64_t min_rtt_ns;    /* smallest sample */
	uint64_t win_start_ns;  /* the observation window began here */
	uint64_t win_acked;     /* bytes acknowledged in it */
	uint64_t delivered;     /* bytes acknowledged in the last whole window */
	uint64_t qa_until_ns;   /* no quick adapt before this */
	uint32_t win_marked;    /* CNPs in it */
	uint8_t have_delivered;
};
SX_CC_PRIV_FITS(struct nscc);

/* Queueing delay of the latest sample, ns (negative if base_rtt is set too high). */
static double
delay_ns(const struct nscc *n, const double *p)
{
	double base = p[P_BASE_RTT] > 0 ? p[P_BASE_RTT] * SX_CC_NS_PER_US : (double)n->min_rtt_ns;

	return (double)n->rtt_ns - base;
}

static void
publish(struct sx_cc_state *s, struct nscc *n, const double *p)
{
	n->cwnd = sx_cc_clamp(n->cwnd, p[P_MIN_CWND], p[P_MAX_CWND]);
	s->cwnd_bytes = (uint64_t)(n->cwnd + 0.5);
	/* Below one packet: pace one packet per RTT; above, the window rules. */
	if (n->cwnd < p[P_PACKET] && n->rtt_ns != 0)
		s->rate_bps = sx_cc_rate_u64(n->cwnd * 8.0 * 1e9 / (double)n->rtt_ns,
					     s->line_rate_bps);
	else
		s->rate_bps = s->line_rate_bps;
}

/* Close the observation window once an RTT has passed: the ECN cut. */
static void
window(struct sx_cc_state *s, struct nscc *n, const double *p, uint64_t now_ns)
{
	if (n->rtt_ns == 0 || now_ns < n->win_start_ns || now_ns - n->win_start_ns < n->rtt_ns)
		return;
	if (n->win_marked > 0) {
		double marked = (double)n->win_marked * p[P_PACKET];
		double f = n->win_acked > 0 ? marked / (double)n->win_acked : 1.0;

		if (f > 1.0)
			f = 1.0;
		if (delay_ns(n, p) >= p[P_TARGET] * SX_CC_NS_PER_US) {
			double cut = p[P_MD_GAIN] * f;

			n->cwnd *= 1.0 - (cut < p[P_MAX_MD] ? cut : p[P_MAX_MD]);
		}
	}
	n->delivered = n->win_acked;
	n->have_delivered = 1;
	n->win_start_ns = now_ns;
	n->win_acked = 0;
	n->win_marked = 0;
	publish(s, n, p);
}

static void
nscc_init(struct sx_cc_state *s, const double *p, uint64_t line_rate_bps, uint64_t now_ns)
{
	struct nscc *n = SX_CC_PRIV(s, struct nscc);

	memset(s, 0, sizeof(*s));
	s->line_rate_bps = line_rate_bps > 0 ? line_rate_bps : 1;
	s->rate_bps = s->line_rate_bps;
	n->cwnd = p[P_INIT_CWND];
	n->win_start_ns = now_ns;
	publish(s, n, p);
}

static void
nscc_on_ack(struct sx_cc_state *s, const double *p, uint32_t acked_bytes, uint64_t rtt_ns,
	    uint64_t now_ns)
{
	struct nscc *n = SX_CC_PRIV(s, struct nscc);
	double target = p[P_TARGET] * SX_CC_NS_PER_US, d;

	if (rtt_ns != 0) {
		n->rtt_ns = rtt_ns;
		if (n->min_rtt_ns == 0 || rtt_ns < n->min_rtt_ns)
			n->min_rtt_ns = rtt_ns;
	}
	window(s, n, p, now_ns);
	if (n->rtt_ns == 0)
		return;
	n->win_acked += acked_bytes;
	d = delay_ns(n, p);
	if (n->win_marked == 0) {
		if (d < target)
			n->cwnd += p[P_PI_GAIN] * acked_bytes * (target - d) / target;
		else
			n->cwnd += p[P_FI_BYTES] * acked_bytes / n->cwnd;
	}
	publish(s, n, p);
}

static void
nscc_on_cnp(struct sx_cc_state *s, const double *p, uint64_t now_ns)
{
	struct nscc *n = SX_CC_PRIV(s, struct nscc);

	window(s, n, p, now_ns);
	if (n->win_marked < UINT32_MAX)
		n->win_marked++;
}

/* Heavy loss: fall to what the path delivered in the last RTT. */
static void
quick_adapt(struct sx_cc_state *s, const double *p, uint64_t now_ns)
{
	struct nscc *n = SX_CC_PRIV(s, struct nscc);

	window(s, n, p, now_ns);
	if (n->rtt_ns == 0 || now_ns < n->qa_until_ns || !n->have_delivered)
		return;
	if ((double)n->delivered < p[P_QA_THRESHOLD] * n->cwnd) {
		n->cwnd = (double)n->delivered;
		n->qa_until_ns = now_ns + n->rtt_ns;
	}
	publish(s, n, p);
}

/* The receiver's notification point: one CNP per marked packet by default. */
static void
nscc_np_config(const double *p, struct sx_cc_np *np)
{
	np->cnp_gap_ns = (uint64_t)(p[P_MIN_TIME_CNPS] * SX_CC_NS_PER_US);
	np->cnp_dscp = (uint8_t)p[P_CNP_DSCP];
}

const struct sx_cc_ops sx_cc_nscc = {
	.name = "nscc",
	.params = nscc_params,
	.nparams = NPARAMS,
	.presets = nscc_presets,
	.npresets = sizeof(nscc_presets) / sizeof(nscc_presets[0]),
	.init = nscc_init,
	.on_ack = nscc_on_ack,
	.on_cnp = nscc_on_cnp,
	.on_loss = quick_adapt,
	.on_timeout = quick_adapt,
	.np_config = nscc_np_config,
};
