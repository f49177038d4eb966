/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The counters API (<scalex/stats.h>) on two real contexts in virtual time:
 * the values follow the transfer the test made (its own sizes, not the
 * library's output), the walk is ordered and stoppable, names are stable
 * snake_case with help text, and bad lookups are errors.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <scalex/stats.h>

#include "../qp/vt.h"

#define LEN (64 * 1024)

static uint64_t
get(struct sx_context *ctx, enum sx_stats_scope sc, uint32_t id, const char *name)
{
	uint64_t v = UINT64_MAX;

	assert_int_equal(sx_stats_get(ctx, sc, id, name, &v), 0);
	return v;
}

/* One RDMA WRITE of LEN bytes from side 0 into side 1. */
static void
write_once(struct vt *v)
{
	static uint8_t src[LEN], dst[LEN];
	struct sx_mr *smr, *dmr;
	struct sx_sge sge;
	struct sx_send_wr wr;
	struct sx_wc wc;

	memset(src, 0x5a, sizeof(src));
	smr = sx_reg_mr(v->pd[0], src, LEN, SX_ACCESS_LOCAL_WRITE);
	dmr = sx_reg_mr(v->pd[1], dst, LEN, SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE);
	assert_non_null(smr);
	assert_non_null(dmr);
	sge = (struct sx_sge){(uintptr_t)src, LEN, smr->lkey};
	memset(&wr, 0, sizeof(wr));
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = SX_WR_RDMA_WRITE;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)dst;
	wr.wr.rdma.rkey = dmr->rkey;
	assert_int_equal(sx_post_send(v->qp[0], &wr, NULL), 0);
	assert_int_equal(vt_wait_wc(v, 0, &wc, 1, 1000000000ull), 1);
	assert_int_equal(wc.status, SX_WC_SUCCESS);
	assert_memory_equal(src, dst, LEN);
	sx_dereg_mr(smr);
	sx_dereg_mr(dmr);
}

static void
values_follow_the_transfer(void **state)
{
	struct vt_opts o;
	struct vt v;
	uint32_t q0, q1;
	uint64_t frames;

	(void)state;
	vt_default_opts(&o);
	o.cc = "dcqcn";
	vt_setup(&v, &o);
	write_once(&v);
	q0 = sx_qp_num(v.qp[0]);
	q1 = sx_qp_num(v.qp[1]);
	/* No faults: every payload byte crossed exactly once. */
	assert_int_equal(get(v.ctx[0], SX_STATS_QP, q0, "tx_bytes"), LEN);
	assert_int_equal(get(v.ctx[1], SX_STATS_QP, q1, "rx_bytes"), LEN);
	assert_int_equal(get(v.ctx[0], SX_STATS_QP, q0, "retransmits"), 0);
	/* At MTU 1024 the WRITE is LEN / 1024 packets, plus the ACKs back. */
	assert_true(get(v.ctx[0], SX_STATS_QP, q0, "tx_pkts") >= LEN / 1024);
	assert_int_equal(get(v.ctx[0], SX_STATS_QP, q0, "state"), 1);
	/* The pair is a cable: what one port sent, the other received. */
	frames = get(v.ctx[0], SX_STATS_PORT, 0, "tx_frames");
	assert_true(frames >= LEN / 1024);
	assert_int_equal(get(v.ctx[1], SX_STATS_PORT, 0, "rx_frames"), frames);
	assert_int_equal(get(v.ctx[0], SX_STATS_ENGINE, 0, "tx_frames"), frames);
	assert_int_equal(get(v.ctx[0], SX_STATS_ENGINE, 0, "drop_unknown_qp"), 0);
	/* DCQCN starts at line rate (100 Gb/s by default) and never exceeds it. */
	assert_int_equal(get(v.ctx[0], SX_STATS_CC, q0, "rate_bps"), 100000000000ull);
	vt_teardown(&v);
}

struct walk {
	unsigned int n;
	int last_scope;
	uint32_t last_id;
	unsigned int per_scope[SX_STATS_SCOPE_MAX];
	unsigned int stop_after;
};

static int
walk_cb(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	struct walk *w = arg;
	const char *c;

	(void)value;
	/* Ordered: by scope, then by object id. */
	assert_true((int)d->scope >= w->last_scope);
	if ((int)d->scope == w->last_scope)
		assert_true(id >= w->last_id);
	w->last_scope = (int)d->scope;
	w->last_id = id;
	assert_non_null(d->help);
	assert_true(strlen(d->help) > 0);
	assert_true(islower((unsigned char)d->name[0]));
	for (c = d->name; *c; c++)
		assert_true(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_');
	w->per_scope[d->scope]++;
	w->n++;
	return w->stop_after != 0 && w->n == w->stop_after ? 42 : 0;
}

static void
walk_is_ordered_and_stoppable(void **state)
{
	struct vt_opts o;
	struct vt v;
	struct walk w = {.last_scope = -1};
	unsigned int qp_rows, cc_rows;

	(void)state;
	vt_default_opts(&o);
	vt_setup(&v, &o); /* no CC: the cc scope is empty */
	assert_int_equal(sx_stats_foreach(v.ctx[0], SX_STATS_ALL, walk_cb, &w), 0);
	assert_true(w.per_scope[SX_STATS_PORT] > 0);
	assert_true(w.per_scope[SX_STATS_ENGINE] > 0);
	qp_rows = w.per_scope[SX_STATS_QP];
	assert_true(qp_rows > 0);
	cc_rows = w.per_scope[SX_STATS_CC];
	assert_int_equal(cc_rows, 0);
	/* A second QP doubles the QP rows. */
	{
		struct sx_qp_init_attr qa = {.send_cq = v.cq[0], .recv_cq = v.cq[0],
					     .max_send_wr = 4, .max_recv_wr = 4};
		struct sx_qp *qp = sx_create_qp(v.pd[0], &qa);
		struct walk w2 = {.last_scope = -1};

		assert_non_null(qp);
		assert_int_equal(sx_stats_foreach(v.ctx[0], 1u << SX_STATS_QP, walk_cb, &w2), 0);
		assert_int_equal(w2.per_scope[SX_STATS_QP], 2 * qp_rows);
		assert_int_equal(w2.per_scope[SX_STATS_PORT], 0);
		sx_destroy_qp(qp);
	}
	/* A callback's non-zero value ends the walk and comes back. */
	{
		struct walk w3 = {.last_scope = -1, .stop_after = 3};

		assert_int_equal(sx_stats_foreach(v.ctx[0], SX_STATS_ALL, walk_cb, &w3), 42);
		assert_int_equal(w3.n, 3);
	}
	vt_teardown(&v);
}

static void
bad_lookups(void **state)
{
	struct vt_opts o;
	struct vt v;
	uint64_t x;

	(void)state;
	vt_default_opts(&o);
	vt_setup(&v, &o);
	assert_int_equal(sx_stats_get(v.ctx[0], SX_STATS_QP, sx_qp_num(v.qp[0]), "no_such", &x),
			 -ENOENT);
	assert_int_equal(sx_stats_get(v.ctx[0], SX_STATS_QP, 0xffffff, "tx_bytes", &x), -ENOENT);
	assert_int_equal(sx_stats_get(v.ctx[0], SX_STATS_CC, sx_qp_num(v.qp[0]), "rate_bps", &x),
			 -ENOENT); /* no CC on this QP */
	assert_int_equal(sx_stats_get(v.ctx[0], SX_STATS_SCOPE_MAX, 0, "tx_bytes", &x), -EINVAL);
	assert_int_equal(sx_stats_get(NULL, SX_STATS_PORT, 0, "tx_bytes", &x), -EINVAL);
	assert_int_equal(sx_stats_foreach(v.ctx[0], SX_STATS_ALL, NULL, NULL), -EINVAL);
	assert_string_equal(sx_stats_scope_name(SX_STATS_PORT), "port");
	assert_string_equal(sx_stats_scope_name(SX_STATS_CC), "cc");
	assert_null(sx_stats_scope_name(SX_STATS_SCOPE_MAX));
	vt_teardown(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(values_follow_the_transfer),
	    cmocka_unit_test(walk_is_ordered_and_stoppable),
	    cmocka_unit_test(bad_lookups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
