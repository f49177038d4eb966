/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host transmit scheduling (dataplane/engine/txsched.h) in virtual time:
 * deficit round-robin by bytes between QPs of one host, a new QP's wait
 * behind busy ones, and the pacer's bounded catch-up after a late wake.
 * Expected values are the models' own bounds (Shreedhar and Varghese's DRR
 * lemma: over n rounds a backlogged flow sends n quanta within one frame;
 * a token bucket of depth B: at most B plus one frame back to back), not
 * numbers read from the implementation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../../dataplane/engine/txsched.h"

#define NQ 8
#define QUANTUM 4224 /* MTU 4096 plus headers: the largest frame */

static double
jain(const double *x, unsigned int n)
{
	double s = 0, s2 = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		s += x[i];
		s2 += x[i] * x[i];
	}
	return s * s / (n * s2);
}

/* QP i sends frames of a size of its own (64 B ACK-like to 4224 B). */
static uint32_t
frame_of(uint32_t id)
{
	static const uint32_t size[NQ] = {64, 128, 300, 1082, 1500, 2100, 4122, 4224};

	return size[id % NQ];
}

/* N backlogged QPs of very different frame sizes: equal bytes (Jain on
 * bytes >= 0.99), where a per-frame round-robin gives bytes in proportion
 * to frame size (Jain 0.53 for these sizes). */
static void
drr_fair_bytes(void **state)
{
	struct sx_drr d;
	double bytes[NQ] = {0}, frames_rr[NQ];
	uint32_t i, k;

	(void)state;
	assert_int_equal(sx_drr_init(&d, 64, QUANTUM), 0);
	for (i = 0; i < NQ; i++)
		sx_drr_add(&d, 10 + i * 5);
	for (k = 0; k < 200000; k++) {
		uint32_t id = sx_drr_current(&d), f;

		assert_true(id != SX_DRR_NONE);
		f = frame_of((id - 10) / 5);
		bytes[(id - 10) / 5] += f;
		sx_drr_charge(&d, id, f);
	}
	for (i = 0; i < NQ; i++)
		frames_rr[i] = frame_of(i);
	printf("DRR over %d QPs of frames 64..4224 B: Jain on bytes %.5f (per-frame RR: %.3f)\n",
	       NQ, jain(bytes, NQ), jain(frames_rr, NQ));
	assert_true(jain(bytes, NQ) >= 0.99);
	/* the lemma, tighter: all within one quantum plus a frame of each other */
	for (i = 1; i < NQ; i++)
		assert_true(bytes[i] - bytes[0] <= 2 * QUANTUM && bytes[0] - bytes[i] <= 2 * QUANTUM);
	sx_drr_fini(&d);
}

/* A QP that joins N busy ones (MTU frames) sends within one turn of each:
 * at most N * 2 frames (a quantum and the overdraft) go before its first. */
static void
drr_new_qp_waits_one_round(void **state)
{
	struct sx_drr d;
	uint32_t i, k, before = 0;

	(void)state;
	assert_int_equal(sx_drr_init(&d, 1024, QUANTUM), 0);
	for (i = 0; i < NQ; i++)
		sx_drr_add(&d, i);
	for (k = 0; k < 1237; k++) { /* somewhere in the middle of a round */
		uint32_t id = sx_drr_current(&d);

		sx_drr_charge(&d, id, 4122);
	}
	sx_drr_add(&d, 1000);
	for (;;) {
		uint32_t id = sx_drr_current(&d);

		if (id == 1000)
			break;
		sx_drr_charge(&d, id, 4122);
		before++;
	}
	printf("a QP joining %d busy ones: %u frames before its first\n", NQ, before);
	assert_true(before <= 2 * NQ);
	sx_drr_fini(&d);
}

/* Membership: remove the current, the only, an absent one; re-add. */
static void
drr_membership(void **state)
{
	struct sx_drr d;

	(void)state;
	assert_int_equal(sx_drr_init(&d, 0, QUANTUM), -EINVAL);
	assert_int_equal(sx_drr_init(&d, 4, 0), -EINVAL);
	assert_int_equal(sx_drr_init(&d, 4, QUANTUM), 0);
	assert_int_equal(sx_drr_current(&d), SX_DRR_NONE);
	sx_drr_add(&d, 9); /* out of range: ignored */
	assert_int_equal(d.count, 0);
	sx_drr_add(&d, 1);
	sx_drr_add(&d, 2);
	sx_drr_add(&d, 1); /* twice: once */
	assert_int_equal(d.count, 2);
	assert_int_equal(sx_drr_current(&d), 1);
	sx_drr_remove(&d, 1); /* the current: the turn passes on */
	assert_int_equal(sx_drr_current(&d), 2);
	sx_drr_remove(&d, 3); /* not a member */
	sx_drr_remove(&d, 2);
	assert_int_equal(d.count, 0);
	assert_int_equal(sx_drr_current(&d), SX_DRR_NONE);
	sx_drr_add(&d, 3);
	assert_int_equal(sx_drr_current(&d), 3);
	assert_int_equal(d.deficit[3], QUANTUM); /* a fresh turn, no old credit */
	sx_drr_fini(&d);
}

/*
 * The pacer after late wakes: a QP at 10 Gb/s with 1000-byte frames
 * (800 ns each) always has data, but its process wakes only every 50 us.
 * Each wake sends while the next send time has come. With a burst cap B the
 * QP gets back the time it overslept, at most B + one frame per wake, and
 * keeps its rate when B covers an oversleep; without (B = 0, the old pacer)
 * it sends one frame per wake: 0.16 Gb/s.
 */
static void
run_late(uint32_t burst, double *gbps, uint32_t *max_per_wake)
{
	const uint64_t rate = 10000000000ull, wake_ns = 50000, end_ns = 10000000;
	uint64_t next = 0, now, sent = 0;
	bool backlogged = false;

	*max_per_wake = 0;
	for (now = wake_ns; now <= end_ns; now += wake_ns) {
		uint32_t k = 0;

		while (next <= now) {
			next = sx_pace_next(next, now, 1000, rate, burst, backlogged);
			backlogged = true;
			sent += 1000;
			k++;
		}
		if (k > *max_per_wake)
			*max_per_wake = k;
	}
	*gbps = (double)sent * 8 / (double)end_ns;
}

static void
pace_catch_up_bounded(void **state)
{
	double g0, g;
	uint32_t m0, m;

	(void)state;
	run_late(0, &g0, &m0);
	run_late(SX_PACE_BURST_BYTES, &g, &m);
	printf("10 Gb/s QP woken every 50 us: %.2f Gb/s, %u frames per wake at most "
	       "(no catch-up: %.2f Gb/s, %u)\n", g, m, g0, m0);
	assert_int_equal(m0, 1);
	assert_true(g0 < 0.2);
	/* 50 us at 10 Gb/s is 62.5 KB < 64 KiB: the rate is kept */
	assert_true(g >= 9.9 && g <= 10.0 + 1e-9 + (double)SX_PACE_BURST_BYTES * 8 / 1e7);
	assert_true(m <= SX_PACE_BURST_BYTES / 1000 + 2);
	/* a 1 ms oversleep: the burst is still B plus a frame, not 1.25 MB */
	{
		uint64_t next = 1000, now = 1001000, n = 0;

		while (next <= now) {
			next = sx_pace_next(next, now, 1000, 10000000000ull, SX_PACE_BURST_BYTES,
					    true);
			n++;
		}
		printf("after a 1 ms oversleep: %lu frames back to back\n", (unsigned long)n);
		assert_true(n >= SX_PACE_BURST_BYTES / 1000 && n <= SX_PACE_BURST_BYTES / 1000 + 2);
	}
	/* at 200 Mb/s the time cap binds: 100 us is 2500 B, 2 frames (+1) */
	{
		uint64_t next = 1000, now = 10001000, n = 0;

		while (next <= now) {
			next = sx_pace_next(next, now, 1000, 200000000ull, SX_PACE_BURST_BYTES, true);
			n++;
		}
		printf("200 Mb/s after a 10 ms oversleep: %lu frames back to back\n",
		       (unsigned long)n);
		assert_true(n >= 2 && n <= 4);
	}
}

/* Woken on time, the pacer is exact (no credit to use); after idle, none. */
static void
pace_on_time_and_idle(void **state)
{
	uint64_t next = 5000, t = 800;

	(void)state;
	/* on time: the next send time moves by one frame time */
	assert_int_equal(sx_pace_next(next, next, 1000, 10000000000ull, SX_PACE_BURST_BYTES, true),
			 next + t);
	/* idle for 1 ms: the frame goes now, the next one a frame time later */
	assert_int_equal(sx_pace_next(next, next + 1000000, 1000, 10000000000ull,
				      SX_PACE_BURST_BYTES, false),
			 next + 1000000 + t);
	/* late by less than the burst: the full lateness is credit */
	assert_int_equal(sx_pace_next(next, next + 3000, 1000, 10000000000ull, SX_PACE_BURST_BYTES,
				      true),
			 next + t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(drr_fair_bytes),
		cmocka_unit_test(drr_new_qp_waits_one_round),
		cmocka_unit_test(drr_membership),
		cmocka_unit_test(pace_catch_up_bounded),
		cmocka_unit_test(pace_on_time_and_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
