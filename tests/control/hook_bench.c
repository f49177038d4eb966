/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the control hook costs the engine: an idle poll round with the hook
 * (sx_context_step: live-parameter check, mailbox, QSBR quiescent state)
 * against the bare engine poll (sx_engine_poll), in the same run, on an
 * in-process port pair with one connected DCQCN QP per side; then the cost
 * of a round that applies a new snapshot. Prints ns per round and ratios.
 */
#include <stdio.h>
#include <time.h>

#include "../qp/vt.h"
#include "params.h"
#include "control_hook.h"

#define ROUNDS 2000000

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(void)
{
	struct vt_opts o;
	struct vt v;
	double t0, bare, hook, change;
	struct sx_param_store *st;

	vt_default_opts(&o);
	o.cc = "dcqcn";
	vt_setup(&v, &o);
	st = sx_ctx_store(v.ctx[0]);
	sx_context_step(v.ctx[0]); /* registers this thread as a reader */
	for (int rep = 0; rep < 2; rep++) { /* the second pass is the one printed */
		t0 = now_s();
		for (int i = 0; i < ROUNDS; i++)
			sx_engine_poll(&v.ctx[0]->engine, v.now_ns);
		bare = (now_s() - t0) / ROUNDS * 1e9;
		t0 = now_s();
		for (int i = 0; i < ROUNDS; i++)
			sx_context_step(v.ctx[0]);
		hook = (now_s() - t0) / ROUNDS * 1e9;
	}
	t0 = now_s();
	for (int i = 0; i < ROUNDS / 100; i++) {
		sx_param_store_set(st, 0, "rpg_ai_rate", (double)(i % 1000));
		sx_context_step(v.ctx[0]);
	}
	change = (now_s() - t0) / (ROUNDS / 100) * 1e9;
	printf("idle poll round: bare engine %.1f ns, with the control hook %.1f ns "
	       "(ratio %.3f)\n", bare, hook, hook / bare);
	printf("set + apply + poll round: %.0f ns (%.1f x a bare round)\n", change,
	       change / bare);
	vt_teardown(&v);
	return 0;
}
