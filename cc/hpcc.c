/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HPCC: Li et al., "HPCC: High Precision Congestion Control", SIGCOMM 2019.
 * Algorithm 1 (per-ACK reference window update from in-band telemetry),
 * with the parameters of section 3.3 and 5.
 *
 * On each ACK that echoes INT records ack.L (one per switch egress port on
 * the path, cc.h struct sx_cc_int), against the previous ACK's records L:
 *
 *   MeasureInflight: for each hop i
 *       txRate = (ack.L[i].txBytes - L[i].txBytes) / (ack.L[i].ts - L[i].ts)
 *       u'     = min(ack.L[i].qLen, L[i].qLen) / (ack.L[i].B * T) + txRate / ack.L[i].B
 *     u = max u', tau = the ts difference of that hop, tau = min(tau, T)
 *     U = (1 - tau / T) U + tau / T * u
 *   ComputeWind(U, updateWc):
 *     U >= eta or incStage >= maxStage:  W = Wc / (U / eta) + W_AI
 *                                        (updateWc: incStage = 0, Wc = W)
 *     else:                              W = Wc + W_AI
 *                                        (updateWc: incStage++, Wc = W)
 *   NewAck: updateWc when ack.seq > lastUpdateSeq, then lastUpdateSeq = snd_nxt
 *           (Wc moves once per RTT, W on every ACK); R = W / T; L = ack.L.
 *
 * Where scalex fills in what the paper leaves open (docs/cc.md):
 *  - ack.seq and snd_nxt are byte counts the algorithm keeps itself: the
 *    bytes acknowledged (on_ack / on_int) and the payload bytes sent
 *    (on_send, retransmissions included).
 *  - W_init = B_nic * T (the paper's initial window) is also the largest
 *    window (R = W / T never exceeds the line rate); the smallest is
 *    min_rate * T. U starts at 1 (no increase before the first sample).
 *  - The first INT ACK, and one whose hop count differs from the previous
 *    one (a new path), only records L. A hop whose two records carry the
 *    same timestamp, or no link rate, is left out of u. u starts below 0,
 *    not at 0 as in the paper, so that an idle path (every u' = 0) still
 *    has a tau and pulls U down.
 *  - Counters wrap as the wire carries them (SX_CC_INT_TS_WRAP_NS,
 *    SX_CC_INT_TX_WRAP_BYTES): differences are taken modulo those.
 *  - Without INT (ACKs with no hop records, or a path without INT
 *    switches) the window stays where it is, initially W_init: HPCC then
 *    is a window-limited sender with no congestion response. The QP counts
 *    such ACKs (int_empty) so that the operator sees it; docs/cc.md says to
 *    pick another algorithm there.
 *
 * Units: T in us (parameter), W in bytes, rates in bit/s, time in ns.
 */
#include <string.h>

#include "cc_priv.h"

enum {
	P_ETA,
	P_MAX_STAGE,
	P_WAI,
	P_BASE_RTT,
	P_MIN_RATE,
	NPARAMS
};
_Static_assert(NPARAMS <= SX_CC_MAX_PARAMS, "HPCC parameter table too large");

#define I SX_PARAM_INT

static const struct sx_param hpcc_params[NPARAMS] = {
	[P_ETA] = {"eta", "fraction", 0.95, 0.01, 1, "target link utilization", 0},
	[P_MAX_STAGE] = {"max_stage", "RTTs", 5, 0, 1000,
			 "additive-increase rounds before a multiplicative step", I},
	[P_WAI] = {"wai_bytes", "bytes", 80, 0, 1000000,
		   "additive increase W_AI per update", 0},
	[P_BASE_RTT] = {"base_rtt", "us", 8, 0.01, 100000,
			"T: the base RTT (window = rate * T)", 0},
	[P_MIN_RATE] = {"min_rate", "Mb/s", 100, 0.001, 10000000,
			"smallest rate; the window's floor is min_rate * T", 0},
};

#undef I

static const struct sx_cc_preset hpcc_presets[] = {
	{
		.name = "paper",
		.source = "Li et al., SIGCOMM 2019, sections 3.3 and 5 (eta 95%, maxStage 5, "
			  "W_AI = W_init (1 - eta) / N); min_rate from the authors' ns-3 "
			  "artifact (RdmaHw MinRate 100 Mb/s); T ours (8 us, scalex-sim's "
			  "two-tier base RTT)",
		.v = {
			[P_ETA] = 0.95,
			[P_MAX_STAGE] = 5,
			[P_WAI] = 80,
			[P_BASE_RTT] = 8,
			[P_MIN_RATE] = 100,
		},
	},
};

/* The previous ACK's records, as the wire carries them. */
struct hpcc_hop {
	uint32_t ts_ns;
	uint32_t tx_bytes;
	uint32_t qlen_bytes;
};

struct hpcc {
	double u;    /* U, normalized inflight bytes */
	double wc;   /* Wc, the reference window, bytes */
	double w;    /* W, bytes */
	uint64_t sent_bytes;  /* snd_nxt */
	uint64_t acked_bytes; /* ack.seq */
	uint64_t last_update_seq;
	uint32_t inc_stage;
	uint32_t nhops; /* in L; 0: no L yet */
	struct hpcc_hop L[SX_CC_INT_MAX_HOPS];
};
SX_CC_PRIV_FITS(struct hpcc);

static double
t_ns(const double *p)
{
	return p[P_BASE_RTT] * SX_CC_NS_PER_US;
}

static double
w_max(const struct sx_cc_state *s, const double *p)
{
	return (double)s->line_rate_bps / 8e9 * t_ns(p);
}

static double
w_min(const struct sx_cc_state *s, const double *p)
{
	double lo = p[P_MIN_RATE] * SX_CC_BPS_PER_MBPS / 8e9 * t_ns(p);
	double hi = w_max(s, p);

	return lo < hi ? lo : hi;
}

/* R = W / T, and the window the QP enforces. */
static void
grant(struct sx_cc_state *s, const struct hpcc *h, const double *p)
{
	s->cwnd_bytes = (uint64_t)(h->w + 0.5);
	if (s->cwnd_bytes == 0)
		s->cwnd_bytes = 1;
	s->rate_bps = sx_cc_rate_u64(h->w * 8e9 / t_ns(p), s->line_rate_bps);
}

static void
hpcc_init(struct sx_cc_state *s, const double *p, uint64_t line_rate_bps, uint64_t now_ns)
{
	struct hpcc *h = SX_CC_PRIV(s, struct hpcc);

	(void)now_ns;
	memset(s, 0, sizeof(*s));
	s->line_rate_bps = line_rate_bps > 0 ? line_rate_bps : 1;
	h->u = 1.0;
	h->w = h->wc = w_max(s, p);
	grant(s, h, p);
}

static void
hpcc_on_send(struct sx_cc_state *s, const double *p, uint32_t bytes, uint64_t now_ns)
{
	(void)p;
	(void)now_ns;
	SX_CC_PRIV(s, struct hpcc)->sent_bytes += bytes;
}

static void
hpcc_on_ack(struct sx_cc_state *s, const double *p, uint32_t acked_bytes, uint64_t rtt_ns,
	    uint64_t now_ns)
{
	(void)p;
	(void)rtt_ns;
	(void)now_ns;
	SX_CC_PRIV(s, struct hpcc)->acked_bytes += acked_bytes;
}

/* MeasureInflight: fold this ACK's most loaded hop into U. */
static void
measure_inflight(struct hpcc *h, const double *p, const struct sx_cc_int *in)
{
	double T = t_ns(p), u = -1.0, tau = 0.0;

	for (unsigned int i = 0; i < in->nhops; i++) {
		const struct sx_cc_int_hop *a = &in->hop[i];
		const struct hpcc_hop *l = &h->L[i];
		uint64_t dt = (a->ts_ns - l->ts_ns) & (SX_CC_INT_TS_WRAP_NS - 1);
		uint64_t db = (a->tx_bytes - l->tx_bytes) & (SX_CC_INT_TX_WRAP_BYTES - 1);
		uint64_t q = a->qlen_bytes < l->qlen_bytes ? a->qlen_bytes : l->qlen_bytes;
		double B, ui;

		if (dt == 0 || a->rate_bps == 0)
			continue;
		B = (double)a->rate_bps / 8e9; /* bytes per ns */
		ui = (double)q / (B * T) + (double)db / (double)dt / B;
		if (ui > u) {
			u = ui;
			tau = (double)dt;
		}
	}
	if (u < 0)
		return; /* no hop to measure */
	if (tau > T)
		tau = T;
	h->u = (1.0 - tau / T) * h->u + tau / T * u;
}

/* ComputeWind, then the clamp to [min_rate * T, B_nic * T]. */
static void
compute_wind(struct sx_cc_state *s, struct hpcc *h, const double *p, int update_wc)
{
	double lo = w_min(s, p), hi = w_max(s, p), w;

	if (h->u >= p[P_ETA] || h->inc_stage >= p[P_MAX_STAGE]) {
		w = h->u > 0 ? h->wc * p[P_ETA] / h->u + p[P_WAI] : hi;
		w = sx_cc_clamp(w, lo, hi);
		if (update_wc) {
			h->inc_stage = 0;
			h->wc = w;
		}
	} else {
		w = sx_cc_clamp(h->wc + p[P_WAI], lo, hi);
		if (update_wc) {
			if (h->inc_stage < UINT32_MAX)
				h->inc_stage++;
			h->wc = w;
		}
	}
	h->w = w;
}

static void
hpcc_on_int(struct sx_cc_state *s, const double *p, const struct sx_cc_int *in,
	    uint32_t acked_bytes, uint64_t now_ns)
{
	struct hpcc *h = SX_CC_PRIV(s, struct hpcc);
	unsigned int n = in->nhops;

	(void)now_ns;
	h->acked_bytes += acked_bytes;
	if (n == 0 || n > SX_CC_INT_MAX_HOPS)
		return; /* no telemetry: the window stays */
	if (h->nhops == n) {
		int update = h->acked_bytes > h->last_update_seq;

		measure_inflight(h, p, in);
		compute_wind(s, h, p, update);
		if (update)
			h->last_update_seq = h->sent_bytes;
		grant(s, h, p);
	}
	h->nhops = n;
	for (unsigned int i = 0; i < n; i++) {
		h->L[i].ts_ns = (uint32_t)(in->hop[i].ts_ns & (SX_CC_INT_TS_WRAP_NS - 1));
		h->L[i].tx_bytes = (uint32_t)(in->hop[i].tx_bytes & (SX_CC_INT_TX_WRAP_BYTES - 1));
		h->L[i].qlen_bytes = in->hop[i].qlen_bytes > UINT32_MAX
					     ? UINT32_MAX
					     : (uint32_t)in->hop[i].qlen_bytes;
	}
}

const struct sx_cc_ops sx_cc_hpcc = {
	.name = "hpcc",
	.params = hpcc_params,
	.nparams = NPARAMS,
	.presets = hpcc_presets,
	.npresets = sizeof(hpcc_presets) / sizeof(hpcc_presets[0]),
	.init = hpcc_init,
	.on_send = hpcc_on_send,
	.on_ack = hpcc_on_ack,
	.on_int = hpcc_on_int,
};
