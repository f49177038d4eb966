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
#include <stdint.h>

#include <cmocka.h>

#include "../../dataplane/path/path.h"

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
	assert_true(i >= 1);
	assert_ptr_equal(sx_path_params_default()->ops, sx_path_find("flow"));
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
