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

#include "raw.h"
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
 * 1000 PSNs before the 24-bit wrap, 0.1% of requests dropped: the
 * harness's port pair holds 4096 frames, which the requester fills while
 * the responder pauses, so thousands of PSNs are in flight (sim-wan_bdp
 * carries 150k), holes lie far beyond the 256-PSN bitmap and SACK ranges
 * report them; every byte arrives.
 */
static void
test_large_window_wrap(void **state)
{
	enum { MTU = 256, PKTS = 200000 };
	const size_t len = (size_t)MTU * PKTS;
	uint32_t want = 4000;
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
	/* the responder pauses while the requester fills the port pair */
	v.down[1] = true;
	assert_true(vt_run_until(&v, inflight_at_least, &want, SEC));
	v.down[1] = false;
	assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, 10 * SEC), 1);
	assert_int_equal(wc.status, SX_WC_SUCCESS);
	assert_memory_equal(src, dst, len);
	/* the PSNs wrapped: the stream ended past 0 */
	assert_true(v.qp[0]->snd_una < 1u << 20);
	print_message("256 Ki window, %u packets, wrap: %lu retransmits, %lu timeouts, "
		      "%lu tail-loss probes, %lu ACKs with SACK ranges\n", (unsigned)PKTS,
		      (unsigned long)v.qp[0]->cnt[SX_QPC_RETRANSMITS],
		      (unsigned long)v.qp[0]->cnt[SX_QPC_TIMEOUTS],
		      (unsigned long)v.qp[0]->cnt[SX_QPC_TLP_PROBES],
		      (unsigned long)v.qp[1]->cnt[SX_QPC_SACKR_SENT]);
	assert_int_equal(v.qp[0]->cnt[SX_QPC_TIMEOUTS], 0);
	assert_true(v.qp[1]->cnt[SX_QPC_SACKR_SENT] > 0);
	/* about 200 drops: each hole resent a few times at most, never the window */
	assert_true(v.qp[0]->cnt[SX_QPC_RETRANSMITS] < 1000);
	sx_dereg_mr(smr);
	sx_dereg_mr(dmr);
	vt_teardown(&v);
	free(src);
	free(dst);
}

/* An SR ACK from the peer: everything before @p base, and @p nbits of the
 * bitmap after it (PSN base + 1 + i for bit i). */
static void
sr_ack(struct raw *r, uint32_t base, const unsigned int *bits, unsigned int nbits)
{
	struct sx_pkt h;
	unsigned int i;

	memset(&h, 0, sizeof(h));
	h.bth.opcode = SX_OP_SR_ACK;
	h.bth.psn = (base - 1) & 0xffffff;
	h.aeth.syndrome = sx_aeth_syndrome(SX_AETH_ACK, SX_AETH_CREDIT_INVALID);
	h.sack.base = base;
	for (i = 0; i < nbits; i++)
		h.sack.bitmap[bits[i] / 8] |= (uint8_t)(1u << (bits[i] % 8));
	assert_int_equal(raw_rx(r, &h, NULL), SX_WIRE_OK);
}

static void
post(struct raw *r, struct sx_mr *mr, uint8_t *buf, uint32_t len, uint64_t id)
{
	struct sx_sge sge = {.addr = (uintptr_t)buf, .length = len, .lkey = mr->lkey};
	struct sx_send_wr wr;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = id;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = SX_WR_RDMA_WRITE;
	wr.wr.rdma.remote_addr = 0x1000;
	wr.wr.rdma.rkey = 0x1234;
	assert_int_equal(sx_qp_post_send(&r->qp, &wr, NULL), 0);
}

/*
 * Tail-loss probe in virtual time (RFC 8985 7): a 2 ms round trip is
 * measured; 8 packets go, the peer acknowledges the first 5 and nothing
 * more comes. PTO = 2 SRTT = 4 ms after that ACK (RFC 6298 2.2: the first
 * sample is the SRTT), before the RTO (SRTT + 4 RTTVAR = 6 ms): the last
 * packet goes again with AckReq, once. The peer's SACK then shows the
 * probe arrived and PSNs 5 and 6 did not: both go at once, no timeout.
 */
static void
test_tlp(void **state)
{
	static uint8_t buf[8 * 1024];
	struct raw r;
	struct sx_mr mr;
	struct sx_pkt out;
	const uint32_t p0 = 100;
	uint64_t t_ack;
	unsigned int bit;

	(void)state;
	assert_int_equal(raw_init(&r, SX_REL_SR, 1024, 0, p0), 0);
	assert_int_equal(raw_reg(&r, &mr, buf, sizeof(buf), SX_ACCESS_LOCAL_WRITE), 0);
	/* one packet, answered 2 ms later: SRTT 2 ms */
	post(&r, &mr, buf, 1024, 1);
	assert_int_equal(raw_drain(&r), 1);
	r.now_ns += 2000000;
	sr_ack(&r, p0 + 1, NULL, 0);
	assert_true(r.qp.rtt_valid);
	assert_int_equal(r.qp.srtt_ns, 2000000);
	/* 8 packets, PSNs p0 + 1 .. p0 + 8; the first five acknowledged */
	post(&r, &mr, buf, sizeof(buf), 2);
	assert_int_equal(raw_drain(&r), 8);
	r.now_ns += 1000;
	sr_ack(&r, p0 + 6, NULL, 0);
	t_ack = r.now_ns;
	assert_int_equal(sx_qp_deadline(&r.qp), t_ack + 4000000);
	assert_true(r.qp.rto_deadline > t_ack + 4000000);
	/* nothing before the PTO */
	r.now_ns = t_ack + 3999999;
	sx_qp_timer(&r.qp, r.now_ns);
	assert_false(raw_tx(&r, &out, true));
	r.now_ns = t_ack + 4000000;
	sx_qp_timer(&r.qp, r.now_ns);
	assert_true(raw_tx(&r, &out, true));
	assert_int_equal(out.bth.psn, p0 + 8);
	assert_true(out.bth.ackreq);
	assert_int_equal(r.qp.cnt[SX_QPC_TLP_PROBES], 1);
	assert_int_equal(r.qp.cnt[SX_QPC_TIMEOUTS], 0);
	/* one probe per tail: no second before an ACK */
	assert_false(raw_tx(&r, &out, true));
	assert_true(sx_qp_deadline(&r.qp) == r.qp.rto_deadline);
	/* the probe's SACK: p0 + 8 arrived (bit 1 after base p0 + 6) */
	r.now_ns += 2000000;
	bit = 1;
	sr_ack(&r, p0 + 6, &bit, 1);
	assert_true(raw_tx(&r, &out, true));
	assert_int_equal(out.bth.psn, p0 + 6);
	assert_true(raw_tx(&r, &out, true));
	assert_int_equal(out.bth.psn, p0 + 7);
	assert_false(raw_tx(&r, &out, true));
	assert_int_equal(r.qp.cnt[SX_QPC_TIMEOUTS], 0);
	raw_dereg(&r, &mr);
	raw_fini(&r);
}

/*
 * The responder's SACK ranges (docs/wire.md, SACKR), across the PSN wrap:
 * PSNs E + 1 .. E + 999 arrive except E + 400 and E + 700 .. E + 709 (E
 * itself is lost). The ACK: Base E, the bitmap full (E + 1 .. E + 256),
 * then the runs beyond it, the newest first: [E + 710, E + 1000),
 * [E + 401, E + 700), and [E + 1, E + 400) cut to [E + 257, E + 400).
 */
static void
test_sack_ranges(void **state)
{
	const uint32_t e = 0xffff00;
	struct raw r;
	struct sx_pkt h, out;
	uint32_t i;

	(void)state;
	assert_int_equal(raw_init(&r, SX_REL_SR, 1024, e, 0), 0);
	for (i = 1; i < 1000; i++) {
		if (i == 400 || (i >= 700 && i < 710))
			continue;
		memset(&h, 0, sizeof(h));
		h.bth.opcode = SX_OP_SR(SX_OP_RC_WRITE_ONLY);
		h.bth.psn = (e + i) & 0xffffff;
		assert_int_equal(raw_rx(&r, &h, NULL), SX_WIRE_OK);
	}
	assert_true(raw_tx(&r, &out, false));
	assert_int_equal(out.bth.opcode, 0xe2);
	assert_int_equal(out.sack.base, e);
	for (i = 0; i < 32; i++)
		assert_int_equal(out.sack.bitmap[i], 0xff);
	assert_int_equal(out.sackr.count, 3);
	assert_int_equal(out.sackr.range[0].start, (e + 710) & 0xffffff);
	assert_int_equal(out.sackr.range[0].len, 290);
	assert_int_equal(out.sackr.range[1].start, (e + 401) & 0xffffff);
	assert_int_equal(out.sackr.range[1].len, 299);
	assert_int_equal(out.sackr.range[2].start, (e + 257) & 0xffffff);
	assert_int_equal(out.sackr.range[2].len, 143);
	assert_int_equal(r.qp.cnt[SX_QPC_SACKR_SENT], 1);
	raw_fini(&r);
}

/*
 * The requester reads SACK ranges: 600 packets out (PSNs P .. P + 599,
 * across the wrap); the ACK says P is missing, P + 1 .. P + 256 arrived
 * (bitmap), and beyond it [P + 500, P + 600) and [P + 300, P + 400). With
 * nothing new to send every hole goes again at once (early retransmit),
 * exactly once, lowest first: P, P + 257 .. P + 299, P + 400 .. P + 499.
 */
static void
test_sack_ranges_sender(void **state)
{
	static uint8_t buf[600 * 256];
	const uint32_t p0 = 0xfffe00;
	struct raw r;
	struct sx_mr mr;
	struct sx_pkt h, out;
	uint32_t want[144], n = 0, i;

	(void)state;
	want[n++] = p0;
	for (i = 257; i < 300; i++)
		want[n++] = (p0 + i) & 0xffffff;
	for (i = 400; i < 500; i++)
		want[n++] = (p0 + i) & 0xffffff;
	assert_int_equal(raw_init(&r, SX_REL_SR, 256, 0, p0), 0);
	assert_int_equal(raw_reg(&r, &mr, buf, sizeof(buf), SX_ACCESS_LOCAL_WRITE), 0);
	post(&r, &mr, buf, sizeof(buf), 1);
	assert_int_equal(raw_drain(&r), 600);
	memset(&h, 0, sizeof(h));
	h.bth.opcode = SX_OP_SR_ACK_RANGES;
	h.bth.psn = (p0 - 1) & 0xffffff;
	h.aeth.syndrome = sx_aeth_syndrome(SX_AETH_ACK, SX_AETH_CREDIT_INVALID);
	h.sack.base = p0;
	memset(h.sack.bitmap, 0xff, sizeof(h.sack.bitmap));
	h.sackr.count = 2;
	h.sackr.range[0].start = (p0 + 500) & 0xffffff;
	h.sackr.range[0].len = 100;
	h.sackr.range[1].start = (p0 + 300) & 0xffffff;
	h.sackr.range[1].len = 100;
	r.now_ns += 1000000;
	assert_int_equal(raw_rx(&r, &h, NULL), SX_WIRE_OK);
	for (i = 0; i < n; i++) {
		assert_true(raw_tx(&r, &out, true));
		assert_int_equal(out.bth.psn, want[i]);
	}
	assert_false(raw_tx(&r, &out, true));
	assert_int_equal(r.qp.cnt[SX_QPC_RETRANSMITS], n);
	raw_dereg(&r, &mr);
	raw_fini(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_budget_errno),
		cmocka_unit_test(test_large_window_wrap),
		cmocka_unit_test(test_tlp),
		cmocka_unit_test(test_sack_ranges),
		cmocka_unit_test(test_sack_ranges_sender),
	};

	return cmocka_run_group_tests_name("qp-window", tests, NULL, NULL);
}
