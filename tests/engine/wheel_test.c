/* SPDX-License-Identifier: BSD-3-Clause */
/* Timing wheel: every entry fires exactly once, never early, and no later
 * than the first expire at or after its time; next() never overshoots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../dataplane/engine/wheel.h"

#define N 2000

struct item {
	struct sx_wheel_entry e; /* first: the entry is the item */
	int fired;
	uint64_t fired_at;
};

static uint64_t now;

static void
on_fire(struct sx_wheel_entry *e, void *arg)
{
	struct item *it = (struct item *)e;

	(void)arg;
	it->fired++;
	it->fired_at = now;
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
run(uint64_t gran, uint64_t spread, uint64_t step_max, uint64_t seed)
{
	static struct item it[N];
	struct sx_wheel *w = calloc(1, sizeof(*w));
	uint64_t s = seed, start = 1000000;
	int i, done = 0;

	memset(it, 0, sizeof(it));
	now = start;
	sx_wheel_init(w, gran, now);
	for (i = 0; i < N; i++)
		sx_wheel_add(w, &it[i].e, start + rnd(&s) % spread);
	assert_int_equal(w->count, N);
	while (done < N) {
		uint64_t next = sx_wheel_next(w), earliest = UINT64_MAX;

		for (i = 0; i < N; i++)
			if (!it[i].fired && it[i].e.at_ns < earliest)
				earliest = it[i].e.at_ns;
		/* next() is a lower bound of the earliest due time; exact unless
		 * an entry parked at the horizon must be filed again first */
		assert_true(next <= earliest);
		assert_true(next == earliest || next % gran == 0);
		now += 1 + rnd(&s) % step_max;
		done += (int)sx_wheel_expire(w, now, on_fire, NULL);
		for (i = 0; i < N; i++) {
			if (it[i].fired) {
				assert_int_equal(it[i].fired, 1);
				assert_true(it[i].fired_at >= it[i].e.at_ns);
			} else {
				assert_true(it[i].e.at_ns > now); /* nothing due is left behind */
			}
		}
	}
	assert_int_equal(w->count, 0);
	assert_int_equal(sx_wheel_next(w), UINT64_MAX);
	free(w);
}

static void
test_fire_once_never_early(void **state)
{
	(void)state;
	run(1000, 2000000, 5000, 1);         /* within the horizon */
	run(1000, 50000000, 300000, 2);      /* beyond it: parked at the edge */
	run(100, 1000000, 1000000, 3);       /* big jumps of virtual time */
	run(1, 100000, 10, 4);
	run(100, 3000000, 50000, 5);         /* several horizons ahead */
}

static void
test_del_and_readd(void **state)
{
	struct sx_wheel *w = calloc(1, sizeof(*w));
	struct item a = {0}, b = {0};

	(void)state;
	now = 0;
	sx_wheel_init(w, 1000, 0);
	sx_wheel_add(w, &a.e, 5000);
	sx_wheel_add(w, &b.e, 7000);
	sx_wheel_del(w, &a.e);
	assert_false(a.e.queued);
	assert_int_equal(sx_wheel_next(w), 7000);
	sx_wheel_add(w, &b.e, 3000); /* re-adding moves it */
	assert_int_equal(w->count, 1);
	now = 2999;
	assert_int_equal(sx_wheel_expire(w, now, on_fire, NULL), 0);
	now = 3000;
	assert_int_equal(sx_wheel_expire(w, now, on_fire, NULL), 1);
	assert_int_equal(b.fired, 1);
	assert_int_equal(a.fired, 0);
	/* a past time fires on the next expire */
	sx_wheel_add(w, &a.e, 10);
	assert_int_equal(sx_wheel_expire(w, now, on_fire, NULL), 1);
	free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fire_once_never_early),
		cmocka_unit_test(test_del_and_readd),
	};

	return cmocka_run_group_tests_name("wheel", tests, NULL, NULL);
}
