/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RC transport in virtual time: every opcode end to end with the target
 * buffer checked byte for byte, loss / reordering / duplication / corruption
 * in both reliability modes, protection errors, retry exhaustion, RNR, and
 * the 2^24 PSN wrap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "vt.h"

#define SEC 1000000000ull

struct bufs {
	uint8_t *src, *dst;
	size_t len;
	struct sx_mr *smr, *dmr;
};

static void
fill(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static void
bufs_init(struct vt *v, struct bufs *b, size_t len, unsigned int dst_access)
{
	b->len = len;
	b->src = malloc(len ? len : 1);
	b->dst = calloc(1, len ? len : 1);
	assert_non_null(b->src);
	assert_non_null(b->dst);
	fill(b->src, len, (uint32_t)len);
	b->smr = sx_reg_mr(v->pd[0], b->src, len,
			   SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_READ);
	b->dmr = sx_reg_mr(v->pd[1], b->dst, len, dst_access);
	assert_non_null(b->smr);
	assert_non_null(b->dmr);
}

static void
bufs_fini(struct bufs *b)
{
	sx_dereg_mr(b->smr);
	sx_dereg_mr(b->dmr);
	free(b->src);
	free(b->dst);
}

static void
post(struct sx_qp *qp, enum sx_wr_opcode op, uint64_t id, void *laddr, uint32_t len,
     uint32_t lkey, uint64_t raddr, uint32_t rkey)
{
	struct sx_sge sge = {.addr = (uintptr_t)laddr, .length = len, .lkey = lkey};
	struct sx_send_wr wr = {
		.wr_id = id,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.send_flags = SX_SEND_SIGNALED,
		.imm_data = 0x11223344,
	};

	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = rkey;
	assert_int_equal(sx_post_send(qp, &wr, NULL), 0);
}

static void
post_recv(struct sx_qp *qp, uint64_t id, void *addr, uint32_t len, uint32_t lkey)
{
	struct sx_sge sge = {.addr = (uintptr_t)addr, .length = len, .lkey = lkey};
	struct sx_recv_wr wr = {.wr_id = id, .sg_list = &sge, .num_sge = 1};

	assert_int_equal(sx_post_recv(qp, &wr, NULL), 0);
}

/* One message of @p len bytes with @p op; checks data and completions. */
static void
one_transfer(struct vt *v, enum sx_wr_opcode op, size_t len)
{
	struct bufs b;
	struct sx_wc wc[2];
	bool recv = op == SX_WR_SEND || op == SX_WR_SEND_WITH_IMM ||
		    op == SX_WR_RDMA_WRITE_WITH_IMM;

	bufs_init(v, &b, len,
		  SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE | SX_ACCESS_REMOTE_READ);
	if (recv)
		post_recv(v->qp[1], 77, b.dst, (uint32_t)len, b.dmr->lkey);
	if (op == SX_WR_RDMA_READ) {
		/* Read side 1's buffer into side 0's. */
		fill(b.dst, len, 99);
		memset(b.src, 0, len);
		post(v->qp[0], op, 5, b.src, (uint32_t)len, b.smr->lkey,
		     (uintptr_t)b.dst, b.dmr->rkey);
	} else {
		post(v->qp[0], op, 5, b.src, (uint32_t)len, b.smr->lkey,
		     (uintptr_t)b.dst, b.dmr->rkey);
	}
	assert_int_equal(vt_wait_wc(v, 0, wc, 1, 10 * SEC), 1);
	assert_int_equal(wc[0].status, SX_WC_SUCCESS);
	assert_int_equal(wc[0].wr_id, 5);
	if (recv) {
		assert_int_equal(vt_wait_wc(v, 1, &wc[1], 1, 10 * SEC), 1);
		assert_int_equal(wc[1].status, SX_WC_SUCCESS);
		assert_int_equal(wc[1].wr_id, 77);
		assert_int_equal(wc[1].opcode, op == SX_WR_RDMA_WRITE_WITH_IMM
						       ? SX_WC_RECV_RDMA_WITH_IMM
						       : SX_WC_RECV);
		if (op != SX_WR_SEND) {
			assert_true(wc[1].wc_flags & SX_WC_WITH_IMM);
			assert_int_equal(wc[1].imm_data, 0x11223344);
		}
		assert_int_equal(wc[1].byte_len, len);
	}
	assert_memory_equal(b.src, b.dst, len);
	bufs_fini(&b);
}

static void
every_opcode_sizes(enum sx_reliability rel)
{
	static const enum sx_wr_opcode ops[] = {
		SX_WR_SEND, SX_WR_SEND_WITH_IMM, SX_WR_RDMA_WRITE, SX_WR_RDMA_WRITE_WITH_IMM,
		SX_WR_RDMA_READ,
	};
	static const size_t sizes[] = {0, 1, 3, 1023, 1024, 1025, 4096, 65536 + 5, 1 << 20};
	struct vt v;
	struct vt_opts o;

	vt_default_opts(&o);
	o.rel = rel;
	vt_setup(&v, &o);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
			one_transfer(&v, ops[i], sizes[j]);
	vt_teardown(&v);
}

static void
test_every_opcode_sizes(void **state)
{
	(void)state;
	every_opcode_sizes(SX_REL_GBN);
}

static void
test_sr_every_opcode_sizes(void **state)
{
	(void)state;
	every_opcode_sizes(SX_REL_SR);
}

static void
test_atomics(void **state)
{
	struct vt v;
	struct vt_opts o;
	uint64_t *target, result = 0;
	struct sx_mr *tmr, *rmr;
	struct sx_sge sge;
	struct sx_send_wr wr;
	struct sx_wc wc;

	(void)state;
	vt_default_opts(&o);
	vt_setup(&v, &o);
	target = aligned_alloc(8, 64);
	target[1] = 40;
	tmr = sx_reg_mr(v.pd[1], target, 64,
			SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_ATOMIC);
	rmr = sx_reg_mr(v.pd[0], &result, 8, SX_ACCESS_LOCAL_WRITE);
	sge = (struct sx_sge){.addr = (uintptr_t)&result, .length = 8, .lkey = rmr->lkey};
	memset(&wr, 0, sizeof(wr));
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.opcode = SX_WR_ATOMIC_FETCH_AND_ADD;
	wr.wr.atomic.remote_addr = (uintptr_t)&target[1];
	wr.wr.atomic.rkey = tmr->rkey;
	wr.wr.atomic.compare_add = 2;
	assert_int_equal(sx_post_send(v.qp[0], &wr, NULL), 0);
	assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, SEC), 1);
	assert_int_equal(wc.status, SX_WC_SUCCESS);
	assert_int_equal(wc.opcode, SX_WC_FETCH_ADD);
	assert_int_equal(result, 40);
	assert_int_equal(target[1], 42);
	/* compare-and-swap: hit, then miss */
	wr.opcode = SX_WR_ATOMIC_CMP_AND_SWP;
	wr.wr.atomic.compare_add = 42;
	wr.wr.atomic.swap = 7;
	assert_int_equal(sx_post_send(v.qp[0], &wr, NULL), 0);
	assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, SEC), 1);
	assert_int_equal(wc.status, SX_WC_SUCCESS);
	assert_int_equal(result, 42);
	assert_int_equal(target[1], 7);
	assert_int_equal(sx_post_send(v.qp[0], &wr, NULL), 0);
	assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, SEC), 1);
	assert_int_equal(result, 7);
	assert_int_equal(target[1], 7);
	/* a miss with a different swap value leaves the target alone */
	wr.wr.atomic.compare_add = 999;
	wr.wr.atomic.swap = 5;
	assert_int_equal(sx_post_send(v.qp[0], &wr, NULL), 0);
	assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, SEC), 1);
	assert_int_equal(result, 7);
	assert_int_equal(target[1], 7);
	/* misaligned remote address: rejected at post */
	wr.wr.atomic.remote_addr = (uintptr_t)&target[1] + 1;
	assert_int_equal(sx_post_send(v.qp[0], &wr, NULL), -EINVAL);
	sx_dereg_mr(tmr);
	sx_dereg_mr(rmr);
	free(target);
	vt_teardown(&v);
}

/* Many messages of mixed kinds under faults: data intact, each completion
 * exactly once, no hang. */
struct mix_check {
	int want;
};

/* The path policy run_faulty() gives both QPs (NULL: flow). */
static const char *faulty_path;

static void
run_faulty(enum sx_reliability rel, double drop, double reorder, double dup, double corrupt,
	   uint64_t seed)
{
	enum { NMSG = 96, MSG = 12000 };
	struct vt v;
	struct vt_opts o;
	struct bufs b;
	struct sx_wc wc[NMSG * 2];
	int seen[NMSG] = {0}, n, i, recvs = 0;

	vt_default_opts(&o);
	o.rel = rel;
	o.fault_tx = (struct sx_fault_dir){
		.drop = drop, .reorder = reorder, .duplicate = dup, .corrupt = corrupt};
	o.fault_rx = o.fault_tx;
	o.seed = seed;
	o.retry_cnt = 7;
	o.path = faulty_path;
	vt_setup(&v, &o);
	bufs_init(&v, &b, (size_t)NMSG * MSG,
		  SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE | SX_ACCESS_REMOTE_READ);
	for (i = 0; i < NMSG; i++) {
		size_t off = (size_t)i * MSG;
		uint32_t len = MSG - (uint32_t)(i % 7) * 100;

		switch (i % 4) {
		case 0:
			post_recv(v.qp[1], 1000 + i, b.dst + off, MSG, b.dmr->lkey);
			post(v.qp[0], SX_WR_SEND, i, b.src + off, len, b.smr->lkey, 0, 0);
			recvs++;
			break;
		case 1:
			post(v.qp[0], SX_WR_RDMA_WRITE, i, b.src + off, len, b.smr->lkey,
			     (uintptr_t)(b.dst + off), b.dmr->rkey);
			break;
		case 2:
			/* READ side 1 -> side 0: seed side 1 with the expected bytes. */
			memcpy(b.dst + off, b.src + off, len);
			memset(b.src + off, 0, len);
			post(v.qp[0], SX_WR_RDMA_READ, i, b.src + off, len, b.smr->lkey,
			     (uintptr_t)(b.dst + off), b.dmr->rkey);
			break;
		default:
			post_recv(v.qp[1], 1000 + i, b.dst + off, MSG, b.dmr->lkey);
			post(v.qp[0], SX_WR_RDMA_WRITE_WITH_IMM, i, b.src + off, len,
			     b.smr->lkey, (uintptr_t)(b.dst + off), b.dmr->rkey);
			recvs++;
			break;
		}
	}
	n = vt_wait_wc(&v, 0, wc, NMSG, 60 * SEC);
	assert_int_equal(n, NMSG);
	for (i = 0; i < n; i++) {
		if (wc[i].status != SX_WC_SUCCESS)
			print_message("wc %d: wr %lu %s; requester una %x nxt %x max %x, "
				      "responder epsn %x\n", i, wc[i].wr_id,
				      sx_wc_status_str(wc[i].status), v.qp[0]->snd_una,
				      v.qp[0]->snd_nxt, v.qp[0]->snd_max, v.qp[1]->epsn);
		assert_int_equal(wc[i].status, SX_WC_SUCCESS);
		assert_true(wc[i].wr_id < NMSG);
		/* completions come in posting order, once each */
		assert_int_equal(wc[i].wr_id, (uint64_t)i);
		seen[wc[i].wr_id]++;
	}
	n = vt_wait_wc(&v, 1, wc, recvs, 60 * SEC);
	assert_int_equal(n, recvs);
	for (i = 0; i < n; i++)
		assert_int_equal(wc[i].status, SX_WC_SUCCESS);
	/* nothing more arrives: no duplicate completion */
	assert_int_equal(vt_wait_wc(&v, 0, wc, 1, SEC / 10), 0);
	assert_int_equal(vt_wait_wc(&v, 1, wc, 1, SEC / 10), 0);
	/* the faults really happened and were repaired */
	{
		const struct sx_port_stats *ps = &v.ctx[0]->port->stats;
		const uint64_t *c0 = v.qp[0]->cnt, *c1 = v.qp[1]->cnt;

		print_message("  %s drop=%.3f reorder=%.2f dup=%.2f corrupt=%.2f: faults "
			      "drop %lu reorder %lu dup %lu corrupt %lu; retransmits %lu, "
			      "timeouts %lu, dups seen %lu, ooo %lu\n",
			      rel == SX_REL_SR ? "sr " : "gbn", drop, reorder, dup, corrupt,
			      ps->fault_drop[0] + ps->fault_drop[1],
			      ps->fault_reorder[0] + ps->fault_reorder[1],
			      ps->fault_duplicate[0] + ps->fault_duplicate[1],
			      ps->fault_corrupt[0] + ps->fault_corrupt[1],
			      c0[SX_QPC_RETRANSMITS] + c1[SX_QPC_RETRANSMITS],
			      c0[SX_QPC_TIMEOUTS], c1[SX_QPC_DUPLICATES],
			      c1[SX_QPC_OUT_OF_ORDER]);
		if (drop > 0 || corrupt > 0) {
			assert_true(ps->fault_drop[0] + ps->fault_drop[1] +
					    ps->fault_corrupt[0] + ps->fault_corrupt[1] > 0);
			assert_true(c0[SX_QPC_RETRANSMITS] > 0);
		}
		if (dup > 0)
			assert_true(ps->fault_duplicate[0] + ps->fault_duplicate[1] > 0);
		if (reorder > 0)
			assert_true(ps->fault_reorder[0] + ps->fault_reorder[1] > 0);
		/* Sprayed, reordered, nothing lost: the reorder-tolerant
		 * detector (rack.c) resends for few of the reordered frames. */
		if (faulty_path != NULL && drop == 0 && corrupt == 0)
			assert_true(10 * (c0[SX_QPC_RACK_LOST] + c1[SX_QPC_RACK_LOST]) <=
				    ps->fault_reorder[0] + ps->fault_reorder[1] +
					    ps->fault_duplicate[0] + ps->fault_duplicate[1]);
	}
	for (i = 0; i < NMSG; i++) {
		size_t off = (size_t)i * MSG;
		uint32_t len = MSG - (uint32_t)(i % 7) * 100;

		assert_int_equal(seen[i], 1);
		assert_memory_equal(b.src + off, b.dst + off, len);
	}
	bufs_fini(&b);
	vt_teardown(&v);
}

/* Fault mixes run in both modes; seeds chosen so that every fault kind
 * really fires at these rates (the run asserts it did). */
static const struct {
	double drop, reorder, dup, corrupt;
	uint64_t seed[2]; /* gbn, sr */
} fault_cases[] = {
	{0.001, 0, 0, 0, {11, 34}},   {0.01, 0, 0, 0, {12, 32}},
	{0.05, 0, 0, 0, {13, 33}},    {0, 0.01, 0, 0, {21, 41}},
	{0, 0.05, 0, 0, {22, 42}},    {0, 0, 0.05, 0, {23, 43}},
	{0, 0, 0, 0.05, {24, 44}},    {0.01, 0.01, 0.01, 0.01, {25, 45}},
};

static void
faults_in_mode(enum sx_reliability rel)
{
	for (size_t i = 0; i < sizeof(fault_cases) / sizeof(fault_cases[0]); i++)
		run_faulty(rel, fault_cases[i].drop, fault_cases[i].reorder, fault_cases[i].dup,
			   fault_cases[i].corrupt, fault_cases[i].seed[rel == SX_REL_SR]);
}

static void
test_gbn_faults(void **state)
{
	(void)state;
	faults_in_mode(SX_REL_GBN);
}

static void
test_sr_faults(void **state)
{
	(void)state;
	faults_in_mode(SX_REL_SR);
}

/* The same mixes with both QPs spraying (docs/multipath.md): every opcode
 * intact through the time-based loss detector, sprayed ACKs and the echo. */
static void
test_sr_spray_faults(void **state)
{
	(void)state;
	faulty_path = "adaptive";
	faults_in_mode(SX_REL_SR);
	faulty_path = "spray";
	faults_in_mode(SX_REL_SR);
	faulty_path = NULL;
}

static void
protection_case(unsigned int dst_access, int rkey_delta, size_t off, size_t len,
		enum sx_wr_opcode op)
{
	struct vt v;
	struct vt_opts o;
	struct bufs b;
	struct sx_wc wc[4];
	uint8_t *before;

	vt_default_opts(&o);
	vt_setup(&v, &o);
	bufs_init(&v, &b, 8192, dst_access);
	before = malloc(b.len);
	fill(b.dst, b.len, 5);
	memcpy(before, b.dst, b.len);
	post(v.qp[0], op, 1, b.src, (uint32_t)len, b.smr->lkey, (uintptr_t)b.dst + off,
	     b.dmr->rkey + (uint32_t)rkey_delta);
	/* a second WR behind it is flushed */
	post(v.qp[0], SX_WR_RDMA_WRITE, 2, b.src, 16, b.smr->lkey, (uintptr_t)b.dst,
	     b.dmr->rkey);
	assert_int_equal(vt_wait_wc(&v, 0, wc, 2, SEC), 2);
	assert_int_equal(wc[0].wr_id, 1);
	assert_int_equal(wc[0].status, SX_WC_REM_ACCESS_ERR);
	/* the NAK's AETH syndrome (IBA table 43): NAK type 0b11, code 2 */
	assert_int_equal(wc[0].vendor_err, 0x62);
	/* class C: the responder's QP went to error too (IBA 9.9.3.1.3) */
	assert_int_equal(v.qp[1]->state, SX_QPS_ERROR);
	assert_int_equal(wc[1].wr_id, 2);
	assert_int_equal(wc[1].status, SX_WC_WR_FLUSH_ERR);
	assert_memory_equal(before, b.dst, b.len);
	assert_true(v.qp[1]->cnt[SX_QPC_NAK_ACCESS_SENT] >= 1);
	free(before);
	bufs_fini(&b);
	vt_teardown(&v);
}

static void
test_protection(void **state)
{
	unsigned int rw = SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE | SX_ACCESS_REMOTE_READ;

	(void)state;
	protection_case(rw, 0x100, 0, 100, SX_WR_RDMA_WRITE);        /* bad rkey */
	protection_case(rw, 0, 8192 - 50, 100, SX_WR_RDMA_WRITE);    /* out of bounds */
	protection_case(rw, 0, 4096, 8192, SX_WR_RDMA_WRITE);        /* straddles the end */
	protection_case(SX_ACCESS_REMOTE_READ, 0, 0, 100, SX_WR_RDMA_WRITE); /* read-only */
	protection_case(SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE, 0, 0, 100,
			SX_WR_RDMA_READ);                            /* no remote read */
	protection_case(rw, 0, 8192 - 50, 100, SX_WR_RDMA_READ);     /* read out of bounds */
}

static void
test_retry_exhausted(void **state)
{
	struct vt v;
	struct vt_opts o;
	struct bufs b;
	struct sx_wc wc[8];
	int i;

	(void)state;
	vt_default_opts(&o);
	o.retry_cnt = 3;
	vt_setup(&v, &o);
	bufs_init(&v, &b, 4096,
		  SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE | SX_ACCESS_REMOTE_READ);
	v.down[1] = true; /* the peer is gone */
	for (i = 0; i < 5; i++)
		post(v.qp[0], i % 2 ? SX_WR_RDMA_READ : SX_WR_RDMA_WRITE, i, b.src, 512,
		     b.smr->lkey, (uintptr_t)b.dst, b.dmr->rkey);
	assert_int_equal(vt_wait_wc(&v, 0, wc, 5, 60 * SEC), 5);
	assert_int_equal(wc[0].status, SX_WC_RETRY_EXC_ERR);
	for (i = 1; i < 5; i++) {
		assert_int_equal(wc[i].wr_id, (uint64_t)i);
		assert_int_equal(wc[i].status, SX_WC_WR_FLUSH_ERR);
	}
	assert_int_equal(v.qp[0]->state, SX_QPS_ERROR);
	assert_int_equal(v.qp[0]->cnt[SX_QPC_TIMEOUTS], 4);
	/* nothing more, and posting now fails cleanly */
	assert_int_equal(vt_wait_wc(&v, 0, wc, 1, SEC), 0);
	assert_int_not_equal(sx_post_send(v.qp[0],
					  &(struct sx_send_wr){.opcode = SX_WR_SEND}, NULL), 0);
	bufs_fini(&b);
	vt_teardown(&v);
}

static void
test_rnr_then_recv(void **state)
{
	struct vt v;
	struct vt_opts o;
	struct bufs b;
	struct sx_wc wc;

	(void)state;
	vt_default_opts(&o);
	vt_setup(&v, &o);
	bufs_init(&v, &b, 3000, SX_ACCESS_LOCAL_WRITE);
	post(v.qp[0], SX_WR_SEND, 9, b.src, 3000, b.smr->lkey, 0, 0);
	/* no receive posted: RNR NAKs, the sender waits and retries */
	assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, SEC / 100), 0);
	assert_true(v.qp[1]->cnt[SX_QPC_NAK_RNR_SENT] >= 1);
	post_recv(v.qp[1], 10, b.dst, 3000, b.dmr->lkey);
	assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, SEC), 1);
	assert_int_equal(wc.status, SX_WC_SUCCESS);
	assert_int_equal(vt_wait_wc(&v, 1, &wc, 1, SEC), 1);
	assert_int_equal(wc.byte_len, 3000);
	assert_memory_equal(b.src, b.dst, 3000);
	bufs_fini(&b);
	vt_teardown(&v);
}

static void
test_psn_wrap(void **state)
{
	struct vt v;
	struct vt_opts o;

	(void)state;
	vt_default_opts(&o);
	o.sq_psn[0] = SX_PSN_MASK - 40; /* a 1 MiB write crosses 2^24 */
	o.sq_psn[1] = SX_PSN_MASK - 3;
	vt_setup(&v, &o);
	one_transfer(&v, SX_WR_RDMA_WRITE, 1 << 20);
	one_transfer(&v, SX_WR_RDMA_READ, 1 << 20);
	one_transfer(&v, SX_WR_SEND, 200000);
	assert_true(sx_psn_cmp(v.qp[0]->snd_una, 100) > 0);
	assert_true(v.qp[0]->snd_una < 10000); /* wrapped */
	vt_teardown(&v);
}

static void
test_bad_posts(void **state)
{
	struct vt v;
	struct vt_opts o;
	struct bufs b;
	struct sx_sge sge;
	struct sx_send_wr wr, *bad = NULL;

	(void)state;
	vt_default_opts(&o);
	vt_setup(&v, &o);
	bufs_init(&v, &b, 4096, SX_ACCESS_LOCAL_WRITE);
	sge = (struct sx_sge){.addr = (uintptr_t)b.src, .length = 5000, .lkey = b.smr->lkey};
	memset(&wr, 0, sizeof(wr));
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = SX_WR_SEND;
	assert_int_equal(sx_post_send(v.qp[0], &wr, &bad), -EACCES); /* beyond the MR */
	assert_ptr_equal(bad, &wr);
	sge.length = 100;
	sge.lkey += 0x100;
	assert_int_equal(sx_post_send(v.qp[0], &wr, &bad), -EACCES); /* bad lkey */
	sge.lkey = b.smr->lkey;
	wr.num_sge = SX_MAX_SGE + 1;
	assert_int_equal(sx_post_send(v.qp[0], &wr, &bad), -EINVAL);
	wr.num_sge = 1;
	wr.opcode = (enum sx_wr_opcode)42;
	assert_int_equal(sx_post_send(v.qp[0], &wr, &bad), -EINVAL);
	bufs_fini(&b);
	vt_teardown(&v);
}

static bool
responder_sent_some(struct vt *v, void *arg)
{
	(void)arg;
	return v->qp[1]->cnt[SX_QPC_TX_PKTS] > 20;
}

/* The responder's region is deregistered (and unmapped) while it is still
 * answering a READ from it: the stream ends with a NAK, memory untouched;
 * a region a posted WR points into cannot be deregistered. */
static void
test_dereg_mid_read(void **state)
{
	enum { LEN = 1 << 20 };
	struct vt v;
	struct vt_opts o;
	struct sx_wc wc;
	struct sx_mr *smr, *dmr;
	uint8_t *src, *dst = malloc(LEN);

	(void)state;
	vt_default_opts(&o);
	vt_setup(&v, &o);
	src = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(src != MAP_FAILED);
	smr = sx_reg_mr(v.pd[1], src, LEN, SX_ACCESS_REMOTE_READ);
	dmr = sx_reg_mr(v.pd[0], dst, LEN, SX_ACCESS_LOCAL_WRITE);
	post(v.qp[0], SX_WR_RDMA_READ, 1, dst, LEN, dmr->lkey, (uintptr_t)src, smr->rkey);
	assert_int_equal(sx_dereg_mr(dmr), -EBUSY); /* the READ WR points into it */
	assert_true(vt_run_until(&v, responder_sent_some, NULL, SEC));
	assert_int_equal(sx_dereg_mr(smr), 0);
	assert_int_equal(munmap(src, LEN), 0); /* any later read of it faults */
	assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, SEC), 1);
	assert_int_equal(wc.status, SX_WC_REM_ACCESS_ERR);
	assert_true(v.qp[1]->cnt[SX_QPC_NAK_ACCESS_SENT] >= 1);
	assert_int_equal(sx_dereg_mr(dmr), 0); /* flushed: free again */
	free(dst);
	vt_teardown(&v);
}

/* Pacing: a QP granted R bits/s takes frame_bytes * 8 / R to send; ACKs
 * of a paced QP are not held back; a paced READ responder paces responses. */
static void
paced_case(int paced_side, enum sx_wr_opcode op, uint64_t rate_bps)
{
	enum { LEN = 1 << 20 };
	struct vt v;
	struct vt_opts o;
	struct bufs b;
	struct sx_wc wc;
	uint64_t t0, dt, ideal, frames;

	vt_default_opts(&o);
	vt_setup(&v, &o);
	bufs_init(&v, &b, LEN, SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE |
				       SX_ACCESS_REMOTE_READ);
	v.qp[paced_side]->rate_bps = rate_bps;
	t0 = v.now_ns;
	post(v.qp[0], op, 1, b.src, LEN, b.smr->lkey, (uintptr_t)b.dst, b.dmr->rkey);
	assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, 10 * SEC), 1);
	assert_int_equal(wc.status, SX_WC_SUCCESS);
	dt = v.now_ns - t0;
	/* 1024 data frames of 1024 B payload + 58..74 B of headers */
	frames = LEN / 1024;
	ideal = frames * (1024 + 58) * 8 * SEC / rate_bps;
	print_message("  paced side %d %s at %.1f Gb/s: %.3f ms (payload-only ideal %.3f ms)\n",
		      paced_side, op == SX_WR_RDMA_READ ? "READ" : "WRITE", rate_bps / 1e9,
		      dt / 1e6, (double)LEN * 8 * SEC / rate_bps / 1e6);
	assert_true(dt >= ideal * 99 / 100);
	assert_true(dt <= ideal * 110 / 100);
	assert_true(v.ctx[paced_side]->engine.stats.paced > 0);
	bufs_fini(&b);
	vt_teardown(&v);
}

static void
test_pacing(void **state)
{
	(void)state;
	paced_case(0, SX_WR_RDMA_WRITE, 1000000000ull);
	paced_case(0, SX_WR_RDMA_WRITE, 25000000000ull);
	paced_case(1, SX_WR_RDMA_READ, 2000000000ull); /* the responder is the sender */
}

/*
 * Congestion control end to end: a switch marks ECN-CE (fault injection),
 * the receiver's notification point sends CNPs (rate-limited), and the
 * sender's DCQCN cuts its rate: the requester for WRITE, the responder for
 * READ responses. The rate trace shows the cut.
 */
static void
cc_ecn_case(enum sx_wr_opcode op)
{
	enum { LEN = 8 << 20 };
	struct vt v;
	struct vt_opts o;
	struct bufs b;
	struct sx_wc wc;
	int rp = op == SX_WR_RDMA_READ ? 1 : 0, np = 1 - rp, cuts = 0;
	uint64_t t0, dt, min_rate = UINT64_MAX, first_cut = 0;
	char line[256];
	FILE *trace = tmpfile();

	vt_default_opts(&o);
	o.cc = "dcqcn";
	/* marks on what the reaction point sends, as they pass side 0's port */
	if (rp == 0)
		o.fault_tx.ecn = 0.05;
	else
		o.fault_rx.ecn = 0.05;
	vt_setup(&v, &o);
	for (int s = 0; s < 2; s++)
		assert_int_equal(sx_cc_preset(v.ctx[s], "paper"), 0);
	assert_int_equal(sx_cc_param(v.ctx[np], "min_time_between_cnps=20"), 0);
	assert_int_equal(sx_cc_param(v.ctx[np], "min_time_between_cnps=1e9"), -ERANGE);
	assert_int_equal(sx_cc_param(v.ctx[np], "no_such_param=1"), -ENOENT);
	/* the QPs took the CC at connect; re-init them with the preset */
	for (int s = 0; s < 2; s++)
		sx_qp_set_cc(v.qp[s], &v.ctx[s]->ccp, v.ctx[s]->line_rate_bps, v.now_ns);
	assert_int_equal(sx_cc_trace(v.ctx[rp], trace), 0);
	bufs_init(&v, &b, LEN, SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE |
				       SX_ACCESS_REMOTE_READ);
	t0 = v.now_ns;
	post(v.qp[0], op, 1, b.src, LEN, b.smr->lkey, (uintptr_t)b.dst, b.dmr->rkey);
	assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, 10 * SEC), 1);
	assert_int_equal(wc.status, SX_WC_SUCCESS);
	assert_memory_equal(b.src, b.dst, LEN);
	dt = v.now_ns - t0;
	sx_cc_trace(v.ctx[rp], NULL);

	/* CNPs: sent for marks, at most one per 20 us, all received */
	print_message("  %s: %.3f ms, %lu marked, %lu CNPs sent, %lu received, rate now "
		      "%.2f Gb/s\n", op == SX_WR_RDMA_READ ? "READ" : "WRITE", dt / 1e6,
		      v.qp[np]->cnt[SX_QPC_ECN_CE_RCVD], v.qp[np]->cnt[SX_QPC_CNP_SENT],
		      v.qp[rp]->cnt[SX_QPC_CNP_RCVD], v.qp[rp]->rate_bps / 1e9);
	assert_true(v.qp[np]->cnt[SX_QPC_ECN_CE_RCVD] > v.qp[np]->cnt[SX_QPC_CNP_SENT]);
	assert_true(v.qp[np]->cnt[SX_QPC_CNP_SENT] > 0);
	assert_true(v.qp[np]->cnt[SX_QPC_CNP_SENT] <= dt / 20000 + 1);
	assert_int_equal(v.qp[rp]->cnt[SX_QPC_CNP_RCVD], v.qp[np]->cnt[SX_QPC_CNP_SENT]);
	assert_int_equal(v.qp[np]->cnt[SX_QPC_CNP_RCVD], 0);

	/* the trace: the first cut halves the line rate (alpha = 1) */
	rewind(trace);
	assert_non_null(fgets(line, sizeof(line), trace));
	assert_string_equal(line, "time_ns,qpn,event,rate_bps,target_bps,alpha\n");
	while (fgets(line, sizeof(line), trace) != NULL) {
		unsigned long t, qpn, rate, target;
		char ev[32];
		double alpha;

		assert_int_equal(sscanf(line, "%lu,%lu,%31[^,],%lu,%lu,%lf", &t, &qpn, ev, &rate,
					&target, &alpha), 6);
		assert_int_equal(qpn, v.qp[rp]->qpn);
		assert_true(rate <= 100000000000ul);
		if (strcmp(ev, "cnp") == 0 && cuts++ == 0)
			first_cut = rate;
		if (rate < min_rate)
			min_rate = rate;
	}
	assert_int_equal(cuts, (int)v.qp[rp]->cnt[SX_QPC_CNP_RCVD]);
	assert_true(first_cut <= 50000000000ul + 1000);
	assert_true(first_cut >= 49000000000ul);
	assert_true(min_rate <= first_cut);
	fclose(trace);
	bufs_fini(&b);
	vt_teardown(&v);
}

/* Notification point: at most one CNP per QP per gap, exactly at the
 * boundary; the CNP goes to the peer QP with BECN set. */
static void
test_cnp_rate_limit(void **state)
{
	static const struct {
		uint64_t at_ns;
		bool cnp;
	} steps[] = {
		{1000000, true},  {1000001, false}, {1019999, false}, {1020000, true},
		{1030000, false}, {1039999, false}, {1040000, true},  {1100000, true},
	};
	struct vt v;
	struct vt_opts o;
	struct sx_txd d;
	size_t i;

	(void)state;
	vt_default_opts(&o);
	vt_setup(&v, &o);
	v.ctx[1]->env.cnp_gap_ns = 20000;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		bool got;

		sx_qp_on_ecn(v.qp[1], steps[i].at_ns);
		got = sx_qp_tx(v.qp[1], steps[i].at_ns, &d, false);
		assert_int_equal(got, steps[i].cnp);
		if (got) {
			assert_int_equal(d.hdr.bth.opcode, SX_OP_CNP);
			assert_true(d.hdr.bth.becn);
			assert_int_equal(d.hdr.bth.dqpn, v.qp[0]->qpn);
		}
	}
	assert_int_equal(v.qp[1]->cnt[SX_QPC_ECN_CE_RCVD], 8);
	assert_int_equal(v.qp[1]->cnt[SX_QPC_CNP_SENT], 4);
	vt_teardown(&v);
}

/* A CNP for a QP that does not exist is counted and dropped. */
static void
test_cnp_unknown_qp(void **state)
{
	struct vt v;
	struct vt_opts o;
	struct sx_pkt pkt;
	struct sx_frame f;
	struct sx_port *port;

	(void)state;
	vt_default_opts(&o);
	vt_setup(&v, &o);
	port = v.ctx[0]->port;
	memset(&pkt, 0, sizeof(pkt));
	memcpy(pkt.eth_dst, v.ctx[1]->port->mac, 6);
	pkt.ip_version = 4;
	pkt.ttl = 64;
	memcpy(pkt.ip_src, v.ctx[0]->engine.ip, 4);
	memcpy(pkt.ip_dst, v.ctx[1]->engine.ip, 4);
	pkt.udp_sport = 0xc000;
	pkt.bth.opcode = SX_OP_CNP;
	pkt.bth.becn = true;
	pkt.bth.dqpn = 0xabcdef; /* no such QP */
	assert_int_equal(sx_port_tx_alloc(port, &f, 1), 1);
	assert_true(sx_wire_build(f.data, f.cap, &pkt, NULL) > 0);
	f.len = pkt.frame_len;
	assert_int_equal(sx_port_tx(port, &f, 1), 1);
	sx_context_step(v.ctx[0]); /* the fault wrapper releases on a later call */
	sx_context_step(v.ctx[1]);
	assert_int_equal(v.ctx[1]->engine.stats.drop[SX_EDROP_UNKNOWN_QP], 1);
	assert_int_equal(v.qp[1]->cnt[SX_QPC_CNP_RCVD], 0);
	vt_teardown(&v);
}

static void
test_cc_ecn_cnp_cut(void **state)
{
	(void)state;
	cc_ecn_case(SX_WR_RDMA_WRITE);
	cc_ecn_case(SX_WR_RDMA_READ);
}

/* A QP gets data in the other reliability mode: NAKed, memory untouched. */
static void
test_mode_mismatch(void **state)
{
	enum sx_reliability modes[] = {SX_REL_GBN, SX_REL_SR};

	(void)state;
	for (int m = 0; m < 2; m++) {
		struct vt v;
		struct vt_opts o;
		struct bufs b;
		struct sx_wc wc;

		vt_default_opts(&o);
		o.rel = modes[m];
		o.mixed_modes = true;
		vt_setup(&v, &o);
		bufs_init(&v, &b, 4096, SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE);
		post(v.qp[0], SX_WR_RDMA_WRITE, 1, b.src, 3000, b.smr->lkey, (uintptr_t)b.dst,
		     b.dmr->rkey);
		assert_int_equal(vt_wait_wc(&v, 0, &wc, 1, SEC), 1);
		assert_int_equal(wc.status, SX_WC_REM_INV_REQ_ERR);
		assert_true(v.qp[1]->cnt[SX_QPC_WRONG_MODE] >= 1);
		for (size_t i = 0; i < b.len; i++)
			assert_int_equal(b.dst[i], 0);
		bufs_fini(&b);
		vt_teardown(&v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_opcode_sizes),
		cmocka_unit_test(test_sr_every_opcode_sizes),
		cmocka_unit_test(test_atomics),
		cmocka_unit_test(test_gbn_faults),
		cmocka_unit_test(test_sr_faults),
		cmocka_unit_test(test_sr_spray_faults),
		cmocka_unit_test(test_protection),
		cmocka_unit_test(test_retry_exhausted),
		cmocka_unit_test(test_rnr_then_recv),
		cmocka_unit_test(test_psn_wrap),
		cmocka_unit_test(test_bad_posts),
		cmocka_unit_test(test_mode_mismatch),
		cmocka_unit_test(test_pacing),
		cmocka_unit_test(test_dereg_mid_read),
		cmocka_unit_test(test_cc_ecn_cnp_cut),
		cmocka_unit_test(test_cnp_rate_limit),
		cmocka_unit_test(test_cnp_unknown_qp),
	};

	return cmocka_run_group_tests_name("qp", tests, NULL, NULL);
}
