/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static const char *const drop_names[SX_EDROP_MAX - SX_WIRE_RC_MAX] = {
	[SX_EDROP_UNKNOWN_QP - SX_WIRE_RC_MAX] = "unknown_qp",
	[SX_EDROP_BAD_SOURCE - SX_WIRE_RC_MAX] = "bad_source",
	[SX_EDROP_NOT_FOR_US - SX_WIRE_RC_MAX] = "other_dst",
};

const char *
sx_engine_drop_name(unsigned int reason)
{
	if (reason < SX_WIRE_RC_MAX)
		return sx_wire_rc_name((enum sx_wire_rc)reason);
	if (reason < SX_EDROP_MAX)
		return drop_names[reason - SX_WIRE_RC_MAX];
	return "invalid";
}

/* Pacing granularity: 100 ns slots, a 409.6 us horizon. */
#define PACE_GRAN_NS 100

int
sx_engine_init(struct sx_engine *e, struct sx_port *port, uint32_t max_qps, uint64_t now_ns)
{
	int rc;

	memset(e, 0, sizeof(*e));
	e->port = port;
	e->max_qps = max_qps;
	e->qps = calloc(max_qps, sizeof(*e->qps));
	e->eqp = calloc(max_qps, sizeof(*e->eqp));
	sx_wheel_init(&e->pacer, PACE_GRAN_NS, now_ns);
	e->timer_ns = UINT64_MAX;
	e->pace_burst_bytes = SX_PACE_BURST_BYTES;
	/* A quantum of the largest frame: one frame per turn at MTU, byte
	 * fairness between QPs of different frame sizes. */
	rc = sx_drr_init(&e->drr, max_qps ? max_qps : 1,
			 port != NULL && port->max_frame != 0 ? port->max_frame : 9216);
	if (rc == 0 && (e->qps == NULL || e->eqp == NULL))
		rc = -ENOMEM;
	if (rc != 0) {
		sx_engine_fini(e);
		return rc;
	}
	/* RoCE's usual marking: DSCP 26 and ECN-capable, so switches mark
	 * instead of dropping (DCQCN's congestion signal). */
	e->tos = 26 << 2 | SX_ECN_ECT0;
	/* CNPs in their own class (NVIDIA's cnp_dscp default, CS6). */
	e->cnp_tos = 48 << 2 | SX_ECN_NOT_ECT;
	return 0;
}

void
sx_engine_fini(struct sx_engine *e)
{
	if (e->nbacklog && e->port)
		sx_port_tx_free(e->port, e->backlog, e->nbacklog);
	e->nbacklog = 0;
	free(e->qps);
	free(e->eqp);
	sx_drr_fini(&e->drr);
	e->qps = NULL;
	e->eqp = NULL;
}

uint32_t
sx_engine_alloc_qpn(const struct sx_engine *e)
{
	uint32_t i;

	for (i = 0; i < e->max_qps; i++) {
		if (e->qps[i] == NULL)
			return SX_QPN_BASE + i;
	}
	return 0;
}

void
sx_engine_add_qp(struct sx_engine *e, struct sx_qp *qp)
{
	e->qps[qp->qpn - SX_QPN_BASE] = qp;
	memset(&e->eqp[qp->qpn - SX_QPN_BASE], 0, sizeof(struct sx_eqp));
	e->eqp[qp->qpn - SX_QPN_BASE].dscp = -1;
	if (qp->qpn - SX_QPN_BASE >= e->nslots)
		e->nslots = qp->qpn - SX_QPN_BASE + 1;
}

void
sx_engine_del_qp(struct sx_engine *e, struct sx_qp *qp)
{
	sx_drr_remove(&e->drr, qp->qpn - SX_QPN_BASE);
	qp->active = false;
	sx_wheel_del(&e->pacer, &e->eqp[qp->qpn - SX_QPN_BASE].pace);
	e->qps[qp->qpn - SX_QPN_BASE] = NULL;
	while (e->nslots > 0 && e->qps[e->nslots - 1] == NULL)
		e->nslots--;
}

static inline void
note_deadline(struct sx_engine *e, const struct sx_qp *qp)
{
	uint64_t t = sx_qp_deadline(qp);

	if (t < e->timer_ns)
		e->timer_ns = t;
}

void
sx_engine_kick(struct sx_engine *e, struct sx_qp *qp)
{
	note_deadline(e, qp);
	if (!qp->active) {
		qp->active = true;
		sx_drr_add(&e->drr, qp->qpn - SX_QPN_BASE);
	}
}

static struct sx_qp *
lookup(struct sx_engine *e, uint32_t qpn)
{
	uint32_t i = qpn - SX_QPN_BASE;

	return qpn >= SX_QPN_BASE && i < e->max_qps ? e->qps[i] : NULL;
}

static void
rx_one(struct sx_engine *e, const struct sx_frame *f, uint64_t now_ns)
{
	struct sx_pkt pkt;
	enum sx_wire_rc rc;
	struct sx_qp *qp;
	size_t alen;

	rc = sx_wire_parse(f->data, f->len, &pkt, e->port->elide_payload ? SX_PARSE_NO_ICRC : 0);
	if (rc != SX_WIRE_OK) {
		e->stats.drop[rc]++;
		return;
	}
	alen = pkt.ip_version == 4 ? 4 : 16;
	if (pkt.ip_version != e->ip_version || memcmp(pkt.ip_dst, e->ip, alen) != 0) {
		e->stats.drop[SX_EDROP_NOT_FOR_US]++;
		return;
	}
	qp = lookup(e, pkt.bth.dqpn);
	if (qp == NULL) {
		e->stats.drop[SX_EDROP_UNKNOWN_QP]++;
		return;
	}
	/* RC: only the connected peer may talk to this QP. */
	if (qp->state != SX_QPS_RESET &&
	    (pkt.ip_version != qp->remote.ip_version ||
	     memcmp(pkt.ip_src, qp->remote.ip, alen) != 0)) {
		e->stats.drop[SX_EDROP_BAD_SOURCE]++;
		return;
	}
	if (pkt.bth.opcode == SX_OP_CNP) {
		/* Reaction point: the peer saw our packets marked. */
		sx_qp_on_cnp(qp, now_ns);
		note_deadline(e, qp);
		return;
	}
	/* Notification point: a marked packet earns its sender a CNP. */
	if ((pkt.tos & 3) == SX_ECN_CE)
		sx_qp_on_ecn(qp, now_ns);
	sx_qp_rx(qp, &pkt, e->port->elide_payload ? NULL : f->data + pkt.payload_off, now_ns);
	sx_engine_kick(e, qp);
}

/* Materialize a descriptor as a frame: L2-L4 from the engine and the QP. */
static bool
build_frame(struct sx_engine *e, struct sx_qp *qp, struct sx_txd *d, struct sx_frame *f)
{
	struct sx_pkt *h = &d->hdr;
	ssize_t off;
	unsigned int i;

	memcpy(h->eth_dst, qp->remote.mac, 6);
	memcpy(h->eth_src, e->port->mac, 6);
	/* 802.1Q: PFC classes are per priority, so CNPs can take their own
	 * (cnp_802p_prio) past a paused data class. */
	h->vlan = e->vlan_id != 0;
	h->vlan_tci = (uint16_t)((h->bth.opcode == SX_OP_CNP ? e->cnp_pcp : e->pcp) << 13 |
				 e->vlan_id);
	h->ip_version = e->ip_version;
	if (h->bth.opcode == SX_OP_CNP)
		h->tos = e->cnp_tos;
	else if (e->eqp[qp->qpn - SX_QPN_BASE].dscp >= 0) /* sx_qp_init_attr.set_dscp */
		h->tos = (uint8_t)(e->eqp[qp->qpn - SX_QPN_BASE].dscp << 2 | (e->tos & 3));
	else
		h->tos = e->tos;
	h->ttl = 64;
	/* DF is set, so the ID identifies no fragments (RFC 6864 4.1): zero,
	 * never what the descriptor's stack memory held. */
	h->ip_id = 0;
	h->flow_label = 0;
	memcpy(h->ip_src, e->ip, 16);
	memcpy(h->ip_dst, qp->remote.ip, 16);
	/* h->udp_sport, the ECMP entropy, is the QP's (dataplane/path). */
	h->udp_dport = SX_ROCE_UDP_PORT;
	off = sx_wire_build_hdr(f->data, f->cap, h);
	if (off < 0)
		return false;
	f->len = h->frame_len;
	if (e->port->elide_payload)
		return true; /* headers and length only; no ICRC to compute */
	for (i = 0; i < d->nseg; i++) {
		memcpy(f->data + off, d->seg[i], d->seg_len[i]);
		off += d->seg_len[i];
	}
	sx_wire_seal(f->data, h);
	return true;
}

static void
remove_active(struct sx_engine *e, struct sx_qp *qp)
{
	qp->active = false;
	sx_drr_remove(&e->drr, qp->qpn - SX_QPN_BASE);
}

/*
 * Build and send what the port takes now. The port's tx_alloc bounds the
 * round: a port that keeps its ring short (the simulator's NIC) hands out
 * only as many frames as the ring has room for, so no QP's frames wait in
 * a long FIFO ahead of another QP's; who gets each frame is the DRR's pick.
 */
static int
tx_round(struct sx_engine *e, uint64_t now_ns)
{
	struct sx_frame *f = e->backlog;
	struct sx_txd d;
	uint16_t n = e->nbacklog, want, got, sent, i;

	/* Frames the port refused last time go first, in order. */
	want = SX_ENGINE_BURST - n;
	got = want ? sx_port_tx_alloc(e->port, f + n, want) : 0;
	while (got > 0 && e->drr.count > 0) {
		uint32_t slot = sx_drr_current(&e->drr);
		struct sx_qp *qp = e->qps[slot];
		struct sx_eqp *eq = &e->eqp[slot];
		bool paced, sent_one;

		/* A QP over its rate may still send ACKs; its data waits in
		 * the wheel until its next send time. */
		paced = qp->rate_bps != 0 && eq->next_tx_ns > now_ns;
		sent_one = sx_qp_tx(qp, now_ns, &d, !paced);
		note_deadline(e, qp);
		if (!sent_one) {
			remove_active(e, qp);
			if (paced) {
				sx_wheel_add(&e->pacer, &eq->pace, eq->next_tx_ns);
				e->stats.paced++;
			} else {
				eq->backlogged = false; /* ran dry: no credit for idle time */
			}
			continue;
		}
		if (!build_frame(e, qp, &d, &f[n])) {
			e->stats.drop[SX_WIRE_BAD_LENGTH]++;
			sx_drr_charge(&e->drr, slot, e->drr.quantum);
			continue;
		}
		if (qp->rate_bps != 0 && d.hdr.payload_len != 0) {
			eq->next_tx_ns = sx_pace_next(eq->next_tx_ns, now_ns, f[n].len, qp->rate_bps,
						      e->pace_burst_bytes, eq->backlogged);
			eq->backlogged = true;
		}
		sx_drr_charge(&e->drr, slot, f[n].len);
		n++;
		got--;
	}
	if (got > 0)
		sx_port_tx_free(e->port, f + n, got);
	if (n == 0)
		return 0;
	sent = sx_port_tx(e->port, f, n);
	for (i = sent; i < n; i++)
		f[i - sent] = f[i];
	e->nbacklog = n - sent;
	e->stats.tx_frames += sent;
	return sent;
}

static void
pace_due(struct sx_wheel_entry *entry, void *arg)
{
	struct sx_engine *e = arg;
	struct sx_eqp *eq = (struct sx_eqp *)entry;
	struct sx_qp *qp = e->qps[eq - e->eqp];

	if (qp != NULL)
		sx_engine_kick(e, qp);
}

int
sx_engine_poll(struct sx_engine *e, uint64_t now_ns)
{
	struct sx_frame rx[SX_ENGINE_BURST];
	uint16_t n, i;
	uint32_t q;
	int work;

	e->stats.polls++;
	n = sx_port_rx(e->port, rx, SX_ENGINE_BURST);
	for (i = 0; i < n; i++)
		rx_one(e, &rx[i], now_ns);
	if (n)
		sx_port_rx_done(e->port, rx, n);
	e->stats.rx_frames += n;
	work = n;
	sx_wheel_expire(&e->pacer, now_ns, pace_due, e);
	/* Timers: scan only when one may be due (see timer_ns). */
	if (now_ns >= e->timer_ns) {
		e->timer_ns = UINT64_MAX;
		for (q = 0; q < e->nslots; q++) {
			struct sx_qp *qp = e->qps[q];

			if (qp == NULL)
				continue;
			if (sx_qp_deadline(qp) <= now_ns) {
				sx_qp_timer(qp, now_ns);
				sx_engine_kick(e, qp);
			} else {
				note_deadline(e, qp);
			}
		}
	}
	return work + tx_round(e, now_ns);
}

uint64_t
sx_engine_next_deadline(const struct sx_engine *e, uint64_t now_ns)
{
	uint64_t d;

	if (e->drr.count > 0 || e->nbacklog > 0)
		return now_ns;
	d = sx_wheel_next(&e->pacer);
	return e->timer_ns < d ? e->timer_ns : d;
}
