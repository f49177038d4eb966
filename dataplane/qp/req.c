/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Requester: turns send WQEs into request packets (IBA 9.4, 9.7.1).
 *
 * PSNs are assigned when a WQE is posted, so transmitting is walking a PSN
 * cursor (snd_nxt) through the send queue, and retransmitting from PSN p
 * (go-back-N after a NAK or a timeout) is moving the cursor back to p.
 *
 * Selective repeat (scalex extension, docs/wire.md): data packets carry an
 * XETH (and WRITEs a RETH each) so the responder can place them in any
 * order; the walk skips PSNs the responder SACKed, and a PSN with at least
 * SX_SR_DUPTHRESH SACKed PSNs above it is resent once, ahead of new data,
 * without moving the cursor. Only a timeout resends a PSN twice.
 */
#include <endian.h>
#include <string.h>

#include "qp.h"

static uint8_t
rc_data_opcode(const struct sx_wqe *w, uint32_t idx)
{
	bool first = idx == 0, last = idx == w->npkts - 1;
	bool imm = w->opcode == SX_WR_SEND_WITH_IMM || w->opcode == SX_WR_RDMA_WRITE_WITH_IMM;

	if (w->opcode == SX_WR_SEND || w->opcode == SX_WR_SEND_WITH_IMM) {
		if (first && last)
			return imm ? SX_OP_RC_SEND_ONLY_IMM : SX_OP_RC_SEND_ONLY;
		if (first)
			return SX_OP_RC_SEND_FIRST;
		if (last)
			return imm ? SX_OP_RC_SEND_LAST_IMM : SX_OP_RC_SEND_LAST;
		return SX_OP_RC_SEND_MIDDLE;
	}
	if (first && last)
		return imm ? SX_OP_RC_WRITE_ONLY_IMM : SX_OP_RC_WRITE_ONLY;
	if (first)
		return SX_OP_RC_WRITE_FIRST;
	if (last)
		return imm ? SX_OP_RC_WRITE_LAST_IMM : SX_OP_RC_WRITE_LAST;
	return SX_OP_RC_WRITE_MIDDLE;
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

/* Fill @p txd with packet @p idx (PSN @p psn) of @p w. Touches no cursor. */
static void
fill_pkt(struct sx_qp *qp, const struct sx_wqe *w, uint32_t idx, uint32_t psn,
	 struct sx_txd *txd)
{
	struct sx_pkt *h = &txd->hdr;
	uint32_t off = idx * qp->mtu;

	h->bth.psn = psn;
	switch (w->opcode) {
	case SX_WR_RDMA_READ:
		/* From packet idx on: a re-read asks only for what is missing. */
		h->bth.opcode = SX_OP_RC_READ_REQUEST;
		h->reth.va = w->remote_addr + off;
		h->reth.rkey = w->rkey;
		h->reth.dma_len = w->length - off;
		h->bth.ackreq = true;
		return;
	case SX_WR_ATOMIC_CMP_AND_SWP:
	case SX_WR_ATOMIC_FETCH_AND_ADD:
		h->bth.opcode = w->opcode == SX_WR_ATOMIC_CMP_AND_SWP ? SX_OP_RC_COMPARE_SWAP
								     : SX_OP_RC_FETCH_ADD;
		h->atomiceth.va = w->remote_addr;
		h->atomiceth.rkey = w->rkey;
		/* IBA 9.5.2: CmpSwap carries swap and compare; FetchAdd the addend. */
		h->atomiceth.swap_add =
			w->opcode == SX_WR_ATOMIC_CMP_AND_SWP ? w->swap : w->compare_add;
		h->atomiceth.compare = w->compare_add;
		h->bth.ackreq = true;
		return;
	default:
		break;
	}
	h->bth.opcode = rc_data_opcode(w, idx);
	h->payload_len = w->length - off < qp->mtu ? w->length - off : qp->mtu;
	gather(w, off, h->payload_len, txd);
	if (h->bth.opcode == SX_OP_RC_WRITE_FIRST || h->bth.opcode == SX_OP_RC_WRITE_ONLY ||
	    h->bth.opcode == SX_OP_RC_WRITE_ONLY_IMM ||
	    (qp->rel == SX_REL_SR && (w->opcode == SX_WR_RDMA_WRITE ||
				      w->opcode == SX_WR_RDMA_WRITE_WITH_IMM))) {
		h->reth.va = w->remote_addr;
		h->reth.rkey = w->rkey;
		h->reth.dma_len = w->length;
	}
	if (idx == w->npkts - 1) {
		h->immdt = be32toh(w->imm); /* posted in network order */
		h->bth.se = (w->flags & SX_SEND_SOLICITED) != 0;
		h->bth.ackreq = true;
	}
	if (qp->rel == SX_REL_SR) {
		h->bth.opcode = SX_OP_SR(h->bth.opcode);
		h->xeth.msg_seq = w->msg_seq;
		h->xeth.offset = off;
	}
}

void
sx_req_rewind(struct sx_qp *qp, uint32_t psn)
{
	uint32_t i = sx_sq_find(qp, psn);

	/* The WQE holding psn, if it is still to be done. */
	if (i != qp->sq_tail) {
		const struct sx_wqe *w = sx_sq_at(qp, i);

		if (w->done || !sx_psn_in_window(psn, w->first_psn, w->npkts))
			i = qp->sq_tail;
	}
	qp->sq_cur = i;
	qp->snd_nxt = psn;
	qp->rtt_probe = false; /* Karn: no RTT sample across a resend */
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
		qp->rto_deadline = now_ns + sx_qp_rto(qp);
}

/*
 * RFC 8985 7.2: PTO = 2 SRTT, plus the responder's ACK delay when one
 * packet is in flight, at least SX_TLP_MIN_NS, restarted on every send and every ACK that moves
 * the window; none before an RTT sample, none while a probe is out, none
 * that would fire after the RTO.
 */
void
sx_req_arm_tlp(struct sx_qp *qp, uint64_t now_ns)
{
	uint64_t pto;

	qp->tlp_deadline = 0;
	if (!qp->rtt_valid || qp->tlp_out || sx_psn_cmp(qp->snd_una, qp->snd_max) >= 0)
		return;
	pto = 2 * qp->srtt_ns;
	if (sx_psn_fwd(qp->snd_una, qp->snd_max) == 1)
		pto += SX_TLP_DELACK_NS;
	if (pto < SX_TLP_MIN_NS)
		pto = SX_TLP_MIN_NS;
	if (qp->rto_deadline != 0 && now_ns + pto >= qp->rto_deadline)
		return;
	qp->tlp_deadline = now_ns + pto;
}

/* The not-done WQE holding @p psn, or NULL. */
static struct sx_wqe *
wqe_of(struct sx_qp *qp, uint32_t psn)
{
	uint32_t i = sx_sq_find(qp, psn);
	struct sx_wqe *w;

	if (i == qp->sq_tail)
		return NULL;
	w = sx_sq_at(qp, i);
	if (!sx_psn_in_window(psn, w->first_psn, w->npkts))
		return NULL;
	return w->done ? NULL : w;
}

/*
 * SR: resend one PSN the SACKs show lost. The holes are found word-wise
 * (sx_ring_find) from sr_scan, below which every PSN is SACKed or resent
 * already: over a loss round the scan walks the window once, O(window /
 * 64) words in all, not per packet. A multipath QP's detector may call a
 * hole lost later than the scan passed it, so it scans from snd_una, and
 * only when news arrived (sx_rack_scan).
 */
static bool
sr_resend_hole(struct sx_qp *qp, struct sx_txd *txd, uint64_t now_ns)
{
	uint32_t n, off, thresh = SX_SR_DUPTHRESH;
	bool resume = qp->rack == NULL, stuck = false;

	if (sx_psn_cmp(qp->sr_high, qp->snd_una) <= 0)
		return false;
	/* Early retransmit (RFC 5827's idea): with nothing new to send, or
	 * the window full, no more SACKs will come to reach the threshold,
	 * so any hole below the highest SACKed PSN counts as lost. A
	 * multipath QP asks its time-based detector instead (rack.c). */
	if (qp->rack != NULL && !sx_rack_scan(qp))
		return false;
	if (qp->sq_cur == qp->sq_tail || sx_psn_fwd(qp->snd_una, qp->snd_nxt) >= qp->win_pkts ||
	    qp->rack != NULL)
		thresh = 0;
	n = sx_psn_fwd(qp->snd_una, qp->sr_high);
	if (n <= thresh)
		return false;
	n -= thresh; /* holes with enough SACKed PSNs above them */
	if (n > qp->win_pkts)
		n = qp->win_pkts;
	off = resume && sx_psn_cmp(qp->sr_scan, qp->snd_una) > 0
		      ? sx_psn_fwd(qp->snd_una, qp->sr_scan)
		      : 0;
	for (; off < n; off++) {
		uint32_t psn;
		struct sx_wqe *w;

		off += sx_ring_find(qp, qp->sacked, qp->rack ? NULL : qp->resent,
				    sx_psn_add(qp->snd_una, off), n - off, false);
		if (off >= n)
			break;
		psn = sx_psn_add(qp->snd_una, off);
		if (resume && !stuck)
			qp->sr_scan = psn;
		if (sx_psn_cmp(psn, qp->snd_max) >= 0)
			return false;
		w = wqe_of(qp, psn);
		/* Multipath: the detector's verdict; a READ/atomic, whose
		 * answers trail its request, is asked again once per
		 * hole until a timeout, as without multipath. */
		if (qp->rack != NULL &&
		    ((w != NULL && sx_wqe_is_rd_atomic(w) && sx_ring_test(qp, qp->resent, psn)) ||
		     !sx_rack_lost(qp, psn, now_ns)))
			continue;
		/* A READ/atomic hole: resent only at the request's own
		 * PSN, and not while the responder says its answer is
		 * queued right behind the ACK that showed the hole. */
		if (w != NULL && sx_wqe_is_rd_atomic(w) && qp->sr_answer_follows &&
		    psn == qp->sr_answer_psn) {
			stuck = true; /* still a hole: the next scan sees it again */
			continue;
		}
		sx_ring_set(qp, qp->resent, psn);
		if (resume && !stuck)
			qp->sr_scan = sx_psn_add(psn, 1);
		sx_rtt_resent(qp, psn); /* Karn */
		if (w == NULL || (sx_wqe_is_rd_atomic(w) &&
				  psn != sx_psn_add(w->first_psn, w->rd_pkts)))
			continue;
		fill_pkt(qp, w, sx_psn_fwd(w->first_psn, psn), psn, txd);
		txd->hdr.bth.ackreq = true;
		qp->cnt[SX_QPC_RETRANSMITS]++;
		if (qp->rack != NULL)
			sx_rack_resent(qp, psn, now_ns);
		if (!qp->sr_recovering) {
			qp->sr_recovering = true;
			qp->sr_recover = qp->snd_max;
		}
		sx_cc_loss(qp, now_ns);
		return true;
	}
	if (resume && !stuck)
		qp->sr_scan = sx_psn_add(qp->snd_una, n);
	if (qp->rack != NULL)
		sx_rack_scan_done(qp);
	return false;
}

/*
 * The CC's window (Swift, NSCC: docs/cc.md): new data at @p psn may go
 * while the PSNs in flight before it hold fewer than cwnd_bytes. One packet
 * always may (below a packet, the CC paces instead). Retransmissions are
 * not held back. The packet that fills the window asks for an ACK, which
 * kicks the QP again when the window opens.
 */
static bool
cc_window_open(const struct sx_qp *qp, uint32_t psn)
{
	uint64_t cwnd = qp->ccp != NULL ? qp->cc.cwnd_bytes : 0;

	return cwnd == 0 || (uint64_t)sx_psn_fwd(qp->snd_una, psn) * qp->mtu < cwnd;
}

static const char *const req_state_names[SX_REQST_MAX] = {
	[SX_REQST_CHECK_RNR] = "CHECK_RNR",
	[SX_REQST_SR_PROBE] = "SR_PROBE",
	[SX_REQST_TLP] = "TLP",
	[SX_REQST_SR_RESEND] = "SR_RESEND",
	[SX_REQST_NEXT_WQE] = "NEXT_WQE",
	[SX_REQST_CHECK_WINDOW] = "CHECK_WINDOW",
	[SX_REQST_CHECK_LIMITS] = "CHECK_LIMITS",
	[SX_REQST_BUILD] = "BUILD",
	[SX_REQST_SENT] = "SENT",
	[SX_REQST_IDLE] = "IDLE",
};

const char *
sx_req_state_name(unsigned int state)
{
	return state < SX_REQST_MAX && req_state_names[state] != NULL ? req_state_names[state]
								      : "invalid";
}

/* The packet the requester is working on. */
struct req_pkt {
	struct sx_txd *txd;
	uint64_t now_ns;
	struct sx_wqe *w;
	uint32_t idx; /* packet index within w */
	uint32_t psn;
};

/* An RNR NAK holds every request until its timer ran out (IBA 9.7.5.2.8). */
static enum sx_req_state
check_rnr(struct sx_qp *qp, struct req_pkt *rq)
{
	if (qp->rnr_until != 0 && rq->now_ns < qp->rnr_until)
		return SX_REQST_IDLE;
	if (qp->sr_probe)
		return SX_REQST_SR_PROBE;
	return qp->tlp_due ? SX_REQST_TLP : SX_REQST_SR_RESEND;
}

/* After a timeout, snd_una goes out even if SACKed: the ACK that would
 * have moved it may be what was lost, and only a packet makes the
 * responder send another. */
static enum sx_req_state
sr_probe(struct sx_qp *qp, struct req_pkt *rq)
{
	struct sx_wqe *w;

	qp->sr_probe = false;
	w = wqe_of(qp, qp->snd_una);
	if (w == NULL)
		return SX_REQST_SR_RESEND;
	fill_pkt(qp, w, sx_psn_fwd(w->first_psn, qp->snd_una), qp->snd_una, rq->txd);
	rq->txd->hdr.bth.ackreq = true;
	qp->cnt[SX_QPC_RETRANSMITS]++;
	return SX_REQST_SENT;
}

/*
 * Tail-loss probe (RFC 8985 7.3): the probe timer fired with packets out
 * and no ACK since: send the last packet again, asking for an ACK, so a
 * lost tail is reported by a SACK (sr) or a sequence NAK (gbn) one round
 * trip later instead of waiting for the RTO. A READ or atomic, whose
 * answer is the ACK, is left to the RTO; so is a tail already SACKed (the
 * SACK scan resends the holes under it).
 */
static enum sx_req_state
tlp_probe(struct sx_qp *qp, struct req_pkt *rq)
{
	uint32_t psn = sx_psn_add(qp->snd_max, SX_PSN_MASK);
	struct sx_wqe *w;

	qp->tlp_due = false;
	if (sx_psn_cmp(qp->snd_una, qp->snd_max) >= 0)
		return SX_REQST_SR_RESEND;
	w = wqe_of(qp, psn);
	if (w == NULL || sx_wqe_is_rd_atomic(w) ||
	    (qp->rel == SX_REL_SR && sx_ring_test(qp, qp->sacked, psn)))
		return SX_REQST_SR_RESEND;
	fill_pkt(qp, w, sx_psn_fwd(w->first_psn, psn), psn, rq->txd);
	rq->txd->hdr.bth.ackreq = true;
	sx_rtt_resent(qp, psn); /* Karn */
	qp->cnt[SX_QPC_RETRANSMITS]++;
	qp->cnt[SX_QPC_TLP_PROBES]++;
	return SX_REQST_SENT;
}

static enum sx_req_state
sr_resend(struct sx_qp *qp, struct req_pkt *rq)
{
	if (qp->rel == SX_REL_SR && sr_resend_hole(qp, rq->txd, rq->now_ns))
		return SX_REQST_SENT;
	return SX_REQST_NEXT_WQE;
}

/* The cursor: the next PSN to (re)transmit and the WQE holding it. */
static enum sx_req_state
next_wqe(struct sx_qp *qp, struct req_pkt *rq)
{
	for (;;) {
		struct sx_wqe *w;

		if (qp->sq_cur == qp->sq_tail)
			return SX_REQST_IDLE;
		w = rq->w = sx_sq_at(qp, qp->sq_cur);
		rq->psn = qp->snd_nxt;
		rq->idx = sx_psn_fwd(w->first_psn, rq->psn);
		if (w->done || rq->idx >= w->npkts) {
			/* Completed while queued for resending: move on. */
			qp->sq_cur++;
			if (qp->sq_cur != qp->sq_tail)
				qp->snd_nxt = sx_sq_at(qp, qp->sq_cur)->first_psn;
			continue;
		}
		/* SR: what the responder holds is not sent again. */
		if (qp->rel == SX_REL_SR && !sx_wqe_is_rd_atomic(w) &&
		    sx_psn_cmp(rq->psn, qp->snd_una) >= 0 &&
		    sx_psn_fwd(qp->snd_una, rq->psn) < qp->win_pkts &&
		    sx_ring_test(qp, qp->sacked, rq->psn)) {
			if (rq->idx == w->npkts - 1)
				qp->sq_cur++;
			qp->snd_nxt = sx_psn_add(rq->psn, 1);
			continue;
		}
		return SX_REQST_CHECK_WINDOW;
	}
}

static enum sx_req_state
check_window(struct sx_qp *qp, struct req_pkt *rq)
{
	if (sx_psn_fwd(qp->snd_una, rq->psn) >= qp->win_pkts)
		return SX_REQST_IDLE;
	if (sx_psn_cmp(rq->psn, qp->snd_max) >= 0)
		return SX_REQST_CHECK_LIMITS;
	qp->cnt[SX_QPC_RETRANSMITS]++;
	return SX_REQST_BUILD;
}

/* New work: the CC window, fences and the outstanding READ/atomic limit
 * apply (IBA 9.7.7.2, 10.8.3.3). */
static enum sx_req_state
check_limits(struct sx_qp *qp, struct req_pkt *rq)
{
	struct sx_wqe *w = rq->w;

	if (!cc_window_open(qp, rq->psn))
		return SX_REQST_IDLE;
	if ((w->flags & SX_SEND_FENCE) && qp->rd_outstanding > 0)
		return SX_REQST_IDLE;
	if (sx_wqe_is_rd_atomic(w)) {
		if (qp->rd_outstanding >= qp->max_rd)
			return SX_REQST_IDLE;
		qp->rd_outstanding++;
		w->rd_counted = true;
	}
	return SX_REQST_BUILD;
}

static enum sx_req_state
build(struct sx_qp *qp, struct req_pkt *rq)
{
	struct sx_wqe *w = rq->w;
	struct sx_txd *txd = rq->txd;
	uint32_t psn = rq->psn;

	fill_pkt(qp, w, rq->idx, psn, txd);
	/* Ask for an ACK every few packets of a long message too, so the
	 * window keeps moving (IBA 9.7.2); the last packet always asks. */
	if (sx_psn_fwd(qp->last_ackreq, psn) >= (qp->int_want ? SX_ACK_REQ_EVERY_INT
								: SX_ACK_REQ_EVERY) ||
	    !cc_window_open(qp, sx_psn_add(psn, 1)))
		txd->hdr.bth.ackreq = true; /* ... and the packet that fills the CC window */
	if (txd->hdr.bth.ackreq) {
		qp->last_ackreq = psn;
		if (!qp->rtt_probe && sx_psn_cmp(psn, qp->snd_max) >= 0) {
			qp->rtt_probe = true;
			qp->rtt_psn = psn;
			qp->rtt_sent_ns = rq->now_ns;
		}
	}
	if (sx_wqe_is_rd_atomic(w) || rq->idx == w->npkts - 1) {
		qp->sq_cur++;
		qp->snd_nxt = sx_psn_add(w->first_psn, w->npkts);
	} else {
		qp->snd_nxt = sx_psn_add(psn, 1);
	}
	if (sx_psn_cmp(qp->snd_nxt, qp->snd_max) > 0)
		qp->snd_max = qp->snd_nxt;
	return SX_REQST_SENT;
}

/*
 * The requester's state machine, as rxe_req.c runs it: one packet per
 * call, from CHECK_RNR to SENT (a packet is in @p txd) or IDLE (nothing
 * may go now).
 */
bool
sx_req_tx(struct sx_qp *qp, uint64_t now_ns, struct sx_txd *txd)
{
	struct req_pkt rq = {.txd = txd, .now_ns = now_ns};
	enum sx_req_state state = SX_REQST_CHECK_RNR;

	for (;;) {
		qp->req_state = (uint8_t)state;
		switch (state) {
		case SX_REQST_CHECK_RNR:
			state = check_rnr(qp, &rq);
			break;
		case SX_REQST_SR_PROBE:
			state = sr_probe(qp, &rq);
			break;
		case SX_REQST_TLP:
			state = tlp_probe(qp, &rq);
			break;
		case SX_REQST_SR_RESEND:
			state = sr_resend(qp, &rq);
			break;
		case SX_REQST_NEXT_WQE:
			state = next_wqe(qp, &rq);
			break;
		case SX_REQST_CHECK_WINDOW:
			state = check_window(qp, &rq);
			break;
		case SX_REQST_CHECK_LIMITS:
			state = check_limits(qp, &rq);
			break;
		case SX_REQST_BUILD:
			state = build(qp, &rq);
			break;
		case SX_REQST_SENT:
			sx_req_arm_timer(qp, now_ns);
			sx_req_arm_tlp(qp, now_ns);
			return true;
		case SX_REQST_IDLE:
		default:
			return false;
		}
	}
}
