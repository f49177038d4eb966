/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live parameter store (control/params.h) and its use by a context:
 * names, validation (nothing changes on a bad value), per-QP overrides,
 * presets, and a running pair of contexts (virtual time, tests/qp/vt.c)
 * that picks a change up at its next poll round.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../qp/vt.h"
#include "control_hook.h"
#include "params.h"

static const struct sx_param rows_a[] = {
	{"alpha", "us", 10, 1, 100, "", SX_PARAM_INT},
	{"shared", "x", 0.5, 0, 1, "", 0},
};
static const struct sx_param rows_b[] = {
	{"beta", "", 3, 0, 7, "", SX_PARAM_INT | SX_PARAM_CTX_ONLY},
	{"shared", "y", 2, 0, 9, "", 0},
};

static struct sx_param_store *
two_groups(void)
{
	struct sx_param_group g[2] = {
		{"a", rows_a, 2, NULL},
		{"b", rows_b, 2, NULL},
	};
	struct sx_param_store *st = sx_param_store_create(g, 2, NULL);

	assert_non_null(st);
	return st;
}

static void
test_names(void **state)
{
	struct sx_param_store *st = two_groups();
	unsigned int g, i;

	(void)state;
	assert_int_equal(sx_param_lookup(st, "alpha", &g, &i), 0);
	assert_int_equal(g, 0);
	assert_int_equal(i, 0);
	assert_int_equal(sx_param_lookup(st, "b.shared", &g, &i), 0);
	assert_int_equal(g, 1);
	assert_int_equal(i, 1);
	assert_int_equal(sx_param_lookup(st, "shared", &g, &i), -EINVAL); /* two groups have it */
	assert_int_equal(sx_param_lookup(st, "nope", &g, &i), -ENOENT);
	assert_int_equal(sx_param_lookup(st, "c.alpha", &g, &i), -ENOENT);
	assert_int_equal(sx_param_lookup(st, "a.", &g, &i), -ENOENT);
	assert_int_equal(sx_param_lookup(st, "", &g, &i), -ENOENT);
	sx_param_store_destroy(st);
}

static void
test_validation(void **state)
{
	struct sx_param_store *st = two_groups();
	uint64_t gen = sx_param_store_gen(st);
	double v;
	bool own;

	(void)state;
	/* Each refused value leaves the value and the generation alone. */
	assert_int_equal(sx_param_store_set(st, 0, "alpha", 0), -ERANGE);
	assert_int_equal(sx_param_store_set(st, 0, "alpha", 101), -ERANGE);
	assert_int_equal(sx_param_store_set(st, 0, "alpha", 10.5), -ERANGE);
	assert_int_equal(sx_param_store_set(st, 0, "alpha", NAN), -ERANGE);
	assert_int_equal(sx_param_store_set(st, 0, "alpha", INFINITY), -ERANGE);
	assert_int_equal(sx_param_store_set(st, 0, "shared", 0.1), -EINVAL);
	assert_int_equal(sx_param_store_set(st, 0, "zeta", 1), -ENOENT);
	assert_int_equal(sx_param_store_set(st, 0x101, "beta", 1), -EINVAL); /* context-wide */
	assert_int_equal(sx_param_store_gen(st), gen);
	assert_int_equal(sx_param_store_get(st, 0, "alpha", &v, &own), 0);
	assert_true(v == 10 && !own);
	/* Boundaries are in range. */
	assert_int_equal(sx_param_store_set(st, 0, "alpha", 1), 0);
	assert_int_equal(sx_param_store_set(st, 0, "a.alpha", 100), 0);
	assert_int_equal(sx_param_store_set(st, 0, "b.shared", 9), 0);
	assert_int_equal(sx_param_store_gen(st), gen + 3);
	assert_int_equal(sx_param_store_get(st, 0, "alpha", &v, NULL), 0);
	assert_true(v == 100);
	sx_param_store_destroy(st);
}

static void
test_overrides(void **state)
{
	struct sx_param_store *st = two_groups();
	double v;
	bool own;

	(void)state;
	for (uint32_t q = 0x120; q > 0x100; q--) /* inserted out of order */
		assert_int_equal(sx_param_store_set(st, q, "alpha", q - 0x100), 0);
	assert_int_equal(sx_param_store_set(st, 0x105, "a.shared", 0.25), 0);
	for (uint32_t q = 0x101; q <= 0x120; q++) {
		assert_int_equal(sx_param_store_get(st, q, "alpha", &v, &own), 0);
		assert_true(v == q - 0x100 && own);
	}
	assert_int_equal(sx_param_store_get(st, 0x105, "a.shared", &v, &own), 0);
	assert_true(v == 0.25 && own);
	assert_int_equal(sx_param_store_get(st, 0x106, "a.shared", &v, &own), 0);
	assert_true(v == 0.5 && !own);
	assert_int_equal(sx_param_store_get(st, 0x200, "alpha", &v, &own), 0);
	assert_true(v == 10 && !own); /* no override: the global value */
	/* Unset one name, then all of a QP's. */
	assert_int_equal(sx_param_store_unset(st, 0x105, "alpha"), 0);
	assert_int_equal(sx_param_store_get(st, 0x105, "alpha", &v, &own), 0);
	assert_true(v == 10 && !own);
	assert_int_equal(sx_param_store_get(st, 0x105, "a.shared", &v, &own), 0);
	assert_true(own);
	assert_int_equal(sx_param_store_unset(st, 0x105, NULL), 0);
	assert_int_equal(sx_param_store_unset(st, 0x105, NULL), -ENOENT);
	assert_int_equal(sx_param_store_unset(st, 0x106, "a.shared"), -ENOENT);
	assert_int_equal(sx_param_store_unset(st, 0, NULL), -EINVAL);
	sx_param_store_destroy(st);
}

static void
test_preset(void **state)
{
	struct sx_param_group g = {"cc", sx_cc_find("dcqcn")->params, sx_cc_find("dcqcn")->nparams,
				   sx_cc_find("dcqcn")};
	const struct sx_cc_ops *ops = g.cc_ops;
	struct sx_param_store *st = sx_param_store_create(&g, 1, NULL);
	double v;

	(void)state;
	assert_non_null(st);
	assert_int_equal(sx_param_store_preset(st, "no-such"), -ENOENT);
	for (unsigned int k = 0; k < ops->npresets; k++) {
		assert_int_equal(sx_param_store_preset(st, ops->presets[k].name), 0);
		for (unsigned int i = 0; i < ops->nparams; i++) {
			assert_int_equal(sx_param_store_get(st, 0, ops->params[i].name, &v, NULL), 0);
			assert_true(v == ops->presets[k].v[i]);
		}
	}
	sx_param_store_destroy(st);
}

static bool
never(struct vt *v, void *arg)
{
	(void)v;
	(void)arg;
	return false;
}

/* A running context takes a change at its next poll round: global values,
 * a QP's own values, transport values, and sx_cc_param on top of it all. */
static void
test_context(void **state)
{
	struct vt_opts o;
	struct vt v;
	struct sx_param_store *st;
	int ai;

	(void)state;
	vt_default_opts(&o);
	o.cc = "dcqcn";
	vt_setup(&v, &o);
	st = sx_ctx_store(v.ctx[0]);
	ai = sx_cc_param_index(v.ctx[0]->ccp.ops, "rpg_ai_rate");
	assert_true(ai >= 0);
	assert_ptr_equal(v.qp[0]->ccp, &v.ctx[0]->ccp);

	assert_int_equal(sx_param_store_set(st, 0, "rpg_ai_rate", 40), 0);
	assert_true(v.ctx[0]->ccp.v[ai] != 40); /* not before the engine's next round */
	vt_run_until(&v, never, NULL, 10000);
	assert_true(v.ctx[0]->ccp.v[ai] == 40);

	assert_int_equal(sx_param_store_set(st, v.qp[0]->qpn, "rpg_ai_rate", 80), 0);
	vt_run_until(&v, never, NULL, 10000);
	assert_ptr_not_equal(v.qp[0]->ccp, &v.ctx[0]->ccp);
	assert_true(v.qp[0]->ccp->v[ai] == 80);
	assert_true(v.ctx[0]->ccp.v[ai] == 40);
	assert_int_equal(sx_param_store_unset(st, v.qp[0]->qpn, NULL), 0);
	vt_run_until(&v, never, NULL, 10000);
	assert_ptr_equal(v.qp[0]->ccp, &v.ctx[0]->ccp);

	assert_int_equal(sx_param_store_set(st, 0, "transport.dscp", 10), 0);
	vt_run_until(&v, never, NULL, 10000);
	assert_int_equal(v.ctx[0]->engine.tos >> 2, 10);

	/* The thread's own API writes the store and applies at once. */
	assert_int_equal(sx_cc_param(v.ctx[0], "rpg_ai_rate=7"), 0);
	assert_true(v.ctx[0]->ccp.v[ai] == 7);
	assert_int_equal(sx_cc_param(v.ctx[0], "rpg_ai_rate=-7"), -ERANGE);
	assert_int_equal(sx_cc_param(v.ctx[0], "rpg_ai_rate"), -EINVAL);
	assert_int_equal(sx_cc_param(v.ctx[0], "dscp=3"), -ENOENT); /* not a CC parameter */
	assert_true(v.ctx[0]->ccp.v[ai] == 7);
	assert_int_equal(sx_cc_preset(v.ctx[0], "paper"), 0);
	assert_true(v.ctx[0]->ccp.v[ai] == sx_cc_find("dcqcn")->presets[1].v[ai] ||
		    v.ctx[0]->ccp.v[ai] == sx_cc_find("dcqcn")->presets[0].v[ai]);
	vt_teardown(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_preset),
		cmocka_unit_test(test_context),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
