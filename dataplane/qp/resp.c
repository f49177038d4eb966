/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Responder (IBA 9.7.4, 9.7.5): checks the PSN, validates every remote
 * access against the memory region before touching memory, places data,
 * executes READ and atomics, and queues what goes back: ACK, NAK, READ
 * response streams and atomic ACKs, in PSN order.
 *
 * A request that fails validation is NAKed and not consumed: epsn stays, so
 * the requester's later packets of the same window fall on the floor as
 * out-of-sequence and the target memory is never written.
 */
#include <endian.h>
#include <string.h>

#include "qp.h"

static struct sx_resp *
respq_tail(struct sx_qp *qp)
{
	if (qp->rq_rtail == qp->rq_rhead)
		return NULL;
	return &qp->respq[(qp->rq_rtail - 1) % SX_RESPQ_SIZE];
}

static struct sx_resp *
respq_push(struct sx_qp *qp)
{
	struct sx_resp *r;

	if (qp->rq_rtail - qp->rq_rhead == SX_RESPQ_SIZE)
		return NULL; /* the requester will time out and ask again */
	r = &qp->respq[qp->rq_rtail++ % SX_RESPQ_SIZE];
	memset(r, 0, sizeof(*r));
	return r;
}

/* Queue an ACK for everything before epsn, merging into a queued one. */
static void
queue_ack(struct sx_qp *qp)
{
	struct sx_resp *r = respq_tail(qp);
	uint32_t psn = sx_psn_add(qp->epsn, SX_PSN_MASK); /* epsn - 1 */

	if (r == NULL || r->kind != SX_RESP_ACK ||
	    sx_aeth_type(r->syndrome) != SX_AETH_ACK) {
		r = respq_push(qp);
		if (r == NULL)
			return;
	}
	r->kind = SX_RESP_ACK;
	r->syndrome = sx_aeth_syndrome(SX_AETH_ACK, SX_AETH_CREDIT_INVALID);
	r->psn = psn;
	r->msn = qp->msn;
}

static void
queue_nak(struct sx_qp *qp, enum sx_aeth_type type, uint8_t code, uint32_t psn)
{
	struct sx_resp *r = respq_push(qp);

	if (r == NULL)
		return;
	r->kind = SX_RESP_ACK;
	r->syndrome = sx_aeth_syndrome(type, code);
	r->psn = psn;
	r->msn = qp->msn;
	qp->nak_sent = true;
	if (type == SX_AETH_RNR_NAK)
		qp->cnt[SX_QPC_NAK_RNR_SENT]++;
	else if (code == SX_NAK_PSN_SEQ_ERR)
		qp->cnt[SX_QPC_NAK_SEQ_SENT]++;
	else if (code == SX_NAK_REM_ACCESS_ERR)
		qp->cnt[SX_QPC_NAK_ACCESS_SENT]++;
	else
		qp->cnt[SX_QPC_NAK_INVALID_SENT]++;
}

/* Queue the READ response stream for [psn ...) covering @p len bytes at @p va. */
static void
queue_read(struct sx_qp *qp, uint32_t psn, uint64_t va, uint32_t rkey, uint32_t len)
{
	struct sx_resp *r;
	uint32_t i;

	/* A repeated READ supersedes what is still queued from that PSN on:
	 * later streams die, an earlier one ends before it. */
	for (i = qp->rq_rhead; i != qp->rq_rtail; i++) {
		r = &qp->respq[i % SX_RESPQ_SIZE];
		if (r->kind != SX_RESP_READ || r->dead)
			continue;
		if (sx_psn_cmp(r->psn, psn) >= 0) {
			r->dead = true;
		} else if ((uint64_t)sx_psn_fwd(r->psn, psn) * qp->mtu < r->len) {
			r->len = sx_psn_fwd(r->psn, psn) * qp->mtu;
			if (r->sent >= r->len)
				r->dead = true;
		}
	}
	r = respq_push(qp);
	if (r == NULL)
		return;
	r->kind = SX_RESP_READ;
	r->psn = psn;
	r->va = va;
	r->rkey = rkey;
	r->len = len;
	r->msn = qp->msn;
}

static void
queue_atomic(struct sx_qp *qp, uint32_t psn, uint64_t orig)
{
	struct sx_resp *r = respq_push(qp);

	if (r == NULL)
		return;
	r->kind = SX_RESP_ATOMIC;
	r->psn = psn;
	r->orig = orig;
	r->msn = qp->msn;
}

/* Complete rq[rq_head]: a SEND, or the immediate of a WRITE. */
static void
complete_recv(struct sx_qp *qp, uint32_t byte_len, bool write_imm, bool has_imm,
	      uint32_t imm, enum sx_wc_status status)
{
	struct sx_rqe *r = &qp->rq[qp->rq_head++ & (qp->rq_size - 1)];
	struct sx_wc wc;

	memset(&wc, 0, sizeof(wc));
	wc.wr_id = r->wr_id;
	wc.status = status;
	wc.opcode = write_imm ? SX_WC_RECV_RDMA_WITH_IMM : SX_WC_RECV;
	wc.byte_len = byte_len;
	wc.qp_num = qp->qpn;
	wc.src_qp = qp->remote.qpn;
	if (has_imm) {
		wc.imm_data = htobe32(imm);
		wc.wc_flags = SX_WC_WITH_IMM;
	}
	r->sr_last = false;
	sx_cq_push(qp->rcq, &wc);
	qp->rcv_off = 0;
	qp->rq_msg_seq++;
}

/* Payload size rules (IBA 9.7.4.1.4): FIRST and MIDDLE packets are exactly
 * one MTU, LAST and ONLY at most one. */
static bool
payload_len_ok(const struct sx_qp *qp, const struct sx_pkt *pkt)
{
	if (pkt->op->flags & SX_OPF_LAST)
		return pkt->payload_len <= qp->mtu;
	return pkt->payload_len == qp->mtu;
}

/* A request that arrived in order. Returns false if it was not consumed. */
static bool
execute(struct sx_qp *qp, const struct sx_pkt *pkt, const uint8_t *payload)
{
	uint32_t flags = pkt->op->flags;
	const struct sx_mr_table *mrs = qp->env->mrs;

	if ((flags & SX_OPF_PAYLOAD) && !payload_len_ok(qp, pkt)) {
		queue_nak(qp, SX_AETH_NAK, SX_NAK_INVALID_REQ, pkt->bth.psn);
		return false;
	}
	if (flags & SX_OPF_SEND) {
		struct sx_rqe *r;

		if (qp->rq_head == qp->rq_tail) {
			/* Receiver not ready: the requester retries later (IBA 9.7.5.2.8). */
			queue_nak(qp, SX_AETH_RNR_NAK, SX_RNR_TIMER_CODE, pkt->bth.psn);
			return false;
		}
		r = &qp->rq[qp->rq_head & (qp->rq_size - 1)];
		if (flags & SX_OPF_FIRST)
			qp->rcv_off = 0;
		if (pkt->payload_len > r->length - qp->rcv_off) {
			/* Message longer than the receive buffer. */
			queue_nak(qp, SX_AETH_NAK, SX_NAK_INVALID_REQ, pkt->bth.psn);
			complete_recv(qp, 0, false, false, 0, SX_WC_LOC_LEN_ERR);
			return false;
		}
		sx_sg_copy_in(r->sge_ptr, r->sge_len, r->num_sge, qp->rcv_off, payload,
			      pkt->payload_len);
		qp->rcv_off += pkt->payload_len;
		if (flags & SX_OPF_LAST) {
			complete_recv(qp, qp->rcv_off, false, (flags & SX_OPF_IMMDT) != 0,
				      pkt->immdt, SX_WC_SUCCESS);
			qp->msn = sx_psn_add(qp->msn, 1);
		}
		return true;
	}
	if (flags & SX_OPF_WRITE) {
		uint8_t *dst;

		if (flags & SX_OPF_FIRST) {
			if (sx_mr_resolve(mrs, qp->pd, pkt->reth.rkey, pkt->reth.va,
					  pkt->reth.dma_len, SX_ACCESS_REMOTE_WRITE) == NULL) {
				queue_nak(qp, SX_AETH_NAK, SX_NAK_REM_ACCESS_ERR, pkt->bth.psn);
				return false;
			}
			qp->wr_va = pkt->reth.va;
			qp->wr_rkey = pkt->reth.rkey;
			qp->wr_left = qp->wr_len = pkt->reth.dma_len;
		}
		if (pkt->payload_len > qp->wr_left ||
		    ((flags & SX_OPF_LAST) && pkt->payload_len != qp->wr_left)) {
			/* More or less data than the RETH announced. */
			queue_nak(qp, SX_AETH_NAK, SX_NAK_INVALID_REQ, pkt->bth.psn);
			return false;
		}
		if ((flags & SX_OPF_IMMDT) && qp->rq_head == qp->rq_tail) {
			queue_nak(qp, SX_AETH_RNR_NAK, SX_RNR_TIMER_CODE, pkt->bth.psn);
			return false;
		}
		/* Every packet is checked against the region again: it may have
		 * been deregistered since the first one. */
		dst = sx_mr_resolve(mrs, qp->pd, qp->wr_rkey, qp->wr_va, pkt->payload_len,
				    SX_ACCESS_REMOTE_WRITE);
		if (dst == NULL) {
			queue_nak(qp, SX_AETH_NAK, SX_NAK_REM_ACCESS_ERR, pkt->bth.psn);
			return false;
		}
		if (pkt->payload_len != 0 && payload != NULL)
			memcpy(dst, payload, pkt->payload_len);
		qp->wr_va += pkt->payload_len;
		qp->wr_left -= pkt->payload_len;
		if (flags & SX_OPF_LAST) {
			if (flags & SX_OPF_IMMDT)
				complete_recv(qp, qp->wr_len, true, true, pkt->immdt,
					      SX_WC_SUCCESS);
			qp->msn = sx_psn_add(qp->msn, 1);
		}
		return true;
	}
	if (flags & SX_OPF_READ) {
		uint32_t npkts;

		if (sx_mr_resolve(mrs, qp->pd, pkt->reth.rkey, pkt->reth.va, pkt->reth.dma_len,
				  SX_ACCESS_REMOTE_READ) == NULL) {
			queue_nak(qp, SX_AETH_NAK, SX_NAK_REM_ACCESS_ERR, pkt->bth.psn);
			return false;
		}
		npkts = pkt->reth.dma_len ? (pkt->reth.dma_len + qp->mtu - 1) / qp->mtu : 1;
		qp->msn = sx_psn_add(qp->msn, 1);
		queue_read(qp, pkt->bth.psn, pkt->reth.va, pkt->reth.rkey, pkt->reth.dma_len);
		/* A READ consumes one PSN per response packet (IBA 9.7.1.1). */
		qp->epsn = sx_psn_add(qp->epsn, npkts - 1);
		return true;
	}
	if (flags & SX_OPF_ATOMIC) {
		uint64_t *p, orig;
		struct sx_atomic_reply *a;

		if (pkt->atomiceth.va & 7) {
			queue_nak(qp, SX_AETH_NAK, SX_NAK_INVALID_REQ, pkt->bth.psn);
			return false;
		}
		p = (uint64_t *)sx_mr_resolve(mrs, qp->pd, pkt->atomiceth.rkey,
					      pkt->atomiceth.va, 8, SX_ACCESS_REMOTE_ATOMIC);
		if (p == NULL) {
			queue_nak(qp, SX_AETH_NAK, SX_NAK_REM_ACCESS_ERR, pkt->bth.psn);
			return false;
		}
		/* Atomic with respect to other scalex atomics on this host. */
		if (pkt->bth.opcode == SX_OP_RC_COMPARE_SWAP) {
			/* Swap only if *p equals Compare; either way orig is the
			 * value *p held (IBA 9.4.5). */
			orig = pkt->atomiceth.compare;
			__atomic_compare_exchange_n(p, &orig, pkt->atomiceth.swap_add, false,
						    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		} else {
			orig = __atomic_fetch_add(p, pkt->atomiceth.swap_add, __ATOMIC_ACQ_REL);
		}
		/* Remember the reply: a duplicate must not execute twice (IBA 9.7.5.1.2). */
		a = &qp->atomics[qp->atomic_next++ % SX_ATOMIC_CACHE];
		a->valid = true;
		a->psn = pkt->bth.psn;
		a->orig = orig;
		qp->msn = sx_psn_add(qp->msn, 1);
		queue_atomic(qp, pkt->bth.psn, orig);
		return true;
	}
	queue_nak(qp, SX_AETH_NAK, SX_NAK_INVALID_REQ, pkt->bth.psn);
	return false;
}

/* A request whose PSN is before epsn: answered, never executed again. */
static void
duplicate(struct sx_qp *qp, const struct sx_pkt *pkt)
{
	uint32_t flags = pkt->op->flags;
	unsigned int i;

	qp->cnt[SX_QPC_DUPLICATES]++;
	if (flags & SX_OPF_READ) {
		/* READ is idempotent: answer the (possibly partial) request again. */
		if (sx_mr_resolve(qp->env->mrs, qp->pd, pkt->reth.rkey, pkt->reth.va,
				  pkt->reth.dma_len, SX_ACCESS_REMOTE_READ) != NULL)
			queue_read(qp, pkt->bth.psn, pkt->reth.va, pkt->reth.rkey,
				   pkt->reth.dma_len);
		return;
	}
	if (flags & SX_OPF_ATOMIC) {
		for (i = 0; i < SX_ATOMIC_CACHE; i++) {
			const struct sx_atomic_reply *a = &qp->atomics[i];

			if (a->valid && a->psn == pkt->bth.psn) {
				queue_atomic(qp, a->psn, a->orig);
				return;
			}
		}
		return; /* too old to answer: the requester has moved on */
	}
	if (pkt->bth.ackreq && qp->rel == SX_REL_GBN)
		queue_ack(qp);
}

/* SR: queue an ACK; what it acknowledges is read from the scoreboard when
 * it is sent, so one queued ACK serves any number of packets. */
static void
queue_sack(struct sx_qp *qp)
{
	struct sx_resp *r = respq_tail(qp);

	if (r == NULL || r->kind != SX_RESP_SACK) {
		r = respq_push(qp);
		if (r == NULL)
			return;
		r->kind = SX_RESP_SACK;
	}
	r->msn = qp->msn;
}

/* SR: epsn moves over @p n PSNs; complete the receives that are now whole. */
static void
sr_advance(struct sx_qp *qp, uint32_t n)
{
	qp->epsn = sx_psn_add(qp->epsn, n);
	sx_bits_shift(qp->rcvd, n);
	while (qp->rq_head != qp->rq_tail) {
		struct sx_rqe *r = &qp->rq[qp->rq_head & (qp->rq_size - 1)];

		if (!r->sr_last || sx_psn_cmp(r->sr_done_psn, qp->epsn) >= 0)
			break;
		qp->msn = sx_psn_add(qp->msn, 1);
		complete_recv(qp, r->sr_len, r->sr_write_imm, r->sr_has_imm, r->sr_imm,
			      SX_WC_SUCCESS);
	}
}

/* SR: place one self-describing SEND/WRITE packet wherever it belongs. */
static bool
sr_place(struct sx_qp *qp, const struct sx_pkt *pkt, const uint8_t *payload)
{
	uint32_t flags = pkt->op->flags, off = pkt->xeth.offset, len = pkt->payload_len;
	struct sx_rqe *r = NULL;

	if (!payload_len_ok(qp, pkt) || off % qp->mtu != 0) {
		queue_nak(qp, SX_AETH_NAK, SX_NAK_INVALID_REQ, pkt->bth.psn);
		return false;
	}
	if ((flags & SX_OPF_SEND) || (flags & SX_OPF_IMMDT)) {
		uint32_t slot = pkt->xeth.msg_seq - qp->rq_msg_seq;

		if (slot >= qp->rq_tail - qp->rq_head) {
			queue_nak(qp, SX_AETH_RNR_NAK, SX_RNR_TIMER_CODE, pkt->bth.psn);
			return false;
		}
		r = &qp->rq[(qp->rq_head + slot) & (qp->rq_size - 1)];
	}
	if (flags & SX_OPF_WRITE) {
		uint8_t *base = sx_mr_resolve(qp->env->mrs, qp->pd, pkt->reth.rkey, pkt->reth.va,
					      pkt->reth.dma_len, SX_ACCESS_REMOTE_WRITE);

		if (base == NULL) {
			queue_nak(qp, SX_AETH_NAK, SX_NAK_REM_ACCESS_ERR, pkt->bth.psn);
			return false;
		}
		if (off > pkt->reth.dma_len || len > pkt->reth.dma_len - off ||
		    ((flags & SX_OPF_LAST) && off + len != pkt->reth.dma_len)) {
			queue_nak(qp, SX_AETH_NAK, SX_NAK_INVALID_REQ, pkt->bth.psn);
			return false;
		}
		if (len != 0 && payload != NULL)
			memcpy(base + off, payload, len);
	} else {
		if (off > r->length || len > r->length - off) {
			queue_nak(qp, SX_AETH_NAK, SX_NAK_INVALID_REQ, pkt->bth.psn);
			return false;
		}
		sx_sg_copy_in(r->sge_ptr, r->sge_len, r->num_sge, off, payload, len);
	}
	if (r != NULL && (flags & SX_OPF_LAST)) {
		r->sr_last = true;
		r->sr_done_psn = pkt->bth.psn;
		r->sr_len = (flags & SX_OPF_WRITE) ? pkt->reth.dma_len : off + len;
		r->sr_write_imm = (flags & SX_OPF_WRITE) != 0;
		r->sr_has_imm = (flags & SX_OPF_IMMDT) != 0;
		r->sr_imm = pkt->immdt;
	}
	return true;
}

static void
sr_rx(struct sx_qp *qp, const struct sx_pkt *pkt, const uint8_t *payload)
{
	int32_t d = sx_psn_diff(pkt->bth.psn, qp->epsn);
	uint32_t before;

	if (d < 0 || (d < SX_WINDOW_PKTS && sx_bit_test(qp->rcvd, (uint32_t)d))) {
		duplicate(qp, pkt);
		if (!(pkt->op->flags & (SX_OPF_READ | SX_OPF_ATOMIC)))
			queue_sack(qp);
		return;
	}
	if (!(pkt->op->flags & SX_OPF_XETH)) {
		/* READ and atomics execute in PSN order; one that overtook a
		 * hole is dropped and resent by the requester. */
		if (d != 0) {
			qp->cnt[SX_QPC_OUT_OF_ORDER]++;
			queue_sack(qp);
			return;
		}
		before = qp->epsn;
		if (!execute(qp, pkt, payload))
			return;
		/* execute() moved epsn over a READ's response PSNs; the
		 * scoreboard moves with it. */
		d = (int32_t)sx_psn_fwd(before, qp->epsn) + 1;
		qp->epsn = before;
		sr_advance(qp, (uint32_t)d);
		goto advance;
	}
	if (d >= SX_WINDOW_PKTS) {
		qp->cnt[SX_QPC_OUT_OF_ORDER]++;
		return;
	}
	if (!sr_place(qp, pkt, payload))
		return;
	sx_bit_set(qp->rcvd, (uint32_t)d);
	if (d > 0) {
		/* Tell the requester about the hole at once. */
		qp->cnt[SX_QPC_OUT_OF_ORDER]++;
		queue_sack(qp);
		return;
	}
advance:
	qp->nak_sent = false;
	while (sx_bit_test(qp->rcvd, 0)) {
		uint64_t ones = ~qp->rcvd[0];
		uint32_t run = ones ? (uint32_t)__builtin_ctzll(ones) : 64;

		sr_advance(qp, run);
	}
	sr_advance(qp, 0);
	if (pkt->bth.ackreq && (pkt->op->flags & SX_OPF_XETH))
		queue_sack(qp);
}

void
sx_resp_rx(struct sx_qp *qp, const struct sx_pkt *pkt, const uint8_t *payload)
{
	int32_t d;
	bool sr_pkt = (pkt->op->flags & SX_OPF_XETH) != 0;
	bool data = (pkt->op->flags & (SX_OPF_SEND | SX_OPF_WRITE)) != 0;

	/* SEND/WRITE must come in the QP's own reliability mode: an RC data
	 * packet carries too little to place out of order, and an SR one is
	 * not part of RoCEv2. */
	if (data && sr_pkt != (qp->rel == SX_REL_SR)) {
		qp->cnt[SX_QPC_WRONG_MODE]++;
		if (!qp->nak_sent)
			queue_nak(qp, SX_AETH_NAK, SX_NAK_INVALID_REQ, pkt->bth.psn);
		return;
	}
	if (qp->rel == SX_REL_SR) {
		sr_rx(qp, pkt, payload);
		return;
	}
	d = sx_psn_diff(pkt->bth.psn, qp->epsn);

	if (d < 0) {
		duplicate(qp, pkt);
		return;
	}
	if (d > 0) {
		/* Go-back-N: one NAK per gap, until the expected PSN arrives. */
		qp->cnt[SX_QPC_OUT_OF_ORDER]++;
		if (!qp->nak_sent)
			queue_nak(qp, SX_AETH_NAK, SX_NAK_PSN_SEQ_ERR, qp->epsn);
		return;
	}
	qp->nak_sent = false;
	if (!execute(qp, pkt, payload))
		return;
	qp->epsn = sx_psn_add(qp->epsn, 1);
	if (pkt->bth.ackreq && !(pkt->op->flags & (SX_OPF_READ | SX_OPF_ATOMIC)))
		queue_ack(qp);
}

/* Is @p psn answered by a READ/atomic response queued behind the head? */
static bool
answer_queued(const struct sx_qp *qp, uint32_t psn)
{
	uint32_t k;

	for (k = qp->rq_rhead + 1; k != qp->rq_rtail; k++) {
		const struct sx_resp *n = &qp->respq[k % SX_RESPQ_SIZE];
		uint32_t npkts;

		if (n->dead || (n->kind != SX_RESP_READ && n->kind != SX_RESP_ATOMIC))
			continue;
		npkts = n->kind == SX_RESP_READ && n->len ? (n->len + qp->mtu - 1) / qp->mtu : 1;
		if (sx_psn_in_window(psn, n->psn, npkts))
			return true;
	}
	return false;
}

/*
 * SR ACK, filled when sent: everything received by now, except the PSNs of
 * a READ or atomic whose answer is still queued behind this ACK: the
 * requester would take it as answered and the answer as lost. The
 * cumulative point stops at the first of those.
 */
static void
fill_sack(struct sx_qp *qp, struct sx_pkt *h)
{
	uint32_t i, p, base = qp->epsn;

	/* base: the epsn, or the first PSN of the answers queued behind us */
	for (i = qp->rq_rhead + 1; i != qp->rq_rtail; i++) {
		const struct sx_resp *n = &qp->respq[i % SX_RESPQ_SIZE];

		if (!n->dead && (n->kind == SX_RESP_READ || n->kind == SX_RESP_ATOMIC) &&
		    sx_psn_cmp(n->psn, base) < 0)
			base = n->psn;
	}
	h->bth.opcode = SX_OP_SR_ACK;
	h->bth.psn = sx_psn_add(base, SX_PSN_MASK);
	h->aeth.syndrome = sx_aeth_syndrome(SX_AETH_ACK, SX_AETH_CREDIT_INVALID);
	h->aeth.msn = qp->msn;
	h->sack.base = base;
	h->sack.flags = base != qp->epsn ? SX_SACK_F_ANSWER_FOLLOWS : 0;
	memset(h->sack.bitmap, 0, sizeof(h->sack.bitmap));
	for (i = 0; i < SX_SACK_BITS; i++) {
		bool got;

		p = sx_psn_add(base, i + 1);
		if (sx_psn_cmp(p, qp->epsn) < 0)
			got = !answer_queued(qp, p);
		else
			got = sx_bit_test(qp->rcvd, sx_psn_fwd(qp->epsn, p));
		if (got)
			h->sack.bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
	}
}

bool
sx_resp_tx(struct sx_qp *qp, struct sx_txd *txd, bool data)
{
	struct sx_pkt *h = &txd->hdr;
	const uint8_t *src;
	struct sx_resp *r;
	uint32_t npkts, idx, len;

	while (qp->rq_rhead != qp->rq_rtail && qp->respq[qp->rq_rhead % SX_RESPQ_SIZE].dead)
		qp->rq_rhead++;
	if (qp->rq_rhead == qp->rq_rtail)
		return false;
	r = &qp->respq[qp->rq_rhead % SX_RESPQ_SIZE];
	if (!data && r->kind == SX_RESP_READ)
		return false; /* data, and the ACKs behind it wait with it */
	h->bth.psn = r->psn;
	h->aeth.msn = r->msn;
	h->aeth.syndrome = sx_aeth_syndrome(SX_AETH_ACK, SX_AETH_CREDIT_INVALID);
	switch (r->kind) {
	case SX_RESP_ACK:
		h->bth.opcode = SX_OP_RC_ACK;
		h->aeth.syndrome = r->syndrome;
		qp->cnt[SX_QPC_ACKS_SENT]++;
		qp->rq_rhead++;
		return true;
	case SX_RESP_ATOMIC:
		h->bth.opcode = SX_OP_RC_ATOMIC_ACK;
		h->atomic_orig = r->orig;
		qp->rq_rhead++;
		return true;
	case SX_RESP_SACK:
		fill_sack(qp, h);
		qp->cnt[SX_QPC_ACKS_SENT]++;
		qp->rq_rhead++;
		return true;
	default:
		break;
	}
	/* READ response: packet idx of the stream. */
	npkts = r->len ? (r->len + qp->mtu - 1) / qp->mtu : 1;
	idx = r->sent / qp->mtu;
	len = r->len - r->sent < qp->mtu ? r->len - r->sent : qp->mtu;
	if (npkts == 1)
		h->bth.opcode = SX_OP_RC_READ_RESPONSE_ONLY;
	else if (idx == 0)
		h->bth.opcode = SX_OP_RC_READ_RESPONSE_FIRST;
	else if (idx == npkts - 1)
		h->bth.opcode = SX_OP_RC_READ_RESPONSE_LAST;
	else
		h->bth.opcode = SX_OP_RC_READ_RESPONSE_MIDDLE;
	h->bth.psn = sx_psn_add(r->psn, idx);
	src = sx_mr_resolve(qp->env->mrs, qp->pd, r->rkey, r->va + r->sent, len,
			    SX_ACCESS_REMOTE_READ);
	if (src == NULL) {
		/* The region went away mid-stream: end it with a NAK in place
		 * of the packet (IBA 9.7.5.2.4 remote access error). */
		h->bth.opcode = SX_OP_RC_ACK;
		h->aeth.syndrome = sx_aeth_syndrome(SX_AETH_NAK, SX_NAK_REM_ACCESS_ERR);
		h->payload_len = 0;
		r->dead = true;
		qp->rq_rhead++;
		qp->cnt[SX_QPC_NAK_ACCESS_SENT]++;
		return true;
	}
	h->payload_len = len;
	txd->nseg = len ? 1 : 0;
	txd->seg[0] = src;
	txd->seg_len[0] = len;
	r->sent += len;
	if (idx == npkts - 1)
		qp->rq_rhead++;
	return true;
}
