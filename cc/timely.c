/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TIMELY: Mittal et al., "TIMELY: RTT-based Congestion Control for the
 * Datacenter", SIGCOMM 2015, Algorithm 1 (section 4): the rate follows the
 * RTT gradient between two thresholds, additive increase below T_low,
 * multiplicative decrease above T_high. Default values are the paper's
 * (section 6) where it gives them; docs/cc.md says which are not.
 *
 * Units: RTT samples arrive in ns (on_ack) and are used in us, as the
 * parameters are; rates in bit/s (parameters in Mb/s).
 *
 * One rate update per completion event: here, the first RTT sample after
 * segment_bytes have been acknowledged since the previous update (0: every
 * sample). Two guards the paper leaves implicit: a gradient decrease never
 * cuts by more than beta (the deepest T_high cut), and the rate stays in
 * [min_rate, line rate].
 *
 * patched = 1 selects "Patched TIMELY": Zhu et al., "ECN or Delay: Lessons
 * Learnt from Analysis of DCQCN and TIMELY", CoNEXT 2016, section 4.3 and
 * its Algorithm 2. Algorithm 1 has no fixed point (or, with g < 0 for
 * g <= 0, infinitely many: any split of the link between the flows), so
 * its flows settle wherever they start. The patch replaces the two
 * gradient lines between T_low and T_high by one update driven by the
 * absolute RTT, which all flows of a bottleneck share, weighted by a
 * continuous function of the gradient: a unique fixed point, each flow at
 * C / N.
 */
#include <string.h>

#include "cc_priv.h"

enum {
	P_T_LOW,
	P_T_HIGH,
	P_DELTA,
	P_BETA,
	P_EWMA,
	P_HAI_THRESH,
	P_HAI_N,
	P_MIN_RTT,
	P_MIN_RATE,
	P_SEGMENT,
	P_PATCHED,
	P_PATCHED_BETA,
	P_RTT_REF,
	NPARAMS
};
_Static_assert(NPARAMS <= SX_CC_MAX_PARAMS, "TIMELY parameter table too large");

#define I SX_PARAM_INT

static const struct sx_param timely_params[NPARAMS] = {
	[P_T_LOW] = {"t_low", "us", 50, 0, 1000000,
		     "below this RTT: additive increase by delta", 0},
	[P_T_HIGH] = {"t_high", "us", 500, 1, 1000000,
		      "above this RTT: decrease by beta (1 - t_high / rtt)", 0},
	[P_DELTA] = {"delta", "Mb/s", 10, 0, 1000000, "additive increment step", 0},
	[P_BETA] = {"beta", "fraction", 0.8, 0, 1, "multiplicative decrement factor", 0},
	[P_EWMA] = {"ewma_alpha", "fraction", 0.46, 0, 1,
		    "weight of the newest RTT difference in the gradient's EWMA", 0},
	[P_HAI_THRESH] = {"hai_thresh", "events", 5, 1, 1000,
			  "negative gradients in a row before hyper-active increase", I},
	[P_HAI_N] = {"hai_n", "x delta", 5, 1, 1000,
		     "N: the increase is N delta in hyper-active increase", I},
	[P_MIN_RTT] = {"min_rtt", "us", 0, 0, 1000000,
		       "gradient normalization; 0: the smallest RTT sample seen", 0},
	[P_MIN_RATE] = {"min_rate", "Mb/s", 10, 1, 1000000, "floor for the rate", 0},
	[P_SEGMENT] = {"segment_bytes", "bytes", 16384, 0, 1073741824,
		       "acknowledged bytes per rate update (0: every RTT sample)", I},
	[P_PATCHED] = {"patched", "0/1", 0, 0, 1,
		       "1: Patched TIMELY (Zhu et al., CoNEXT 2016) between t_low and t_high", I},
	[P_PATCHED_BETA] = {"patched_beta", "fraction", 0.008, 0, 1,
			    "patched: decrement factor of the delay-error update", 0},
	[P_RTT_REF] = {"rtt_ref", "us", 0, 0, 1000000,
		       "patched: reference RTT of the delay error; 0: t_low", 0},
};

#undef I

static const struct sx_cc_preset timely_presets[] = {
	{
		.name = "paper",
		.source = "Mittal et al., SIGCOMM 2015, section 6 and Algorithm 1; "
			  "ewma_alpha from eRPC (the paper gives none)",
		.v = {
			[P_T_LOW] = 50,
			[P_T_HIGH] = 500,
			[P_DELTA] = 10,
			[P_BETA] = 0.8,
			[P_EWMA] = 0.46,
			[P_HAI_THRESH] = 5,
			[P_HAI_N] = 5,
			[P_MIN_RTT] = 0,
			[P_MIN_RATE] = 10,
			[P_SEGMENT] = 16384,
			[P_PATCHED] = 0,
			[P_PATCHED_BETA] = 0.008,
			[P_RTT_REF] = 0,
		},
	},
	{
		.name = "patched",
		.source = "Zhu et al., CoNEXT 2016, section 4.3 and Algorithm 2: beta 0.008 "
			  "for the patched update, RTT_ref = T_low, 16 KB segments, the other "
			  "values TIMELY's",
		.v = {
			[P_T_LOW] = 50,
			[P_T_HIGH] = 500,
			[P_DELTA] = 10,
			[P_BETA] = 0.8,
			[P_EWMA] = 0.46,
			[P_HAI_THRESH] = 5,
			[P_HAI_N] = 5,
			[P_MIN_RTT] = 0,
			[P_MIN_RATE] = 10,
			[P_SEGMENT] = 16384,
			[P_PATCHED] = 1,
			[P_PATCHED_BETA] = 0.008,
			[P_RTT_REF] = 0,
		},
	},
};

/* Smallest normalization, so that the gradient stays finite on a 0 us RTT spread. */
#define TIMELY_MIN_RTT_FLOOR_US 0.001

struct timely {
	double rate_bps;
	double prev_rtt_us;  /* 0 before the first sample */
	double rtt_diff_us;  /* EWMA of successive RTT differences */
	double min_rtt_us;   /* smallest sample seen, 0 before the first */
	uint64_t acked;      /* bytes acknowledged since the last update */
	uint32_t neg_count;  /* updates in a row with a negative gradient */
};
SX_CC_PRIV_FITS(struct timely);

static double
floor_bps(const struct sx_cc_state *s, const double *p)
{
	double f = p[P_MIN_RATE] * SX_CC_BPS_PER_MBPS;

	return f < (double)s->line_rate_bps ? f : (double)s->line_rate_bps;
}

static void
publish(struct sx_cc_state *s, const struct timely *t)
{
	s->rate_bps = sx_cc_rate_u64(t->rate_bps, s->line_rate_bps);
}

/*
 * Patched TIMELY's update between T_low and T_high (Zhu et al., Algorithm 2):
 *   weight = w(gradient), error = (new_rtt - RTT_ref) / RTT_ref,
 *   rate = delta (1 - weight) + rate (1 - beta' weight error).
 * w(g) = 0 for g <= -1/4, 2 g + 1/2 between, 1 for g >= 1/4 (their
 * equation for w_i): at the fixed point g = 0, w = 1/2. RTT_ref is T_low
 * unless set (the paper's reference queue q' = C T_low). No cap: an error
 * above 1 / beta' gives a negative rate, which the caller clamps to
 * min_rate, as the formula says.
 */
static double
patched_rate(double rate, double gradient, double rtt_us, const double *p)
{
	double delta = p[P_DELTA] * SX_CC_BPS_PER_MBPS;
	double ref = p[P_RTT_REF] > 0 ? p[P_RTT_REF] : p[P_T_LOW];
	double w, error;

	if (ref < TIMELY_MIN_RTT_FLOOR_US)
		ref = TIMELY_MIN_RTT_FLOOR_US;
	if (gradient <= -0.25)
		w = 0;
	else if (gradient >= 0.25)
		w = 1;
	else
		w = 2 * gradient + 0.5;
	error = (rtt_us - ref) / ref;
	return delta * (1 - w) + rate * (1 - p[P_PATCHED_BETA] * w * error);
}

/* Algorithm 1, for one RTT sample. */
static void
update(struct sx_cc_state *s, struct timely *t, const double *p, double rtt_us)
{
	double a = p[P_EWMA], beta = p[P_BETA], delta = p[P_DELTA] * SX_CC_BPS_PER_MBPS;
	double new_rtt_diff, min_rtt, gradient, rate = t->rate_bps;

	if (t->min_rtt_us == 0 || rtt_us < t->min_rtt_us)
		t->min_rtt_us = rtt_us;
	if (t->prev_rtt_us == 0)
		t->prev_rtt_us = rtt_us;
	/* new_rtt_diff = new_rtt - prev_rtt */
	new_rtt_diff = rtt_us - t->prev_rtt_us;
	t->prev_rtt_us = rtt_us;
	/* rtt_diff = (1 - alpha) rtt_diff + alpha new_rtt_diff */
	t->rtt_diff_us = (1.0 - a) * t->rtt_diff_us + a * new_rtt_diff;
	/* normalized_gradient = rtt_diff / minRTT */
	min_rtt = p[P_MIN_RTT] > 0 ? p[P_MIN_RTT] : t->min_rtt_us;
	if (min_rtt < TIMELY_MIN_RTT_FLOOR_US)
		min_rtt = TIMELY_MIN_RTT_FLOOR_US;
	gradient = t->rtt_diff_us / min_rtt;
	if (gradient < 0) {
		if (t->neg_count < UINT32_MAX)
			t->neg_count++;
	} else {
		t->neg_count = 0;
	}

	if (rtt_us < p[P_T_LOW]) {
		/* rate = rate + delta */
		rate += delta;
	} else if (rtt_us > p[P_T_HIGH]) {
		/* rate = rate (1 - beta (1 - T_high / new_rtt)) */
		rate *= 1.0 - beta * (1.0 - p[P_T_HIGH] / rtt_us);
	} else if (p[P_PATCHED] != 0) {
		rate = patched_rate(rate, gradient, rtt_us, p);
	} else if (gradient <= 0) {
		/* rate = rate + N delta, N = hai_n after hai_thresh negative gradients, else 1 */
		double n = t->neg_count >= p[P_HAI_THRESH] ? p[P_HAI_N] : 1.0;

		rate += n * delta;
	} else {
		/* rate = rate (1 - beta normalized_gradient), the cut at most beta */
		double dec = beta * gradient;

		rate *= 1.0 - (dec < beta ? dec : beta);
	}
	t->rate_bps = sx_cc_clamp(rate, floor_bps(s, p), (double)s->line_rate_bps);
}

static void
timely_init(struct sx_cc_state *s, const double *p, uint64_t line_rate_bps, uint64_t now_ns)
{
	struct timely *t = SX_CC_PRIV(s, struct timely);

	(void)p;
	(void)now_ns;
	memset(s, 0, sizeof(*s));
	s->line_rate_bps = line_rate_bps > 0 ? line_rate_bps : 1;
	t->rate_bps = (double)s->line_rate_bps;
	publish(s, t);
}

static void
timely_on_ack(struct sx_cc_state *s, const double *p, uint32_t acked_bytes, uint64_t rtt_ns,
	      uint64_t now_ns)
{
	struct timely *t = SX_CC_PRIV(s, struct timely);
	uint64_t seg = (uint64_t)p[P_SEGMENT];

	(void)now_ns;
	t->acked += acked_bytes;
	if (rtt_ns == 0 || t->acked < seg)
		return;
	t->acked = 0;
	update(s, t, p, (double)rtt_ns / SX_CC_NS_PER_US);
	publish(s, t);
}

const struct sx_cc_ops sx_cc_timely = {
	.name = "timely",
	.params = timely_params,
	.nparams = NPARAMS,
	.presets = timely_presets,
	.npresets = sizeof(timely_presets) / sizeof(timely_presets[0]),
	.init = timely_init,
	.on_ack = timely_on_ack,
};
