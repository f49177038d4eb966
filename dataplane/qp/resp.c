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

static struct sx_resp *
queue_nak(struct sx_qp *qp, enum sx_aeth_type type, uint8_t code, uint32_t psn)
{
	struct sx_resp *r = respq_push(qp);

	if (r == NULL)
		return NULL;
	r->kind = SX_RESP_ACK;
	r->syndrome = sx_aeth_syndrome(type, code);
	r->psn = psn;
	r->msn = qp->msn;
	/* Only a sequence NAK waits for the gap to close before another is
	 * sent (IBA 9.7.5.2.1; rxe's sent_psn_nak): an RNR NAK or an error
	 * NAK must not silence the NAK of a later gap. */
	if (type == SX_AETH_NAK && code == SX_NAK_PSN_SEQ_ERR)
		qp->nak_sent = true;
	if (type == SX_AETH_RNR_NAK)
		qp->cnt[SX_QPC_NAK_RNR_SENT]++;
	else if (code == SX_NAK_PSN_SEQ_ERR)
		qp->cnt[SX_QPC_NAK_SEQ_SENT]++;
	else if (code == SX_NAK_REM_ACCESS_ERR)
		qp->cnt[SX_QPC_NAK_ACCESS_SENT]++;
	else
		qp->cnt[SX_QPC_NAK_INVALID_SENT]++;
	return r;
}

/*
 * Class C error (IBA 9.9.3.1.3: invalid request, remote access error,
 * remote operational error): the responder NAKs the request and its QP goes
 * to the error state once the NAK is out, as rxe does (do_class_ac_error,
 * then RESPST_ERROR). Until then every request is dropped.
 */
static void
queue_class_c(struct sx_qp *qp, uint8_t code, uint32_t psn)
{
	struct sx_resp *r = queue_nak(qp, SX_AETH_NAK, code, psn);

	qp->resp_error = true;
	if (r == NULL) {
		sx_qp_error(qp); /* no room for the NAK: the requester times out */
		return;
	}
	r->fatal = true;
}

/* Queue the READ response stream for [psn ...) covering @p len bytes at @p va. */
static struct sx_resp *
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
		return NULL;
	r->kind = SX_RESP_READ;
	r->psn = psn;
	r->va = va;
	r->rkey = rkey;
	r->len = len;
	r->msn = qp->msn;
	return r;
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
	/* The ring forgets what the window leaves: O(n / 64). */
	sx_ring_fill(qp, qp->rcvd, qp->epsn, n, false);
	qp->epsn = sx_psn_add(qp->epsn, n);
	/* a READ or atomic moves epsn past what was placed */
	if (sx_psn_cmp(qp->rcv_high, qp->epsn) < 0)
		qp->rcv_high = qp->rcv_run = qp->epsn;
	while (qp->rq_head != qp->rq_tail) {
		struct sx_rqe *r = &qp->rq[qp->rq_head & (qp->rq_size - 1)];

		if (!r->sr_last || sx_psn_cmp(r->sr_done_psn, qp->epsn) >= 0)
			break;
		qp->msn = sx_psn_add(qp->msn, 1);
		complete_recv(qp, r->sr_len, r->sr_write_imm, r->sr_has_imm, r->sr_imm,
			      SX_WC_SUCCESS);
	}
}

/*
 * The responder's state machine for one request packet, as rxe_resp.c
 * runs it: each state is a small function that returns the next one, and
 * every protocol failure is a state of its own (RESPST_ERR_*) that decides
 * the NAK, the completion and the counters. A request that fails is not
 * consumed: epsn stays (IBA 9.7.5.2).
 */

static const char *const resp_state_names[SX_RESPST_MAX] = {
	[SX_RESPST_CHECK_STATE] = "CHECK_STATE",
	[SX_RESPST_CHECK_MODE] = "CHECK_MODE",
	[SX_RESPST_CHECK_PSN] = "CHECK_PSN",
	[SX_RESPST_SR_CHECK_PSN] = "SR_CHECK_PSN",
	[SX_RESPST_CHECK_LENGTH] = "CHECK_LENGTH",
	[SX_RESPST_CHECK_OP] = "CHECK_OP",
	[SX_RESPST_EXECUTE_SEND] = "EXECUTE_SEND",
	[SX_RESPST_CHECK_RKEY_WRITE] = "CHECK_RKEY_WRITE",
	[SX_RESPST_EXECUTE_WRITE] = "EXECUTE_WRITE",
	[SX_RESPST_EXECUTE_READ] = "EXECUTE_READ",
	[SX_RESPST_EXECUTE_ATOMIC] = "EXECUTE_ATOMIC",
	[SX_RESPST_COMPLETE] = "COMPLETE",
	[SX_RESPST_SR_PLACE] = "SR_PLACE",
	[SX_RESPST_SR_ACCEPT] = "SR_ACCEPT",
	[SX_RESPST_SR_ADVANCE] = "SR_ADVANCE",
	[SX_RESPST_DUPLICATE] = "DUPLICATE",
	[SX_RESPST_ERR_WRONG_MODE] = "ERR_WRONG_MODE",
	[SX_RESPST_ERR_PSN_OUT_OF_SEQ] = "ERR_PSN_OUT_OF_SEQ",
	[SX_RESPST_ERR_SR_OUT_OF_ORDER] = "ERR_SR_OUT_OF_ORDER",
	[SX_RESPST_ERR_SR_BEYOND_WINDOW] = "ERR_SR_BEYOND_WINDOW",
	[SX_RESPST_ERR_RNR] = "ERR_RNR",
	[SX_RESPST_ERR_LENGTH] = "ERR_LENGTH",
	[SX_RESPST_ERR_INVALID_REQ] = "ERR_INVALID_REQ",
	[SX_RESPST_ERR_MISALIGNED_ATOMIC] = "ERR_MISALIGNED_ATOMIC",
	[SX_RESPST_ERR_RKEY_VIOLATION] = "ERR_RKEY_VIOLATION",
	[SX_RESPST_DONE] = "DONE",
};

const char *
sx_resp_state_name(unsigned int state)
{
	return state < SX_RESPST_MAX && resp_state_names[state] != NULL
		       ? resp_state_names[state]
		       : "invalid";
}

/* One request packet on its way through the states. */
struct resp_pkt {
	const struct sx_pkt *pkt;
	const uint8_t *payload;
	uint32_t flags;  /* pkt->op->flags */
	int32_t d;       /* PSN distance from epsn */
	uint32_t before; /* SR: epsn before a READ moved it over its responses */
};

/* A class C NAK is on its way and the QP goes to error after it. */
static enum sx_resp_state
check_state(struct sx_qp *qp, struct resp_pkt *rp)
{
	(void)rp;
	if (qp->resp_error) {
		qp->cnt[SX_QPC_DROP_STATE]++;
		return SX_RESPST_DONE;
	}
	return SX_RESPST_CHECK_MODE;
}

/* SEND/WRITE must come in the QP's own reliability mode: an RC data packet
 * carries too little to place out of order, and an SR one is not part of
 * RoCEv2. */
static enum sx_resp_state
check_mode(struct sx_qp *qp, struct resp_pkt *rp)
{
	bool sr_pkt = (rp->flags & SX_OPF_XETH) != 0;
	bool data = (rp->flags & (SX_OPF_SEND | SX_OPF_WRITE)) != 0;

	if (data && sr_pkt != (qp->rel == SX_REL_SR))
		return SX_RESPST_ERR_WRONG_MODE;
	return qp->rel == SX_REL_SR ? SX_RESPST_SR_CHECK_PSN : SX_RESPST_CHECK_PSN;
}

/* Go-back-N (IBA 9.7.5.1): only the expected PSN executes. */
static enum sx_resp_state
check_psn(struct sx_qp *qp, struct resp_pkt *rp)
{
	rp->d = sx_psn_diff(rp->pkt->bth.psn, qp->epsn);
	if (rp->d < 0)
		return SX_RESPST_DUPLICATE;
	if (rp->d > 0)
		return SX_RESPST_ERR_PSN_OUT_OF_SEQ;
	qp->nak_sent = false;
	return SX_RESPST_CHECK_LENGTH;
}

/* Selective repeat: SEND/WRITE packets are placed wherever they belong in
 * the window; READ and atomics still execute in PSN order. */
static enum sx_resp_state
sr_check_psn(struct sx_qp *qp, struct resp_pkt *rp)
{
	int32_t d = rp->d = sx_psn_diff(rp->pkt->bth.psn, qp->epsn);

	if (d < 0 || ((uint32_t)d < qp->win_pkts && sx_ring_test(qp, qp->rcvd, rp->pkt->bth.psn)))
		return SX_RESPST_DUPLICATE;
	if (!(rp->flags & SX_OPF_XETH)) {
		if (d != 0)
			return SX_RESPST_ERR_SR_OUT_OF_ORDER;
		rp->before = qp->epsn;
		return SX_RESPST_CHECK_LENGTH;
	}
	if ((uint32_t)d >= qp->win_pkts)
		return SX_RESPST_ERR_SR_BEYOND_WINDOW;
	return SX_RESPST_SR_PLACE;
}

static enum sx_resp_state
check_length(struct sx_qp *qp, struct resp_pkt *rp)
{
	if ((rp->flags & SX_OPF_PAYLOAD) && !payload_len_ok(qp, rp->pkt))
		return SX_RESPST_ERR_INVALID_REQ;
	return SX_RESPST_CHECK_OP;
}

static enum sx_resp_state
check_op(struct sx_qp *qp, struct resp_pkt *rp)
{
	(void)qp;
	if (rp->flags & SX_OPF_SEND)
		return SX_RESPST_EXECUTE_SEND;
	if (rp->flags & SX_OPF_WRITE)
		return (rp->flags & SX_OPF_FIRST) ? SX_RESPST_CHECK_RKEY_WRITE
						  : SX_RESPST_EXECUTE_WRITE;
	if (rp->flags & SX_OPF_READ)
		return SX_RESPST_EXECUTE_READ;
	if (rp->flags & SX_OPF_ATOMIC)
		return SX_RESPST_EXECUTE_ATOMIC;
	return SX_RESPST_ERR_INVALID_REQ;
}

static enum sx_resp_state
execute_send(struct sx_qp *qp, struct resp_pkt *rp)
{
	const struct sx_pkt *pkt = rp->pkt;
	struct sx_rqe *r;

	if (qp->rq_head == qp->rq_tail)
		return SX_RESPST_ERR_RNR;
	r = &qp->rq[qp->rq_head & (qp->rq_size - 1)];
	if (rp->flags & SX_OPF_FIRST)
		qp->rcv_off = 0;
	if (pkt->payload_len > r->length - qp->rcv_off)
		return SX_RESPST_ERR_LENGTH;
	sx_sg_copy_in(r->sge_ptr, r->sge_len, r->num_sge, qp->rcv_off, rp->payload,
		      pkt->payload_len);
	qp->rcv_off += pkt->payload_len;
	if (rp->flags & SX_OPF_LAST) {
		complete_recv(qp, qp->rcv_off, false, (rp->flags & SX_OPF_IMMDT) != 0,
			      pkt->immdt, SX_WC_SUCCESS);
		qp->msn = sx_psn_add(qp->msn, 1);
	}
	return SX_RESPST_COMPLETE;
}

/* The first packet of a WRITE: its RETH names the whole target range. */
static enum sx_resp_state
check_rkey_write(struct sx_qp *qp, struct resp_pkt *rp)
{
	const struct sx_pkt *pkt = rp->pkt;

	/* A zero-length WRITE need not name a region: R_Key and VA are not
	 * checked (IBA C9-88; rxe's check_rkey does the same). */
	if (pkt->reth.dma_len != 0 &&
	    sx_mr_resolve(qp->env->mrs, qp->pd, pkt->reth.rkey, pkt->reth.va, pkt->reth.dma_len,
			  SX_ACCESS_REMOTE_WRITE) == NULL)
		return SX_RESPST_ERR_RKEY_VIOLATION;
	qp->wr_va = pkt->reth.va;
	qp->wr_rkey = pkt->reth.rkey;
	qp->wr_left = qp->wr_len = pkt->reth.dma_len;
	return SX_RESPST_EXECUTE_WRITE;
}

static enum sx_resp_state
execute_write(struct sx_qp *qp, struct resp_pkt *rp)
{
	const struct sx_pkt *pkt = rp->pkt;
	uint8_t *dst;

	if (pkt->payload_len > qp->wr_left ||
	    ((rp->flags & SX_OPF_LAST) && pkt->payload_len != qp->wr_left))
		return SX_RESPST_ERR_INVALID_REQ; /* not what the RETH announced */
	if ((rp->flags & SX_OPF_IMMDT) && qp->rq_head == qp->rq_tail)
		return SX_RESPST_ERR_RNR;
	/* Every packet is checked against the region again: it may have been
	 * deregistered since the first one. An empty one touches nothing. */
	if (pkt->payload_len != 0) {
		dst = sx_mr_resolve(qp->env->mrs, qp->pd, qp->wr_rkey, qp->wr_va,
				    pkt->payload_len, SX_ACCESS_REMOTE_WRITE);
		if (dst == NULL)
			return SX_RESPST_ERR_RKEY_VIOLATION;
		if (rp->payload != NULL)
			memcpy(dst, rp->payload, pkt->payload_len);
	}
	qp->wr_va += pkt->payload_len;
	qp->wr_left -= pkt->payload_len;
	if (rp->flags & SX_OPF_LAST) {
		if (rp->flags & SX_OPF_IMMDT)
			complete_recv(qp, qp->wr_len, true, true, pkt->immdt, SX_WC_SUCCESS);
		qp->msn = sx_psn_add(qp->msn, 1);
	}
	return SX_RESPST_COMPLETE;
}

static enum sx_resp_state
execute_read(struct sx_qp *qp, struct resp_pkt *rp)
{
	const struct sx_pkt *pkt = rp->pkt;
	uint32_t npkts;

	/* IBA C9-88: a zero-length READ is not checked either. */
	if (pkt->reth.dma_len != 0 &&
	    sx_mr_resolve(qp->env->mrs, qp->pd, pkt->reth.rkey, pkt->reth.va, pkt->reth.dma_len,
			  SX_ACCESS_REMOTE_READ) == NULL)
		return SX_RESPST_ERR_RKEY_VIOLATION;
	npkts = pkt->reth.dma_len ? (pkt->reth.dma_len + qp->mtu - 1) / qp->mtu : 1;
	qp->msn = sx_psn_add(qp->msn, 1);
	queue_read(qp, pkt->bth.psn, pkt->reth.va, pkt->reth.rkey, pkt->reth.dma_len);
	/* A READ consumes one PSN per response packet (IBA 9.7.1.1). */
	qp->epsn = sx_psn_add(qp->epsn, npkts - 1);
	return SX_RESPST_COMPLETE;
}

static enum sx_resp_state
execute_atomic(struct sx_qp *qp, struct resp_pkt *rp)
{
	const struct sx_pkt *pkt = rp->pkt;
	struct sx_atomic_reply *a;
	uint64_t *p, orig;

	/* IBA 9.4.5: the address must be naturally aligned (8 bytes). */
	if (pkt->atomiceth.va & 7)
		return SX_RESPST_ERR_MISALIGNED_ATOMIC;
	p = (uint64_t *)sx_mr_resolve(qp->env->mrs, qp->pd, pkt->atomiceth.rkey,
				      pkt->atomiceth.va, 8, SX_ACCESS_REMOTE_ATOMIC);
	if (p == NULL)
		return SX_RESPST_ERR_RKEY_VIOLATION;
	/* Atomic with respect to other scalex atomics on this host. */
	if (pkt->bth.opcode == SX_OP_RC_COMPARE_SWAP) {
		/* Swap only if *p equals Compare; either way orig is the value
		 * *p held (IBA 9.4.5). */
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
	return SX_RESPST_COMPLETE;
}

/* The request executed: epsn moves past it and it is acknowledged. */
static enum sx_resp_state
complete(struct sx_qp *qp, struct resp_pkt *rp)
{
	if (qp->rel == SX_REL_SR) {
		/* execute_read() moved epsn over a READ's response PSNs; the
		 * scoreboard moves with it. */
		uint32_t n = sx_psn_fwd(rp->before, qp->epsn) + 1;

		qp->epsn = rp->before;
		sr_advance(qp, n);
		return SX_RESPST_SR_ADVANCE;
	}
	qp->epsn = sx_psn_add(qp->epsn, 1);
	if (rp->pkt->bth.ackreq && !(rp->flags & (SX_OPF_READ | SX_OPF_ATOMIC)))
		queue_ack(qp);
	return SX_RESPST_DONE;
}

/* SR: place one self-describing SEND/WRITE packet wherever it belongs. */
static enum sx_resp_state
sr_place(struct sx_qp *qp, struct resp_pkt *rp)
{
	const struct sx_pkt *pkt = rp->pkt;
	uint32_t flags = rp->flags, off = pkt->xeth.offset, len = pkt->payload_len;
	struct sx_rqe *r = NULL;

	if (!payload_len_ok(qp, pkt) || off % qp->mtu != 0)
		return SX_RESPST_ERR_INVALID_REQ;
	if ((flags & SX_OPF_SEND) || (flags & SX_OPF_IMMDT)) {
		uint32_t slot = pkt->xeth.msg_seq - qp->rq_msg_seq;

		if (slot >= qp->rq_tail - qp->rq_head)
			return SX_RESPST_ERR_RNR;
		r = &qp->rq[(qp->rq_head + slot) & (qp->rq_size - 1)];
	}
	if (flags & SX_OPF_WRITE) {
		uint8_t *base = NULL;

		/* IBA C9-88: a zero-length WRITE is not checked. */
		if (pkt->reth.dma_len != 0) {
			base = sx_mr_resolve(qp->env->mrs, qp->pd, pkt->reth.rkey, pkt->reth.va,
					     pkt->reth.dma_len, SX_ACCESS_REMOTE_WRITE);
			if (base == NULL)
				return SX_RESPST_ERR_RKEY_VIOLATION;
		}
		if (off > pkt->reth.dma_len || len > pkt->reth.dma_len - off ||
		    ((flags & SX_OPF_LAST) && off + len != pkt->reth.dma_len))
			return SX_RESPST_ERR_INVALID_REQ;
		if (len != 0 && rp->payload != NULL)
			memcpy(base + off, rp->payload, len);
	} else {
		if (off > r->length || len > r->length - off)
			return SX_RESPST_ERR_INVALID_REQ;
		sx_sg_copy_in(r->sge_ptr, r->sge_len, r->num_sge, off, rp->payload, len);
	}
	if (r != NULL && (flags & SX_OPF_LAST)) {
		r->sr_last = true;
		r->sr_done_psn = pkt->bth.psn;
		r->sr_len = (flags & SX_OPF_WRITE) ? pkt->reth.dma_len : off + len;
		r->sr_write_imm = (flags & SX_OPF_WRITE) != 0;
		r->sr_has_imm = (flags & SX_OPF_IMMDT) != 0;
		r->sr_imm = pkt->immdt;
	}
	return SX_RESPST_SR_ACCEPT;
}

/*
 * SR: the runs of PSNs received in a row, for SACK ranges (RFC 2018 4: the
 * block holding the latest packet first, then the most recent others). A
 * packet past rcv_high after a gap ends the current run and starts one; a
 * packet that fills a hole below rcv_high changes no run (the requester
 * knows it resent it). O(1). True when the packet made or filled a hole:
 * news the requester should hear at once.
 */
static bool
note_run(struct sx_qp *qp, uint32_t psn)
{
	bool news = psn != qp->rcv_high;

	if (sx_psn_cmp(psn, qp->rcv_high) < 0)
		return true; /* a hole filled */
	if (news) {
		if (qp->rcv_run != qp->rcv_high) {
			struct sx_sack_range *h = &qp->sackr_hist[qp->sackr_next++ % SX_SACKR_MAX];

			h->start = qp->rcv_run;
			h->len = sx_psn_fwd(qp->rcv_run, qp->rcv_high);
		}
		qp->rcv_run = psn;
	}
	qp->rcv_high = sx_psn_add(psn, 1);
	return news;
}

/* SR: the packet is placed; a hole before it is reported at once. */
static enum sx_resp_state
sr_accept(struct sx_qp *qp, struct resp_pkt *rp)
{
	uint32_t psn = rp->pkt->bth.psn;
	bool news;

	sx_ring_set(qp, qp->rcvd, psn);
	news = note_run(qp, psn);
	if (rp->d > 0) {
		/* A long window behind a hole would otherwise draw one ACK per
		 * packet for a round trip: beyond the datacenter default, a
		 * packet that only extends the run waits for its AckReq (every
		 * SX_ACK_REQ_EVERY), as a delayed ACK would. */
		qp->cnt[SX_QPC_OUT_OF_ORDER]++;
		if (news || rp->pkt->bth.ackreq || qp->win_pkts <= SX_DEFAULT_WINDOW_PKTS)
			queue_sack(qp);
		return SX_RESPST_DONE;
	}
	return SX_RESPST_SR_ADVANCE;
}

/* SR: epsn moves over every PSN received in a row. */
static enum sx_resp_state
sr_advance_all(struct sx_qp *qp, struct resp_pkt *rp)
{
	qp->nak_sent = false;
	/* Word-wise: the first PSN not received, O(run / 64). */
	sr_advance(qp, sx_ring_find(qp, qp->rcvd, NULL, qp->epsn,
				    sx_psn_fwd(qp->epsn, qp->rcv_high), false));
	if (rp->pkt->bth.ackreq && (rp->flags & SX_OPF_XETH))
		queue_sack(qp);
	return SX_RESPST_DONE;
}

/* A request whose PSN was seen before: answered, never executed again. */
static enum sx_resp_state
duplicate(struct sx_qp *qp, struct resp_pkt *rp)
{
	const struct sx_pkt *pkt = rp->pkt;
	unsigned int i;

	qp->cnt[SX_QPC_DUPLICATES]++;
	if (rp->flags & SX_OPF_READ) {
		/* READ is idempotent: answer the (possibly partial) request again. */
		if (pkt->reth.dma_len == 0 ||
		    sx_mr_resolve(qp->env->mrs, qp->pd, pkt->reth.rkey, pkt->reth.va,
				  pkt->reth.dma_len, SX_ACCESS_REMOTE_READ) != NULL) {
			struct sx_resp *r = queue_read(qp, pkt->bth.psn, pkt->reth.va,
						       pkt->reth.rkey, pkt->reth.dma_len);

			if (r != NULL)
				r->dup = true;
		}
		return SX_RESPST_DONE;
	}
	if (rp->flags & SX_OPF_ATOMIC) {
		for (i = 0; i < SX_ATOMIC_CACHE; i++) {
			const struct sx_atomic_reply *a = &qp->atomics[i];

			if (a->valid && a->psn == pkt->bth.psn) {
				queue_atomic(qp, a->psn, a->orig);
				return SX_RESPST_DONE;
			}
		}
		return SX_RESPST_DONE; /* too old to answer: the requester moved on */
	}
	if (qp->rel == SX_REL_SR)
		queue_sack(qp);
	else if (pkt->bth.ackreq)
		queue_ack(qp);
	return SX_RESPST_DONE;
}

static enum sx_resp_state
err_wrong_mode(struct sx_qp *qp, struct resp_pkt *rp)
{
	qp->cnt[SX_QPC_WRONG_MODE]++;
	queue_class_c(qp, SX_NAK_INVALID_REQ, rp->pkt->bth.psn);
	return SX_RESPST_DONE;
}

/* Go-back-N: one NAK per gap, until the expected PSN arrives (IBA 9.7.5.2.1). */
static enum sx_resp_state
err_psn_out_of_seq(struct sx_qp *qp, struct resp_pkt *rp)
{
	(void)rp;
	qp->cnt[SX_QPC_OUT_OF_ORDER]++;
	if (!qp->nak_sent)
		queue_nak(qp, SX_AETH_NAK, SX_NAK_PSN_SEQ_ERR, qp->epsn);
	return SX_RESPST_DONE;
}

/* SR: a READ or atomic that overtook a hole is dropped; the SACK shows the
 * hole and the requester resends it. */
static enum sx_resp_state
err_sr_out_of_order(struct sx_qp *qp, struct resp_pkt *rp)
{
	(void)rp;
	qp->cnt[SX_QPC_OUT_OF_ORDER]++;
	queue_sack(qp);
	return SX_RESPST_DONE;
}

static enum sx_resp_state
err_sr_beyond_window(struct sx_qp *qp, struct resp_pkt *rp)
{
	(void)rp;
	qp->cnt[SX_QPC_OUT_OF_ORDER]++;
	return SX_RESPST_DONE;
}

/* Receiver not ready: the requester retries later (IBA 9.7.5.2.8). */
static enum sx_resp_state
err_rnr(struct sx_qp *qp, struct resp_pkt *rp)
{
	queue_nak(qp, SX_AETH_RNR_NAK, SX_RNR_TIMER_CODE, rp->pkt->bth.psn);
	return SX_RESPST_DONE;
}

/* A SEND longer than the receive buffer: the receive completes in error. */
static enum sx_resp_state
err_length(struct sx_qp *qp, struct resp_pkt *rp)
{
	complete_recv(qp, 0, false, false, 0, SX_WC_LOC_LEN_ERR);
	queue_class_c(qp, SX_NAK_INVALID_REQ, rp->pkt->bth.psn);
	return SX_RESPST_DONE;
}

static enum sx_resp_state
err_invalid_req(struct sx_qp *qp, struct resp_pkt *rp)
{
	queue_class_c(qp, SX_NAK_INVALID_REQ, rp->pkt->bth.psn);
	return SX_RESPST_DONE;
}

static enum sx_resp_state
err_rkey_violation(struct sx_qp *qp, struct resp_pkt *rp)
{
	queue_class_c(qp, SX_NAK_REM_ACCESS_ERR, rp->pkt->bth.psn);
	return SX_RESPST_DONE;
}

void
sx_resp_rx(struct sx_qp *qp, const struct sx_pkt *pkt, const uint8_t *payload)
{
	struct resp_pkt rp = {.pkt = pkt, .payload = payload, .flags = pkt->op->flags};
	enum sx_resp_state state = SX_RESPST_CHECK_STATE;

	while (state != SX_RESPST_DONE) {
		qp->resp_state = (uint8_t)state;
		switch (state) {
		case SX_RESPST_CHECK_STATE:
			state = check_state(qp, &rp);
			break;
		case SX_RESPST_CHECK_MODE:
			state = check_mode(qp, &rp);
			break;
		case SX_RESPST_CHECK_PSN:
			state = check_psn(qp, &rp);
			break;
		case SX_RESPST_SR_CHECK_PSN:
			state = sr_check_psn(qp, &rp);
			break;
		case SX_RESPST_CHECK_LENGTH:
			state = check_length(qp, &rp);
			break;
		case SX_RESPST_CHECK_OP:
			state = check_op(qp, &rp);
			break;
		case SX_RESPST_EXECUTE_SEND:
			state = execute_send(qp, &rp);
			break;
		case SX_RESPST_CHECK_RKEY_WRITE:
			state = check_rkey_write(qp, &rp);
			break;
		case SX_RESPST_EXECUTE_WRITE:
			state = execute_write(qp, &rp);
			break;
		case SX_RESPST_EXECUTE_READ:
			state = execute_read(qp, &rp);
			break;
		case SX_RESPST_EXECUTE_ATOMIC:
			state = execute_atomic(qp, &rp);
			break;
		case SX_RESPST_COMPLETE:
			state = complete(qp, &rp);
			break;
		case SX_RESPST_SR_PLACE:
			state = sr_place(qp, &rp);
			break;
		case SX_RESPST_SR_ACCEPT:
			state = sr_accept(qp, &rp);
			break;
		case SX_RESPST_SR_ADVANCE:
			state = sr_advance_all(qp, &rp);
			break;
		case SX_RESPST_DUPLICATE:
			state = duplicate(qp, &rp);
			break;
		case SX_RESPST_ERR_WRONG_MODE:
			state = err_wrong_mode(qp, &rp);
			break;
		case SX_RESPST_ERR_PSN_OUT_OF_SEQ:
			state = err_psn_out_of_seq(qp, &rp);
			break;
		case SX_RESPST_ERR_SR_OUT_OF_ORDER:
			state = err_sr_out_of_order(qp, &rp);
			break;
		case SX_RESPST_ERR_SR_BEYOND_WINDOW:
			state = err_sr_beyond_window(qp, &rp);
			break;
		case SX_RESPST_ERR_RNR:
			state = err_rnr(qp, &rp);
			break;
		case SX_RESPST_ERR_LENGTH:
			state = err_length(qp, &rp);
			break;
		case SX_RESPST_ERR_INVALID_REQ:
		case SX_RESPST_ERR_MISALIGNED_ATOMIC:
			state = err_invalid_req(qp, &rp);
			break;
		case SX_RESPST_ERR_RKEY_VIOLATION:
			state = err_rkey_violation(qp, &rp);
			break;
		default:
			state = SX_RESPST_DONE;
			break;
		}
	}
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

/* Add block [start, end) to @p h if any of it lies beyond the bitmap. */
static void
add_range(struct sx_pkt *h, uint32_t base, uint32_t start, uint32_t end)
{
	uint32_t lo = sx_psn_add(base, SX_SACK_BITS + 1);

	if (sx_psn_cmp(start, lo) < 0)
		start = lo;
	if (sx_psn_cmp(end, start) <= 0 || h->sackr.count >= SX_SACKR_MAX)
		return;
	h->sackr.range[h->sackr.count].start = start;
	h->sackr.range[h->sackr.count].len = sx_psn_fwd(start, end);
	h->sackr.count++;
}

/*
 * SACK ranges, when PSNs beyond the bitmap arrived: the current run, then
 * the runs gaps ended, newest first (they descend: runs start in PSN
 * order). O(SX_SACKR_MAX); no scan of the scoreboard.
 */
static void
fill_ranges(struct sx_qp *qp, struct sx_pkt *h, uint32_t base)
{
	uint32_t k;

	h->sackr.count = 0;
	if (sx_psn_fwd(base, qp->rcv_high) <= SX_SACK_BITS + 1 ||
	    sx_psn_cmp(qp->rcv_high, base) <= 0)
		return;
	add_range(h, base, qp->rcv_run, qp->rcv_high);
	for (k = 1; k <= SX_SACKR_MAX && k <= qp->sackr_next; k++) {
		const struct sx_sack_range *r = &qp->sackr_hist[(qp->sackr_next - k) % SX_SACKR_MAX];

		if (sx_psn_cmp(sx_psn_add(r->start, r->len), qp->epsn) <= 0)
			break; /* below epsn now, and the older ones too */
		add_range(h, base, r->start, sx_psn_add(r->start, r->len));
	}
	if (h->sackr.count != 0) {
		h->bth.opcode = SX_OP_SR_ACK_RANGES;
		qp->cnt[SX_QPC_SACKR_SENT]++;
	}
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
			got = sx_psn_fwd(qp->epsn, p) < qp->win_pkts &&
			      sx_ring_test(qp, qp->rcvd, p);
		if (got)
			h->sack.bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	fill_ranges(qp, h, base);
}

bool
sx_resp_tx(struct sx_qp *qp, struct sx_txd *txd, bool data)
{
	struct sx_pkt *h = &txd->hdr;
	const uint8_t *src;
	struct sx_resp *r;
	uint32_t npkts, idx, len;

again:
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
		if (r->fatal)
			sx_qp_error(qp); /* class C: the NAK is out */
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
	src = len == 0 ? NULL
		       : sx_mr_resolve(qp->env->mrs, qp->pd, r->rkey, r->va + r->sent, len,
				       SX_ACCESS_REMOTE_READ);
	if (src == NULL && len != 0 && r->dup) {
		/* The answer to a repeated READ, whose region went away since:
		 * the first answer already served the requester, or it asks
		 * again and duplicate() refuses. Dropped, as rxe drops a
		 * duplicate whose resources are gone (class D, IBA 9.9.3.1.4);
		 * a NAK here would end a QP that did nothing wrong. */
		r->dead = true;
		qp->rq_rhead++;
		goto again;
	}
	if (src == NULL && len != 0) {
		/* The region went away mid-stream: end it with a NAK in place
		 * of the packet (IBA 9.7.5.2.4 remote access error). */
		h->bth.opcode = SX_OP_RC_ACK;
		h->aeth.syndrome = sx_aeth_syndrome(SX_AETH_NAK, SX_NAK_REM_ACCESS_ERR);
		h->payload_len = 0;
		r->dead = true;
		qp->rq_rhead++;
		qp->cnt[SX_QPC_NAK_ACCESS_SENT]++;
		/* Class C (IBA 9.9.3.1.3): the responder QP goes to error. */
		sx_qp_error(qp);
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
