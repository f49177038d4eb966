/* SPDX-License-Identifier: BSD-3-Clause */
/* QP life cycle, posting work, flushing, and the engine's entry points. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qp.h"

static const char *const counter_names[SX_QPC_MAX] = {
	[SX_QPC_TX_PKTS] = "tx_pkts",
	[SX_QPC_TX_BYTES] = "tx_bytes",
	[SX_QPC_RX_PKTS] = "rx_pkts",
	[SX_QPC_RX_BYTES] = "rx_bytes",
	[SX_QPC_RETRANSMITS] = "retransmits",
	[SX_QPC_TIMEOUTS] = "timeouts",
	[SX_QPC_NAK_SEQ_SENT] = "nak_seq_sent",
	[SX_QPC_NAK_SEQ_RCVD] = "nak_seq_rcvd",
	[SX_QPC_NAK_RNR_SENT] = "nak_rnr_sent",
	[SX_QPC_NAK_RNR_RCVD] = "nak_rnr_rcvd",
	[SX_QPC_NAK_ACCESS_SENT] = "nak_access_sent",
	[SX_QPC_NAK_ACCESS_RCVD] = "nak_access_rcvd",
	[SX_QPC_NAK_INVALID_SENT] = "nak_invalid_sent",
	[SX_QPC_NAK_INVALID_RCVD] = "nak_invalid_rcvd",
	[SX_QPC_DUPLICATES] = "duplicates",
	[SX_QPC_OUT_OF_ORDER] = "out_of_order",
	[SX_QPC_ACKS_SENT] = "acks_sent",
	[SX_QPC_ACKS_RCVD] = "acks_rcvd",
	[SX_QPC_STALE_RESPONSES] = "stale_responses",
	[SX_QPC_DROP_STATE] = "drop_qp_state",
	[SX_QPC_WRONG_MODE] = "wrong_mode",
	[SX_QPC_ECN_CE_RCVD] = "ecn_ce_rcvd",
	[SX_QPC_CNP_SENT] = "cnp_sent",
	[SX_QPC_CNP_RCVD] = "cnp_rcvd",
	[SX_QPC_SPURIOUS_RETX] = "spurious_retransmits",
	[SX_QPC_ECE_SENT] = "ece_sent",
	[SX_QPC_RACK_LOST] = "rack_lost",
	[SX_QPC_TLP_PROBES] = "tlp_probes",
	[SX_QPC_SACKR_SENT] = "sack_ranges_sent",
	[SX_QPC_INT_EMPTY] = "int_empty",
};

const char *
sx_qp_counter_name(enum sx_qp_counter c)
{
	return (unsigned int)c < SX_QPC_MAX ? counter_names[c] : "invalid";
}

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t s = 1;

	while (s < n)
		s <<= 1;
	return s;
}

static bool
mtu_valid(uint32_t mtu)
{
	return mtu == 256 || mtu == 512 || mtu == 1024 || mtu == 2048 || mtu == 4096;
}

int
sx_qp_init(struct sx_qp *qp, struct sx_qp_env *env, struct sx_pd *pd, uint32_t qpn,
	   const struct sx_qp_init_attr *attr, uint32_t default_mtu, uint32_t start_psn)
{
	uint32_t mtu = attr->mtu ? attr->mtu : default_mtu;
	uint64_t budget;

	if (attr->send_cq == NULL || attr->recv_cq == NULL || !mtu_valid(mtu) ||
	    attr->max_send_wr == 0 || attr->max_send_wr > (1u << 16) ||
	    attr->max_recv_wr > (1u << 16) || attr->retry_cnt > 7 || attr->rnr_retry > 7 ||
	    attr->min_rto_us > SX_MAX_TIMEOUT_NS / 1000 ||
	    attr->max_inflight_pkts > SX_MAX_WINDOW_PKTS ||
	    (attr->reliability != SX_REL_GBN && attr->reliability != SX_REL_SR))
		return -EINVAL;
	memset(qp, 0, sizeof(*qp));
	qp->env = env;
	qp->pd = pd;
	qp->qpn = qpn;
	qp->state = SX_QPS_RESET;
	qp->rel = attr->reliability;
	qp->mtu = mtu;
	qp->scq = attr->send_cq;
	qp->rcq = attr->recv_cq;
	qp->retry_cnt = attr->retry_cnt;
	qp->rnr_retry = attr->rnr_retry;
	qp->max_rd = attr->max_rd_atomic ? attr->max_rd_atomic : SX_DEFAULT_MAX_RD;
	qp->timeout_ns = attr->timeout_us ? (uint64_t)attr->timeout_us * 1000
					  : SX_DEFAULT_TIMEOUT_NS;
	qp->min_rto_ns = attr->min_rto_us ? (uint64_t)attr->min_rto_us * 1000 : qp->timeout_ns;
	qp->sq_size = pow2_at_least(attr->max_send_wr);
	qp->rq_size = pow2_at_least(attr->max_recv_wr ? attr->max_recv_wr : 1);
	qp->win_pkts = pow2_at_least(attr->max_inflight_pkts ? attr->max_inflight_pkts
							       : SX_DEFAULT_WINDOW_PKTS);
	if (qp->win_pkts < 64)
		qp->win_pkts = 64; /* one bitmap word */
	qp->pathp = env->path != NULL ? env->path : sx_path_params_default();
	/* The window's memory comes from the context's budget, up front: a
	 * QP that could not hold its window later must not start. */
	qp->win_bytes = sx_qp_window_bytes(qp->win_pkts, qp->pathp->ops->reorders);
	budget = env->window_budget_bytes ? env->window_budget_bytes
					  : SX_DEFAULT_WINDOW_BUDGET_BYTES;
	if (env->window_used_bytes + qp->win_bytes > budget) {
		qp->win_bytes = 0;
		return -ENOBUFS;
	}
	env->window_used_bytes += qp->win_bytes;
	qp->sq = calloc(qp->sq_size, sizeof(*qp->sq));
	qp->rq = calloc(qp->rq_size, sizeof(*qp->rq));
	qp->sacked = calloc(qp->win_pkts / 64, sizeof(uint64_t));
	qp->resent = calloc(qp->win_pkts / 64, sizeof(uint64_t));
	qp->rcvd = calloc(qp->win_pkts / 64, sizeof(uint64_t));
	if (qp->sq == NULL || qp->rq == NULL || qp->sacked == NULL || qp->resent == NULL ||
	    qp->rcvd == NULL) {
		sx_qp_fini(qp);
		return -ENOMEM;
	}
	start_psn &= SX_PSN_MASK;
	qp->sq_psn = qp->snd_nxt = qp->snd_una = qp->snd_max = start_psn;
	qp->last_ackreq = start_psn;
	qp->sr_high = qp->sr_scan = start_psn;
	qp->cc_timer_ns = SX_CC_NO_TIMER;
	/* A policy that sprays needs a receiver that places out of order. */
	if (qp->pathp->ops->reorders && qp->rel != SX_REL_SR) {
		sx_qp_fini(qp);
		return -EINVAL;
	}
	sx_path_init(&qp->path, qp->pathp, sx_path_base(qpn));
	/* ... and a loss detector that reordering does not fool. */
	if (qp->pathp->ops->reorders && sx_rack_init(qp) < 0) {
		sx_qp_fini(qp);
		return -ENOMEM;
	}
	return 0;
}

void
sx_qp_fini(struct sx_qp *qp)
{
	free(qp->sq);
	free(qp->rq);
	free(qp->sacked);
	free(qp->resent);
	free(qp->rcvd);
	qp->sq = NULL;
	qp->rq = NULL;
	qp->sacked = qp->resent = qp->rcvd = NULL;
	sx_rack_fini(qp);
	qp->env->window_used_bytes -= qp->win_bytes;
	qp->win_bytes = 0;
}

int
sx_qp_do_connect(struct sx_qp *qp, const struct sx_qp_endpoint *remote)
{
	if (qp->state != SX_QPS_RESET)
		return -EBUSY;
	if (remote->qpn > SX_QPN_MASK || remote->psn > SX_PSN_MASK ||
	    (remote->ip_version != 4 && remote->ip_version != 6))
		return -EINVAL;
	qp->remote = *remote;
	qp->epsn = remote->psn;
	qp->rcv_high = qp->rcv_run = remote->psn;
	qp->retries_left = qp->retry_cnt;
	qp->rnr_left = qp->rnr_retry;
	qp->rto_ns = sx_rtt_rto(qp);
	qp->state = SX_QPS_RTS;
	return 0;
}

/* Resolve a scatter list against the QP's PD: 0, -EINVAL or -EACCES. */
static int
resolve_sgl(struct sx_qp *qp, const struct sx_sge *sg, int n, unsigned int access,
	    uint8_t **ptr, uint32_t *lens, uint32_t *total)
{
	uint64_t sum = 0;
	int i;

	if (n < 0 || n > SX_MAX_SGE || (n > 0 && sg == NULL))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		ptr[i] = sx_mr_resolve(qp->env->mrs, qp->pd, sg[i].lkey, sg[i].addr,
				       sg[i].length, access);
		if (ptr[i] == NULL)
			return -EACCES;
		lens[i] = sg[i].length;
		sum += sg[i].length;
	}
	if (sum > (1ull << 31))
		return -EINVAL;
	*total = (uint32_t)sum;
	return 0;
}

static int
post_one_send(struct sx_qp *qp, const struct sx_send_wr *wr)
{
	struct sx_wqe *w;
	unsigned int access = 0;
	int rc;

	if (qp->sq_tail - qp->sq_head == qp->sq_size)
		return -ENOMEM;
	w = sx_sq_at(qp, qp->sq_tail);
	memset(w, 0, sizeof(*w));
	switch (wr->opcode) {
	case SX_WR_SEND:
	case SX_WR_SEND_WITH_IMM:
	case SX_WR_RDMA_WRITE:
	case SX_WR_RDMA_WRITE_WITH_IMM:
		break;
	case SX_WR_RDMA_READ:
		access = SX_ACCESS_LOCAL_WRITE;
		break;
	case SX_WR_ATOMIC_CMP_AND_SWP:
	case SX_WR_ATOMIC_FETCH_AND_ADD:
		access = SX_ACCESS_LOCAL_WRITE;
		break;
	default:
		return -EINVAL;
	}
	rc = resolve_sgl(qp, wr->sg_list, wr->num_sge, access, w->sge_ptr, w->sge_len,
			 &w->length);
	if (rc < 0)
		return rc;
	w->wr_id = wr->wr_id;
	w->opcode = (uint8_t)wr->opcode;
	w->flags = (uint8_t)wr->send_flags;
	w->num_sge = (uint8_t)wr->num_sge;
	w->imm = wr->imm_data;
	if (sx_wqe_is_rd_atomic(w) && wr->opcode != SX_WR_RDMA_READ) {
		/* IBA 9.4.5: 8 bytes, naturally aligned remote address. */
		if (w->length != 8 || (wr->wr.atomic.remote_addr & 7) != 0)
			return -EINVAL;
		w->remote_addr = wr->wr.atomic.remote_addr;
		w->rkey = wr->wr.atomic.rkey;
		w->compare_add = wr->wr.atomic.compare_add;
		w->swap = wr->wr.atomic.swap;
		w->npkts = 1;
	} else {
		w->remote_addr = wr->wr.rdma.remote_addr;
		w->rkey = wr->wr.rdma.rkey;
		w->npkts = w->length ? (w->length + qp->mtu - 1) / qp->mtu : 1;
	}
	/* Keep every message well inside half the PSN space. */
	if (w->npkts > SX_PSN_HALF / 4)
		return -EINVAL;
	w->first_psn = qp->sq_psn;
	w->psn_seq = qp->sq_psn_seq;
	qp->sq_psn_seq += w->npkts;
	qp->sq_psn = sx_psn_add(qp->sq_psn, w->npkts);
	if (w->opcode == SX_WR_SEND || w->opcode == SX_WR_SEND_WITH_IMM ||
	    w->opcode == SX_WR_RDMA_WRITE_WITH_IMM)
		w->msg_seq = qp->sq_msg_seq++;
	qp->sq_tail++;
	return 0;
}

int
sx_qp_post_send(struct sx_qp *qp, struct sx_send_wr *wr, struct sx_send_wr **bad)
{
	int rc = 0;

	if (qp->state != SX_QPS_RTS)
		rc = -EINVAL;
	for (; rc == 0 && wr != NULL; wr = wr->next) {
		rc = post_one_send(qp, wr);
		if (rc < 0)
			break;
	}
	if (rc < 0 && bad != NULL)
		*bad = wr;
	return rc;
}

int
sx_qp_post_recv(struct sx_qp *qp, struct sx_recv_wr *wr, struct sx_recv_wr **bad)
{
	int rc = 0;

	if (qp->state == SX_QPS_ERROR)
		rc = -EINVAL;
	for (; rc == 0 && wr != NULL; wr = wr->next) {
		struct sx_rqe *r;

		if (qp->rq_tail - qp->rq_head == qp->rq_size) {
			rc = -ENOMEM;
			break;
		}
		r = &qp->rq[qp->rq_tail & (qp->rq_size - 1)];
		rc = resolve_sgl(qp, wr->sg_list, wr->num_sge, SX_ACCESS_LOCAL_WRITE, r->sge_ptr,
				 r->sge_len, &r->length);
		if (rc < 0)
			break;
		r->wr_id = wr->wr_id;
		r->num_sge = (uint8_t)wr->num_sge;
		qp->rq_tail++;
	}
	if (rc < 0 && bad != NULL)
		*bad = wr;
	return rc;
}

uint32_t
sx_sq_find(const struct sx_qp *qp, uint32_t psn)
{
	const struct sx_wqe *head;
	uint32_t lo = qp->sq_head, n = qp->sq_tail - qp->sq_head;
	uint64_t target;

	if (n == 0)
		return qp->sq_tail;
	head = sx_sq_at(qp, lo);
	if (sx_psn_cmp(psn, head->first_psn) < 0)
		return lo;
	target = head->psn_seq + sx_psn_fwd(head->first_psn, psn);
	/* lower bound: the first WQE whose last PSN is at or after target */
	while (n > 0) {
		uint32_t half = n / 2;
		const struct sx_wqe *w = sx_sq_at(qp, lo + half);

		if (w->psn_seq + w->npkts <= target) {
			lo += half + 1;
			n -= half + 1;
		} else {
			n = half;
		}
	}
	return lo;
}

void
sx_qp_error(struct sx_qp *qp)
{
	struct sx_wc wc;

	if (qp->state == SX_QPS_ERROR)
		return;
	qp->state = SX_QPS_ERROR;
	qp->rto_deadline = 0;
	/* IBA 10.3.1: in the error state every outstanding WR completes with a
	 * flush error, signaled or not. */
	while (qp->sq_head != qp->sq_tail) {
		struct sx_wqe *w = sx_sq_at(qp, qp->sq_head);

		if (!w->done)
			sx_comp_wqe(qp, w, SX_WC_WR_FLUSH_ERR, 0);
		qp->sq_head++;
	}
	qp->sq_cur = qp->sq_tail;
	while (qp->rq_head != qp->rq_tail) {
		struct sx_rqe *r = &qp->rq[qp->rq_head++ & (qp->rq_size - 1)];

		memset(&wc, 0, sizeof(wc));
		wc.wr_id = r->wr_id;
		wc.status = SX_WC_WR_FLUSH_ERR;
		wc.opcode = SX_WC_RECV;
		wc.qp_num = qp->qpn;
		sx_cq_push(qp->rcq, &wc);
	}
	qp->rq_rhead = qp->rq_rtail;
}

/* PSNs a request packet stands for: a READ one per response packet. */
static uint32_t
rack_psns(const struct sx_qp *qp, const struct sx_pkt *h)
{
	if (h->bth.opcode != SX_OP_RC_READ_REQUEST || h->reth.dma_len == 0)
		return 1;
	return (h->reth.dma_len + qp->mtu - 1) / qp->mtu;
}

/* SR responder: remember a CE-marked request's entropy for the next ACK. */
static void
path_echo_note(struct sx_qp *qp, const struct sx_pkt *pkt)
{
	if (qp->rel != SX_REL_SR || (pkt->tos & 3) != SX_ECN_CE)
		return;
	qp->ece_entropy = pkt->udp_sport;
	if (qp->ece_count < UINT16_MAX)
		qp->ece_count++;
}

/* An SR ACK on its way out says whether a duplicate arrived, and carries
 * the echo if there is one (SX_SR_ACK_ECE). */
static void
path_echo_fill(struct sx_qp *qp, struct sx_pkt *h)
{
	if (h->bth.opcode != SX_OP_SR_ACK && h->bth.opcode != SX_OP_SR_ACK_RANGES)
		return;
	if (qp->dsack_pending) {
		h->sack.flags |= SX_SACK_F_DUPLICATE;
		qp->dsack_pending = false;
	}
	if (qp->ece_count == 0)
		return;
	h->bth.opcode = h->bth.opcode == SX_OP_SR_ACK ? SX_OP_SR_ACK_ECE
						     : SX_OP_SR_ACK_ECE_RANGES;
	h->ece.entropy = qp->ece_entropy;
	h->ece.count = qp->ece_count;
	qp->ece_count = 0;
	qp->cnt[SX_QPC_ECE_SENT]++;
}

/*
 * INT (docs/wire.md, "INT"): a responder keeps the records of the latest
 * stamped request for its next ACK; a requester hands an echo to its CC.
 */
static void
int_echo_note(struct sx_qp *qp, const struct sx_pkt *pkt)
{
	if (qp->rel != SX_REL_SR || pkt->intx.slots == 0 || (pkt->intx.flags & SX_INT_F_ECHO))
		return;
	qp->int_echo = pkt->intx;
	qp->int_echo.flags = SX_INT_F_ECHO;
	qp->int_echo.slots = pkt->intx.nhops > 0 ? pkt->intx.nhops : 1;
}

/* The echo's records for the CC; false if there is none to give. */
static bool
int_echo_take(struct sx_qp *qp, const struct sx_pkt *pkt, struct sx_cc_int *ci)
{
	struct sx_int_hop h;

	if (pkt->intx.slots == 0 || !(pkt->intx.flags & SX_INT_F_ECHO) || qp->ccp == NULL ||
	    qp->ccp->ops->on_int == NULL)
		return false;
	ci->nhops = 0;
	for (unsigned int i = 0; i < pkt->intx.nhops && i < SX_CC_INT_MAX_HOPS; i++) {
		if (sx_int_decode(pkt->intx.rec[i], &h) != 0)
			return false; /* the parser admits only known rate codes */
		ci->hop[i].rate_bps = h.rate_bps;
		ci->hop[i].ts_ns = h.ts_ns;
		ci->hop[i].tx_bytes = h.tx_bytes;
		ci->hop[i].qlen_bytes = h.qlen_bytes;
		ci->nhops = i + 1;
	}
	if (ci->nhops == 0)
		qp->cnt[SX_QPC_INT_EMPTY]++;
	return true;
}

void
sx_qp_rx(struct sx_qp *qp, const struct sx_pkt *pkt, const uint8_t *payload, uint64_t now_ns)
{
	if (qp->state != SX_QPS_RTS) {
		qp->cnt[SX_QPC_DROP_STATE]++;
		return;
	}
	qp->cnt[SX_QPC_RX_PKTS]++;
	qp->cnt[SX_QPC_RX_BYTES] += pkt->payload_len;
	if (pkt->op->flags & SX_OPF_REQUEST) {
		uint64_t dups = qp->cnt[SX_QPC_DUPLICATES];

		path_echo_note(qp, pkt);
		int_echo_note(qp, pkt);
		sx_resp_rx(qp, pkt, payload);
		if (qp->rel == SX_REL_SR && qp->cnt[SX_QPC_DUPLICATES] != dups)
			qp->dsack_pending = true;
	} else {
		struct sx_cc_int ci;
		bool has_int = int_echo_take(qp, pkt, &ci);

		/* sx_cc_ack() hands the echo to on_int with the bytes this ACK
		 * acknowledges; an ACK of nothing new still delivers it. */
		qp->cc_int = has_int ? &ci : NULL;
		if (qp->rack != NULL && (pkt->op->flags & SX_OPF_SACK))
			sx_rack_on_sack(qp, pkt, now_ns);
		sx_comp_rx(qp, pkt, payload, now_ns);
		if (qp->cc_int != NULL && qp->ccp != NULL) {
			qp->ccp->ops->on_int(&qp->cc, qp->ccp->v, qp->cc_int, 0, now_ns);
			sx_cc_taken(qp, SX_CC_EV_ACK, now_ns);
		}
		qp->cc_int = NULL;
	}
}

bool
sx_qp_tx(struct sx_qp *qp, uint64_t now_ns, struct sx_txd *txd, bool data)
{
	bool got;

	if (qp->state != SX_QPS_RTS)
		return false;
	memset(&txd->hdr.bth, 0, sizeof(txd->hdr.bth));
	txd->hdr.intx.slots = 0;
	txd->hdr.payload_len = 0;
	txd->nseg = 0;
	if (qp->cnp_pending) {
		/* CNP: BTH with BECN set, to the QP that sent the marked
		 * packet (RoCEv2 annex A17.9.2). */
		qp->cnp_pending = false;
		txd->hdr.bth.opcode = SX_OP_CNP;
		txd->hdr.bth.becn = true;
		qp->cnt[SX_QPC_CNP_SENT]++;
		got = true;
		txd->hdr.udp_sport = qp->path.base;
	} else if (sx_resp_tx(qp, txd, data)) {
		/* Responses first: they unblock the peer's window. They take
		 * the QP's own entropy: the path policy steers requests. */
		txd->hdr.udp_sport = qp->path.base;
		path_echo_fill(qp, &txd->hdr);
		/* READ responses stay on one path: their receiver places
		 * them in order. ACKs of a sprayed QP spread. */
		if (txd->hdr.bth.opcode == SX_OP_SR_ACK || txd->hdr.bth.opcode == SX_OP_SR_ACK_ECE ||
		    txd->hdr.bth.opcode == SX_OP_SR_ACK_RANGES ||
		    txd->hdr.bth.opcode == SX_OP_SR_ACK_ECE_RANGES)
			txd->hdr.udp_sport = sx_path_ack_entropy(&qp->path, qp->pathp);
		/* An SR ACK echoes the INT records of the latest stamped request. */
		if (qp->int_echo.slots != 0 && txd->hdr.bth.opcode >= SX_OP_SR_ACK &&
		    (txd->hdr.bth.opcode & 0xf8) == SX_OP_SR_ACK)
			txd->hdr.intx = qp->int_echo;
		got = true;
	} else {
		got = data && sx_req_tx(qp, now_ns, txd);
		if (got) {
			/* Every request of an INT QP reserves the slots switches stamp. */
			if (qp->int_want) {
				txd->hdr.intx.slots = SX_INT_MAX_HOPS;
				txd->hdr.intx.nhops = 0;
				txd->hdr.intx.flags = 0;
			}
			txd->hdr.udp_sport = sx_path_next(&qp->path, qp->pathp, now_ns);
			if (qp->rack != NULL)
				sx_rack_sent(qp, txd->hdr.bth.psn, rack_psns(qp, &txd->hdr),
					     txd->hdr.udp_sport, now_ns);
		}
	}
	if (got) {
		txd->hdr.bth.dqpn = qp->remote.qpn;
		txd->hdr.bth.pkey = SX_PKEY_DEFAULT;
		qp->cnt[SX_QPC_TX_PKTS]++;
		qp->cnt[SX_QPC_TX_BYTES] += txd->hdr.payload_len;
		if (txd->hdr.payload_len != 0 && qp->ccp != NULL &&
		    qp->ccp->ops->on_send != NULL) {
			qp->ccp->ops->on_send(&qp->cc, qp->ccp->v, txd->hdr.payload_len, now_ns);
			sx_cc_taken(qp, SX_CC_EV_MAX, now_ns);
		}
	}
	return got;
}

uint64_t
sx_qp_deadline(const struct sx_qp *qp)
{
	uint64_t d = UINT64_MAX;

	if (qp->state != SX_QPS_RTS)
		return d;
	if (qp->cc_timer_ns != SX_CC_NO_TIMER)
		d = qp->cc_timer_ns;
	if (qp->rto_deadline != 0 && qp->rto_deadline < d)
		d = qp->rto_deadline;
	if (qp->rnr_until != 0 && qp->rnr_until < d)
		d = qp->rnr_until;
	if (qp->tlp_deadline != 0 && qp->tlp_deadline < d)
		d = qp->tlp_deadline;
	if (qp->rack != NULL && sx_rack_deadline(qp) != 0 && sx_rack_deadline(qp) < d)
		d = sx_rack_deadline(qp);
	return d;
}

void
sx_qp_timer(struct sx_qp *qp, uint64_t now_ns)
{
	if (qp->state != SX_QPS_RTS)
		return;
	if (qp->rnr_until != 0 && now_ns >= qp->rnr_until)
		qp->rnr_until = 0;
	if (qp->cc_timer_ns != SX_CC_NO_TIMER && now_ns >= qp->cc_timer_ns) {
		qp->ccp->ops->on_timer(&qp->cc, qp->ccp->v, now_ns);
		sx_cc_taken(qp, SX_CC_EV_TIMER, now_ns);
	}
	if (qp->rack != NULL)
		sx_rack_timer(qp, now_ns);
	if (qp->tlp_deadline != 0 && now_ns >= qp->tlp_deadline) {
		qp->tlp_deadline = 0;
		if (sx_psn_cmp(qp->snd_una, qp->snd_max) < 0) {
			qp->tlp_due = true;
			qp->tlp_out = true;
		}
	}
	if (qp->rto_deadline != 0 && now_ns >= qp->rto_deadline) {
		/* The path of the oldest packet hears of the timeout first. */
		if (qp->rack != NULL && sx_psn_cmp(qp->snd_una, qp->snd_max) < 0)
			sx_rack_timeout(qp, now_ns);
		sx_comp_timer(qp, now_ns);
	}
}

void
sx_cc_taken(struct sx_qp *qp, enum sx_cc_event ev, uint64_t now_ns)
{
	const struct sx_cc_ops *ops = qp->ccp->ops;

	qp->rate_bps = qp->cc.rate_bps;
	qp->cc_timer_ns = ops->on_timer != NULL && ops->next_timer != NULL
				  ? ops->next_timer(&qp->cc, qp->ccp->v)
				  : SX_CC_NO_TIMER;
	if (ev != SX_CC_EV_MAX && qp->env->cc_trace != NULL)
		qp->env->cc_trace(qp->env->cc_trace_arg, qp, ev, now_ns);
}

void
sx_qp_set_cc(struct sx_qp *qp, const struct sx_cc_params *ccp, uint64_t line_rate_bps,
	     uint64_t now_ns)
{
	qp->ccp = ccp;
	qp->int_want = ccp != NULL && ccp->ops->on_int != NULL && qp->rel == SX_REL_SR;
	if (ccp == NULL) {
		qp->rate_bps = 0;
		qp->cc_timer_ns = SX_CC_NO_TIMER;
		return;
	}
	memset(&qp->cc, 0, sizeof(qp->cc));
	ccp->ops->init(&qp->cc, ccp->v, line_rate_bps, now_ns);
	sx_cc_taken(qp, SX_CC_EV_INIT, now_ns);
}

void
sx_qp_on_ecn(struct sx_qp *qp, uint64_t now_ns)
{
	qp->cnt[SX_QPC_ECN_CE_RCVD]++;
	if (qp->state != SX_QPS_RTS)
		return;
	if (qp->cnt[SX_QPC_CNP_SENT] != 0 && now_ns - qp->last_cnp_ns < qp->env->cnp_gap_ns)
		return;
	qp->last_cnp_ns = now_ns;
	qp->cnp_pending = true;
}

void
sx_qp_on_cnp(struct sx_qp *qp, uint64_t now_ns)
{
	qp->cnt[SX_QPC_CNP_RCVD]++;
	if (qp->ccp == NULL || qp->ccp->ops->on_cnp == NULL)
		return;
	qp->ccp->ops->on_cnp(&qp->cc, qp->ccp->v, now_ns);
	sx_cc_taken(qp, SX_CC_EV_CNP, now_ns);
}

void
sx_cc_ack(struct sx_qp *qp, uint32_t acked_bytes, uint64_t rtt_ns, uint64_t now_ns)
{
	if (qp->ccp != NULL && qp->cc_int != NULL) {
		qp->ccp->ops->on_int(&qp->cc, qp->ccp->v, qp->cc_int, acked_bytes, now_ns);
		qp->cc_int = NULL; /* delivered once */
		sx_cc_taken(qp, SX_CC_EV_ACK, now_ns);
		return;
	}
	if (qp->ccp == NULL || qp->ccp->ops->on_ack == NULL)
		return;
	qp->ccp->ops->on_ack(&qp->cc, qp->ccp->v, acked_bytes, rtt_ns, now_ns);
	sx_cc_taken(qp, SX_CC_EV_ACK, now_ns);
}

void
sx_cc_loss(struct sx_qp *qp, uint64_t now_ns)
{
	if (qp->ccp == NULL || qp->ccp->ops->on_loss == NULL)
		return;
	qp->ccp->ops->on_loss(&qp->cc, qp->ccp->v, now_ns);
	sx_cc_taken(qp, SX_CC_EV_LOSS, now_ns);
}

void
sx_cc_timeout(struct sx_qp *qp, uint64_t now_ns)
{
	if (qp->ccp == NULL || qp->ccp->ops->on_timeout == NULL)
		return;
	qp->ccp->ops->on_timeout(&qp->cc, qp->ccp->v, now_ns);
	sx_cc_taken(qp, SX_CC_EV_TIMEOUT, now_ns);
}

uint64_t
sx_qp_window_bytes(uint32_t win_pkts, bool rack)
{
	/* sacked + resent + rcvd rings; rack.c's per-PSN stamp and entropy */
	return 3ull * win_pkts / 8 + (rack ? 6ull * win_pkts : 0);
}

void
sx_ring_fill(const struct sx_qp *qp, uint64_t *m, uint32_t psn, uint32_t n, bool val)
{
	uint32_t mask = qp->win_pkts - 1, i = psn & mask;

	if (n >= qp->win_pkts) {
		memset(m, val ? 0xff : 0, qp->win_pkts / 8);
		return;
	}
	while (n > 0) {
		uint32_t b = i % 64, k = 64 - b < n ? 64 - b : n;
		uint64_t bits = (k == 64 ? ~0ull : ((1ull << k) - 1)) << b;

		if (val)
			m[i / 64] |= bits;
		else
			m[i / 64] &= ~bits;
		n -= k;
		i = (i + k) & mask;
	}
}

void
sx_ring_clear(const struct sx_qp *qp, uint64_t *m)
{
	memset(m, 0, qp->win_pkts / 8);
}

uint32_t
sx_ring_find(const struct sx_qp *qp, const uint64_t *a, const uint64_t *b, uint32_t psn,
	     uint32_t n, bool want_set)
{
	uint32_t mask = qp->win_pkts - 1, i = psn & mask, done = 0;

	if (n > qp->win_pkts)
		n = qp->win_pkts;
	while (done < n) {
		uint32_t bit = i % 64, k = 64 - bit < n - done ? 64 - bit : n - done;
		uint64_t w = want_set ? a[i / 64] : ~(a[i / 64] | (b ? b[i / 64] : 0));

		w >>= bit;
		if (k < 64)
			w &= (1ull << k) - 1;
		if (w != 0)
			return done + (uint32_t)__builtin_ctzll(w);
		done += k;
		i = (i + k) & mask;
	}
	return n;
}

void
sx_sg_copy_in(uint8_t *const *ptr, const uint32_t *lens, unsigned int n, uint32_t off,
	      const uint8_t *src, uint32_t len)
{
	unsigned int i;

	if (src == NULL)
		return; /* payload elided (simulator): placement was checked */
	for (i = 0; i < n && len > 0; i++) {
		uint32_t chunk;

		if (off >= lens[i]) {
			off -= lens[i];
			continue;
		}
		chunk = lens[i] - off < len ? lens[i] - off : len;
		memcpy(ptr[i] + off, src, chunk);
		src += chunk;
		len -= chunk;
		off = 0;
	}
}
