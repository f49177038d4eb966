/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The notification point on the wire: with a VLAN configured, data and ACKs
 * carry the data priority and CNPs carry DCQCN's cnp_802p_prio and
 * cnp_dscp, set live through the CC table (the engine reads the typed
 * struct sx_cc_np, not parameter names). A QP with its own DSCP
 * (sx_qp_init_attr.set_dscp) sends its ACKs with it, ECN-capable as ever,
 * and its CNPs still in cnp_dscp. Frames are read back with the wire
 * parser as the receiver's port hands them over.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../dataplane/engine/context.h"

#define LEN (32 * 1024)

/* A port that hands frames through and remembers what it received. */
struct recorder {
	struct sx_port port;
	struct sx_port *inner;
	unsigned int cnps, cnp_bad, others, other_bad;
	uint8_t want_cnp_pcp, want_cnp_dscp, want_pcp, want_dscp;
	uint16_t want_vid;
};

static uint16_t
rec_rx(struct sx_port *p, struct sx_frame *f, uint16_t n)
{
	struct recorder *r = (struct recorder *)p;
	uint16_t got = sx_port_rx(r->inner, f, n);

	for (uint16_t i = 0; i < got; i++) {
		struct sx_pkt pkt;

		assert_int_equal(sx_wire_parse(f[i].data, f[i].len, &pkt, 0), SX_WIRE_OK);
		assert_true(pkt.vlan);
		if (pkt.bth.opcode == SX_OP_CNP) {
			r->cnps++;
			r->cnp_bad += (pkt.vlan_tci >> 13) != r->want_cnp_pcp ||
				      (pkt.vlan_tci & 0xfff) != r->want_vid ||
				      pkt.tos >> 2 != r->want_cnp_dscp || (pkt.tos & 3) != 0;
		} else {
			r->others++;
			r->other_bad += (pkt.vlan_tci >> 13) != r->want_pcp ||
					(pkt.vlan_tci & 0xfff) != r->want_vid ||
					pkt.tos >> 2 != r->want_dscp || (pkt.tos & 3) != SX_ECN_ECT0;
		}
	}
	return got;
}

static void
rec_rx_done(struct sx_port *p, struct sx_frame *f, uint16_t n)
{
	sx_port_rx_done(((struct recorder *)p)->inner, f, n);
}

static uint16_t
rec_tx_alloc(struct sx_port *p, struct sx_frame *f, uint16_t n)
{
	return sx_port_tx_alloc(((struct recorder *)p)->inner, f, n);
}

static uint16_t
rec_tx(struct sx_port *p, struct sx_frame *f, uint16_t n)
{
	return sx_port_tx(((struct recorder *)p)->inner, f, n);
}

static void
rec_tx_free(struct sx_port *p, struct sx_frame *f, uint16_t n)
{
	sx_port_tx_free(((struct recorder *)p)->inner, f, n);
}

static void
rec_close(struct sx_port *p)
{
	sx_port_close(((struct recorder *)p)->inner);
	free(p);
}

static const struct sx_port_ops rec_ops = {
    .name = "recorder",
    .rx_burst = rec_rx,
    .rx_done = rec_rx_done,
    .tx_alloc = rec_tx_alloc,
    .tx_burst = rec_tx,
    .tx_free = rec_tx_free,
    .close = rec_close,
};

static uint64_t now_ns = 1000000;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return now_ns;
}

static void
cnps_take_their_own_priority(void **state)
{
	struct sx_fault_dir mark = {.ecn = 1.0}, none = {0};
	struct sx_context *ctx[2];
	struct sx_port *p[2];
	struct recorder *rec;
	struct sx_pd *pd[2];
	struct sx_cq *cq[2];
	struct sx_qp *qp[2];
	struct sx_qp_endpoint ep[2];
	struct sx_mr *smr, *dmr;
	uint8_t *src = calloc(1, LEN), *dst = calloc(1, LEN);
	struct sx_sge sge;
	struct sx_send_wr wr;
	struct sx_wc wc;
	int s, got = 0;

	(void)state;
	assert_int_equal(sx_port_pair_open(2048, &p[0], &p[1]), 0);
	/* Side 0's data leaves marked CE, as through a congested switch. */
	p[0] = sx_port_fault_wrap(p[0], &mark, &none, 1);
	rec = calloc(1, sizeof(*rec));
	rec->port = *p[0];
	rec->port.ops = &rec_ops;
	rec->inner = p[0];
	rec->want_vid = 100;
	rec->want_pcp = 3;
	rec->want_cnp_pcp = 5;
	rec->want_cnp_dscp = 46;
	rec->want_dscp = 10; /* side 1's QP's own (its ACKs) */
	p[0] = &rec->port;
	for (s = 0; s < 2; s++) {
		struct sx_context_attr attr;
		struct sx_qp_init_attr qa = {0};

		sx_context_attr_init(&attr);
		attr.ip[0] = 10;
		attr.ip[3] = (uint8_t)(s + 1);
		attr.cc = "dcqcn";
		attr.vlan_id = 100;
		p[s]->mac[5] = (uint8_t)(s + 1);
		ctx[s] = sx_context_create(p[s], &attr, fake_clock, NULL);
		assert_non_null(ctx[s]);
		pd[s] = sx_alloc_pd(ctx[s]);
		cq[s] = sx_create_cq(ctx[s], 256);
		qa.send_cq = qa.recv_cq = cq[s];
		qa.max_send_wr = 16;
		qa.max_recv_wr = 16;
		qa.retry_cnt = 7;
		if (s == 1) {
			/* out of range: refused */
			qa.set_dscp = 1;
			qa.dscp = 64;
			errno = 0;
			assert_null(sx_create_qp(pd[s], &qa));
			assert_int_equal(errno, EINVAL);
			qa.set_dscp = 2;
			qa.dscp = 10;
			assert_null(sx_create_qp(pd[s], &qa));
			assert_int_equal(errno, EINVAL);
			qa.set_dscp = 1;
		}
		qp[s] = sx_create_qp(pd[s], &qa);
		assert_non_null(qp[s]);
		sx_qp_local(qp[s], &ep[s]);
	}
	assert_int_equal(sx_qp_connect(qp[0], &ep[1]), 0);
	assert_int_equal(sx_qp_connect(qp[1], &ep[0]), 0);
	/* The receiver's notification point, tuned live through its CC table. */
	assert_int_equal(sx_cc_param(ctx[1], "cnp_802p_prio=5"), 0);
	assert_int_equal(sx_cc_param(ctx[1], "cnp_dscp=46"), 0);
	assert_int_equal(sx_cc_param(ctx[1], "min_time_between_cnps=0"), 0);

	smr = sx_reg_mr(pd[0], src, LEN, SX_ACCESS_LOCAL_WRITE);
	dmr = sx_reg_mr(pd[1], dst, LEN, SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE);
	sge = (struct sx_sge){(uintptr_t)src, LEN, smr->lkey};
	memset(&wr, 0, sizeof(wr));
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = SX_WR_RDMA_WRITE;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)dst;
	wr.wr.rdma.rkey = dmr->rkey;
	assert_int_equal(sx_post_send(qp[0], &wr, NULL), 0);
	for (int i = 0; i < 2000000 && got == 0; i++) {
		sx_context_step(ctx[1]);
		got = sx_poll_cq(cq[0], 1, &wc);
		now_ns += 100;
	}
	assert_int_equal(got, 1);
	assert_int_equal(wc.status, SX_WC_SUCCESS);
	/* Every marked packet earned a CNP (no gap), each in its own class. */
	assert_true(rec->cnps > 0);
	assert_int_equal(rec->cnp_bad, 0);
	assert_true(rec->others > 0);
	assert_int_equal(rec->other_bad, 0);

	sx_dereg_mr(smr);
	sx_dereg_mr(dmr);
	for (s = 0; s < 2; s++) {
		sx_destroy_qp(qp[s]);
		sx_destroy_cq(cq[s]);
		sx_dealloc_pd(pd[s]);
		sx_close_device(ctx[s]);
	}
	free(src);
	free(dst);
}

static void
bad_vlan_settings_refused(void **state)
{
	struct sx_context_attr attr;
	struct sx_port *p[2];

	(void)state;
	sx_context_attr_init(&attr);
	attr.vlan_id = 4095; /* reserved (IEEE 802.1Q) */
	assert_int_equal(sx_port_pair_open(2048, &p[0], &p[1]), 0);
	errno = 0;
	assert_null(sx_context_create(p[0], &attr, fake_clock, NULL));
	assert_int_equal(errno, EINVAL);
	sx_context_attr_init(&attr);
	attr.cnp_pcp = 8;
	assert_null(sx_context_create(p[1], &attr, fake_clock, NULL));
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cnps_take_their_own_priority),
	    cmocka_unit_test(bad_vlan_settings_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
