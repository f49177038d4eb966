/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Requester: turns send WQEs into request packets (IBA 9.4, 9.7.1).
 *
 * PSNs are assigned when a WQE is posted, so transmitting is walking a PSN
 * cursor (snd_nxt) through the send queue, and retransmitting from PSN p
 * (go-back-N after a NAK or a timeout) is moving the cursor back to p. In
 * selective-repeat mode the walk skips PSNs the responder already SACKed.
 */
#include <endian.h>
#include <string.h>

#include "qp.h"

static uint8_t
data_opcode(const struct sx_wqe *w, uint32_t idx)
{
	bool first = idx == 0, last = idx == w->npkts - 1;
	bool imm = w->opcode == SX_WR_SEND_WITH_IMM || w->opcode == SX_WR_RDMA_WRITE_WITH_IMM;
	uint8_t op;

	if (w->opcode == SX_WR_SEND || w->opcode == SX_WR_SEND_WITH_IMM) {
		if (first && last)
			op = imm ? SX_OP_RC_SEND_ONLY_IMM : SX_OP_RC_SEND_ONLY;
		else if (first)
			op = SX_OP_RC_SEND_FIRST;
		else if (last)
			op = imm ? SX_OP_RC_SEND_LAST_IMM : SX_OP_RC_SEND_LAST;
		else
			op = SX_OP_RC_SEND_MIDDLE;
	} else {
		if (first && last)
			op = imm ? SX_OP_RC_WRITE_ONLY_IMM : SX_OP_RC_WRITE_ONLY;
		else if (first)
			op = SX_OP_RC_WRITE_FIRST;
		else if (last)
			op = imm ? SX_OP_RC_WRITE_LAST_IMM : SX_OP_RC_WRITE_LAST;
		else
			op = SX_OP_RC_WRITE_MIDDLE;
	}
	return op;
}

/* Point the payload of @p txd at bytes [off, off + len) of the WQE's scatter list. */
static void
gather(const struct sx_wqe *w, uint32_t off, uint32_t len, struct sx_txd *txd)
{
	unsigned int i;

	txd->nseg = 0;
	for (i = 0; i < w->num_sge && len > 0; i++) {
		uint32_t chunk;

		if (off >= w->sge_len[i]) {
			off -= w->sge_len[i];
			continue;
		}
		chunk = w->sge_len[i] - off < len ? w->sge_len[i] - off : len;
		txd->seg[txd->nseg] = w->sge_ptr[i] + off;
		txd->seg_len[txd->nseg++] = chunk;
		len -= chunk;
		off = 0;
	}
}

static bool
sr_is_sacked(const struct sx_qp *qp, uint32_t psn)
{
	uint32_t i = sx_psn_fwd(qp->snd_una, psn);

	return i < SX_WINDOW_PKTS && (qp->sacked[i / 64] >> (i % 64)) & 1;
}

void
sx_req_rewind(struct sx_qp *qp, uint32_t psn)
{
	uint32_t i;

	for (i = qp->sq_head; i != qp->sq_tail; i++) {
		struct sx_wqe *w = sx_sq_at(qp, i);

		if (!w->done && sx_psn_in_window(psn, w->first_psn, w->npkts))
			break;
	}
	qp->sq_cur = i;
	qp->snd_nxt = psn;
	if (i != qp->sq_tail) {
		struct sx_wqe *w = sx_sq_at(qp, i);

		/* A READ restarts after the responses already placed. */
		if (w->opcode == SX_WR_RDMA_READ &&
		    sx_psn_fwd(w->first_psn, psn) < w->rd_pkts)
			qp->snd_nxt = sx_psn_add(w->first_psn, w->rd_pkts);
	}
}

void
sx_req_arm_timer(struct sx_qp *qp, uint64_t now_ns)
{
	if (qp->rto_deadline == 0)
		qp->rto_deadline = now_ns + qp->rto_ns;
}

/* Fill @p txd with packet @p idx of READ / atomic WQE @p w. */
static void
build_rd_atomic(struct sx_qp *qp, struct sx_wqe *w, uint32_t idx, struct sx_txd *txd)
{
	struct sx_pkt *h = &txd->hdr;

	if (w->opcode == SX_WR_RDMA_READ) {
		uint32_t off = idx * qp->mtu;

		h->bth.opcode = SX_OP_RC_READ_REQUEST;
		h->reth.va = w->remote_addr + off;
		h->reth.rkey = w->rkey;
		h->reth.dma_len = w->length - off;
		qp->snd_nxt = sx_psn_add(w->first_psn, w->npkts);
	} else {
		h->bth.opcode = w->opcode == SX_WR_ATOMIC_CMP_AND_SWP ? SX_OP_RC_COMPARE_SWAP
								     : SX_OP_RC_FETCH_ADD;
		h->atomiceth.va = w->remote_addr;
		h->atomiceth.rkey = w->rkey;
		h->atomiceth.swap_add =
			w->opcode == SX_WR_ATOMIC_CMP_AND_SWP ? w->swap : w->compare_add;
		h->atomiceth.compare = w->compare_add;
		qp->snd_nxt = sx_psn_add(w->first_psn, 1);
	}
	h->bth.ackreq = true;
	qp->sq_cur++;
}

/* Fill @p txd with packet @p idx of SEND / WRITE WQE @p w. */
static void
build_data(struct sx_qp *qp, struct sx_wqe *w, uint32_t idx, uint32_t psn,
	   struct sx_txd *txd)
{
	struct sx_pkt *h = &txd->hdr;
	uint32_t off = idx * qp->mtu;
	uint32_t len = w->length - off < qp->mtu ? w->length - off : qp->mtu;
	bool last = idx == w->npkts - 1;

	h->bth.opcode = data_opcode(w, idx);
	h->payload_len = len;
	gather(w, off, len, txd);
	if (h->bth.opcode == SX_OP_RC_WRITE_FIRST || h->bth.opcode == SX_OP_RC_WRITE_ONLY ||
	    h->bth.opcode == SX_OP_RC_WRITE_ONLY_IMM) {
		h->reth.va = w->remote_addr;
		h->reth.rkey = w->rkey;
		h->reth.dma_len = w->length;
	}
	if (last) {
		h->immdt = be32toh(w->imm); /* posted in network order */
		h->bth.se = (w->flags & SX_SEND_SOLICITED) != 0;
	}
	/* Ask for an ACK at the end of a message and every few packets of a
	 * long one, so the window keeps moving (IBA 9.7.2). */
	if (last || sx_psn_fwd(qp->last_ackreq, psn) >= SX_ACK_REQ_EVERY) {
		h->bth.ackreq = true;
		qp->last_ackreq = psn;
	}
	if (last)
		qp->sq_cur++;
	qp->snd_nxt = sx_psn_add(psn, 1);
}

bool
sx_req_tx(struct sx_qp *qp, uint64_t now_ns, struct sx_txd *txd)
{
	struct sx_wqe *w;
	uint32_t idx, psn;

	if (qp->rnr_until != 0 && now_ns < qp->rnr_until)
		return false;
	for (;;) {
		if (qp->sq_cur == qp->sq_tail)
			return false;
		w = sx_sq_at(qp, qp->sq_cur);
		psn = qp->snd_nxt;
		idx = sx_psn_fwd(w->first_psn, psn);
		if (w->done || idx >= w->npkts) {
			/* Completed while queued for resending: move on. */
			qp->sq_cur++;
			if (qp->sq_cur != qp->sq_tail)
				qp->snd_nxt = sx_sq_at(qp, qp->sq_cur)->first_psn;
			continue;
		}
		if (qp->rel == SX_REL_SR && !sx_wqe_is_rd_atomic(w) && sr_is_sacked(qp, psn)) {
			if (idx == w->npkts - 1)
				qp->sq_cur++;
			qp->snd_nxt = sx_psn_add(psn, 1);
			continue;
		}
		break;
	}
	if (sx_psn_fwd(qp->snd_una, psn) >= SX_WINDOW_PKTS)
		return false;
	if (sx_psn_cmp(psn, qp->snd_max) >= 0) {
		/* New work: fences and the outstanding READ/atomic limit apply. */
		if ((w->flags & SX_SEND_FENCE) && qp->rd_outstanding > 0)
			return false;
		if (sx_wqe_is_rd_atomic(w)) {
			if (qp->rd_outstanding >= qp->max_rd)
				return false;
			qp->rd_outstanding++;
			w->rd_counted = true;
		}
	} else {
		qp->cnt[SX_QPC_RETRANSMITS]++;
	}
	txd->hdr.bth.psn = psn;
	if (sx_wqe_is_rd_atomic(w))
		build_rd_atomic(qp, w, idx, txd);
	else
		build_data(qp, w, idx, psn, txd);
	if (sx_psn_cmp(qp->snd_nxt, qp->snd_max) > 0)
		qp->snd_max = qp->snd_nxt;
	sx_req_arm_timer(qp, now_ns);
	return true;
}
