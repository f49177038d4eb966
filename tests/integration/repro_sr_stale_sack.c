/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reproducer: on a lossless, in-order link, selective repeat must resend
 * nothing. One 64 KiB SR WRITE; every packet arrives, in order. The
 * responder queues an SX_SR_ACK on an AckReq packet and fills its bitmap
 * when it sends it, but keeps the Base of when it was queued: packets that
 * arrived in between (the rest of the rx burst) are marked from Base + 1
 * on, and Base itself, which has arrived too, reads as a hole. With more
 * than SX_SR_DUPTHRESH SACKed PSNs above it, the requester resends it (and
 * reports a loss to congestion control); the responder counts a duplicate.
 *
 * In-process, virtual time (tests/qp/vt.c), no DPDK.
 *
 * Exit: 0 no spurious resend, 1 some.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "../qp/vt.h"

#define LEN (64 * 1024)

int
main(void)
{
	uint8_t *src = calloc(1, LEN), *dst = calloc(1, LEN);
	struct sx_send_wr wr = {0};
	struct sx_mr *smr, *dmr;
	struct vt_opts o;
	struct sx_sge sge;
	struct sx_wc wc;
	struct vt v;
	uint64_t retx, dup;

	if (src == NULL || dst == NULL)
		return 2;
	vt_default_opts(&o);
	o.rel = SX_REL_SR;
	o.timeout_us = 100000; /* no timeout can explain a resend */
	vt_setup(&v, &o);
	smr = sx_reg_mr(v.pd[0], src, LEN, SX_ACCESS_LOCAL_WRITE);
	dmr =
	    sx_reg_mr(v.pd[1], dst, LEN, SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE);
	sge = (struct sx_sge){.addr = (uintptr_t)src, .length = LEN, .lkey = smr->lkey};
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = SX_WR_RDMA_WRITE;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)dst;
	wr.wr.rdma.rkey = dmr->rkey;
	if (sx_post_send(v.qp[0], &wr, NULL) != 0 ||
	    vt_wait_wc(&v, 0, &wc, 1, 1000000000) != 1 || wc.status != SX_WC_SUCCESS) {
		printf("WRITE did not complete\n");
		return 2;
	}
	retx = v.qp[0]->cnt[SX_QPC_RETRANSMITS];
	dup = v.qp[1]->cnt[SX_QPC_DUPLICATES];
	printf("SR WRITE of %d packets, no loss: %" PRIu64 " resent, %" PRIu64
	       " duplicates at the responder, %" PRIu64 " timeouts: %s\n",
	       LEN / 1024, retx, dup, v.qp[0]->cnt[SX_QPC_TIMEOUTS], retx ? "BUG" : "ok");
	sx_dereg_mr(smr);
	sx_dereg_mr(dmr);
	vt_teardown(&v);
	free(src);
	free(dst);
	return retx ? 1 : 0;
}
