/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control against a fake clock: tables of expected steps
 * {at, event, rate, target, alpha} for DCQCN and TIMELY (quicly's t/ style),
 * the bounds every algorithm keeps under every parameter at its extremes,
 * the parameter API and the registry, and docs/cc.md kept in step with the
 * parameter tables.
 *
 * Run with --doc to print the parameter tables docs/cc.md carries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cc.h"

#define US    1000ull
#define MS    1000000ull
#define GBPS  1e9
#define T0    (1 * MS) /* every trace starts here, so that t = 0 is never special */
#define NOCHK (-1.0)

enum step_ev {
	EV_CNP,
	EV_TIMER, /* the step's time must be what next_timer() announced */
	EV_SEND,
	EV_ACK,
};

static const char *const step_ev_name[] = {"cnp", "timer", "send", "ack"};

struct step {
	uint64_t at_ns; /* after T0 */
	enum step_ev ev;
	uint32_t bytes;  /* send, ack */
	uint64_t rtt_ns; /* ack */
	double rate_bps;
	double target_bps; /* NOCHK: not checked */
	double alpha;      /* NOCHK: not checked */
};

struct sim {
	const struct sx_cc_ops *ops;
	struct sx_cc_params cp;
	struct sx_cc_state s;
};

static void
sim_init(struct sim *m, const char *algo, const char *preset)
{
	m->ops = sx_cc_find(algo);
	assert_non_null(m->ops);
	sx_cc_params_init(&m->cp, m->ops);
	if (preset != NULL)
		assert_int_equal(sx_cc_params_preset(&m->cp, preset), 0);
}

static void
sim_set(struct sim *m, const char *name, double v)
{
	assert_int_equal(sx_cc_params_set(&m->cp, name, v), 0);
}

static void
sim_start(struct sim *m, uint64_t line_bps)
{
	m->ops->init(&m->s, m->cp.v, line_bps, T0);
	assert_int_equal(m->s.rate_bps, line_bps);
}

static int
close_to(double got, double want, double abs_tol)
{
	return fabs(got - want) <= abs_tol + 1e-12 * fabs(want);
}

static void
run_steps(struct sim *m, const struct step *st, size_t n)
{
	for (size_t i = 0; i < n; i++, st++) {
		uint64_t at = T0 + st->at_ns;
		const double *v = m->cp.v;

		switch (st->ev) {
		case EV_CNP:
			m->ops->on_cnp(&m->s, v, at);
			break;
		case EV_TIMER:
			if (m->ops->next_timer(&m->s, v) != at) {
				print_error("step %zu: timer due at %llu ns after T0, want %llu\n", i,
					    (unsigned long long)(m->ops->next_timer(&m->s, v) - T0),
					    (unsigned long long)st->at_ns);
				fail();
			}
			m->ops->on_timer(&m->s, v, at);
			break;
		case EV_SEND:
			m->ops->on_send(&m->s, v, st->bytes, at);
			break;
		case EV_ACK:
			m->ops->on_ack(&m->s, v, st->bytes, st->rtt_ns, at);
			break;
		}
		if (!close_to((double)m->s.rate_bps, st->rate_bps, 1.0) ||
		    (st->target_bps != NOCHK &&
		     !close_to((double)m->s.target_bps, st->target_bps, 1.0)) ||
		    (st->alpha != NOCHK && !close_to(m->s.alpha, st->alpha, 0))) {
			print_error("step %zu (%s at +%llu ns): rate %llu target %llu alpha %.17g,"
				    " want %.17g %.17g %.17g\n",
				    i, step_ev_name[st->ev], (unsigned long long)st->at_ns,
				    (unsigned long long)m->s.rate_bps,
				    (unsigned long long)m->s.target_bps, m->s.alpha, st->rate_bps,
				    st->target_bps, st->alpha);
			fail();
		}
	}
}

/* (1 - g)^k for the paper's g = 1/256 (dce_tcp_g 1020). */
#define PA(k) pow(1020.0 / 1024.0, k)

/*
 * One CNP at line rate, none after (paper preset, 100 Gb/s, alpha = 1):
 * the cut halves Rc and leaves alpha at 1; five fast-recovery events halve
 * the gap to Rt; then additive increase, whose Rt step is capped by the line
 * rate since Rt already is the line rate. Alpha decays once per 55 us.
 */
static void
test_dcqcn_golden_one_cnp(void **state)
{
	static const struct step steps[] = {
		{0, EV_CNP, 0, 0, 50e9, 100e9, 1.0},
		{55 * US, EV_TIMER, 0, 0, 75e9, 100e9, NOCHK},
		{110 * US, EV_TIMER, 0, 0, 87.5e9, 100e9, NOCHK},
		{165 * US, EV_TIMER, 0, 0, 93.75e9, 100e9, NOCHK},
		{220 * US, EV_TIMER, 0, 0, 96.875e9, 100e9, NOCHK},
		{275 * US, EV_TIMER, 0, 0, 98.4375e9, 100e9, NOCHK},
		{330 * US, EV_TIMER, 0, 0, 99.21875e9, 100e9, NOCHK},
		{385 * US, EV_TIMER, 0, 0, 99.609375e9, 100e9, NOCHK},
	};
	struct sim m;
	struct step st[sizeof(steps) / sizeof(steps[0])];

	(void)state;
	memcpy(st, steps, sizeof(st));
	for (size_t i = 1; i < sizeof(st) / sizeof(st[0]); i++)
		st[i].alpha = PA((double)i); /* one decay per 55 us */
	sim_init(&m, "dcqcn", "paper");
	sim_start(&m, 100e9);
	run_steps(&m, st, sizeof(st) / sizeof(st[0]));
}

/*
 * Two CNPs 10 us apart: the second sets Rt to 50 Gb/s (clamp_tgt_rate 1) and
 * halves Rc to 25; fast recovery for F = 5 events, then additive increase
 * moves Rt by R_AI = 40 Mb/s per event.
 */
static void
test_dcqcn_golden_additive(void **state)
{
	const uint64_t c = 10 * US, t = 55 * US;
	const struct step st[] = {
		{0, EV_CNP, 0, 0, 50e9, 100e9, 1.0},
		{c, EV_CNP, 0, 0, 25e9, 50e9, 1.0},
		{c + 1 * t, EV_TIMER, 0, 0, 37.5e9, 50e9, PA(1)},
		{c + 2 * t, EV_TIMER, 0, 0, 43.75e9, 50e9, PA(2)},
		{c + 3 * t, EV_TIMER, 0, 0, 46.875e9, 50e9, PA(3)},
		{c + 4 * t, EV_TIMER, 0, 0, 48.4375e9, 50e9, PA(4)},
		{c + 5 * t, EV_TIMER, 0, 0, 49.21875e9, 50e9, PA(5)},
		{c + 6 * t, EV_TIMER, 0, 0, 49.629375e9, 50.04e9, PA(6)},
		{c + 7 * t, EV_TIMER, 0, 0, 49.8546875e9, 50.08e9, PA(7)},
		{c + 8 * t, EV_TIMER, 0, 0, 49.98734375e9, 50.12e9, PA(8)},
	};
	struct sim m;

	(void)state;
	sim_init(&m, "dcqcn", "paper");
	sim_start(&m, 100e9);
	run_steps(&m, st, sizeof(st) / sizeof(st[0]));
}

/*
 * Timer and byte counter together, F = 1: fast recovery while both stage
 * counts are <= 1, additive increase once one passes F, hyper increase by
 * i R_HAI (i = min(T, BC) - F) once both do.
 */
static void
test_dcqcn_hyper_increase(void **state)
{
	const uint64_t c = 1 * US, t = 55 * US;
	const struct step st[] = {
		{0, EV_CNP, 0, 0, 50e9, 100e9, 1.0},
		{c, EV_CNP, 0, 0, 25e9, 50e9, 1.0},
		{2 * US, EV_SEND, 1000, 0, 37.5e9, 50e9, 1.0},            /* BC 1: FR */
		{c + t, EV_TIMER, 0, 0, 43.75e9, 50e9, PA(1)},           /* T 1: FR */
		{c + t + US, EV_SEND, 1000, 0, 47.375e9, 51e9, PA(1)},   /* BC 2: AI */
		{c + 2 * t, EV_TIMER, 0, 0, 54.1875e9, 61e9, PA(2)},     /* T 2: HAI i 1 */
		{c + 2 * t + US, EV_SEND, 1000, 0, 62.59375e9, 71e9, PA(2)}, /* BC 3: i 1 */
		{c + 2 * t + 2 * US, EV_SEND, 2000, 0, 81.3984375e9, 91e9, PA(2)}, /* BC 4, 5 */
		{c + 3 * t, EV_TIMER, 0, 0, 90.69921875e9, 100e9, PA(3)}, /* T 3: i 2, capped */
	};
	struct sim m;

	(void)state;
	sim_init(&m, "dcqcn", "paper");
	sim_set(&m, "rpg_threshold", 1);
	sim_set(&m, "rpg_byte_reset", 1000);
	sim_set(&m, "rpg_ai_rate", 1000);
	sim_set(&m, "rpg_hai_rate", 10000);
	sim_start(&m, 100e9);
	run_steps(&m, st, sizeof(st) / sizeof(st[0]));
}

/* The NIC defaults: alpha 1023/1024 cuts to 1025/2048; rpg_byte_reset bytes make one event. */
static void
test_dcqcn_byte_counter(void **state)
{
	const double rc1 = 100e9 * 1025.0 / 2048.0;
	const double a1 = (1019.0 / 1024.0) * (1023.0 / 1024.0) + 5.0 / 1024.0;
	const struct step st[] = {
		{0, EV_CNP, 0, 0, rc1, 100e9, a1},
		{100, EV_SEND, 32766, 0, rc1, 100e9, a1},
		{200, EV_SEND, 1, 0, (100e9 + rc1) / 2, 100e9, a1},
		{300, EV_SEND, 32766, 0, (100e9 + rc1) / 2, 100e9, a1},
	};
	struct sim m;

	(void)state;
	sim_init(&m, "dcqcn", NULL); /* presets[0], "nic" */
	sim_start(&m, 100e9);
	run_steps(&m, st, sizeof(st) / sizeof(st[0]));
}

/*
 * rate_reduce_monitor_period 4 us: a CNP 0.5 us after a cut waits for the
 * period's end, and the CNPs in between add nothing. Each CNP restarts
 * alpha's period (dce_tcp_rtt 1 us): the last one came at 1.2 us, so the
 * cut at 4 us sees two decays.
 */
static void
test_dcqcn_monitor_period(void **state)
{
	const double g = 5.0 / 1024.0, a0 = 1023.0 / 1024.0;
	const double rc1 = 100e9 * (1 - a0 / 2), a1 = (1 - g) * a0 + g;
	const double a_cut = a1 * pow(1 - g, 2);
	const double rc2 = rc1 * (1 - a_cut / 2), a2 = (1 - g) * a_cut + g;
	const struct step st[] = {
		{0, EV_CNP, 0, 0, rc1, 100e9, a1},
		{500, EV_CNP, 0, 0, rc1, 100e9, a1},
		{1200, EV_CNP, 0, 0, rc1, 100e9, a1},
		{4 * US, EV_TIMER, 0, 0, rc2, 100e9, a2},
	};
	struct sim m;

	(void)state;
	sim_init(&m, "dcqcn", "nic");
	sim_start(&m, 100e9);
	run_steps(&m, st, sizeof(st) / sizeof(st[0]));
	/* Next: the rate-increase timer, rpg_time_reset after the second cut. */
	assert_int_equal(m.ops->next_timer(&m.s, m.cp.v), T0 + 4 * US + 300 * US);
}

/*
 * clamp_tgt_rate 0: a cut keeps Rt unless the rate was raised since the
 * previous cut; a timer increase counts only with
 * clamp_tgt_rate_after_time_inc, a byte-counter increase always.
 */
static void
test_dcqcn_clamp_target(void **state)
{
	struct sim m;
	uint64_t t, before;

	(void)state;
	for (int ati = 0; ati <= 1; ati++) {
		sim_init(&m, "dcqcn", "nic");
		sim_set(&m, "clamp_tgt_rate_after_time_inc", ati);
		sim_set(&m, "rpg_byte_reset", 0);
		sim_start(&m, 100e9);
		m.ops->on_cnp(&m.s, m.cp.v, T0);
		m.ops->on_cnp(&m.s, m.cp.v, T0 + 10 * US);
		assert_int_equal(m.s.target_bps, 100e9); /* no increase in between */
		t = m.ops->next_timer(&m.s, m.cp.v);
		m.ops->on_timer(&m.s, m.cp.v, t);
		before = m.s.rate_bps;
		m.ops->on_cnp(&m.s, m.cp.v, t + 10 * US);
		assert_int_equal(m.s.target_bps, ati ? before : 100e9);
	}
	/* A byte-counter increase moves the target even with ati 0. */
	sim_init(&m, "dcqcn", "nic");
	sim_set(&m, "clamp_tgt_rate_after_time_inc", 0);
	sim_start(&m, 100e9);
	m.ops->on_cnp(&m.s, m.cp.v, T0);
	m.ops->on_send(&m.s, m.cp.v, 32767, T0 + 10 * US);
	before = m.s.rate_bps;
	m.ops->on_cnp(&m.s, m.cp.v, T0 + 20 * US);
	assert_int_equal(m.s.target_bps, before);
}

static void
test_dcqcn_first_cnp_rate(void **state)
{
	struct sim m;

	(void)state;
	sim_init(&m, "dcqcn", "nic");
	sim_set(&m, "rate_to_set_on_first_cnp", 10000);
	sim_start(&m, 100e9);
	m.ops->on_cnp(&m.s, m.cp.v, T0);
	assert_int_equal(m.s.rate_bps, 10e9);
	assert_int_equal(m.s.target_bps, 10e9);
	assert_true(m.s.alpha == 1023.0 / 1024.0);
	/* The next CNP is an ordinary cut. */
	m.ops->on_cnp(&m.s, m.cp.v, T0 + 10 * US);
	assert_true(m.s.rate_bps < 10e9 && m.s.rate_bps > 4.9e9);
}

/* rpg_min_dec_fac bounds one cut: Rc_new >= Rc * fac / 100. */
static void
test_dcqcn_min_dec_fac(void **state)
{
	static const struct {
		double fac, gd, want_bps;
	} cases[] = {
		{80, 11, 80e9},  /* alpha/2 would give 50 */
		{50, 11, 50e9},  /* does not bind */
		{100, 11, 100e9}, /* no cuts at all */
		{50, 9, 50e9},   /* alpha * 2: "to zero", bounded */
		{1, 9, 1e9},     /* the deepest cut allowed */
		{30, 10, 30e9},  /* alpha * 1 */
	};
	struct sim m;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sim_init(&m, "dcqcn", "paper");
		sim_set(&m, "rpg_min_dec_fac", cases[i].fac);
		sim_set(&m, "rpg_gd", cases[i].gd);
		sim_start(&m, 100e9);
		m.ops->on_cnp(&m.s, m.cp.v, T0);
		assert_int_equal(m.s.rate_bps, cases[i].want_bps);
	}
}

/* A CNP every microsecond: down to rpg_min_rate, never below it, and back to line rate. */
static void
test_dcqcn_floor_and_ceiling(void **state)
{
	struct sim m;
	uint64_t now = T0, t;
	int n;

	(void)state;
	sim_init(&m, "dcqcn", "paper");
	sim_set(&m, "rpg_min_rate", 1000);
	sim_start(&m, 100e9);
	for (n = 0; n < 200; n++, now += US) {
		m.ops->on_cnp(&m.s, m.cp.v, now);
		assert_true(m.s.rate_bps >= 1e9 && m.s.rate_bps <= 100e9);
		assert_true(m.s.target_bps >= m.s.rate_bps && m.s.target_bps <= 100e9);
	}
	assert_int_equal(m.s.rate_bps, 1e9);
	/* Recovery by timer and byte counter, to exactly line rate, then no timers. */
	for (n = 0; n < 100000 && m.ops->next_timer(&m.s, m.cp.v) != SX_CC_NO_TIMER; n++) {
		t = m.ops->next_timer(&m.s, m.cp.v);
		assert_true(t > now);
		m.ops->on_send(&m.s, m.cp.v, 4096, t - 1);
		m.ops->on_timer(&m.s, m.cp.v, t);
		now = t;
		assert_true(m.s.rate_bps >= 1e9 && m.s.rate_bps <= 100e9);
	}
	assert_int_equal(m.ops->next_timer(&m.s, m.cp.v), SX_CC_NO_TIMER);
	assert_int_equal(m.s.rate_bps, 100e9);
	assert_int_equal(m.s.target_bps, 100e9);
}

/*
 * An engine that wakes 10 s late: bounded work, no rate above the target,
 * the next increase one period ahead, alpha decayed for all 10^7 periods.
 * (R_AI 0 and Rt at 50 Gb/s keep the limiter active throughout.)
 */
static void
test_dcqcn_late_timer(void **state)
{
	const uint64_t late = T0 + 10000 * MS;
	struct sim m;

	(void)state;
	sim_init(&m, "dcqcn", "nic");
	sim_set(&m, "clamp_tgt_rate", 1);
	sim_set(&m, "rpg_ai_rate", 0);
	sim_set(&m, "rpg_byte_reset", 0);
	sim_set(&m, "initial_alpha_value", 1024);
	sim_start(&m, 100e9);
	m.ops->on_cnp(&m.s, m.cp.v, T0);
	m.ops->on_cnp(&m.s, m.cp.v, T0 + 10 * US);
	assert_int_equal(m.s.target_bps, 50e9);
	m.ops->on_timer(&m.s, m.cp.v, late);
	assert_int_equal(m.s.rate_bps, 50e9);
	assert_int_equal(m.s.target_bps, 50e9);
	assert_int_equal(m.ops->next_timer(&m.s, m.cp.v), late + 300 * US);
	assert_true(m.s.alpha >= 0 && m.s.alpha < 1e-100);
}

/*
 * TIMELY, Algorithm 1, per sample (segment_bytes 0), minRTT 100 us,
 * 10 Gb/s: T_high decrease, T_low additive increase, negative gradient
 * additive then hyper-active (N = 5 after 5 in a row), positive gradient
 * decrease by beta * gradient, capped at beta when the gradient exceeds 1.
 */
static void
test_timely_steps(void **state)
{
	const struct step st[] = {
		{10 * US, EV_ACK, 4096, 1000 * US, 6e9, NOCHK, NOCHK},  /* 1 - 0.8 (1 - 500/1000) */
		{20 * US, EV_ACK, 4096, 20 * US, 6.01e9, NOCHK, NOCHK}, /* < T_low: + delta */
		{30 * US, EV_ACK, 4096, 100 * US, 6.02e9, NOCHK, NOCHK}, /* gradient < 0 */
		{40 * US, EV_ACK, 4096, 100 * US, 6.03e9, NOCHK, NOCHK},
		{50 * US, EV_ACK, 4096, 100 * US, 6.04e9, NOCHK, NOCHK},
		{60 * US, EV_ACK, 4096, 100 * US, 6.09e9, NOCHK, NOCHK}, /* 5th: + 5 delta */
		{70 * US, EV_ACK, 4096, 100 * US, 6.14e9, NOCHK, NOCHK},
		{80 * US, EV_ACK, 4096, 200 * US, 4346521655.7187929, NOCHK, NOCHK},
		{90 * US, EV_ACK, 4096, 200 * US, 3660933393.5462012, NOCHK, NOCHK},
		{100 * US, EV_ACK, 4096, 150 * US, 3670933393.5462012, NOCHK, NOCHK},
		{110 * US, EV_ACK, 4096, 400 * US, 734186678.70924008, NOCHK, NOCHK}, /* cap */
		{120 * US, EV_ACK, 4096, 2000 * US, 293674671.48369598, NOCHK, NOCHK},
		{130 * US, EV_ACK, 4096, 0, 293674671.48369598, NOCHK, NOCHK}, /* no sample */
	};
	struct sim m;

	(void)state;
	sim_init(&m, "timely", "paper");
	sim_set(&m, "segment_bytes", 0);
	sim_set(&m, "min_rtt", 100);
	sim_start(&m, 10e9);
	run_steps(&m, st, sizeof(st) / sizeof(st[0]));
}

/* One update per segment_bytes acknowledged; the rate stays in [min_rate, line]. */
static void
test_timely_segment_and_bounds(void **state)
{
	struct sim m;
	uint64_t now = T0;

	(void)state;
	sim_init(&m, "timely", NULL);
	sim_start(&m, 10e9);
	m.ops->on_ack(&m.s, m.cp.v, 8192, 1000 * US, now += US);
	assert_int_equal(m.s.rate_bps, 10e9);
	m.ops->on_ack(&m.s, m.cp.v, 8192, 1000 * US, now += US);
	assert_int_equal(m.s.rate_bps, 6e9);
	for (int i = 0; i < 1000; i++) {
		m.ops->on_ack(&m.s, m.cp.v, 16384, 10 * MS, now += US);
		assert_true(m.s.rate_bps >= 10e6);
	}
	assert_int_equal(m.s.rate_bps, 10e6);
	for (int i = 0; i < 100000; i++)
		m.ops->on_ack(&m.s, m.cp.v, 16384, 5 * US, now += US);
	assert_int_equal(m.s.rate_bps, 10e9);
}

static void
test_fixed(void **state)
{
	struct sim m;

	(void)state;
	sim_init(&m, "fixed", NULL);
	sim_start(&m, 100e9);
	assert_int_equal(sx_cc_params_set(&m.cp, "rate_gbps", 25), 0);
	m.ops->on_send(&m.s, m.cp.v, 4096, T0 + 1);
	assert_int_equal(m.s.rate_bps, 25e9);
	assert_int_equal(sx_cc_params_set(&m.cp, "rate_gbps", 400), 0);
	m.ops->on_ack(&m.s, m.cp.v, 4096, 10 * US, T0 + 2);
	assert_int_equal(m.s.rate_bps, 100e9);
}

/* ---- every algorithm, every parameter at its min and max ---- */

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static const struct {
	const char *algo;
	const char *min_rate; /* parameter, Mb/s; NULL: the floor is 1 bit/s */
} floors[] = {
	{"dcqcn", "rpg_min_rate"},
	{"timely", "min_rate"},
	{"fixed", NULL},
};

/* After an on_timer call (@timer_ran) nothing may be due any more. */
static void
check_bounds(const struct sim *m, double floor_bps, uint64_t line, uint64_t now, const char *what,
	     int timer_ran)
{
	const struct sx_cc_state *s = &m->s;
	uint64_t t = m->ops->next_timer ? m->ops->next_timer(s, m->cp.v) : SX_CC_NO_TIMER;

	if (s->line_rate_bps == line && s->rate_bps >= 1 && (double)s->rate_bps + 1 >= floor_bps &&
	    s->rate_bps <= line && s->target_bps <= line &&
	    (s->target_bps == 0 || s->target_bps + 1 >= s->rate_bps) && isfinite(s->alpha) &&
	    s->alpha >= 0 && s->alpha <= 1 && (!timer_ran || t == SX_CC_NO_TIMER || t > now))
		return;
	print_error("%s after %s at %llu: line %llu rate %llu target %llu alpha %g timer %llu"
		    " floor %g\n",
		    m->ops->name, what, (unsigned long long)now, (unsigned long long)line,
		    (unsigned long long)s->rate_bps, (unsigned long long)s->target_bps, s->alpha,
		    (unsigned long long)t, floor_bps);
	fail();
}

/* A scripted but varied life: CNPs, acks with RTTs 0..10 ms, sends, timers, gaps. */
static void
stress(struct sim *m, double min_rate_mbps, uint64_t line, uint64_t seed)
{
	static const uint64_t gaps[] = {0, 1, 700, US, 4 * US, 55 * US, 300 * US, MS, 10 * MS};
	static const uint64_t rtts[] = {0, 1, 500, US, 20 * US, 50 * US, 499 * US, 501 * US,
					MS, 10 * MS};
	static const uint32_t sizes[] = {0, 1, 64, 1500, 4096, 32767, 65536, 10000000,
					 UINT32_MAX};
	const struct sx_cc_ops *ops = m->ops;
	const double *v = m->cp.v;
	double floor_bps = min_rate_mbps * 1e6 < (double)line ? min_rate_mbps * 1e6 : (double)line;
	uint64_t now = T0, x = seed, t;

	ops->init(&m->s, v, line, now);
	check_bounds(m, floor_bps, line, now, "init", 0);
	for (int i = 0; i < 3000; i++) {
		uint64_t r = rnd(&x);
		const char *what = "?";

		now += (r & 0x10) ? gaps[r % 9] : r % (10 * MS);
		t = ops->next_timer ? ops->next_timer(&m->s, v) : SX_CC_NO_TIMER;
		/* Mostly a punctual engine: what fell due in the gap runs at its time. */
		for (int k = 0; (r & 0x20) && k < 64 && t != SX_CC_NO_TIMER && t <= now; k++) {
			ops->on_timer(&m->s, v, t);
			check_bounds(m, floor_bps, line, t, "timer", 1);
			t = ops->next_timer(&m->s, v);
		}
		switch ((r >> 8) % 8) {
		case 0:
			if (ops->on_cnp)
				ops->on_cnp(&m->s, v, now);
			what = "cnp";
			break;
		case 1:
		case 2:
			if (ops->on_ack)
				ops->on_ack(&m->s, v, sizes[(r >> 16) % 9], rtts[(r >> 24) % 10],
					    now);
			what = "ack";
			break;
		case 3:
			if (ops->on_ack)
				ops->on_ack(&m->s, v, (uint32_t)(r >> 32), (r >> 40) % (10 * MS),
					    now);
			what = "ack";
			break;
		case 4:
			if (ops->on_send)
				ops->on_send(&m->s, v, sizes[(r >> 16) % 9], now);
			what = "send";
			break;
		case 5:
			if (ops->on_ecn)
				ops->on_ecn(&m->s, v, now);
			if (ops->on_loss)
				ops->on_loss(&m->s, v, now);
			if (ops->on_timeout)
				ops->on_timeout(&m->s, v, now);
			what = "ecn/loss/timeout";
			break;
		default:
			/* The next deadline, or a late wake-up if it has passed. */
			if (t != SX_CC_NO_TIMER) {
				if (t > now)
					now = t;
				ops->on_timer(&m->s, v, now);
			}
			what = "timer";
			break;
		}
		check_bounds(m, floor_bps, line, now, what, what[0] == 't');
	}
}

static void
test_param_extremes(void **state)
{
	static const uint64_t lines[] = {1000000, 10000000000ull, 100000000000ull,
					 800000000000ull};
	unsigned int runs = 0;

	(void)state;
	for (size_t a = 0; a < sizeof(floors) / sizeof(floors[0]); a++) {
		const struct sx_cc_ops *ops = sx_cc_find(floors[a].algo);

		assert_non_null(ops);
		/* Each row at min and max, the others at their defaults; then each preset as is. */
		for (unsigned int i = 0; i < ops->nparams + ops->npresets; i++) {
			for (int end = 0; end < 2; end++) {
				struct sim m = {.ops = ops};
				double min_rate;
				int k;

				sx_cc_params_init(&m.cp, ops);
				if (i < ops->nparams)
					assert_int_equal(
						sx_cc_params_set(&m.cp, ops->params[i].name,
								 end ? ops->params[i].max
								     : ops->params[i].min),
						0);
				else if (end)
					continue;
				else
					assert_int_equal(
						sx_cc_params_preset(
							&m.cp,
							ops->presets[i - ops->nparams].name),
						0);
				k = floors[a].min_rate
					    ? sx_cc_param_index(ops, floors[a].min_rate)
					    : -1;
				min_rate = k >= 0 ? m.cp.v[k] : 1e-6;
				for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
					stress(&m, min_rate, lines[l], 0x9e3779b97f4a7c15ull + i + l);
					runs++;
				}
			}
		}
	}
	assert_true(runs > 100);
}

/* ---- parameters and registry ---- */

static void
test_params_api(void **state)
{
	const struct sx_cc_ops *ops = sx_cc_find("dcqcn");
	struct sx_cc_params cp;
	int i;

	(void)state;
	assert_non_null(ops);
	assert_null(sx_cc_find("nope"));
	assert_null(sx_cc_find(NULL));
	sx_cc_params_init(&cp, ops);
	assert_ptr_equal(cp.ops, ops);
	assert_string_equal(ops->presets[0].name, "nic");
	i = sx_cc_param_index(ops, "rpg_time_reset");
	assert_true(i >= 0);
	assert_true(cp.v[i] == 300);
	assert_int_equal(sx_cc_param_index(ops, "nope"), -1);

	assert_int_equal(sx_cc_params_preset(&cp, "paper"), 0);
	assert_true(cp.v[i] == 55);
	assert_true(cp.v[sx_cc_param_index(ops, "dce_tcp_g")] == 1020);
	assert_int_equal(sx_cc_params_preset(&cp, "nope"), -ENOENT);
	assert_int_equal(sx_cc_params_preset(&cp, "nic"), 0);
	assert_true(cp.v[i] == 300);

	assert_int_equal(sx_cc_params_set(&cp, "rpg_time_reset", 0), -ERANGE);
	assert_int_equal(sx_cc_params_set(&cp, "rpg_time_reset", 131072), -ERANGE);
	assert_int_equal(sx_cc_params_set(&cp, "rpg_time_reset", 2.5), -ERANGE); /* integer */
	assert_int_equal(sx_cc_params_set(&cp, "rpg_time_reset", NAN), -ERANGE);
	assert_int_equal(sx_cc_params_set(&cp, "rpg_time_reset", INFINITY), -ERANGE);
	assert_true(cp.v[i] == 300); /* untouched by the failures */
	assert_int_equal(sx_cc_params_set(&cp, "rpg_time_reset", 131071), 0);
	assert_true(cp.v[i] == 131071);
	assert_int_equal(sx_cc_params_set(&cp, "rpg_ai_rate", 2.5), 0); /* real-valued */
	assert_int_equal(sx_cc_params_set(&cp, "nope", 1), -ENOENT);
	assert_int_equal(sx_cc_params_set(&cp, NULL, 1), -ENOENT);

	assert_int_equal(sx_cc_params_parse(&cp, "rpg_time_reset=55"), 0);
	assert_true(cp.v[i] == 55);
	assert_int_equal(sx_cc_params_parse(&cp, " rpg_time_reset = 56 "), 0);
	assert_true(cp.v[i] == 56);
	assert_int_equal(sx_cc_params_parse(&cp, "rpg_ai_rate=0x10"), 0);
	assert_true(cp.v[sx_cc_param_index(ops, "rpg_ai_rate")] == 16);
	assert_int_equal(sx_cc_params_parse(&cp, NULL), -EINVAL);
	assert_int_equal(sx_cc_params_parse(&cp, ""), -EINVAL);
	assert_int_equal(sx_cc_params_parse(&cp, "rpg_time_reset"), -EINVAL);
	assert_int_equal(sx_cc_params_parse(&cp, "=5"), -EINVAL);
	assert_int_equal(sx_cc_params_parse(&cp, "rpg_time_reset="), -EINVAL);
	assert_int_equal(sx_cc_params_parse(&cp, "rpg_time_reset=  "), -EINVAL);
	assert_int_equal(sx_cc_params_parse(&cp, "rpg_time_reset=abc"), -EINVAL);
	assert_int_equal(sx_cc_params_parse(&cp, "rpg_time_reset=5us"), -EINVAL);
	assert_int_equal(sx_cc_params_parse(&cp, "rpg_time_reset=5=6"), -EINVAL);
	assert_int_equal(sx_cc_params_parse(&cp, "\x01\xff=\x80"), -EINVAL);
	assert_int_equal(sx_cc_params_parse(&cp, "nope=5"), -ENOENT);
	assert_int_equal(sx_cc_params_parse(&cp, "rpg_time_reset_and_then_a_name_far_too_long_for_"
						 "any_parameter_table=5"),
			 -ENOENT);
	assert_int_equal(sx_cc_params_parse(&cp, "rpg_time_reset=0"), -ERANGE);
	assert_int_equal(sx_cc_params_parse(&cp, "rpg_time_reset=1e999"), -ERANGE);
	assert_int_equal(sx_cc_params_parse(&cp, "rpg_time_reset=nan"), -ERANGE);
	assert_int_equal(sx_cc_params_parse(&cp, "rpg_time_reset=-1"), -ERANGE);
	assert_true(cp.v[i] == 56);

	assert_string_equal(sx_cc_event_name(SX_CC_EV_CNP), "cnp");
	assert_string_equal(sx_cc_event_name(SX_CC_EV_TIMER), "timer");
	assert_string_equal(sx_cc_event_name(SX_CC_EV_MAX), "unknown");
	assert_string_equal(sx_cc_event_name((enum sx_cc_event)-1), "unknown");
}

static void
noop_init(struct sx_cc_state *s, const double *p, uint64_t line, uint64_t now)
{
	(void)p;
	(void)now;
	memset(s, 0, sizeof(*s));
	s->line_rate_bps = line;
	s->rate_bps = line;
}

static void
noop_timer(struct sx_cc_state *s, const double *p, uint64_t now)
{
	(void)s;
	(void)p;
	(void)now;
}

static const struct sx_cc_param test_params[] = {
	{"knob", "x", 1, 0, 2, "a knob", SX_CC_PARAM_INT},
};

static void
test_registry(void **state)
{
	static const struct sx_cc_preset bad_preset[] = {{"p", "nowhere", {5}}};
	static const struct sx_cc_param bad_default[] = {{"knob", "x", 3, 0, 2, "", 0}};
	static const struct sx_cc_param bad_int[] = {{"knob", "x", 0.5, 0, 2, "", SX_CC_PARAM_INT}};
	static const struct sx_cc_param dup[] = {{"a", "x", 0, 0, 1, "", 0},
						 {"a", "x", 0, 0, 1, "", 0}};
	static const struct sx_cc_ops good = {
		.name = "test-cc", .params = test_params, .nparams = 1, .init = noop_init};
	struct sx_cc_ops o;
	unsigned int n;

	(void)state;
	assert_string_equal(sx_cc_at(0)->name, "dcqcn");
	assert_string_equal(sx_cc_at(1)->name, "timely");
	assert_string_equal(sx_cc_at(2)->name, "fixed");
	for (n = 0; sx_cc_at(n) != NULL; n++)
		;

	assert_int_equal(sx_cc_register(NULL), -EINVAL);
	o = good;
	o.init = NULL;
	assert_int_equal(sx_cc_register(&o), -EINVAL);
	o = good;
	o.name = NULL;
	assert_int_equal(sx_cc_register(&o), -EINVAL);
	o = good;
	o.on_timer = noop_timer; /* without next_timer */
	assert_int_equal(sx_cc_register(&o), -EINVAL);
	o = good;
	o.nparams = SX_CC_MAX_PARAMS + 1;
	assert_int_equal(sx_cc_register(&o), -EINVAL);
	o = good;
	o.params = bad_default;
	assert_int_equal(sx_cc_register(&o), -EINVAL);
	o = good;
	o.params = bad_int;
	assert_int_equal(sx_cc_register(&o), -EINVAL);
	o = good;
	o.params = dup;
	o.nparams = 2;
	assert_int_equal(sx_cc_register(&o), -EINVAL);
	o = good;
	o.presets = bad_preset;
	o.npresets = 1;
	assert_int_equal(sx_cc_register(&o), -EINVAL);
	o = *sx_cc_find("dcqcn");
	assert_int_equal(sx_cc_register(&o), -EEXIST);
	assert_null(sx_cc_at(n)); /* no failure registered anything */

	assert_int_equal(sx_cc_register(&good), 0);
	assert_ptr_equal(sx_cc_find("test-cc"), &good);
	assert_ptr_equal(sx_cc_at(n), &good);
	assert_int_equal(sx_cc_register(&good), -EEXIST);

	/* The built-in tables pass the same checks under another name. */
	static const char *const copies[] = {"dcqcn-copy", "timely-copy", "fixed-copy"};
	static struct sx_cc_ops copy[3];
	for (unsigned int k = 0; k < 3; k++) {
		copy[k] = *sx_cc_at(k);
		copy[k].name = copies[k];
		assert_int_equal(sx_cc_register(&copy[k]), 0);
	}
}

/* ---- docs/cc.md carries the tables this prints ---- */

static void
fmt_num(char *b, size_t n, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(b, n, "%.0f", v);
	else
		snprintf(b, n, "%g", v);
}

/* One line per call into @emit; returns the number of lines. */
static unsigned int
doc_lines(void (*emit)(const char *line, void *arg), void *arg)
{
	static const char *const algos[] = {"dcqcn", "timely", "fixed"};
	char line[512], a[32], b[32], c[32];
	unsigned int n = 0;

	for (size_t k = 0; k < sizeof(algos) / sizeof(algos[0]); k++) {
		const struct sx_cc_ops *ops = sx_cc_find(algos[k]);

		snprintf(line, sizeof(line), "| parameter (%s) | unit | type | default | range | meaning |",
			 ops->name);
		emit(line, arg), n++;
		emit("|---|---|---|---|---|---|", arg), n++;
		for (unsigned int i = 0; i < ops->nparams; i++) {
			const struct sx_cc_param *r = &ops->params[i];

			fmt_num(a, sizeof(a), ops->npresets ? ops->presets[0].v[i] : r->def);
			fmt_num(b, sizeof(b), r->min);
			fmt_num(c, sizeof(c), r->max);
			snprintf(line, sizeof(line), "| `%s` | %s | %s | %s | %s .. %s | %s |",
				 r->name, r->unit, (r->flags & SX_CC_PARAM_INT) ? "integer" : "real",
				 a, b, c, r->help);
			emit(line, arg), n++;
		}
		if (ops->npresets < 2)
			continue;
		emit("", arg);
		snprintf(line, sizeof(line), "| preset (%s) |", ops->name);
		for (unsigned int p = 0; p < ops->npresets; p++)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " `%s` |",
				 ops->presets[p].name);
		emit(line, arg), n++;
		strcpy(line, "|---|");
		for (unsigned int p = 0; p < ops->npresets; p++)
			strcat(line, "---|");
		emit(line, arg), n++;
		for (unsigned int i = 0; i < ops->nparams; i++) {
			snprintf(line, sizeof(line), "| `%s` |", ops->params[i].name);
			for (unsigned int p = 0; p < ops->npresets; p++) {
				fmt_num(a, sizeof(a), ops->presets[p].v[i]);
				snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s |", a);
			}
			emit(line, arg), n++;
		}
	}
	return n;
}

static void
emit_stdout(const char *line, void *arg)
{
	(void)arg;
	printf("%s\n", line);
}

static void
emit_check(const char *line, void *arg)
{
	const char *doc = arg;
	size_t len = strlen(line);

	if (len == 0)
		return;
	for (const char *p = doc; (p = strstr(p, line)) != NULL; p++)
		if ((p == doc || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
			return;
	print_error("docs/cc.md lacks this line (cc_test --doc prints them all):\n%s\n", line);
	fail();
}

static void
test_doc_in_sync(void **state)
{
	const char *path = getenv("SX_CC_DOC");
	FILE *f;
	char *doc;
	long len;

	(void)state;
	if (path == NULL || path[0] == '\0')
		skip();
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	doc = malloc((size_t)len + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)len, f), (size_t)len);
	doc[len] = '\0';
	fclose(f);
	assert_true(doc_lines(emit_check, doc) > 30);
	free(doc);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dcqcn_golden_one_cnp),
		cmocka_unit_test(test_dcqcn_golden_additive),
		cmocka_unit_test(test_dcqcn_hyper_increase),
		cmocka_unit_test(test_dcqcn_byte_counter),
		cmocka_unit_test(test_dcqcn_monitor_period),
		cmocka_unit_test(test_dcqcn_clamp_target),
		cmocka_unit_test(test_dcqcn_first_cnp_rate),
		cmocka_unit_test(test_dcqcn_min_dec_fac),
		cmocka_unit_test(test_dcqcn_floor_and_ceiling),
		cmocka_unit_test(test_dcqcn_late_timer),
		cmocka_unit_test(test_timely_steps),
		cmocka_unit_test(test_timely_segment_and_bounds),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_param_extremes),
		cmocka_unit_test(test_params_api),
		cmocka_unit_test(test_doc_in_sync),
		cmocka_unit_test(test_registry), /* last: it adds algorithms */
	};

	if (argc > 1 && strcmp(argv[1], "--doc") == 0) {
		doc_lines(emit_stdout, NULL);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
