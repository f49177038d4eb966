/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Responder and completer driven packet by packet (tests/qp/raw.h): the
 * expected NAKs, states and completions come from the IBA specification
 * (sections cited per test) and Linux rxe, not from this code's output.
 * Target memory sits against PROT_NONE pages with patterned bytes around
 * it, and every case asserts those bytes untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "raw.h"

#define EPSN 0x1000
#define MTU 1024
#define RW (SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE | SX_ACCESS_REMOTE_READ)

/* IBA 9.7.5.1 table 43: AETH syndrome bits 7:5 = 000 ACK, 001 RNR NAK,
 * 011 NAK; NAK codes 0 PSN sequence error, 1 invalid request, 2 remote
 * access error, 3 remote operational error. */
#define SYN_ACK_TYPE 0x00
#define SYN_RNR_TYPE 0x20
#define SYN_NAK_SEQ 0x60
#define SYN_NAK_INV 0x61
#define SYN_NAK_ACC 0x62

struct fix {
	struct raw r;
	struct guard g;
	struct sx_mr mr;
};

static void
fix_init(struct fix *f, enum sx_reliability rel, size_t len, unsigned int access)
{
	assert_int_equal(raw_init(&f->r, rel, MTU, EPSN, 0x500), 0);
	assert_int_equal(guard_alloc(&f->g, len, 64), 0);
	assert_int_equal(raw_reg(&f->r, &f->mr, f->g.buf, len, access), 0);
}

static void
fix_fini(struct fix *f)
{
	assert_true(guard_intact(&f->g));
	raw_fini(&f->r);
	guard_free(&f->g);
}

static void
req(struct sx_pkt *h, uint8_t opcode, uint32_t psn)
{
	memset(h, 0, sizeof(*h));
	h->bth.opcode = opcode;
	h->bth.psn = psn;
	h->bth.ackreq = true;
}

static void
write_req(struct sx_pkt *h, uint8_t opcode, uint32_t psn, uint64_t va, uint32_t rkey,
	  uint32_t dma_len, uint32_t payload_len)
{
	req(h, opcode, psn);
	h->reth.va = va;
	h->reth.rkey = rkey;
	h->reth.dma_len = dma_len;
	h->payload_len = payload_len;
}

static struct sx_pkt
expect_tx(struct fix *f)
{
	struct sx_pkt out;

	assert_true(raw_tx(&f->r, &out, true));
	return out;
}

/* IBA 9.9.3.1.3 (class C) and rxe (do_class_ac_error, then RESPST_ERROR):
 * a remote access error is NAKed and the responder QP goes to error; a
 * valid request after it is not executed. */
static void
test_access_error_moves_to_error(void **state)
{
	static uint8_t data[256];
	enum sx_reliability modes[] = {SX_REL_GBN, SX_REL_SR};

	(void)state;
	memset(data, 0x77, sizeof(data));
	for (int m = 0; m < 2; m++) {
		struct fix f;
		struct sx_pkt h, out;
		uint8_t op = modes[m] == SX_REL_SR ? SX_OP_SR(SX_OP_RC_WRITE_ONLY)
						   : SX_OP_RC_WRITE_ONLY;

		fix_init(&f, modes[m], 4096, RW);
		write_req(&h, op, EPSN, (uintptr_t)f.g.buf, f.mr.rkey + 0x100, 256, 256);
		assert_int_equal(raw_rx(&f.r, &h, data), SX_WIRE_OK);
		out = expect_tx(&f);
		assert_int_equal(out.bth.opcode, SX_OP_RC_ACK);
		assert_int_equal(out.aeth.syndrome, SYN_NAK_ACC);
		assert_int_equal(out.bth.psn, EPSN);
		assert_int_equal(f.r.qp.state, SX_QPS_ERROR);
		/* the same request with the right key is not executed now */
		write_req(&h, op, EPSN, (uintptr_t)f.g.buf, f.mr.rkey, 256, 256);
		assert_int_equal(raw_rx(&f.r, &h, data), SX_WIRE_OK);
		assert_false(raw_tx(&f.r, NULL, true));
		for (size_t i = 0; i < f.g.len; i++)
			assert_int_equal(f.g.buf[i], 0);
		fix_fini(&f);
	}
}

/* rxe's sent_psn_nak, IBA 9.7.5.2.1: only a sequence NAK waits for the gap
 * to close. After an RNR NAK the next gap still gets its sequence NAK, once. */
static void
test_seq_nak_after_rnr(void **state)
{
	struct fix f;
	struct sx_pkt h, out;
	uint8_t data[16] = {0};

	(void)state;
	fix_init(&f, SX_REL_GBN, 4096, RW);
	req(&h, SX_OP_RC_SEND_ONLY, EPSN); /* no receive posted */
	h.payload_len = sizeof(data);
	raw_rx(&f.r, &h, data);
	out = expect_tx(&f);
	assert_int_equal(out.aeth.syndrome & 0xe0, SYN_RNR_TYPE);
	assert_int_equal(out.bth.psn, EPSN);
	req(&h, SX_OP_RC_SEND_ONLY, EPSN + 1); /* the requester sent on */
	h.payload_len = sizeof(data);
	raw_rx(&f.r, &h, data);
	out = expect_tx(&f);
	assert_int_equal(out.aeth.syndrome, SYN_NAK_SEQ);
	assert_int_equal(out.bth.psn, EPSN);
	req(&h, SX_OP_RC_SEND_ONLY, EPSN + 2); /* same gap: no second NAK */
	h.payload_len = sizeof(data);
	raw_rx(&f.r, &h, data);
	assert_false(raw_tx(&f.r, NULL, true));
	assert_int_equal(f.r.qp.state, SX_QPS_RTS);
	fix_fini(&f);
}

/* IBA C9-88 (rxe's check_rkey): a zero-length RDMA WRITE or READ is not
 * checked against any region, so rkey 0 and VA 0 are accepted. */
static void
test_zero_length_no_key(void **state)
{
	enum sx_reliability modes[] = {SX_REL_GBN, SX_REL_SR};

	(void)state;
	for (int m = 0; m < 2; m++) {
		bool sr = modes[m] == SX_REL_SR;
		struct fix f;
		struct sx_pkt h, out;

		fix_init(&f, modes[m], 4096, RW);
		write_req(&h, sr ? SX_OP_SR(SX_OP_RC_WRITE_ONLY) : SX_OP_RC_WRITE_ONLY, EPSN, 0,
			  0, 0, 0);
		assert_int_equal(raw_rx(&f.r, &h, NULL), SX_WIRE_OK);
		out = expect_tx(&f);
		assert_int_equal(out.aeth.syndrome & 0xe0, SYN_ACK_TYPE);
		assert_int_equal(f.r.qp.epsn, EPSN + 1);
		write_req(&h, SX_OP_RC_READ_REQUEST, EPSN + 1, 0, 0, 0, 0);
		assert_int_equal(raw_rx(&f.r, &h, NULL), SX_WIRE_OK);
		out = expect_tx(&f);
		if (sr && out.bth.opcode == SX_OP_SR_ACK)
			out = expect_tx(&f);
		assert_int_equal(out.bth.opcode, SX_OP_RC_READ_RESPONSE_ONLY);
		assert_int_equal(out.bth.psn, EPSN + 1);
		assert_int_equal(out.payload_len, 0);
		assert_int_equal(f.r.qp.state, SX_QPS_RTS);
		assert_int_equal(f.r.qp.cnt[SX_QPC_NAK_ACCESS_SENT], 0);
		fix_fini(&f);
	}
}

/* A range that wraps past 2^64 is outside every region. */
static void
test_wrapping_range(void **state)
{
	static uint8_t data[MTU];
	const uint64_t vas[] = {UINT64_MAX - 15, UINT64_MAX};
	const uint8_t ops[] = {SX_OP_RC_WRITE_ONLY, SX_OP_RC_READ_REQUEST};

	(void)state;
	for (unsigned int i = 0; i < 2; i++) {
		for (unsigned int k = 0; k < 2; k++) {
			struct fix f;
			struct sx_pkt h, out;
			bool wr = ops[k] == SX_OP_RC_WRITE_ONLY;

			fix_init(&f, SX_REL_GBN, 4096, RW);
			write_req(&h, ops[k], EPSN, vas[i], f.mr.rkey, 256, wr ? 256 : 0);
			raw_rx(&f.r, &h, data);
			out = expect_tx(&f);
			assert_int_equal(out.aeth.syndrome, SYN_NAK_ACC);
			for (size_t j = 0; j < f.g.len; j++)
				assert_int_equal(f.g.buf[j], 0);
			fix_fini(&f);
		}
	}
	/* and a region base + a length that wraps */
	{
		struct fix f;
		struct sx_pkt h, out;

		fix_init(&f, SX_REL_GBN, 4096, RW);
		write_req(&h, SX_OP_RC_WRITE_FIRST, EPSN, (uintptr_t)f.g.buf + 16, f.mr.rkey,
			  UINT32_MAX, MTU);
		raw_rx(&f.r, &h, data);
		out = expect_tx(&f);
		assert_int_equal(out.aeth.syndrome, SYN_NAK_ACC);
		fix_fini(&f);
	}
}

/* A WRITE whose region is deregistered between its packets: the packets
 * after the deregistration are NAKed (remote access error, docs/transport.md)
 * and write nothing. */
static void
test_dereg_mid_write(void **state)
{
	static uint8_t data[MTU];
	struct fix f;
	struct sx_pkt h, out;

	(void)state;
	memset(data, 0x3c, sizeof(data));
	fix_init(&f, SX_REL_GBN, 4 * MTU, RW);
	write_req(&h, SX_OP_RC_WRITE_FIRST, EPSN, (uintptr_t)f.g.buf, f.mr.rkey, 4 * MTU, MTU);
	h.bth.ackreq = false;
	raw_rx(&f.r, &h, data);
	assert_false(raw_tx(&f.r, NULL, true));
	raw_dereg(&f.r, &f.mr);
	req(&h, SX_OP_RC_WRITE_MIDDLE, EPSN + 1);
	h.payload_len = MTU;
	raw_rx(&f.r, &h, data);
	out = expect_tx(&f);
	assert_int_equal(out.aeth.syndrome, SYN_NAK_ACC);
	assert_int_equal(out.bth.psn, EPSN + 1);
	for (size_t j = 0; j < MTU; j++)
		assert_int_equal(f.g.buf[j], 0x3c);
	for (size_t j = MTU; j < f.g.len; j++)
		assert_int_equal(f.g.buf[j], 0);
	fix_fini(&f);
}

/* A READ answered, then asked again (the requester timed out): the region
 * goes away before the second answer is sent. That answer is dropped as a
 * duplicate whose resources are gone (rxe, IBA 9.9.3.1.4 class D), not
 * NAKed: the QP did nothing wrong and stays up. Found by xfer-opcodes-sr
 * under load, where the class C rule turned it into a dead QP. */
static void
test_dereg_after_repeated_read(void **state)
{
	struct fix f;
	struct sx_pkt h, out;

	(void)state;
	fix_init(&f, SX_REL_GBN, 4 * MTU, RW);
	write_req(&h, SX_OP_RC_READ_REQUEST, EPSN, (uintptr_t)f.g.buf, f.mr.rkey, 4 * MTU, 0);
	raw_rx(&f.r, &h, NULL);
	for (int i = 0; i < 4; i++) {
		out = expect_tx(&f);
		assert_int_equal(out.bth.psn, EPSN + i);
		assert_int_equal(out.payload_len, MTU);
	}
	raw_rx(&f.r, &h, NULL); /* the same READ again */
	raw_dereg(&f.r, &f.mr);
	assert_false(raw_tx(&f.r, &out, true));
	assert_int_equal(f.r.qp.state, SX_QPS_RTS);
	assert_int_equal(f.r.qp.cnt[SX_QPC_NAK_ACCESS_SENT], 0);
	fix_fini(&f);
}

/* The region of a READ goes away while its (first) answer is being sent:
 * a remote access error NAK takes the place of the next packet, and the
 * responder QP goes to error (class C, IBA 9.9.3.1.3). */
static void
test_dereg_mid_read_answer(void **state)
{
	struct fix f;
	struct sx_pkt h, out;

	(void)state;
	fix_init(&f, SX_REL_GBN, 4 * MTU, RW);
	write_req(&h, SX_OP_RC_READ_REQUEST, EPSN, (uintptr_t)f.g.buf, f.mr.rkey, 4 * MTU, 0);
	raw_rx(&f.r, &h, NULL);
	out = expect_tx(&f);
	assert_int_equal(out.bth.opcode, SX_OP_RC_READ_RESPONSE_FIRST);
	raw_dereg(&f.r, &f.mr);
	out = expect_tx(&f);
	assert_int_equal(out.bth.opcode, SX_OP_RC_ACK);
	assert_int_equal(out.aeth.syndrome, SYN_NAK_ACC);
	assert_int_equal(f.r.qp.state, SX_QPS_ERROR);
	fix_fini(&f);
}

/* IBA 9.4.5 / rxe RESPST_ERR_MISALIGNED_ATOMIC: an atomic at an address that
 * is not 8-byte aligned is NAKed invalid request and executes nothing. */
static void
test_misaligned_atomic(void **state)
{
	const uint8_t ops[] = {SX_OP_RC_COMPARE_SWAP, SX_OP_RC_FETCH_ADD};

	(void)state;
	for (unsigned int k = 0; k < 2; k++) {
		for (unsigned int off = 1; off < 8; off += 3) {
			struct fix f;
			struct sx_pkt h, out;

			fix_init(&f, SX_REL_GBN, 64, RW | SX_ACCESS_REMOTE_ATOMIC);
			req(&h, ops[k], EPSN);
			h.atomiceth.va = (uintptr_t)f.g.buf + 8 + off;
			h.atomiceth.rkey = f.mr.rkey;
			h.atomiceth.swap_add = UINT64_MAX;
			h.atomiceth.compare = 0;
			raw_rx(&f.r, &h, NULL);
			out = expect_tx(&f);
			assert_int_equal(out.bth.opcode, SX_OP_RC_ACK);
			assert_int_equal(out.aeth.syndrome, SYN_NAK_INV);
			for (size_t j = 0; j < f.g.len; j++)
				assert_int_equal(f.g.buf[j], 0);
			fix_fini(&f);
		}
	}
}

/* The key of a deregistered region does not reach the region registered
 * again over the same memory (IBA 10.6.3.5: a new R_Key per registration). */
static void
test_old_rkey(void **state)
{
	static uint8_t data[256];
	struct fix f;
	struct sx_mr again;
	struct sx_pkt h, out;
	uint32_t old;

	(void)state;
	memset(data, 0x11, sizeof(data));
	fix_init(&f, SX_REL_GBN, 4096, RW);
	old = f.mr.rkey;
	raw_dereg(&f.r, &f.mr);
	assert_int_equal(raw_reg(&f.r, &again, f.g.buf, f.g.len, RW), 0);
	assert_int_not_equal(again.rkey, old);
	write_req(&h, SX_OP_RC_WRITE_ONLY, EPSN, (uintptr_t)f.g.buf, old, 256, 256);
	raw_rx(&f.r, &h, data);
	out = expect_tx(&f);
	assert_int_equal(out.aeth.syndrome, SYN_NAK_ACC);
	for (size_t j = 0; j < f.g.len; j++)
		assert_int_equal(f.g.buf[j], 0);
	fix_fini(&f);
}

/* The completer's side: a NAK ends the WR with the status table 43 names,
 * and sx_wc.vendor_err carries the received syndrome (include/scalex). */
static void
test_vendor_err(void **state)
{
	static const struct {
		uint8_t syndrome;
		enum sx_wc_status status;
	} cases[] = {
	    {SYN_NAK_INV, SX_WC_REM_INV_REQ_ERR},
	    {SYN_NAK_ACC, SX_WC_REM_ACCESS_ERR},
	    {0x63, SX_WC_REM_OP_ERR},
	};

	(void)state;
	for (unsigned int k = 0; k < 3; k++) {
		struct fix f;
		struct sx_sge sge;
		struct sx_send_wr wr;
		struct sx_pkt h, out;
		struct sx_wc wc[4];

		fix_init(&f, SX_REL_GBN, 4096, RW);
		sge = (struct sx_sge){.addr = (uintptr_t)f.g.buf, .length = 100,
				      .lkey = f.mr.lkey};
		memset(&wr, 0, sizeof(wr));
		wr.wr_id = 7;
		wr.opcode = SX_WR_RDMA_WRITE;
		wr.send_flags = SX_SEND_SIGNALED;
		wr.sg_list = &sge;
		wr.num_sge = 1;
		wr.wr.rdma.remote_addr = 0x1000;
		wr.wr.rdma.rkey = 0x1234;
		assert_int_equal(sx_qp_post_send(&f.r.qp, &wr, NULL), 0);
		out = expect_tx(&f);
		assert_int_equal(out.bth.opcode, SX_OP_RC_WRITE_ONLY);
		req(&h, SX_OP_RC_ACK, out.bth.psn);
		h.bth.ackreq = false;
		h.aeth.syndrome = cases[k].syndrome;
		raw_rx(&f.r, &h, NULL);
		assert_int_equal(sx_cq_pop(&f.r.scq, 4, wc), 1);
		assert_int_equal(wc[0].wr_id, 7);
		assert_int_equal(wc[0].status, cases[k].status);
		assert_int_equal(wc[0].vendor_err, cases[k].syndrome);
		assert_int_equal(f.r.qp.state, SX_QPS_ERROR);
		fix_fini(&f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_access_error_moves_to_error),
		cmocka_unit_test(test_seq_nak_after_rnr),
		cmocka_unit_test(test_zero_length_no_key),
		cmocka_unit_test(test_wrapping_range),
		cmocka_unit_test(test_dereg_mid_write),
		cmocka_unit_test(test_dereg_after_repeated_read),
		cmocka_unit_test(test_dereg_mid_read_answer),
		cmocka_unit_test(test_misaligned_atomic),
		cmocka_unit_test(test_old_rkey),
		cmocka_unit_test(test_vendor_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
