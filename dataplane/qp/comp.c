/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Completer (IBA 9.7.5.1, 9.9): ACKs, NAKs, READ responses and atomic ACKs
 * become completions, in send-queue order; NAKs and the retransmit timer
 * decide what the requester sends again, and the retry counters decide
 * when to give up (QP to error, every outstanding WR completed once).
 */
#include <string.h>

#include "qp.h"

/* RNR NAK timer field -> nanoseconds (IBA table 45, in units of 10 us). */
static const uint32_t rnr_timer_10us[32] = {
	65536, 1,   2,   3,   4,   6,    8,    12,   16,   24,   32,
	48,    64,  96,  128, 192, 256,  384,  512,  768,  1024, 1536,
	2048,  3072, 4096, 6144, 8192, 12288, 16384, 24576, 32768, 49152,
};

static enum sx_wc_opcode
wc_opcode(const struct sx_wqe *w)
{
	switch (w->opcode) {
	case SX_WR_RDMA_WRITE:
	case SX_WR_RDMA_WRITE_WITH_IMM:
		return SX_WC_RDMA_WRITE;
	case SX_WR_RDMA_READ:
		return SX_WC_RDMA_READ;
	case SX_WR_ATOMIC_CMP_AND_SWP:
		return SX_WC_COMP_SWAP;
	case SX_WR_ATOMIC_FETCH_AND_ADD:
		return SX_WC_FETCH_ADD;
	default:
		return SX_WC_SEND;
	}
}

void
sx_comp_wqe(struct sx_qp *qp, struct sx_wqe *w, enum sx_wc_status status)
{
	struct sx_wc wc;

	w->done = true;
	w->status = status;
	if (w->rd_counted) {
		w->rd_counted = false;
		qp->rd_outstanding--;
	}
	/* Errors always complete; successes only when asked for. */
	if (status == SX_WC_SUCCESS && !(w->flags & SX_SEND_SIGNALED))
		return;
	memset(&wc, 0, sizeof(wc));
	wc.wr_id = w->wr_id;
	wc.status = status;
	wc.opcode = wc_opcode(w);
	wc.qp_num = qp->qpn;
	wc.src_qp = qp->remote.qpn;
	if (w->opcode == SX_WR_RDMA_READ || sx_wqe_is_rd_atomic(w))
		wc.byte_len = w->length;
	sx_cq_push(qp->scq, &wc);
}

/* Retire completed WQEs at the head of the send queue. */
static void
retire(struct sx_qp *qp)
{
	while (qp->sq_head != qp->sq_tail && sx_sq_at(qp, qp->sq_head)->done)
		qp->sq_head++;
	if ((int32_t)(qp->sq_cur - qp->sq_head) < 0)
		qp->sq_cur = qp->sq_head;
}

/* Forward progress: the retry budget and the timeout start over. */
static void
progress(struct sx_qp *qp, uint64_t now_ns)
{
	qp->retries_left = qp->retry_cnt;
	qp->rnr_left = qp->rnr_retry;
	qp->rto_ns = qp->timeout_ns;
	qp->rto_deadline = sx_psn_cmp(qp->snd_una, qp->snd_max) < 0 ? now_ns + sx_qp_rto(qp) : 0;
}

/* snd_una moves forward to @p una; the SR scoreboards, indexed from
 * snd_una, slide with it. Every change of snd_una goes through here. */
static void
advance_una(struct sx_qp *qp, uint32_t una, uint64_t now_ns)
{
	uint32_t shift = sx_psn_fwd(qp->snd_una, una);

	uint64_t rtt = 0;

	if (sx_psn_cmp(una, qp->snd_una) <= 0)
		return;
	qp->snd_una = una;
	sx_bits_shift(qp->sacked, shift);
	sx_bits_shift(qp->resent, shift);
	progress(qp, now_ns);
	if (qp->rtt_probe && sx_psn_cmp(qp->rtt_psn, una) < 0) {
		qp->rtt_probe = false;
		rtt = now_ns - qp->rtt_sent_ns;
	}
	sx_cc_ack(qp, shift * qp->mtu, rtt, now_ns);
}

/*
 * Everything up to and including PSN @p a is acknowledged. SEND and WRITE
 * WQEs it covers complete; a READ or atomic it covers whose responses did
 * not all arrive was answered but the answer was lost: ask again (IBA
 * 9.7.5.1.1, implied NAK). Returns false for an ACK outside the window.
 */
static bool
ack_upto(struct sx_qp *qp, uint32_t a, uint64_t now_ns)
{
	uint32_t next = sx_psn_add(a, 1);
	uint32_t i;

	if (sx_psn_cmp(next, qp->snd_max) > 0 || sx_psn_cmp(next, qp->snd_una) < 0) {
		qp->cnt[SX_QPC_STALE_RESPONSES]++;
		return false;
	}
	for (i = qp->sq_head; i != qp->sq_tail; i++) {
		struct sx_wqe *w = sx_sq_at(qp, i);

		if (w->done)
			continue;
		if (sx_psn_cmp(sx_wqe_last_psn(w), a) > 0 ||
		    sx_psn_cmp(w->first_psn, qp->snd_max) >= 0)
			break;
		if (sx_wqe_is_rd_atomic(w)) {
			next = sx_psn_add(w->first_psn, w->rd_pkts);
			if (sx_psn_cmp(qp->snd_nxt, next) > 0)
				sx_req_rewind(qp, next);
			break;
		}
		sx_comp_wqe(qp, w, SX_WC_SUCCESS);
	}
	advance_una(qp, next, now_ns);
	retire(qp);
	if (sx_psn_cmp(qp->snd_nxt, qp->snd_una) < 0)
		sx_req_rewind(qp, qp->snd_una);
	return true;
}

/* The WQE holding PSN @p psn failed with @p status: complete it, then flush. */
static void
fail(struct sx_qp *qp, uint32_t psn, enum sx_wc_status status, uint32_t vendor_err)
{
	uint32_t i;

	for (i = qp->sq_head; i != qp->sq_tail; i++) {
		struct sx_wqe *w = sx_sq_at(qp, i);

		if (!w->done && (sx_psn_in_window(psn, w->first_psn, w->npkts) ||
				 sx_psn_cmp(w->first_psn, psn) > 0)) {
			sx_comp_wqe(qp, w, status);
			break;
		}
	}
	(void)vendor_err;
	sx_qp_error(qp);
}

/* SR ACK: cumulative PSN in the BTH, then what arrived beyond the hole. */
static void
on_sr_ack(struct sx_qp *qp, const struct sx_pkt *pkt, uint64_t now_ns)
{
	uint32_t i, p;

	qp->cnt[SX_QPC_ACKS_RCVD]++;
	if (!ack_upto(qp, pkt->bth.psn, now_ns))
		return;
	qp->sr_answer_follows = (pkt->sack.flags & SX_SACK_F_ANSWER_FOLLOWS) != 0;
	qp->sr_answer_psn = pkt->sack.base;
	/* A READ still waiting for answers holds snd_una back; what the
	 * responder acknowledged past it must not be sent again. */
	for (p = qp->snd_una; sx_psn_cmp(p, pkt->bth.psn) <= 0; p = sx_psn_add(p, 1))
		sx_bit_set(qp->sacked, sx_psn_fwd(qp->snd_una, p));
	for (i = 0; i < SX_SACK_BITS; i++) {
		if (!((pkt->sack.bitmap[i / 8] >> (i % 8)) & 1))
			continue;
		p = sx_psn_add(pkt->sack.base, i + 1);
		if (sx_psn_cmp(p, qp->snd_una) < 0 || sx_psn_cmp(p, qp->snd_max) >= 0)
			continue;
		sx_bit_set(qp->sacked, sx_psn_fwd(qp->snd_una, p));
		if (sx_psn_cmp(sx_psn_add(p, 1), qp->sr_high) > 0)
			qp->sr_high = sx_psn_add(p, 1);
	}
	if (sx_psn_cmp(qp->sr_high, qp->snd_una) < 0)
		qp->sr_high = qp->snd_una;
	/* Lost retransmissions: once packets first sent after the last round
	 * of resends are SACKed past the threshold, a hole still open below
	 * that point was lost again and may be resent without a timeout. */
	if (qp->sr_recovering) {
		if (sx_psn_cmp(qp->snd_una, qp->sr_recover) >= 0) {
			qp->sr_recovering = false;
		} else if (sx_psn_fwd(qp->sr_recover, qp->sr_high) > SX_SR_DUPTHRESH &&
			   sx_psn_cmp(qp->sr_high, qp->sr_recover) > 0) {
			memset(qp->resent, 0, sizeof(qp->resent));
			qp->sr_recover = qp->snd_max;
		}
	}
}

static void
on_ack(struct sx_qp *qp, const struct sx_pkt *pkt, uint64_t now_ns)
{
	uint8_t syn = pkt->aeth.syndrome;
	uint32_t psn = pkt->bth.psn;
	uint32_t prev = sx_psn_add(psn, SX_PSN_MASK);

	switch (sx_aeth_type(syn)) {
	case SX_AETH_ACK:
		qp->cnt[SX_QPC_ACKS_RCVD]++;
		ack_upto(qp, psn, now_ns);
		return;
	case SX_AETH_RNR_NAK:
		qp->cnt[SX_QPC_NAK_RNR_RCVD]++;
		if (!ack_upto(qp, prev, now_ns))
			return;
		if (qp->rnr_retry != 7 && qp->rnr_left-- == 0) {
			fail(qp, psn, SX_WC_RNR_RETRY_EXC_ERR, 0);
			return;
		}
		qp->rnr_until = now_ns + (uint64_t)rnr_timer_10us[sx_aeth_value(syn)] * 10000;
		sx_req_rewind(qp, psn);
		return;
	case SX_AETH_NAK:
		break;
	default:
		qp->cnt[SX_QPC_STALE_RESPONSES]++;
		return;
	}
	switch (sx_aeth_value(syn)) {
	case SX_NAK_PSN_SEQ_ERR:
		qp->cnt[SX_QPC_NAK_SEQ_RCVD]++;
		if (!ack_upto(qp, prev, now_ns))
			return;
		sx_cc_loss(qp, now_ns);
		/* Go back to the PSN the responder expects (IBA 9.7.5.1.3). */
		if (sx_psn_cmp(psn, qp->snd_nxt) < 0)
			sx_req_rewind(qp, psn);
		return;
	case SX_NAK_REM_ACCESS_ERR:
		qp->cnt[SX_QPC_NAK_ACCESS_RCVD]++;
		if (ack_upto(qp, prev, now_ns))
			fail(qp, psn, SX_WC_REM_ACCESS_ERR, syn);
		return;
	case SX_NAK_REM_OP_ERR:
		qp->cnt[SX_QPC_NAK_INVALID_RCVD]++;
		if (ack_upto(qp, prev, now_ns))
			fail(qp, psn, SX_WC_REM_OP_ERR, syn);
		return;
	default:
		qp->cnt[SX_QPC_NAK_INVALID_RCVD]++;
		if (ack_upto(qp, prev, now_ns))
			fail(qp, psn, SX_WC_REM_INV_REQ_ERR, syn);
		return;
	}
}

/* The oldest READ/atomic WQE still waiting for its answer; completes the
 * SEND/WRITE WQEs before it, which the answer acknowledges implicitly. */
static struct sx_wqe *
oldest_rd_atomic(struct sx_qp *qp, uint32_t psn, uint64_t now_ns)
{
	uint32_t i;

	for (i = qp->sq_head; i != qp->sq_tail; i++) {
		struct sx_wqe *w = sx_sq_at(qp, i);

		if (w->done)
			continue;
		if (sx_psn_cmp(w->first_psn, qp->snd_max) >= 0 ||
		    sx_psn_cmp(w->first_psn, psn) > 0)
			return NULL;
		if (sx_wqe_is_rd_atomic(w))
			return w;
		if (sx_psn_cmp(sx_wqe_last_psn(w), psn) < 0)
			ack_upto(qp, sx_wqe_last_psn(w), now_ns);
		else
			return NULL;
	}
	return NULL;
}

static void
on_read_response(struct sx_qp *qp, const struct sx_pkt *pkt, const uint8_t *payload,
		 uint64_t now_ns)
{
	struct sx_wqe *w = oldest_rd_atomic(qp, pkt->bth.psn, now_ns);
	uint32_t expected, off, want;

	if (w == NULL || w->opcode != SX_WR_RDMA_READ) {
		qp->cnt[SX_QPC_STALE_RESPONSES]++;
		return;
	}
	expected = sx_psn_add(w->first_psn, w->rd_pkts);
	if (pkt->bth.psn != expected) {
		if (sx_psn_in_window(pkt->bth.psn, expected, w->npkts - w->rd_pkts)) {
			/* A response went missing: read again from there, once. */
			qp->cnt[SX_QPC_OUT_OF_ORDER]++;
			if (!qp->rd_gap) {
				qp->rd_gap = true;
				sx_req_rewind(qp, expected);
			}
		} else {
			qp->cnt[SX_QPC_STALE_RESPONSES]++;
		}
		return;
	}
	qp->rd_gap = false;
	off = w->rd_pkts * qp->mtu;
	want = w->length - off < qp->mtu ? w->length - off : qp->mtu;
	if (pkt->payload_len != want) {
		fail(qp, pkt->bth.psn, SX_WC_BAD_RESP_ERR, 0);
		return;
	}
	sx_sg_copy_in(w->sge_ptr, w->sge_len, w->num_sge, off, payload, want);
	w->rd_pkts++;
	if (w->rd_pkts == w->npkts) {
		sx_comp_wqe(qp, w, SX_WC_SUCCESS);
		ack_upto(qp, sx_wqe_last_psn(w), now_ns);
	} else {
		advance_una(qp, sx_psn_add(expected, 1), now_ns);
	}
}

static void
on_atomic_ack(struct sx_qp *qp, const struct sx_pkt *pkt, uint64_t now_ns)
{
	struct sx_wqe *w = oldest_rd_atomic(qp, pkt->bth.psn, now_ns);

	if (w == NULL || w->opcode == SX_WR_RDMA_READ || w->first_psn != pkt->bth.psn) {
		qp->cnt[SX_QPC_STALE_RESPONSES]++;
		return;
	}
	w->atomic_orig = pkt->atomic_orig;
	sx_sg_copy_in(w->sge_ptr, w->sge_len, w->num_sge, 0, (const uint8_t *)&w->atomic_orig,
		      8);
	w->rd_pkts = 1;
	sx_comp_wqe(qp, w, SX_WC_SUCCESS);
	ack_upto(qp, w->first_psn, now_ns);
}

void
sx_comp_rx(struct sx_qp *qp, const struct sx_pkt *pkt, const uint8_t *payload, uint64_t now_ns)
{
	uint32_t flags = pkt->op->flags;

	if (flags & SX_OPF_READ) {
		/* READ responses carrying an AETH may also be NAKs: none are sent
		 * by scalex, and IBA uses plain ACK packets for NAKs. */
		on_read_response(qp, pkt, payload, now_ns);
	} else if (flags & SX_OPF_ATOMIC) {
		on_atomic_ack(qp, pkt, now_ns);
	} else if (flags & SX_OPF_SACK) {
		on_sr_ack(qp, pkt, now_ns);
	} else if (flags & SX_OPF_ACK) {
		on_ack(qp, pkt, now_ns);
	}
}

void
sx_comp_timer(struct sx_qp *qp, uint64_t now_ns)
{
	if (sx_psn_cmp(qp->snd_una, qp->snd_max) >= 0) {
		qp->rto_deadline = 0;
		return;
	}
	qp->cnt[SX_QPC_TIMEOUTS]++;
	if (qp->retries_left == 0) {
		fail(qp, qp->snd_una, SX_WC_RETRY_EXC_ERR, 0);
		return;
	}
	qp->retries_left--;
	sx_cc_timeout(qp, now_ns);
	/* Exponential backoff (IBA 9.7.6.1.3 leaves the policy to us). */
	qp->rto_ns = qp->rto_ns * 2 < SX_MAX_TIMEOUT_NS ? qp->rto_ns * 2 : SX_MAX_TIMEOUT_NS;
	qp->rto_deadline = now_ns + sx_qp_rto(qp);
	qp->rd_gap = false;
	memset(qp->resent, 0, sizeof(qp->resent));
	qp->sr_probe = qp->rel == SX_REL_SR;
	sx_req_rewind(qp, qp->snd_una);
}
