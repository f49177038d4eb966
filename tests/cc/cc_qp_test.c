/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control through real contexts and QPs in virtual time
 * (tests/qp/vt.c):
 *
 *   app_registered  an algorithm the application registers with
 *                   sx_cc_register() (docs/cc.md's example) is selected by
 *                   name and paces the transfer: half the share, twice the
 *                   time, measured against a quarter share in the same run
 *   window          a window algorithm's cwnd_bytes is what the QP keeps in
 *                   flight: never more, and the window is used in full
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <scalex/cc.h>

#include "../qp/vt.h"

#define SEC 1000000000ull

/* ---- the application's algorithm: a share of the line rate ---- */

static void
share_init(struct sx_cc_state *s, const double *p, uint64_t line_bps, uint64_t now_ns)
{
	(void)now_ns;
	memset(s, 0, sizeof(*s));
	s->line_rate_bps = line_bps;
	s->rate_bps = (uint64_t)((double)line_bps * p[0]);
}

static const struct sx_param share_params[] = {
	{"share", "fraction", 0.5, 0.01, 1, "share of the line rate", 0},
};

static const struct sx_cc_ops share_ops = {
	.name = "app-share",
	.params = share_params,
	.nparams = 1,
	.init = share_init,
};

struct xfer {
	void *src, *dst;
	struct sx_mr *smr, *dmr;
};

static void
xfer_setup(struct vt *v, struct xfer *x, size_t len)
{
	x->src = malloc(len);
	x->dst = calloc(1, len);
	assert_non_null(x->src);
	assert_non_null(x->dst);
	for (size_t i = 0; i < len; i++)
		((uint8_t *)x->src)[i] = (uint8_t)(i * 131 + 7);
	x->smr = sx_reg_mr(v->pd[0], x->src, len, SX_ACCESS_LOCAL_WRITE);
	x->dmr = sx_reg_mr(v->pd[1], x->dst, len,
			   SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE);
	assert_non_null(x->smr);
	assert_non_null(x->dmr);
}

static void
xfer_post(struct vt *v, struct xfer *x, uint32_t len)
{
	struct sx_sge sge = {.addr = (uintptr_t)x->src, .length = len, .lkey = x->smr->lkey};
	struct sx_send_wr wr = {
		.wr_id = 1,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = SX_WR_RDMA_WRITE,
		.send_flags = SX_SEND_SIGNALED,
	};

	wr.wr.rdma.remote_addr = (uintptr_t)x->dst;
	wr.wr.rdma.rkey = x->dmr->rkey;
	assert_int_equal(sx_post_send(v->qp[0], &wr, NULL), 0);
}

static void
xfer_fini(struct xfer *x)
{
	sx_dereg_mr(x->smr);
	sx_dereg_mr(x->dmr);
	free(x->src);
	free(x->dst);
}

/* Virtual ns to WRITE @p len bytes with the registered algorithm at @p share. */
static uint64_t
timed_write(const char *share, uint32_t len)
{
	struct vt v;
	struct vt_opts o;
	struct xfer x;
	struct sx_wc wc;
	uint64_t t0;

	vt_default_opts(&o);
	o.cc = "app-share";
	vt_setup(&v, &o);
	assert_int_equal(sx_cc_param(v.ctx[0], share), 0);
	/* the QP took the CC at connect: start it again with the new share */
	sx_qp_set_cc(v.qp[0], &v.ctx[0]->ccp, v.ctx[0]->line_rate_bps, v.now_ns);
	xfer_setup(&v, &x, len);
	t0 = v.now_ns;
	xfer_post(&v, &x, len);
	assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, 10 * SEC), 1);
	assert_int_equal(wc.status, SX_WC_SUCCESS);
	assert_memory_equal(x.src, x.dst, len);
	t0 = v.now_ns - t0;
	xfer_fini(&x);
	vt_teardown(&v);
	return t0;
}

static void
test_app_registered(void **state)
{
	const uint32_t len = 2 << 20;
	uint64_t half, quarter;
	double ratio;

	(void)state;
	assert_null(sx_cc_find("app-share"));
	assert_int_equal(sx_cc_register(&share_ops), 0);
	assert_ptr_equal(sx_cc_find("app-share"), &share_ops);
	half = timed_write("share=0.5", len);
	quarter = timed_write("share=0.25", len);
	ratio = (double)quarter / (double)half;
	print_message("  app-share: 2 MiB in %.1f us at 0.5, %.1f us at 0.25 (ratio %.3f)\n",
		      half / 1e3, quarter / 1e3, ratio);
	/* 2 MiB at 50 Gb/s is 336 us of payload alone */
	assert_true(half > 330000);
	assert_true(ratio > 1.95 && ratio < 2.05);
}

/* ---- a window algorithm's window, as the QP keeps it ---- */

struct window_watch {
	struct sx_qp *qp;
	uint64_t max_inflight;
	unsigned int over; /* steps with more in flight than the window */
	int done;
};

static bool
window_step(struct vt *v, void *arg)
{
	struct window_watch *w = arg;
	uint64_t inflight = (uint64_t)sx_psn_fwd(w->qp->snd_una, w->qp->snd_max) * w->qp->mtu;
	struct sx_wc wc;

	if (inflight > w->max_inflight)
		w->max_inflight = inflight;
	if (inflight > w->qp->cc.cwnd_bytes)
		w->over++;
	if (sx_cq_pop(v->cq[0], 1, &wc) == 1) {
		assert_int_equal(wc.status, SX_WC_SUCCESS);
		w->done = 1;
	}
	return w->done;
}

static void
window_case(const char *algo, const char *const *params, uint64_t want_cwnd)
{
	const uint32_t len = 1 << 20;
	struct vt v;
	struct vt_opts o;
	struct xfer x;
	struct window_watch w = {0};

	vt_default_opts(&o);
	o.cc = algo;
	vt_setup(&v, &o);
	for (const char *const *p = params; *p != NULL; p++)
		assert_int_equal(sx_cc_param(v.ctx[0], *p), 0);
	sx_qp_set_cc(v.qp[0], &v.ctx[0]->ccp, v.ctx[0]->line_rate_bps, v.now_ns);
	assert_int_equal(v.qp[0]->cc.cwnd_bytes, want_cwnd);
	xfer_setup(&v, &x, len);
	w.qp = v.qp[0];
	xfer_post(&v, &x, len);
	assert_true(vt_run_until(&v, window_step, &w, 10 * SEC));
	assert_memory_equal(x.src, x.dst, len);
	print_message("  %s: window %lu B, most in flight %lu B, steps over the window %u\n",
		      algo, (unsigned long)v.qp[0]->cc.cwnd_bytes, (unsigned long)w.max_inflight,
		      w.over);
	assert_int_equal(w.over, 0);
	assert_int_equal(w.max_inflight, v.qp[0]->cc.cwnd_bytes);
	xfer_fini(&x);
	vt_teardown(&v);
}

static void
test_window(void **state)
{
	/* vt's MTU is 1024; windows of whole packets */
	static const char *const swift[] = {"packet_bytes=1024", "init_cwnd=6", NULL};
	static const char *const nscc[] = {"packet_bytes=1024", "init_cwnd=5120",
					   "min_cwnd=5120", "max_cwnd=5120", NULL};

	(void)state;
	window_case("swift", swift, 6 * 1024);
	window_case("nscc", nscc, 5 * 1024);
}

/*
 * HPCC on a path without INT switches (two NICs back to back, as a real
 * NIC path without INT support): the requests carry the shim's empty
 * slots, the ACKs echo no hop, the QP counts each such echo (int_empty)
 * and HPCC keeps its documented fallback, the fixed window W_init = line
 * rate x T (here one packet: T = 81.92 ns at 100 Gb/s, shorter than the
 * RTT, so the window binds), which the QP enforces. A gbn QP with HPCC is refused.
 */
static void
test_hpcc_without_int(void **state)
{
	static const char *const hpcc[] = {"base_rtt=0.08192", NULL};
	const uint32_t len = 1 << 20;
	struct sx_qp_init_attr gbn = {.reliability = SX_REL_GBN};
	struct vt v;
	struct vt_opts o;
	struct xfer x;
	struct window_watch w = {0};

	(void)state;
	vt_default_opts(&o);
	o.cc = "hpcc";
	o.rel = SX_REL_SR;
	vt_setup(&v, &o);
	for (const char *const *p = hpcc; *p != NULL; p++)
		assert_int_equal(sx_cc_param(v.ctx[0], *p), 0);
	sx_qp_set_cc(v.qp[0], &v.ctx[0]->ccp, v.ctx[0]->line_rate_bps, v.now_ns);
	assert_int_equal(v.qp[0]->cc.cwnd_bytes, 1024);
	xfer_setup(&v, &x, len);
	w.qp = v.qp[0];
	xfer_post(&v, &x, len);
	assert_true(vt_run_until(&v, window_step, &w, 10 * SEC));
	assert_memory_equal(x.src, x.dst, len);
	print_message("  hpcc without INT: window %lu B, most in flight %lu B, int_empty %lu of "
		      "%lu ACKs\n",
		      (unsigned long)v.qp[0]->cc.cwnd_bytes, (unsigned long)w.max_inflight,
		      (unsigned long)v.qp[0]->cnt[SX_QPC_INT_EMPTY],
		      (unsigned long)v.qp[0]->cnt[SX_QPC_ACKS_RCVD]);
	assert_int_equal(v.qp[0]->cc.cwnd_bytes, 1024);
	assert_int_equal(w.over, 0);
	assert_int_equal(w.max_inflight, 1024);
	assert_true(v.qp[0]->cnt[SX_QPC_INT_EMPTY] > 0);
	assert_int_equal(v.qp[0]->cnt[SX_QPC_INT_EMPTY], v.qp[0]->cnt[SX_QPC_ACKS_RCVD]);
	/* the responder saw the reserved slots, all empty */
	assert_int_equal(v.qp[1]->int_echo.nhops, 0);
	assert_int_equal(v.qp[1]->int_echo.flags, SX_INT_F_ECHO);
	errno = 0;
	assert_null(sx_create_qp(v.pd[0], &gbn));
	assert_int_equal(errno, EINVAL);
	xfer_fini(&x);
	vt_teardown(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_app_registered),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_hpcc_without_int),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
