/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Windows sized to the bandwidth-delay product (docs/transport.md,
 * Windows): the memory budget, and a window of 256 Ki PSNs in virtual time
 * across the 24-bit PSN wrap, with loss, so holes lie far beyond the SACK
 * bitmap and SACK ranges report them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vt.h"

#define SEC 1000000000ull

/* The scoreboards of a window, from its definition: two sender bitmaps and
 * one responder bitmap of one bit per PSN. */
static uint64_t
want_bytes(uint32_t win)
{
	return 3ull * win / 8;
}

static void
test_budget(void **state)
{
	struct sx_mr_table mrs;
	struct sx_qp_env env;
	struct sx_cq cq;
	struct sx_qp a, b, c;
	struct sx_qp_init_attr qa;
	struct sx_pd *pd = (struct sx_pd *)&env;

	(void)state;
	assert_int_equal(sx_mr_table_init(&mrs, 4), 0);
	assert_int_equal(sx_cq_init(&cq, 16), 0);
	memset(&env, 0, sizeof(env));
	env.mrs = &mrs;
	env.window_budget_bytes = want_bytes(1u << 18) + want_bytes(1u << 10);
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = qa.recv_cq = &cq;
	qa.max_send_wr = 4;
	qa.reliability = SX_REL_SR;
	/* 150k rounds up to 256 Ki */
	qa.max_inflight_pkts = 150000;
	assert_int_equal(sx_qp_init(&a, &env, pd, 0x100, &qa, 4096, 0), 0);
	assert_int_equal(a.win_pkts, 1u << 18);
	assert_int_equal(env.window_used_bytes, want_bytes(1u << 18));
	/* the default window still fits, a second big one does not */
	qa.max_inflight_pkts = 0;
	assert_int_equal(sx_qp_init(&b, &env, pd, 0x101, &qa, 4096, 0), 0);
	assert_int_equal(b.win_pkts, 1024);
	qa.max_inflight_pkts = 1u << 18;
	assert_int_equal(sx_qp_init(&c, &env, pd, 0x102, &qa, 4096, 0), -ENOBUFS);
	assert_int_equal(env.window_used_bytes, want_bytes(1u << 18) + want_bytes(1024));
	/* beyond a quarter of the PSN space: refused outright */
	qa.max_inflight_pkts = (1u << 22) + 1;
	assert_int_equal(sx_qp_init(&c, &env, pd, 0x102, &qa, 4096, 0), -EINVAL);
	/* a destroyed QP gives its memory back */
	sx_qp_fini(&a);
	qa.max_inflight_pkts = 1u << 18;
	assert_int_equal(sx_qp_init(&c, &env, pd, 0x102, &qa, 4096, 0), 0);
	sx_qp_fini(&c);
	sx_qp_fini(&b);
	assert_int_equal(env.window_used_bytes, 0);
	sx_cq_fini(&cq);
	sx_mr_table_fini(&mrs);
}

/* The public API says ENOBUFS. */
static void
test_budget_errno(void **state)
{
	struct vt v;
	struct vt_opts o;
	struct sx_qp_init_attr qa;

	(void)state;
	vt_default_opts(&o);
	o.rel = SX_REL_SR;
	vt_setup(&v, &o);
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = qa.recv_cq = v.cq[0];
	qa.max_send_wr = 4;
	qa.reliability = SX_REL_SR;
	qa.max_inflight_pkts = 1u << 22; /* 1.5 MiB of scoreboard: fits 64 MiB */
	{
		struct sx_qp *q[64];
		int n = 0;

		errno = 0;
		while (n < 64 && (q[n] = sx_create_qp(v.pd[0], &qa)) != NULL)
			n++;
		/* 64 MiB / 1.5 MiB: 42 fit beside the harness's own QP */
		assert_int_equal(n, (int)((64ull << 20) - want_bytes(1024)) / (int)want_bytes(1u << 22));
		assert_int_equal(errno, ENOBUFS);
		while (n > 0)
			assert_int_equal(sx_destroy_qp(q[--n]), 0);
	}
	vt_teardown(&v);
}

static bool
inflight_at_least(struct vt *v, void *arg)
{
	return sx_psn_fwd(v->qp[0]->snd_una, v->qp[0]->snd_max) >= *(uint32_t *)arg;
}

/*
 * 200k packets of 256 B in one WRITE through a 256 Ki window that starts
 * 1000 PSNs before the 24-bit wrap, 0.1% of requests dropped, 1 ms of
 * one-way delay: thousands of PSNs in flight (the harness's delay line
 * holds 8192 frames; sim-wan_bdp carries 150k), holes far beyond the
 * 256-PSN bitmap, so SACK ranges report them, and every byte arrives.
 * (Timeouts are printed, not yet held to zero: docs/longhaul.md lists the
 * open question.)
 */
static void
test_large_window_wrap(void **state)
{
	enum { MTU = 256, PKTS = 200000 };
	const size_t len = (size_t)MTU * PKTS;
	uint32_t want = 1000;
	struct vt v;
	struct vt_opts o;
	struct sx_wc wc;
	struct sx_mr *smr, *dmr;
	uint8_t *src = malloc(len), *dst = calloc(1, len);
	struct sx_sge sge;
	struct sx_send_wr wr;
	size_t i;

	(void)state;
	assert_non_null(src);
	assert_non_null(dst);
	for (i = 0; i < len; i++)
		src[i] = (uint8_t)(i * 7 + i / 4096);
	vt_default_opts(&o);
	o.rel = SX_REL_SR;
	o.mtu = MTU;
	o.window_pkts = 150000;
	o.sq_psn[0] = (1u << 24) - 1000;
	o.fault_tx.drop = 0.001;
	o.fault_tx.delay_ns = 1000000;
	o.timeout_us = 100000;
	vt_setup(&v, &o);
	assert_int_equal(v.qp[0]->win_pkts, 1u << 18);
	smr = sx_reg_mr(v.pd[0], src, len, SX_ACCESS_LOCAL_WRITE);
	dmr = sx_reg_mr(v.pd[1], dst, len, SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE);
	assert_non_null(smr);
	assert_non_null(dmr);
	sge = (struct sx_sge){.addr = (uintptr_t)src, .length = (uint32_t)len, .lkey = smr->lkey};
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 1;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = SX_WR_RDMA_WRITE;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)dst;
	wr.wr.rdma.rkey = dmr->rkey;
	assert_int_equal(sx_post_send(v.qp[0], &wr, NULL), 0);
	assert_true(vt_run_until(&v, inflight_at_least, &want, SEC));
	assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, 10 * SEC), 1);
	assert_int_equal(wc.status, SX_WC_SUCCESS);
	assert_memory_equal(src, dst, len);
	/* the PSNs wrapped: the stream ended past 0 */
	assert_true(v.qp[0]->snd_una < 1u << 20);
	print_message("256 Ki window, %u packets, wrap: %lu retransmits, %lu timeouts, "
		      "%lu tail-loss probes\n", (unsigned)PKTS,
		      (unsigned long)v.qp[0]->cnt[SX_QPC_RETRANSMITS],
		      (unsigned long)v.qp[0]->cnt[SX_QPC_TIMEOUTS],
		      (unsigned long)v.qp[0]->cnt[SX_QPC_TLP_PROBES]);
	/* about 200 drops: holes resent a few times at most, never the window */
	assert_true(v.qp[0]->cnt[SX_QPC_RETRANSMITS] < 2000);
	sx_dereg_mr(smr);
	sx_dereg_mr(dmr);
	vt_teardown(&v);
	free(src);
	free(dst);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_budget_errno),
		cmocka_unit_test(test_large_window_wrap),
	};

	return cmocka_run_group_tests_name("qp-window", tests, NULL, NULL);
}
