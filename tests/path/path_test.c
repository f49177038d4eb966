/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane/path and dataplane/param: the registry, the `flow` policy, the
 * entropy range RoCEv2 recommends (0xc000..0xffff), and parameter rows
 * that refuse what is not a finite number in range.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../dataplane/path/path.h"

static void
setup_policy(struct sx_path_params *pp, struct sx_path_state *s, const char *name,
	     uint16_t base, const char *const *sets)
{
	sx_path_params_init(pp, sx_path_find(name));
	for (; sets != NULL && *sets != NULL; sets++)
		assert_int_equal(sx_path_params_parse(pp, *sets), 0);
	sx_path_init(s, pp, base);
}

static bool
in_range(uint16_t e)
{
	return e >= 0xc000;
}

static void
registry(void **state)
{
	const struct sx_path_ops *ops;
	unsigned int i;

	(void)state;
	assert_non_null(sx_path_find("flow"));
	assert_null(sx_path_find("no-such-policy"));
	assert_null(sx_path_find(NULL));
	for (i = 0; (ops = sx_path_at(i)) != NULL; i++) {
		assert_ptr_equal(sx_path_find(ops->name), ops);
		assert_non_null(ops->init);
		assert_non_null(ops->next);
		assert_non_null(ops->help);
		assert_true(ops->nparams <= SX_PATH_MAX_PARAMS);
		assert_true(sx_param_table_ok(ops->params, ops->nparams));
	}
	assert_true(i >= 4);
	assert_ptr_equal(sx_path_params_default()->ops, sx_path_find("flow"));
	/* Only `flow` keeps a QP on one path; the others need sr. */
	assert_false(sx_path_find("flow")->reorders);
	assert_true(sx_path_find("spray")->reorders);
	assert_true(sx_path_find("flowlet")->reorders);
	assert_true(sx_path_find("adaptive")->reorders);
}

static void
spray_round_robin_cycles_distinct_entropies(void **state)
{
	static const char *const sets[] = {"paths=8", "random=0", NULL};
	struct sx_path_params pp;
	struct sx_path_state s;
	uint16_t first[8];

	(void)state;
	setup_policy(&pp, &s, "spray", sx_path_base(0x200), sets);
	for (int i = 0; i < 8; i++) {
		first[i] = sx_path_next(&s, &pp, 0);
		assert_true(in_range(first[i]));
		for (int j = 0; j < i; j++)
			assert_int_not_equal(first[i], first[j]);
		assert_true(pp.ops->slot_of(&s, pp.v, first[i]) >= 0);
	}
	/* Period 8, and the QP's own entropy is one of them. */
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < 8; i++)
			assert_int_equal(sx_path_next(&s, &pp, 0), first[i]);
	assert_int_equal(first[0], s.base);
	/* An entropy it never sends is not one of its slots. */
	assert_int_equal(pp.ops->slot_of(&s, pp.v, 0x1234), -1);
	/* Counters: 32 packets over 8 slots. */
	for (int i = 0; i < 8; i++)
		assert_int_equal(s.slot[i].pkts, 4);
}

static void
spray_whole_range_and_random(void **state)
{
	static const char *const rnd[] = {"paths=16", "random=1", NULL};
	static uint8_t seen[1 << 16];
	struct sx_path_params pp;
	struct sx_path_state s, t;
	unsigned int distinct = 0, hits[16] = {0};

	(void)state;
	/* Default: every one of the 16384 RoCEv2 entropies once per cycle. */
	setup_policy(&pp, &s, "spray", sx_path_base(0x300), NULL);
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 16384; i++) {
		uint16_t e = sx_path_next(&s, &pp, 0);

		assert_true(in_range(e));
		distinct += !seen[e];
		seen[e] = 1;
	}
	assert_int_equal(distinct, 16384);
	/* Random over 16: stays in the set, reaches all of it, evenly
	 * (chi-square with 15 dof below 37.7, p = 0.001), and is a function
	 * of the QP (same base, same sequence). */
	setup_policy(&pp, &s, "spray", sx_path_base(0x301), rnd);
	setup_policy(&pp, &t, "spray", sx_path_base(0x301), rnd);
	for (int i = 0; i < 16000; i++) {
		uint16_t e = sx_path_next(&s, &pp, 0);
		int k = pp.ops->slot_of(&s, pp.v, e);

		assert_int_equal(e, sx_path_next(&t, &pp, 0));
		assert_true(k >= 0 && k < 16);
		hits[k]++;
	}
	{
		double chi = 0;

		for (int k = 0; k < 16; k++)
			chi += (hits[k] - 1000.0) * (hits[k] - 1000.0) / 1000.0;
		assert_true(chi < 37.7);
	}
}

static void
flowlet_changes_only_after_a_gap(void **state)
{
	static const char *const sets[] = {"gap_us=10", "paths=1024", NULL};
	struct sx_path_params pp;
	struct sx_path_state s;
	uint64_t t = 1000000;
	unsigned int changed = 0;
	uint16_t cur;

	(void)state;
	setup_policy(&pp, &s, "flowlet", sx_path_base(0x400), sets);
	cur = sx_path_next(&s, &pp, t);
	for (int burst = 0; burst < 50; burst++) {
		/* Back to back (gaps of 1 us < 10 us): one path. */
		for (int i = 0; i < 20; i++) {
			t += 1000;
			assert_int_equal(sx_path_next(&s, &pp, t), cur);
		}
		/* Idle 20 us > gap: a new draw from 1024 entropies. */
		t += 20000;
		{
			uint16_t e = sx_path_next(&s, &pp, t);

			assert_true(in_range(e));
			changed += e != cur;
			cur = e;
		}
	}
	/* A repeat draw has probability 1/1024 each time. */
	assert_true(changed >= 48);
}

static void
adaptive_recycles_good_and_drops_marked(void **state)
{
	static const char *const sets[] = {"ring=4", NULL};
	struct sx_path_params pp;
	struct sx_path_state s;
	uint16_t e[8];
	int k;

	(void)state;
	setup_policy(&pp, &s, "adaptive", sx_path_base(0x500), sets);
	/* Nothing returned yet: every packet explores a fresh entropy, never
	 * the QP's own (its ACKs use that one). */
	for (int i = 0; i < 8; i++) {
		e[i] = sx_path_next(&s, &pp, 0);
		assert_true(in_range(e[i]));
		assert_int_not_equal(e[i], s.base);
	}
	/* Delivered unmarked: reused, oldest first. */
	sx_path_feedback(&s, &pp, e[2], SX_PATH_SIG_ACK, 0);
	sx_path_feedback(&s, &pp, e[5], SX_PATH_SIG_ACK, 0);
	assert_int_equal(sx_path_next(&s, &pp, 0), e[2]);
	assert_int_equal(sx_path_next(&s, &pp, 0), e[5]);
	/* Delivered, then echoed as marked: forgotten, counted against it. */
	sx_path_feedback(&s, &pp, e[1], SX_PATH_SIG_ACK, 0);
	sx_path_feedback(&s, &pp, e[3], SX_PATH_SIG_ACK, 0);
	sx_path_feedback(&s, &pp, e[1], SX_PATH_SIG_ECN, 0);
	assert_int_equal(sx_path_next(&s, &pp, 0), e[3]);
	k = pp.ops->slot_of(&s, pp.v, e[1]);
	assert_true(k >= 0);
	assert_true(s.slot[k].ecn >= 1 && s.slot[k].retired >= 1);
	/* Lost: forgotten too. */
	sx_path_feedback(&s, &pp, e[4], SX_PATH_SIG_ACK, 0);
	sx_path_feedback(&s, &pp, e[4], SX_PATH_SIG_LOSS, 0);
	{
		uint16_t x = sx_path_next(&s, &pp, 0);

		assert_int_not_equal(x, e[4]);
	}
	/* The ring holds at most `ring`: the fifth return is dropped. */
	for (int i = 0; i < 5; i++)
		sx_path_feedback(&s, &pp, e[i], SX_PATH_SIG_ACK, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(sx_path_next(&s, &pp, 0), e[i]);
	assert_int_not_equal(sx_path_next(&s, &pp, 0), e[4]);
	/* A timeout empties it: the next packets explore. */
	sx_path_feedback(&s, &pp, e[6], SX_PATH_SIG_ACK, 0);
	sx_path_feedback(&s, &pp, e[7], SX_PATH_SIG_ACK, 0);
	sx_path_feedback(&s, &pp, e[6], SX_PATH_SIG_TIMEOUT, 0);
	{
		uint16_t x = sx_path_next(&s, &pp, 0);

		assert_true(x != e[6] && x != e[7]);
	}
	/* Feedback about an entropy outside the range changes nothing. */
	sx_path_feedback(&s, &pp, 0x1234, SX_PATH_SIG_ACK, 0);
}

static void
policy_params_validated(void **state)
{
	struct sx_path_params pp;

	(void)state;
	sx_path_params_init(&pp, sx_path_find("spray"));
	assert_int_equal(sx_path_params_parse(&pp, "paths=0"), -ERANGE);
	assert_int_equal(sx_path_params_parse(&pp, "paths=16385"), -ERANGE);
	assert_int_equal(sx_path_params_parse(&pp, "random=2"), -ERANGE);
	assert_int_equal(sx_path_params_parse(&pp, "gap_us=5"), -ENOENT);
	sx_path_params_init(&pp, sx_path_find("flowlet"));
	assert_int_equal(sx_path_params_parse(&pp, "gap_us=-1"), -ERANGE);
	assert_int_equal(sx_path_params_parse(&pp, "gap_us=2.5"), 0);
	sx_path_params_init(&pp, sx_path_find("adaptive"));
	assert_int_equal(sx_path_params_parse(&pp, "ring=0"), -ERANGE);
	assert_int_equal(sx_path_params_parse(&pp, "ring=97"), -ERANGE);
	assert_int_equal(sx_path_params_parse(&pp, "ring=8"), 0);
	sx_path_params_init(&pp, sx_path_find("flow"));
	assert_int_equal(sx_path_params_parse(&pp, "paths=2"), -ENOENT);
}

static void
flow_keeps_one_entropy(void **state)
{
	struct sx_path_params pp;
	struct sx_path_state s;
	uint16_t base = sx_path_base(0x123);

	(void)state;
	sx_path_params_init(&pp, sx_path_find("flow"));
	sx_path_init(&s, &pp, base);
	for (uint64_t t = 0; t < 1000; t++)
		assert_int_equal(sx_path_next(&s, &pp, t * 1000), base);
	assert_false(pp.ops->reorders);
}

static void
base_entropy_range_and_spread(void **state)
{
	uint32_t seen[4] = {0};

	(void)state;
	/* RoCEv2 (annex A17.5.1): the source port of a flow lies in 0xc000..0xffff. */
	for (uint32_t qpn = 0x100; qpn < 0x100 + 1024; qpn++) {
		uint16_t p = sx_path_base(qpn);

		assert_true(p >= 0xc000);
		seen[(p >> 12) & 3]++;
		assert_int_not_equal(p, sx_path_base(qpn + 1));
	}
	/* Consecutive QPNs spread over the range, not clustered in a corner. */
	for (int i = 0; i < 4; i++)
		assert_true(seen[i] > 128);
}

static const struct sx_param rows[] = {
	{"gap_us", "us", 10, 1, 1000, "a time", 0},
	{"paths", "count", 8, 1, 256, "a whole number", SX_PARAM_INT},
};

static void
param_rows_refuse_bad_values(void **state)
{
	double v[2] = {10, 8};

	(void)state;
	assert_true(sx_param_table_ok(rows, 2));
	assert_int_equal(sx_param_assign(rows, 2, v, " gap_us = 2.5 "), 0);
	assert_true(v[0] == 2.5);
	assert_int_equal(sx_param_assign(rows, 2, v, "paths=16"), 0);
	assert_true(v[1] == 16);
	assert_int_equal(sx_param_assign(rows, 2, v, "paths=1.5"), -ERANGE);
	assert_int_equal(sx_param_assign(rows, 2, v, "paths=0"), -ERANGE);
	assert_int_equal(sx_param_assign(rows, 2, v, "gap_us=nan"), -ERANGE);
	assert_int_equal(sx_param_assign(rows, 2, v, "gap_us=inf"), -ERANGE);
	assert_int_equal(sx_param_assign(rows, 2, v, "gap_us=1e400"), -ERANGE);
	assert_int_equal(sx_param_assign(rows, 2, v, "gap_us=5x"), -EINVAL);
	assert_int_equal(sx_param_assign(rows, 2, v, "gap_us="), -EINVAL);
	assert_int_equal(sx_param_assign(rows, 2, v, "gap_us"), -EINVAL);
	assert_int_equal(sx_param_assign(rows, 2, v, "=5"), -EINVAL);
	assert_int_equal(sx_param_assign(rows, 2, v, "nope=5"), -ENOENT);
	/* Nothing changed on any error. */
	assert_true(v[0] == 2.5 && v[1] == 16);
	/* A table whose default lies outside its range is malformed. */
	{
		const struct sx_param bad[] = {{"x", "us", 5, 10, 20, "", 0}};
		const struct sx_param dup[] = {{"x", "us", 1, 0, 2, "", 0},
					       {"x", "us", 1, 0, 2, "", 0}};

		assert_false(sx_param_table_ok(bad, 1));
		assert_false(sx_param_table_ok(dup, 2));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(registry),
	    cmocka_unit_test(flow_keeps_one_entropy),
	    cmocka_unit_test(base_entropy_range_and_spread),
	    cmocka_unit_test(param_rows_refuse_bad_values),
	    cmocka_unit_test(spray_round_robin_cycles_distinct_entropies),
	    cmocka_unit_test(spray_whole_range_and_random),
	    cmocka_unit_test(flowlet_changes_only_after_a_gap),
	    cmocka_unit_test(adaptive_recycles_good_and_drops_marked),
	    cmocka_unit_test(policy_params_validated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
