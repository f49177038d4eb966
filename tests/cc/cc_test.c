/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control against a fake clock: the golden traces the reference
 * models of tests/ref/cc_ref.py wrote to tests/vectors/cc_<algo>.txt (events
 * in, rate/target/alpha/cwnd after each), the bounds every algorithm keeps under every parameter at its extremes,
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

#include <scalex/cc.h> /* the public interface only, as an application sees it */

#define US    1000ull
#define MS    1000000ull
#define GBPS  1e9
#define T0    (1 * MS) /* every trace starts here, so that t = 0 is never special */
struct sim {
	const struct sx_cc_ops *ops;
	struct sx_cc_params cp;
	struct sx_cc_state s;
	uint64_t line_bps;
	struct sx_cc_int in; /* hop lines read for the next int step */
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

/* Within @p abs_tol plus @p rel_tol of the wanted magnitude. */
static int
close_to(double got, double want, double abs_tol, double rel_tol)
{
	return fabs(got - want) <= abs_tol + rel_tol * fabs(want);
}

/* ---- golden traces from the reference models (tests/ref/cc_ref.py) ---- */

#define VEC_MAX_TOK 12

/* Split @p line at blanks into at most VEC_MAX_TOK tokens. */
static unsigned int
split(char *line, char **tok)
{
	unsigned int n = 0;

	for (char *s = strtok(line, " \t\r\n"); s != NULL && n < VEC_MAX_TOK;
	     s = strtok(NULL, " \t\r\n"))
		tok[n++] = s;
	return n;
}

static double
want_num(const char *s, const char *trace, unsigned int lineno)
{
	char *end;
	double v;

	if (strcmp(s, "-") == 0)
		return NAN;
	v = strtod(s, &end);
	if (end == s || *end != '\0') {
		print_error("%s line %u: bad number '%s'\n", trace, lineno, s);
		fail();
	}
	return v;
}

/*
 * One step: drive the hook, then compare the state with the model's
 * values (NaN: not checked). Rates to 1 bit/s and cwnd to 1 byte, since
 * the state holds whole units (plus 1e-12 relative: the model's and the
 * C code's floating-point operations may round differently); alpha to 1e-9
 * relative (the model multiplies per period, the C code uses pow()).
 */
static void
replay_step(struct sim *m, char **tok, const char *trace, unsigned int lineno)
{
	uint64_t at = T0 + strtoull(tok[1], NULL, 10);
	uint32_t bytes = (uint32_t)strtoul(tok[3], NULL, 10);
	uint64_t rtt = strtoull(tok[4], NULL, 10);
	double rate = want_num(tok[5], trace, lineno), tgt = want_num(tok[6], trace, lineno);
	double alpha = want_num(tok[7], trace, lineno), cwnd = want_num(tok[8], trace, lineno);
	const char *ev = tok[2];
	const struct sx_cc_ops *o = m->ops;
	const double *v = m->cp.v;

	if (strcmp(ev, "cnp") == 0 && o->on_cnp) {
		o->on_cnp(&m->s, v, at);
	} else if (strcmp(ev, "send") == 0 && o->on_send) {
		o->on_send(&m->s, v, bytes, at);
	} else if (strcmp(ev, "ack") == 0 && o->on_ack) {
		o->on_ack(&m->s, v, bytes, rtt, at);
	} else if (strcmp(ev, "int") == 0 && o->on_int) {
		o->on_int(&m->s, v, &m->in, bytes, at);
		m->in.nhops = 0;
	} else if (strcmp(ev, "loss") == 0 && o->on_loss) {
		o->on_loss(&m->s, v, at);
	} else if (strcmp(ev, "timeout") == 0 && o->on_timeout) {
		o->on_timeout(&m->s, v, at);
	} else if (strcmp(ev, "timer") == 0 && o->on_timer) {
		uint64_t due = o->next_timer(&m->s, v);

		if (due != at) {
			print_error("%s line %u: timer due at +%lld ns, the model says +%s\n", trace,
				    lineno, (long long)(due - T0), tok[1]);
			fail();
		}
		o->on_timer(&m->s, v, at);
	} else {
		print_error("%s line %u: %s has no hook for '%s'\n", trace, lineno, o->name, ev);
		fail();
	}
	if ((!isnan(rate) && !close_to((double)m->s.rate_bps, rate, 1.0, 1e-12)) ||
	    (!isnan(tgt) && !close_to((double)m->s.target_bps, tgt, 1.0, 1e-12)) ||
	    (!isnan(alpha) && !close_to(m->s.alpha, alpha, 0, 1e-9)) ||
	    (!isnan(cwnd) && !close_to((double)m->s.cwnd_bytes, cwnd, 1.0, 1e-12))) {
		print_error("%s line %u (%s at +%s ns): rate %llu target %llu alpha %.17g cwnd %llu;"
			    " the model: %s %s %s %s\n",
			    trace, lineno, ev, tok[1], (unsigned long long)m->s.rate_bps,
			    (unsigned long long)m->s.target_bps, m->s.alpha,
			    (unsigned long long)m->s.cwnd_bytes, tok[5], tok[6], tok[7], tok[8]);
		fail();
	}
}

/* Replay every trace of tests/vectors/cc_<algo>.txt; returns the number of steps. */
static unsigned int
replay_file(const char *algo)
{
	const char *dir = getenv("SX_CC_VECTORS");
	char path[512], line[1024], trace[128] = "", *tok[VEC_MAX_TOK];
	unsigned int lineno = 0, steps = 0, ntok;
	struct sim m = {0};
	int in_trace = 0, started = 0;
	FILE *f;

	assert_non_null(dir); /* meson sets it: a missing file is a failure, not a skip */
	snprintf(path, sizeof(path), "%s/cc_%s.txt", dir, algo);
	f = fopen(path, "r");
	if (f == NULL) {
		print_error("%s: %s\n", path, strerror(errno));
		fail();
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		ntok = split(line, tok);
		if (ntok == 0 || tok[0][0] == '#')
			continue;
		if (strcmp(tok[0], "trace") == 0 && ntok == 5 && !in_trace) {
			assert_string_equal(tok[2], algo);
			snprintf(trace, sizeof(trace), "%s:%s", algo, tok[1]);
			sim_init(&m, tok[2], strcmp(tok[3], "-") == 0 ? NULL : tok[3]);
			m.line_bps = strtoull(tok[4], NULL, 10);
			in_trace = 1;
			started = 0;
		} else if (strcmp(tok[0], "set") == 0 && ntok == 3 && in_trace && !started) {
			sim_set(&m, tok[1], want_num(tok[2], trace, lineno));
		} else if (strcmp(tok[0], "hop") == 0 && ntok == 5 && in_trace &&
			   m.in.nhops < SX_CC_INT_MAX_HOPS) {
			struct sx_cc_int_hop *h = &m.in.hop[m.in.nhops++];

			h->rate_bps = strtoull(tok[1], NULL, 10);
			h->ts_ns = strtoull(tok[2], NULL, 10);
			h->tx_bytes = strtoull(tok[3], NULL, 10);
			h->qlen_bytes = strtoull(tok[4], NULL, 10);
		} else if (strcmp(tok[0], "step") == 0 && ntok == 9 && in_trace) {
			if (!started) {
				sim_start(&m, m.line_bps);
				started = 1;
			}
			replay_step(&m, tok, trace, lineno);
			steps++;
		} else if (strcmp(tok[0], "end") == 0 && in_trace) {
			in_trace = 0;
		} else {
			print_error("%s line %u: cannot parse\n", path, lineno);
			fail();
		}
	}
	fclose(f);
	assert_false(in_trace);
	return steps;
}

static void
test_golden_dcqcn(void **state)
{
	(void)state;
	assert_true(replay_file("dcqcn") > 500);
}

static void
test_golden_timely(void **state)
{
	(void)state;
	assert_true(replay_file("timely") > 400);
}

static void
test_golden_swift(void **state)
{
	(void)state;
	assert_true(replay_file("swift") > 400);
}

static void
test_golden_nscc(void **state)
{
	(void)state;
	assert_true(replay_file("nscc") > 400);
}

static void
test_golden_hpcc(void **state)
{
	(void)state;
	assert_true(replay_file("hpcc") > 600);
}

/*
 * HPCC's fixed points, from Algorithm 1 by hand (not from a run): one
 * 100G hop with a standing queue of one BDP and a full link gives
 * u = 2, so after one RTT of samples W = Wc eta / U + W_AI; an empty,
 * idle link never lifts W above W_init = B T; without INT W stays.
 */
static void
test_hpcc_fixed_points(void **state)
{
	struct sim m;
	struct sx_cc_int in = {.nhops = 1};
	const double T = 8000, bdp = 100e9 / 8e9 * T; /* 100000 bytes */
	uint64_t now = T0;

	(void)state;
	sim_init(&m, "hpcc", "paper");
	sim_start(&m, 100e9);
	assert_int_equal(m.s.cwnd_bytes, 100000);
	in.hop[0].rate_bps = 100e9;
	in.hop[0].qlen_bytes = (uint64_t)bdp;
	m.ops->on_int(&m.s, m.cp.v, &in, 0, now); /* records L only */
	assert_int_equal(m.s.cwnd_bytes, 100000);
	/* tau = T in one step: U = u = min(q, q') / (B T) + txRate / B = 1 + 1 */
	in.hop[0].ts_ns = (uint64_t)T;
	in.hop[0].tx_bytes = (uint64_t)bdp;
	m.ops->on_send(&m.s, m.cp.v, 4096, now);
	m.ops->on_int(&m.s, m.cp.v, &in, 4096, now += 8 * US);
	assert_true(fabs((double)m.s.cwnd_bytes - (bdp * 0.95 / 2 + 80)) <= 1);
	/* No INT: nothing moves. */
	in.nhops = 0;
	m.ops->on_int(&m.s, m.cp.v, &in, 4096, now += US);
	assert_true(fabs((double)m.s.cwnd_bytes - (bdp * 0.95 / 2 + 80)) <= 1);
	/* An idle link for long: W climbs back to W_init and no further. */
	in.nhops = 1;
	in.hop[0].qlen_bytes = 0;
	for (int i = 0; i < 2000; i++) {
		in.hop[0].ts_ns += 1000;
		m.ops->on_send(&m.s, m.cp.v, 4096, now);
		m.ops->on_int(&m.s, m.cp.v, &in, 4096, now += US);
		assert_true(m.s.cwnd_bytes <= 100000 && m.s.rate_bps <= 100e9);
	}
	assert_int_equal(m.s.cwnd_bytes, 100000);
	assert_int_equal(m.s.rate_bps, 100e9);
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
 * The longhaul preset (docs/cc.md [12]): a CNP cuts at most 5% (min_dec_fac
 * 95, although alpha ~ 1 asks for half), the target follows every cut
 * (clamp_tgt_rate 1: Rt <- Rc, then Rc is cut, as in the paper), and the
 * first increase waits T = 6 ms; CNPs within 6 ms of a cut do not cut
 * again before then (rate_reduce_monitor_period 6000). Expected values
 * from the parameters' definitions, not from a run.
 */
static void
test_dcqcn_longhaul(void **state)
{
	struct sim m;
	int n;

	(void)state;
	sim_init(&m, "dcqcn", "longhaul");
	sim_start(&m, 100e9);
	/* the first CNP cuts 5%; Rt <- Rc before the cut */
	m.ops->on_cnp(&m.s, m.cp.v, T0);
	assert_true(fabs(m.s.target_bps - 100e9) <= 1e-6 * 100e9);
	assert_true(fabs(m.s.rate_bps - 95e9) <= 1e-6 * 95e9);
	/* CNPs every 10 us after it, for one RTT-scale period: no cut before
	 * the period ends (rate_reduce_monitor_period 6000 us) */
	for (n = 1; n < 100; n++) {
		m.ops->on_cnp(&m.s, m.cp.v, T0 + (uint64_t)n * 10 * US);
		assert_true(fabs(m.s.rate_bps - 95e9) <= 1e-6 * 95e9);
	}
	/* the coalesced cut and the first increase are both due T = 6 ms on */
	assert_int_equal(m.ops->next_timer(&m.s, m.cp.v), T0 + 6000 * US);
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
	{"swift", NULL}, /* windows: the rate falls to min_cwnd / RTT, no rate floor */
	{"nscc", NULL},
	{"hpcc", "min_rate"},
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
			if (ops->on_int) {
				/* INT records of 0..5 hops with arbitrary counters */
				struct sx_cc_int in = {.nhops = (unsigned int)(r >> 13) % 6};

				for (unsigned int h = 0; h < in.nhops; h++) {
					uint64_t y = rnd(&x);

					in.hop[h].rate_bps = (y & 1) ? line : y % 400000000000ull;
					in.hop[h].ts_ns = y >> 8;
					in.hop[h].tx_bytes = y >> 20;
					in.hop[h].qlen_bytes = (y >> 40) % 6000000;
				}
				ops->on_int(&m->s, v, &in, (uint32_t)(r >> 32), now);
				what = "int";
			} else if (ops->on_ack) {
				ops->on_ack(&m->s, v, (uint32_t)(r >> 32), (r >> 40) % (10 * MS),
					    now);
				what = "ack";
			}
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

static const struct sx_param test_params[] = {
	{"knob", "x", 1, 0, 2, "a knob", SX_PARAM_INT},
};

static void
test_registry(void **state)
{
	static const struct sx_cc_preset bad_preset[] = {{"p", "nowhere", {5}}};
	static const struct sx_param bad_default[] = {{"knob", "x", 3, 0, 2, "", 0}};
	static const struct sx_param bad_int[] = {{"knob", "x", 0.5, 0, 2, "", SX_PARAM_INT}};
	static const struct sx_param dup[] = {{"a", "x", 0, 0, 1, "", 0},
						 {"a", "x", 0, 0, 1, "", 0}};
	static const struct sx_cc_ops good = {
		.name = "test-cc", .params = test_params, .nparams = 1, .init = noop_init};
	struct sx_cc_ops o;
	unsigned int n;

	(void)state;
	assert_string_equal(sx_cc_at(0)->name, "dcqcn");
	assert_string_equal(sx_cc_at(1)->name, "timely");
	assert_string_equal(sx_cc_at(2)->name, "fixed");
	assert_string_equal(sx_cc_at(3)->name, "swift");
	assert_string_equal(sx_cc_at(4)->name, "nscc");
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
	static struct sx_cc_ops copy[8];
	static char names[8][64];
	for (unsigned int k = 0; k < n; k++) {
		assert_true(k < 8);
		copy[k] = *sx_cc_at(k);
		snprintf(names[k], sizeof(names[k]), "%s-copy", copy[k].name);
		copy[k].name = names[k];
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
	char line[512], a[32], b[32], c[32];
	const struct sx_cc_ops *ops;
	unsigned int n = 0;

	/* Every registered algorithm: the built-ins, since tests that register run last. */
	for (unsigned int k = 0; (ops = sx_cc_at(k)) != NULL; k++) {

		snprintf(line, sizeof(line), "| parameter (%s) | unit | type | default | range | meaning |",
			 ops->name);
		emit(line, arg), n++;
		emit("|---|---|---|---|---|---|", arg), n++;
		for (unsigned int i = 0; i < ops->nparams; i++) {
			const struct sx_param *r = &ops->params[i];

			fmt_num(a, sizeof(a), ops->npresets ? ops->presets[0].v[i] : r->def);
			fmt_num(b, sizeof(b), r->min);
			fmt_num(c, sizeof(c), r->max);
			snprintf(line, sizeof(line), "| `%s` | %s | %s | %s | %s .. %s | %s |",
				 r->name, r->unit, (r->flags & SX_PARAM_INT) ? "integer" : "real",
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
		cmocka_unit_test(test_golden_dcqcn),
		cmocka_unit_test(test_golden_timely),
		cmocka_unit_test(test_golden_swift),
		cmocka_unit_test(test_golden_nscc),
		cmocka_unit_test(test_golden_hpcc),
		cmocka_unit_test(test_hpcc_fixed_points),
		cmocka_unit_test(test_dcqcn_floor_and_ceiling),
		cmocka_unit_test(test_dcqcn_late_timer),
		cmocka_unit_test(test_timely_segment_and_bounds),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_param_extremes),
		cmocka_unit_test(test_params_api),
		cmocka_unit_test(test_doc_in_sync),
		cmocka_unit_test(test_dcqcn_longhaul),
		cmocka_unit_test(test_registry), /* last: it adds algorithms */
	};

	if (argc > 1 && strcmp(argv[1], "--doc") == 0) {
		doc_lines(emit_stdout, NULL);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
