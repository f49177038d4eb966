/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DCQCN reaction point: Zhu et al., "Congestion Control for Large-Scale
 * RDMA Deployments", SIGCOMM 2015, section 3 (the RP algorithm), with the
 * parameters and their semantics as NVIDIA/Mellanox ConnectX NICs expose
 * them (mlxconfig ROCE_CC_* / sysfs ecn/roce_rp, roce_np), so that an
 * operator's NIC settings mean the same thing here. docs/cc.md lists every
 * parameter, both presets and where each value comes from.
 *
 * Units: time in ns (parameters in us), rates in bit/s (parameters in
 * Mb/s), bytes; alpha is a plain fraction in [0, 1] here and a 2^-10 fixed
 * point (0..1024) in the parameters, as on the NIC.
 *
 * In short:
 *  - CNP: Rt <- Rc (see clamp_tgt_rate), Rc <- Rc (1 - alpha / 2) bounded
 *    by rpg_min_dec_fac, alpha <- (1 - g) alpha + g; the rate-increase
 *    timer, the byte counter and both stage counts restart.
 *  - Every dce_tcp_rtt without a CNP: alpha <- (1 - g) alpha.
 *  - Every rpg_time_reset (timer) and every rpg_byte_reset bytes sent (byte
 *    counter): one rate-increase event, fast recovery while both stage
 *    counts are <= F, hyper increase once both exceed F, additive increase
 *    in between.
 *  - Once Rc is back at line rate the rate limiter is released (as the NIC
 *    frees it): no timers run and the next CNP is a "first" CNP again.
 *
 * Alpha decays are computed lazily from the time of the last CNP, so a
 * limited QP wakes the engine only for rate increases (rpg_time_reset) and
 * coalesced cuts, not every dce_tcp_rtt.
 */
#include <math.h>
#include <string.h>

#include "cc_priv.h"

enum {
	P_TIME_RESET,
	P_BYTE_RESET,
	P_THRESHOLD,
	P_AI_RATE,
	P_HAI_RATE,
	P_GD,
	P_MIN_DEC_FAC,
	P_MIN_RATE,
	P_G,
	P_ALPHA_PERIOD,
	P_INITIAL_ALPHA,
	P_REDUCE_PERIOD,
	P_CLAMP,
	P_CLAMP_ATI,
	P_FIRST_CNP_RATE,
	P_MIN_TIME_CNPS,
	P_CNP_DSCP,
	P_CNP_PRIO,
	NPARAMS
};
_Static_assert(NPARAMS <= SX_CC_MAX_PARAMS, "DCQCN parameter table too large");

#define I SX_PARAM_INT

/* Defaults are the "nic" preset; ranges cover both presets and the NIC's fields. */
static const struct sx_param dcqcn_params[NPARAMS] = {
	[P_TIME_RESET] = {"rpg_time_reset", "us", 300, 1, 131071,
			  "rate-increase timer period T", I},
	[P_BYTE_RESET] = {"rpg_byte_reset", "bytes", 32767, 0, 1073741824,
			  "byte counter B: a rate-increase event every B bytes sent (0: off)", I},
	[P_THRESHOLD] = {"rpg_threshold", "events", 1, 1, 31,
			 "F: fast-recovery events before additive/hyper increase", I},
	[P_AI_RATE] = {"rpg_ai_rate", "Mb/s", 5, 0, 1000000,
		       "R_AI: target-rate step in additive increase", 0},
	[P_HAI_RATE] = {"rpg_hai_rate", "Mb/s", 50, 0, 1000000,
			"R_HAI: target-rate step in hyper increase (times i)", 0},
	[P_GD] = {"rpg_gd", "log2", 11, 0, 15,
		  "cut Rc by alpha/2^rpg_gd, alpha on the 2^10 scale (11: alpha/2)", I},
	[P_MIN_DEC_FAC] = {"rpg_min_dec_fac", "%", 50, 1, 100,
			   "a cut keeps at least this percentage of Rc (100: no cuts)", I},
	[P_MIN_RATE] = {"rpg_min_rate", "Mb/s", 1, 1, 1000000,
			"floor for the current and target rates", 0},
	[P_G] = {"dce_tcp_g", "1/1024", 1019, 0, 1023,
		 "alpha's memory: g = (1024 - dce_tcp_g) / 1024", I},
	[P_ALPHA_PERIOD] = {"dce_tcp_rtt", "us", 1, 1, 131071,
			    "alpha decays once per this period without a CNP", I},
	[P_INITIAL_ALPHA] = {"initial_alpha_value", "1/1024", 1023, 0, 1024,
			     "alpha on the first CNP of a flow (1024: alpha = 1)", I},
	[P_REDUCE_PERIOD] = {"rate_reduce_monitor_period", "us", 4, 0, 131071,
			     "at most one cut per period; later CNPs cut at its end (0: every CNP)",
			     I},
	[P_CLAMP] = {"clamp_tgt_rate", "bool", 0, 0, 1,
		     "1: every cut sets Rt <- Rc; 0: only after a rate increase", I},
	[P_CLAMP_ATI] = {"clamp_tgt_rate_after_time_inc", "bool", 1, 0, 1,
			 "with clamp_tgt_rate 0: a timer increase also lets the cut set Rt <- Rc",
			 I},
	[P_FIRST_CNP_RATE] = {"rate_to_set_on_first_cnp", "Mb/s", 0, 0, 1000000,
			      "Rc and Rt on a flow's first CNP instead of a cut (0: cut)", 0},
	[P_MIN_TIME_CNPS] = {"min_time_between_cnps", "us", 4, 0, 131071,
			     "notification point: at most one CNP per QP per this time", I},
	[P_CNP_DSCP] = {"cnp_dscp", "dscp", 48, 0, 63,
			"notification point: DSCP of the CNPs it sends", I},
	[P_CNP_PRIO] = {"cnp_802p_prio", "pcp", 6, 0, 7,
			"notification point: 802.1p priority of the CNPs it sends", I},
};

#undef I

static const struct sx_cc_preset dcqcn_presets[] = {
	{
		.name = "nic",
		.source = "NVIDIA ConnectX firmware defaults (mlxconfig ROCE_CC_* query)",
		.v = {
			[P_TIME_RESET] = 300,
			[P_BYTE_RESET] = 32767,
			[P_THRESHOLD] = 1,
			[P_AI_RATE] = 5,
			[P_HAI_RATE] = 50,
			[P_GD] = 11,
			[P_MIN_DEC_FAC] = 50,
			[P_MIN_RATE] = 1,
			[P_G] = 1019,
			[P_ALPHA_PERIOD] = 1,
			[P_INITIAL_ALPHA] = 1023,
			[P_REDUCE_PERIOD] = 4,
			[P_CLAMP] = 0,
			[P_CLAMP_ATI] = 1,
			[P_FIRST_CNP_RATE] = 0,
			[P_MIN_TIME_CNPS] = 4,
			[P_CNP_DSCP] = 48,
			[P_CNP_PRIO] = 6,
		},
	},
	{
		.name = "paper",
		.source = "Zhu et al., SIGCOMM 2015 (40 GbE): T 55 us, B 10 MB, F 5, "
			  "R_AI 40 Mb/s, g 1/256, K 55 us, CNP every 50 us",
		.v = {
			[P_TIME_RESET] = 55,
			[P_BYTE_RESET] = 10000000,
			[P_THRESHOLD] = 5,
			[P_AI_RATE] = 40,
			[P_HAI_RATE] = 400,
			[P_GD] = 11,
			[P_MIN_DEC_FAC] = 50,
			[P_MIN_RATE] = 1,
			[P_G] = 1020,
			[P_ALPHA_PERIOD] = 55,
			[P_INITIAL_ALPHA] = 1024,
			[P_REDUCE_PERIOD] = 0,
			[P_CLAMP] = 1,
			[P_CLAMP_ATI] = 1,
			[P_FIRST_CNP_RATE] = 0,
			[P_MIN_TIME_CNPS] = 50,
			[P_CNP_DSCP] = 48,
			[P_CNP_PRIO] = 6,
		},
	},
	{
		/*
		 * DCQCN as the HPCC paper ran it (Li et al., SIGCOMM'19, Fig. 11):
		 * the authors' ns-3 simulator, github.com/alibaba-edu/
		 * High-Precision-Congestion-Control at 9f4be2a, simulation/run.py
		 * line 104 (cc "dcqcn") with the template of lines 5-63, at
		 * --bw 100:
		 *  - RP_TIMER 300 us, no byte counter (rdma-hw.cc 683-697: the
		 *    timer alone drives increases; 0 turns ours off);
		 *  - FAST_RECOVERY_TIMES 1 (run.py 25; rdma-hw.cc 690: stage < 1
		 *    is fast recovery, ours counts the event first: t_stage <= 1);
		 *  - RATE_AI 5 * bw / 25 = 20 Mb/s, RATE_HAI 50 * bw / 25 =
		 *    200 Mb/s (run.py 100-101); MIN_RATE 1000 Mb/s (run.py 28);
		 *  - EWMA_GAIN 1/256 (g = (1024 - 1020) / 1024), ALPHA_RESUME_
		 *    INTERVAL 1 us, RATE_DECREASE_INTERVAL 4 us (at most one cut
		 *    per 4 us, rdma-hw.cc 655-680), CLAMP_TARGET_RATE 0 with Rt <-
		 *    Rc only after a timer increase (rdma-hw.cc 662-667: our
		 *    clamp_tgt_rate_after_time_inc 1); alpha = 1 on the first CNP
		 *    (rdma-hw.cc 643), whose cut is alpha / 2 (line 668).
		 *  - min_time_between_cnps 4 us: the ns-3 receiver flags every
		 *    ACK of a CE-marked packet (rdma-hw.cc 321-322) and the RP
		 *    cuts at most once per 4 us whatever the count; one CNP per
		 *    4 us gives the same cuts without a CNP per marked packet.
		 * The fabric it ran on (ECN 400/1600 KB at 100G, marking on
		 * dequeue, 32 MB shared buffers, go-back-N) is not a CC
		 * parameter: tools/sim/hpcc-websearch.sh sets it for this row.
		 */
		.name = "hpcc-paper",
		.source = "Li et al., SIGCOMM'19, the authors' ns-3 (run.py cc dcqcn, 100G): "
			  "T 300 us, no byte counter, F 1, R_AI 20 Mb/s, R_HAI 200 Mb/s, "
			  "min rate 1 Gb/s, g 1/256, alpha every 1 us, a cut per 4 us",
		.v = {
			[P_TIME_RESET] = 300,
			[P_BYTE_RESET] = 0,
			[P_THRESHOLD] = 1,
			[P_AI_RATE] = 20,
			[P_HAI_RATE] = 200,
			[P_GD] = 11,
			[P_MIN_DEC_FAC] = 50,
			[P_MIN_RATE] = 1000,
			[P_G] = 1020,
			[P_ALPHA_PERIOD] = 1,
			[P_INITIAL_ALPHA] = 1024,
			[P_REDUCE_PERIOD] = 4,
			[P_CLAMP] = 0,
			[P_CLAMP_ATI] = 1,
			[P_FIRST_CNP_RATE] = 0,
			[P_MIN_TIME_CNPS] = 4,
			[P_CNP_DSCP] = 48,
			[P_CNP_PRIO] = 6,
		},
	},
	{
		/* The NIC preset with the long-haul direction of docs/cc.md [12]:
		 * gentle cuts (at most 5%), Rt clamped to Rc on every cut, and
		 * rate-increase and alpha timers longer than a 50-500 km RTT.
		 * Ours, not [12]'s: at most one cut per 6 ms (the timers' period),
		 * since CNPs keep coming for a whole RTT after the queue forms
		 * and 5% cuts every 4 us over 5 ms took the rate to its floor
		 * (docs/longhaul.md, the 4:1 incast). */
		.name = "longhaul",
		.source = "nic, with Nawaz 2026 (ConnectX-7, 50-500 km): "
			  "min_dec_fac 95, clamp_tgt_rate 1, T 5-7 ms; "
			  "one cut per 6 ms ours",
		.v = {
			[P_TIME_RESET] = 6000,
			[P_BYTE_RESET] = 32767,
			[P_THRESHOLD] = 1,
			[P_AI_RATE] = 5,
			[P_HAI_RATE] = 50,
			[P_GD] = 11,
			[P_MIN_DEC_FAC] = 95,
			[P_MIN_RATE] = 1,
			[P_G] = 1019,
			[P_ALPHA_PERIOD] = 6000,
			[P_INITIAL_ALPHA] = 1023,
			[P_REDUCE_PERIOD] = 6000,
			[P_CLAMP] = 1,
			[P_CLAMP_ATI] = 1,
			[P_FIRST_CNP_RATE] = 0,
			[P_MIN_TIME_CNPS] = 4,
			[P_CNP_DSCP] = 48,
			[P_CNP_PRIO] = 6,
		},
	},
};

/* Bounds on the work one hook does when the engine was late or a send was huge. */
#define DCQCN_MAX_CATCHUP 1024
#define DCQCN_MAX_BYTE_EVENTS 64

struct dcqcn {
	double rc_bps;        /* current rate Rc */
	double rt_bps;        /* target rate Rt */
	double alpha;         /* congestion estimate, [0, 1] */
	uint64_t alpha_ns;    /* alpha is current as of this time (a period boundary) */
	uint64_t inc_due_ns;  /* next timer increase; SX_CC_NO_TIMER when not limited */
	uint64_t cut_due_ns;  /* coalesced cut; SX_CC_NO_TIMER when none is pending */
	uint64_t last_cut_ns;
	uint64_t bytes;       /* sent since the last byte-counter event */
	uint32_t t_stage;     /* timer events since the last cut */
	uint32_t bc_stage;    /* byte-counter events since the last cut */
	uint8_t limited;      /* a rate limiter is active: CNP seen, line rate not regained */
	uint8_t inc_timer;    /* the timer raised the rate since the last cut */
	uint8_t inc_bytes;    /* the byte counter raised the rate since the last cut */
};
SX_CC_PRIV_FITS(struct dcqcn);

static double
ceil_bps(const struct sx_cc_state *s)
{
	return (double)s->line_rate_bps;
}

static double
floor_bps(const struct sx_cc_state *s, const double *p)
{
	double f = p[P_MIN_RATE] * SX_CC_BPS_PER_MBPS;

	return f < ceil_bps(s) ? f : ceil_bps(s);
}

/* g from the NIC's dce_tcp_g: alpha = (dce_tcp_g / 1024) alpha + (1024 - dce_tcp_g) / 1024. */
static double
gain(const double *p)
{
	return (1024.0 - p[P_G]) / 1024.0;
}

static uint64_t
us_to_ns(double us)
{
	return (uint64_t)(us * SX_CC_NS_PER_US);
}

static void
sat_inc(uint32_t *c)
{
	if (*c < UINT32_MAX)
		(*c)++;
}

static void
publish(struct sx_cc_state *s, const struct dcqcn *d)
{
	s->rate_bps = sx_cc_rate_u64(d->rc_bps, s->line_rate_bps);
	s->target_bps = sx_cc_rate_u64(d->rt_bps, s->line_rate_bps);
	s->alpha = d->alpha;
}

/* The decays due by @now: one per whole dce_tcp_rtt since the last CNP or decay. */
static void
alpha_catch_up(struct dcqcn *d, const double *p, uint64_t now_ns)
{
	uint64_t period = us_to_ns(p[P_ALPHA_PERIOD]);
	uint64_t k;

	if (!d->limited || now_ns <= d->alpha_ns || period == 0)
		return;
	k = (now_ns - d->alpha_ns) / period;
	if (k == 0)
		return;
	/* alpha = (1 - g)^k * alpha: k periods without a CNP */
	d->alpha *= pow(1.0 - gain(p), (double)k);
	d->alpha_ns += k * period;
}

/* Timers and counters start over at a cut (or the first CNP's rate setting). */
static void
restart(struct dcqcn *d, const double *p, uint64_t now_ns)
{
	d->t_stage = 0;
	d->bc_stage = 0;
	d->bytes = 0;
	d->inc_timer = 0;
	d->inc_bytes = 0;
	d->last_cut_ns = now_ns;
	d->alpha_ns = now_ns;
	d->inc_due_ns = now_ns + us_to_ns(p[P_TIME_RESET]);
	d->cut_due_ns = SX_CC_NO_TIMER;
}

static void
release(struct sx_cc_state *s, struct dcqcn *d)
{
	d->rc_bps = ceil_bps(s);
	d->rt_bps = ceil_bps(s);
	d->limited = 0;
	d->inc_due_ns = SX_CC_NO_TIMER;
	d->cut_due_ns = SX_CC_NO_TIMER;
	d->bytes = 0;
}

/* The reaction to a CNP (or to the CNPs coalesced by rate_reduce_monitor_period). */
static void
cut(struct sx_cc_state *s, struct dcqcn *d, const double *p, uint64_t now_ns)
{
	double dec, rc, lo, g = gain(p);

	alpha_catch_up(d, p, now_ns);
	/*
	 * Rt <- Rc. The paper always does it (clamp_tgt_rate 1). The NIC's
	 * default does it only if the rate was raised since the previous cut,
	 * by the byte counter or, with clamp_tgt_rate_after_time_inc, by the
	 * timer: back-to-back cuts then keep the target from before the first.
	 */
	if (p[P_CLAMP] != 0 || d->inc_bytes || (p[P_CLAMP_ATI] != 0 && d->inc_timer))
		d->rt_bps = d->rc_bps;
	/*
	 * Rc <- Rc (1 - alpha_nic / Gd), alpha_nic = 1024 alpha, Gd = 2^rpg_gd:
	 * Rc <- Rc (1 - alpha 2^(10 - rpg_gd)); rpg_gd 11 is the paper's
	 * Rc (1 - alpha / 2). A factor above 1 (rpg_gd < 10) means "to zero",
	 * which the bound below turns into the deepest cut allowed.
	 */
	dec = d->alpha * ldexp(1.0, 10 - (int)p[P_GD]);
	if (dec > 1.0)
		dec = 1.0;
	rc = d->rc_bps * (1.0 - dec);
	/* Rc_new >= Rc * rpg_min_dec_fac / 100 */
	lo = d->rc_bps * (p[P_MIN_DEC_FAC] / 100.0);
	if (rc < lo)
		rc = lo;
	d->rc_bps = sx_cc_clamp(rc, floor_bps(s, p), ceil_bps(s));
	if (d->rt_bps < d->rc_bps)
		d->rt_bps = d->rc_bps;
	/* alpha = (1 - g) * alpha + g */
	d->alpha = (1.0 - g) * d->alpha + g;
	restart(d, p, now_ns);
}

/* One rate-increase event; the caller has counted it in t_stage or bc_stage. */
static void
increase(struct sx_cc_state *s, struct dcqcn *d, const double *p, int by_timer)
{
	double f = p[P_THRESHOLD];
	double hi = d->t_stage > d->bc_stage ? d->t_stage : d->bc_stage;
	double lo = d->t_stage < d->bc_stage ? d->t_stage : d->bc_stage;

	if (hi <= f) {
		/* fast recovery: Rc <- (Rt + Rc) / 2, below */
	} else if (lo > f) {
		/* hyper increase: Rt <- Rt + i R_HAI, i = min(T, BC) - F */
		d->rt_bps += (lo - f) * p[P_HAI_RATE] * SX_CC_BPS_PER_MBPS;
	} else {
		/* additive increase: Rt <- Rt + R_AI */
		d->rt_bps += p[P_AI_RATE] * SX_CC_BPS_PER_MBPS;
	}
	d->rt_bps = sx_cc_clamp(d->rt_bps, floor_bps(s, p), ceil_bps(s));
	/* Rc <- (Rt + Rc) / 2 */
	d->rc_bps = (d->rt_bps + d->rc_bps) / 2.0;
	/* Halving never closes the last ulp; call a gap under 1 bit/s closed. */
	if (d->rt_bps - d->rc_bps < 1.0)
		d->rc_bps = d->rt_bps;
	if (by_timer)
		d->inc_timer = 1;
	else
		d->inc_bytes = 1;
	if (d->rc_bps >= ceil_bps(s))
		release(s, d);
}

/* Everything due by @now, in time order (a cut before an increase at the same instant). */
static void
run_due(struct sx_cc_state *s, struct dcqcn *d, const double *p, uint64_t now_ns)
{
	unsigned int n;

	if (!d->limited)
		return;
	d->rc_bps = sx_cc_clamp(d->rc_bps, floor_bps(s, p), ceil_bps(s));
	d->rt_bps = sx_cc_clamp(d->rt_bps, d->rc_bps, ceil_bps(s));
	for (n = 0; n < DCQCN_MAX_CATCHUP && d->limited; n++) {
		uint64_t t;

		if (d->cut_due_ns != SX_CC_NO_TIMER && d->cut_due_ns <= now_ns &&
		    d->cut_due_ns <= d->inc_due_ns) {
			cut(s, d, p, d->cut_due_ns);
			continue;
		}
		if (d->inc_due_ns == SX_CC_NO_TIMER || d->inc_due_ns > now_ns)
			break;
		t = d->inc_due_ns;
		d->inc_due_ns = t + us_to_ns(p[P_TIME_RESET]);
		sat_inc(&d->t_stage);
		increase(s, d, p, 1);
	}
	/* The engine fell far behind: drop the increases it missed rather than jump. */
	if (d->limited && d->inc_due_ns <= now_ns)
		d->inc_due_ns = now_ns + us_to_ns(p[P_TIME_RESET]);
	alpha_catch_up(d, p, now_ns);
}

static void
dcqcn_init(struct sx_cc_state *s, const double *p, uint64_t line_rate_bps, uint64_t now_ns)
{
	struct dcqcn *d = SX_CC_PRIV(s, struct dcqcn);

	(void)now_ns;
	memset(s, 0, sizeof(*s));
	s->line_rate_bps = line_rate_bps > 0 ? line_rate_bps : 1;
	release(s, d);
	d->alpha = p[P_INITIAL_ALPHA] / 1024.0;
	publish(s, d);
}

static void
dcqcn_on_cnp(struct sx_cc_state *s, const double *p, uint64_t now_ns)
{
	struct dcqcn *d = SX_CC_PRIV(s, struct dcqcn);
	uint64_t period = us_to_ns(p[P_REDUCE_PERIOD]);
	double first = p[P_FIRST_CNP_RATE] * SX_CC_BPS_PER_MBPS;

	run_due(s, d, p, now_ns);
	if (!d->limited) {
		/* The first CNP allocates the rate limiter: alpha starts afresh. */
		d->limited = 1;
		d->alpha = p[P_INITIAL_ALPHA] / 1024.0;
		d->alpha_ns = now_ns;
		d->inc_timer = 0;
		d->inc_bytes = 0;
		if (first > 0) {
			d->rc_bps = sx_cc_clamp(first, floor_bps(s, p), ceil_bps(s));
			d->rt_bps = d->rc_bps;
			restart(d, p, now_ns);
		} else {
			cut(s, d, p, now_ns);
		}
	} else if (period == 0 || now_ns >= d->last_cut_ns + period) {
		cut(s, d, p, now_ns);
	} else {
		/* One cut per rate_reduce_monitor_period; this CNP restarts alpha's period. */
		d->cut_due_ns = d->last_cut_ns + period;
		d->alpha_ns = now_ns;
	}
	publish(s, d);
}

static void
dcqcn_on_send(struct sx_cc_state *s, const double *p, uint32_t bytes, uint64_t now_ns)
{
	struct dcqcn *d = SX_CC_PRIV(s, struct dcqcn);
	uint64_t b = (uint64_t)p[P_BYTE_RESET];
	unsigned int n;

	run_due(s, d, p, now_ns);
	if (d->limited && b > 0) {
		d->bytes += bytes;
		for (n = 0; n < DCQCN_MAX_BYTE_EVENTS && d->limited && d->bytes >= b; n++) {
			d->bytes -= b;
			sat_inc(&d->bc_stage);
			increase(s, d, p, 0);
		}
		if (d->bytes >= b)
			d->bytes %= b;
	}
	publish(s, d);
}

static void
dcqcn_on_timer(struct sx_cc_state *s, const double *p, uint64_t now_ns)
{
	struct dcqcn *d = SX_CC_PRIV(s, struct dcqcn);

	run_due(s, d, p, now_ns);
	publish(s, d);
}

static uint64_t
dcqcn_next_timer(const struct sx_cc_state *s, const double *p)
{
	const struct dcqcn *d = SX_CC_PRIV_CONST(s, struct dcqcn);

	(void)p;
	if (!d->limited)
		return SX_CC_NO_TIMER;
	return d->cut_due_ns < d->inc_due_ns ? d->cut_due_ns : d->inc_due_ns;
}

static void
dcqcn_np_config(const double *p, struct sx_cc_np *np)
{
	np->cnp_gap_ns = (uint64_t)(p[P_MIN_TIME_CNPS] * SX_CC_NS_PER_US);
	np->cnp_dscp = (uint8_t)p[P_CNP_DSCP];
	np->cnp_pcp = (uint8_t)p[P_CNP_PRIO];
}

const struct sx_cc_ops sx_cc_dcqcn = {
	.name = "dcqcn",
	.params = dcqcn_params,
	.nparams = NPARAMS,
	.presets = dcqcn_presets,
	.npresets = sizeof(dcqcn_presets) / sizeof(dcqcn_presets[0]),
	.init = dcqcn_init,
	.on_send = dcqcn_on_send,
	.on_cnp = dcqcn_on_cnp,
	.on_timer = dcqcn_on_timer,
	.next_timer = dcqcn_next_timer,
	.np_config = dcqcn_np_config,
};
