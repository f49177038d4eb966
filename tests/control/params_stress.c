/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live parameter store under concurrency, built with ThreadSanitizer in
 * the regular build (tests/control/meson.build): a control thread publishes
 * as fast as it can while a dataplane thread reads the store the way the
 * engine does (sx_param_store_poll once per round, QSBR quiescent state,
 * offline around sleeps) and runs DCQCN with the values it applied, and a
 * third thread reads values the way the control socket does.
 *
 * No torn snapshot: the writer's k-th step sets the QP override of
 * rpg_hai_rate to k (generation 2k), then the global rpg_ai_rate to k
 * (generation 2k + 1); every snapshot the reader sees must hold exactly the
 * pair its generation implies. TSan reports any data race (exit 66).
 *
 * Usage: params_stress [SECONDS]   (default 2)
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cc.h"
#include "params.h"

#define QPN 0x101u

static struct sx_param_store *st;
static const struct sx_cc_ops *dcqcn;
static unsigned int g_cc, i_ai, i_hai;
static int stop;
static unsigned long long bad, applied, rounds, sets, gets;

struct reader {
	struct sx_cc_params own;  /* what the "engine" applied */
	struct sx_cc_params qp;   /* the QP's own values */
	uint64_t last_gen;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
apply(void *arg, const struct sx_param_snap *snap)
{
	struct reader *r = arg;
	uint64_t g = snap->gen;
	double ai = snap->v[g_cc][i_ai];
	double hai = sx_param_snap_value(snap, QPN, g_cc, i_hai);
	double want_ai, want_hai;

	/* gen 1: the defaults; 2k: hai = k, ai = k - 1; 2k + 1: both k. */
	if (g == 1) {
		want_ai = r->own.ops->params[i_ai].def;
		want_hai = r->own.ops->params[i_hai].def;
	} else {
		want_hai = (double)(g / 2);
		want_ai = g % 2 ? (double)(g / 2) : (double)(g / 2) - 1;
		if (g == 2)
			want_ai = r->own.ops->params[i_ai].def;
	}
	if (ai != want_ai || hai != want_hai || g <= r->last_gen) {
		if (__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED) < 5)
			fprintf(stderr, "torn: gen %llu ai %g (want %g) hai %g (want %g) last %llu\n",
				(unsigned long long)g, ai, want_ai, hai, want_hai,
				(unsigned long long)r->last_gen);
	}
	r->last_gen = g;
	memcpy(r->own.v, snap->v[g_cc], sizeof(r->own.v));
	for (unsigned int i = 0; i < SX_CC_MAX_PARAMS; i++)
		r->qp.v[i] = sx_param_snap_value(snap, QPN, g_cc, i);
	applied++;
}

static void *
dataplane(void *arg)
{
	struct reader r;
	struct sx_cc_state s;
	uint64_t now_ns = 0;

	(void)arg;
	sx_cc_params_init(&r.own, dcqcn);
	r.qp = r.own;
	r.last_gen = 0;
	sx_rcu_reader_get();
	dcqcn->init(&s, r.qp.v, 100000000000ull, now_ns);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		r.last_gen = sx_param_store_poll(st, r.last_gen, apply, &r);
		/* Work with what was applied: a CNP now and then, timers. */
		now_ns += 1000;
		if (rounds % 64 == 0)
			dcqcn->on_cnp(&s, r.qp.v, now_ns);
		dcqcn->on_timer(&s, r.qp.v, now_ns);
		sx_rcu_quiescent();
		if (++rounds % 4096 == 0) { /* the idle backoff's sleep */
			sx_rcu_offline();
			usleep(10);
			sx_rcu_online();
		}
	}
	sx_rcu_reader_put();
	return NULL;
}

static void *
getter(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		double v;
		bool own;

		if (sx_param_store_get(st, QPN, "rpg_hai_rate", &v, &own) != 0 || !(v >= 0))
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&gets, 1, __ATOMIC_RELAXED);
		usleep(50);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0, t0, t;
	struct sx_param_group grp;
	pthread_t dp, gt;
	unsigned long long k = 0;

	dcqcn = sx_cc_find("dcqcn");
	if (dcqcn == NULL)
		return 1;
	grp = (struct sx_param_group){"cc", dcqcn->params, dcqcn->nparams, dcqcn};
	st = sx_param_store_create(&grp, 1, NULL);
	if (st == NULL || sx_param_lookup(st, "rpg_ai_rate", &g_cc, &i_ai) != 0 ||
	    sx_param_lookup(st, "cc.rpg_hai_rate", &g_cc, &i_hai) != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	pthread_create(&dp, NULL, dataplane, NULL);
	pthread_create(&gt, NULL, getter, NULL);
	t0 = now_s();
	/* The control thread: as fast as it can. */
	while ((t = now_s()) - t0 < secs) {
		k++;
		if (sx_param_store_set(st, QPN, "rpg_hai_rate", (double)k) != 0 ||
		    sx_param_store_set(st, 0, "rpg_ai_rate", (double)k) != 0)
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
		sets += 2;
		/* Invalid ones change nothing. */
		if (k % 1024 == 0 &&
		    (sx_param_store_set(st, 0, "rpg_ai_rate", -1) != -ERANGE ||
		     sx_param_store_set(st, 0, "rpg_ai_rate", NAN) != -ERANGE ||
		     sx_param_store_set(st, 0, "no_such", 1) != -ENOENT ||
		     sx_param_store_gen(st) != 1 + 2 * k))
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(dp, NULL);
	pthread_join(gt, NULL);
	sx_param_store_destroy(st); /* rcu_barrier: every old snapshot freed */
	printf("params_stress: %.0f sets/s from the control thread, %llu snapshots applied "
	       "by the dataplane over %llu rounds, %llu concurrent gets, %llu bad\n",
	       (double)sets / (t - t0), applied, rounds, gets, bad);
	if (sets / (t - t0) < 1000 || applied < 2 || bad != 0) {
		fprintf(stderr, "params_stress: FAIL\n");
		return 1;
	}
	return 0;
}
