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
sx_comp_wqe(struct sx_qp *qp, struct sx_wqe *w, enum sx_wc_status status, uint32_t vendor_err)
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
	wc.vendor_err = vendor_err;
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
	qp->rto_ns = sx_rtt_rto(qp);
	qp->rto_deadline = sx_psn_cmp(qp->snd_una, qp->snd_max) < 0 ? now_ns + sx_qp_rto(qp) : 0;
	sx_req_arm_tlp(qp, now_ns);
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
	/* The rings forget the PSNs the window leaves: O(shift / 64). */
	sx_ring_fill(qp, qp->sacked, qp->snd_una, shift, false);
	sx_ring_fill(qp, qp->resent, qp->snd_una, shift, false);
	qp->snd_una = una;
	if (sx_psn_cmp(qp->sr_scan, una) < 0)
		qp->sr_scan = una;
	qp->tlp_out = false;
	if (qp->rtt_probe && sx_psn_cmp(qp->rtt_psn, una) < 0) {
		qp->rtt_probe = false;
		rtt = now_ns - qp->rtt_sent_ns;
		sx_rtt_sample(qp, rtt);
	}
	progress(qp, now_ns);
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
		sx_comp_wqe(qp, w, SX_WC_SUCCESS, 0);
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

	/* From the WQE holding psn (or the first after it), the first not done. */
	for (i = sx_sq_find(qp, psn); i != qp->sq_tail; i++) {
		struct sx_wqe *w = sx_sq_at(qp, i);

		if (!w->done) {
			sx_comp_wqe(qp, w, status, vendor_err);
			break;
		}
	}
	sx_qp_error(qp);
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

/* What the completer knows about the packet it works on. */
struct comp_pkt {
	const struct sx_pkt *pkt;
	const uint8_t *payload;
	uint64_t now_ns;
	struct sx_wqe *wqe;             /* READ / atomic the response answers */
	uint32_t err_psn;               /* COMPST_ERROR: the failed PSN, */
	enum sx_wc_status status;       /* its completion status */
	uint32_t vendor_err;            /* and the NAK syndrome received, if any */
};

static const char *const comp_state_names[SX_COMPST_MAX] = {
	[SX_COMPST_GET_ACK] = "GET_ACK",
	[SX_COMPST_CHECK_AETH] = "CHECK_AETH",
	[SX_COMPST_ACK] = "ACK",
	[SX_COMPST_SACK] = "SACK",
	[SX_COMPST_RNR_NAK] = "RNR_NAK",
	[SX_COMPST_CHECK_NAK] = "CHECK_NAK",
	[SX_COMPST_NAK_SEQ] = "NAK_SEQ",
	[SX_COMPST_NAK_CLASS_C] = "NAK_CLASS_C",
	[SX_COMPST_READ] = "READ",
	[SX_COMPST_READ_GAP] = "READ_GAP",
	[SX_COMPST_ATOMIC] = "ATOMIC",
	[SX_COMPST_STALE] = "STALE",
	[SX_COMPST_ERROR] = "ERROR",
	[SX_COMPST_DONE] = "DONE",
};

const char *
sx_comp_state_name(unsigned int state)
{
	return state < SX_COMPST_MAX && comp_state_names[state] != NULL
		       ? comp_state_names[state]
		       : "invalid";
}

static enum sx_comp_state
get_ack(struct sx_qp *qp, struct comp_pkt *cp)
{
	uint32_t flags = cp->pkt->op->flags;

	(void)qp;
	/* READ responses carrying an AETH may also be NAKs: none are sent by
	 * scalex, and IBA uses plain ACK packets for NAKs. */
	if (flags & SX_OPF_READ)
		return SX_COMPST_READ;
	if (flags & SX_OPF_ATOMIC)
		return SX_COMPST_ATOMIC;
	if (flags & SX_OPF_SACK)
		return SX_COMPST_SACK;
	if (flags & SX_OPF_ACK)
		return SX_COMPST_CHECK_AETH;
	return SX_COMPST_DONE;
}

/* AETH syndrome (IBA 9.7.5.1, table 43): ACK, RNR NAK or NAK. */
static enum sx_comp_state
check_aeth(struct sx_qp *qp, struct comp_pkt *cp)
{
	switch (sx_aeth_type(cp->pkt->aeth.syndrome)) {
	case SX_AETH_ACK:
		qp->cnt[SX_QPC_ACKS_RCVD]++;
		return SX_COMPST_ACK;
	case SX_AETH_RNR_NAK:
		qp->cnt[SX_QPC_NAK_RNR_RCVD]++;
		return SX_COMPST_RNR_NAK;
	case SX_AETH_NAK:
		return SX_COMPST_CHECK_NAK;
	default:
		return SX_COMPST_STALE;
	}
}

static enum sx_comp_state
ack(struct sx_qp *qp, struct comp_pkt *cp)
{
	ack_upto(qp, cp->pkt->bth.psn, cp->now_ns);
	return SX_COMPST_DONE;
}

/*
 * SX_SR_ACK_RANGES: the blocks of PSNs received beyond the bitmap (RFC
 * 2018's SACK blocks). The parser checked their form; here they are
 * clipped to what was sent. O(block length / 64) per block.
 */
static void
sack_ranges(struct sx_qp *qp, const struct sx_pkt *pkt)
{
	uint32_t k;

	if (!(pkt->op->flags & SX_OPF_SACKR))
		return;
	for (k = 0; k < pkt->sackr.count; k++) {
		uint32_t start = pkt->sackr.range[k].start;
		uint32_t end = sx_psn_add(start, pkt->sackr.range[k].len);

		if (sx_psn_cmp(start, qp->snd_una) < 0)
			start = qp->snd_una;
		if (sx_psn_cmp(end, qp->snd_max) > 0)
			end = qp->snd_max;
		if (sx_psn_cmp(end, start) <= 0)
			continue;
		sx_ring_fill(qp, qp->sacked, start, sx_psn_fwd(start, end), true);
		if (sx_psn_cmp(end, qp->sr_high) > 0)
			qp->sr_high = end;
	}
}

/* SR ACK: cumulative PSN in the BTH, then what arrived beyond the hole. */
static enum sx_comp_state
sack(struct sx_qp *qp, struct comp_pkt *cp)
{
	const struct sx_pkt *pkt = cp->pkt;
	uint32_t i, p;

	qp->cnt[SX_QPC_ACKS_RCVD]++;
	if (!ack_upto(qp, pkt->bth.psn, cp->now_ns))
		return SX_COMPST_DONE;
	qp->sr_answer_follows = (pkt->sack.flags & SX_SACK_F_ANSWER_FOLLOWS) != 0;
	qp->sr_answer_psn = pkt->sack.base;
	/* A READ still waiting for answers holds snd_una back; what the
	 * responder acknowledged past it must not be sent again. */
	if (sx_psn_cmp(pkt->bth.psn, qp->snd_una) >= 0)
		sx_ring_fill(qp, qp->sacked, qp->snd_una,
			     sx_psn_fwd(qp->snd_una, sx_psn_add(pkt->bth.psn, 1)), true);
	/* 256 bits: a constant per ACK */
	for (i = 0; i < SX_SACK_BITS; i++) {
		if (!((pkt->sack.bitmap[i / 8] >> (i % 8)) & 1))
			continue;
		p = sx_psn_add(pkt->sack.base, i + 1);
		if (sx_psn_cmp(p, qp->snd_una) < 0 || sx_psn_cmp(p, qp->snd_max) >= 0)
			continue;
		sx_ring_set(qp, qp->sacked, p);
		if (sx_psn_cmp(sx_psn_add(p, 1), qp->sr_high) > 0)
			qp->sr_high = sx_psn_add(p, 1);
	}
	sack_ranges(qp, pkt);
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
			sx_ring_clear(qp, qp->resent);
			qp->sr_scan = qp->snd_una;
			qp->sr_recover = qp->snd_max;
		}
	}
	return SX_COMPST_DONE;
}

/* RNR NAK (IBA 9.7.5.2.8): what came before is acknowledged; the request
 * goes again after the timer the responder named. */
static enum sx_comp_state
rnr_nak(struct sx_qp *qp, struct comp_pkt *cp)
{
	uint8_t syn = cp->pkt->aeth.syndrome;
	uint32_t psn = cp->pkt->bth.psn;

	if (!ack_upto(qp, sx_psn_add(psn, SX_PSN_MASK), cp->now_ns))
		return SX_COMPST_DONE;
	if (qp->rnr_retry != 7 && qp->rnr_left-- == 0) {
		cp->err_psn = psn;
		cp->status = SX_WC_RNR_RETRY_EXC_ERR;
		cp->vendor_err = syn;
		return SX_COMPST_ERROR;
	}
	qp->rnr_until = cp->now_ns + (uint64_t)rnr_timer_10us[sx_aeth_value(syn)] * 10000;
	sx_req_rewind(qp, psn);
	return SX_COMPST_DONE;
}

static enum sx_comp_state
check_nak(struct sx_qp *qp, struct comp_pkt *cp)
{
	uint8_t syn = cp->pkt->aeth.syndrome;

	switch (sx_aeth_value(syn)) {
	case SX_NAK_PSN_SEQ_ERR:
		qp->cnt[SX_QPC_NAK_SEQ_RCVD]++;
		return SX_COMPST_NAK_SEQ;
	case SX_NAK_REM_ACCESS_ERR:
		qp->cnt[SX_QPC_NAK_ACCESS_RCVD]++;
		cp->status = SX_WC_REM_ACCESS_ERR;
		break;
	case SX_NAK_REM_OP_ERR:
		qp->cnt[SX_QPC_NAK_INVALID_RCVD]++;
		cp->status = SX_WC_REM_OP_ERR;
		break;
	default:
		qp->cnt[SX_QPC_NAK_INVALID_RCVD]++;
		cp->status = SX_WC_REM_INV_REQ_ERR;
		break;
	}
	return SX_COMPST_NAK_CLASS_C;
}

/* PSN sequence error (class B): go back to the PSN the responder expects
 * (IBA 9.7.5.1.3). */
static enum sx_comp_state
nak_seq(struct sx_qp *qp, struct comp_pkt *cp)
{
	uint32_t psn = cp->pkt->bth.psn;

	if (!ack_upto(qp, sx_psn_add(psn, SX_PSN_MASK), cp->now_ns))
		return SX_COMPST_DONE;
	sx_cc_loss(qp, cp->now_ns);
	if (sx_psn_cmp(psn, qp->snd_nxt) < 0)
		sx_req_rewind(qp, psn);
	return SX_COMPST_DONE;
}

/* Remote access, invalid request or operational error (class C, IBA
 * 9.9.3.1.3): the WQE fails and the QP goes to error. */
static enum sx_comp_state
nak_class_c(struct sx_qp *qp, struct comp_pkt *cp)
{
	uint32_t psn = cp->pkt->bth.psn;

	if (!ack_upto(qp, sx_psn_add(psn, SX_PSN_MASK), cp->now_ns))
		return SX_COMPST_DONE;
	cp->err_psn = psn;
	cp->vendor_err = cp->pkt->aeth.syndrome;
	return SX_COMPST_ERROR;
}

static enum sx_comp_state
read_response(struct sx_qp *qp, struct comp_pkt *cp)
{
	const struct sx_pkt *pkt = cp->pkt;
	struct sx_wqe *w = oldest_rd_atomic(qp, pkt->bth.psn, cp->now_ns);
	uint32_t expected, off, want;

	if (w == NULL || w->opcode != SX_WR_RDMA_READ)
		return SX_COMPST_STALE;
	cp->wqe = w;
	expected = sx_psn_add(w->first_psn, w->rd_pkts);
	if (pkt->bth.psn != expected) {
		if (sx_psn_in_window(pkt->bth.psn, expected, w->npkts - w->rd_pkts))
			return SX_COMPST_READ_GAP;
		return SX_COMPST_STALE;
	}
	qp->rd_gap = false;
	off = w->rd_pkts * qp->mtu;
	want = w->length - off < qp->mtu ? w->length - off : qp->mtu;
	if (pkt->payload_len != want) {
		cp->err_psn = pkt->bth.psn;
		cp->status = SX_WC_BAD_RESP_ERR;
		return SX_COMPST_ERROR;
	}
	sx_sg_copy_in(w->sge_ptr, w->sge_len, w->num_sge, off, cp->payload, want);
	w->rd_pkts++;
	if (w->rd_pkts == w->npkts) {
		sx_comp_wqe(qp, w, SX_WC_SUCCESS, 0);
		ack_upto(qp, sx_wqe_last_psn(w), cp->now_ns);
	} else {
		advance_una(qp, sx_psn_add(expected, 1), cp->now_ns);
	}
	return SX_COMPST_DONE;
}

/* A READ response went missing: read again from there, once. */
static enum sx_comp_state
read_gap(struct sx_qp *qp, struct comp_pkt *cp)
{
	struct sx_wqe *w = cp->wqe;

	qp->cnt[SX_QPC_OUT_OF_ORDER]++;
	if (!qp->rd_gap) {
		qp->rd_gap = true;
		sx_req_rewind(qp, sx_psn_add(w->first_psn, w->rd_pkts));
	}
	return SX_COMPST_DONE;
}

static enum sx_comp_state
atomic_ack(struct sx_qp *qp, struct comp_pkt *cp)
{
	const struct sx_pkt *pkt = cp->pkt;
	struct sx_wqe *w = oldest_rd_atomic(qp, pkt->bth.psn, cp->now_ns);

	if (w == NULL || w->opcode == SX_WR_RDMA_READ || w->first_psn != pkt->bth.psn)
		return SX_COMPST_STALE;
	w->atomic_orig = pkt->atomic_orig;
	sx_sg_copy_in(w->sge_ptr, w->sge_len, w->num_sge, 0, (const uint8_t *)&w->atomic_orig,
		      8);
	w->rd_pkts = 1;
	sx_comp_wqe(qp, w, SX_WC_SUCCESS, 0);
	ack_upto(qp, w->first_psn, cp->now_ns);
	return SX_COMPST_DONE;
}

static enum sx_comp_state
stale(struct sx_qp *qp, struct comp_pkt *cp)
{
	(void)cp;
	qp->cnt[SX_QPC_STALE_RESPONSES]++;
	return SX_COMPST_DONE;
}

static enum sx_comp_state
error(struct sx_qp *qp, struct comp_pkt *cp)
{
	fail(qp, cp->err_psn, cp->status, cp->vendor_err);
	return SX_COMPST_DONE;
}

void
sx_comp_rx(struct sx_qp *qp, const struct sx_pkt *pkt, const uint8_t *payload, uint64_t now_ns)
{
	struct comp_pkt cp = {.pkt = pkt, .payload = payload, .now_ns = now_ns};
	enum sx_comp_state state = SX_COMPST_GET_ACK;

	while (state != SX_COMPST_DONE) {
		qp->comp_state = (uint8_t)state;
		switch (state) {
		case SX_COMPST_GET_ACK:
			state = get_ack(qp, &cp);
			break;
		case SX_COMPST_CHECK_AETH:
			state = check_aeth(qp, &cp);
			break;
		case SX_COMPST_ACK:
			state = ack(qp, &cp);
			break;
		case SX_COMPST_SACK:
			state = sack(qp, &cp);
			break;
		case SX_COMPST_RNR_NAK:
			state = rnr_nak(qp, &cp);
			break;
		case SX_COMPST_CHECK_NAK:
			state = check_nak(qp, &cp);
			break;
		case SX_COMPST_NAK_SEQ:
			state = nak_seq(qp, &cp);
			break;
		case SX_COMPST_NAK_CLASS_C:
			state = nak_class_c(qp, &cp);
			break;
		case SX_COMPST_READ:
			state = read_response(qp, &cp);
			break;
		case SX_COMPST_READ_GAP:
			state = read_gap(qp, &cp);
			break;
		case SX_COMPST_ATOMIC:
			state = atomic_ack(qp, &cp);
			break;
		case SX_COMPST_STALE:
			state = stale(qp, &cp);
			break;
		case SX_COMPST_ERROR:
			state = error(qp, &cp);
			break;
		default:
			state = SX_COMPST_DONE;
			break;
		}
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
	/* Exponential backoff (RFC 6298 5.5; IBA 9.7.6.1.3 leaves the policy to us). */
	sx_rtt_backoff(qp);
	qp->rto_deadline = now_ns + sx_qp_rto(qp);
	qp->rd_gap = false;
	sx_ring_clear(qp, qp->resent);
	qp->sr_scan = qp->snd_una;
	qp->sr_probe = qp->rel == SX_REL_SR;
	qp->tlp_due = false;
	qp->tlp_deadline = 0;
	sx_req_rewind(qp, qp->snd_una);
}
