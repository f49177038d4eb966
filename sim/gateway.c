/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gateway mode in the simulator (docs/longhaul.md, "Gateway mode"): the
 * seed's hierarchical scale-across, where a process at each datacenter's
 * border terminates the intra-DC QPs and carries their data over long-haul
 * QPs to the peer gateway, so that each control loop sees its own RTT.
 *
 * The gateway of DC d is its last host (on the DC's last leaf, the border
 * leaf). It has two scalex contexts behind its one NIC link: the inside
 * one with the scenario's CC ([transport] cc), and a WAN one with its own
 * ([gateway] wan_cc, wan_cc_preset, wan_cc_param); frames from other DCs
 * go to the WAN one (scenario.c, fab_deliver).
 *
 * A relayed flow src -> dst (src in DC a, dst in DC b, neither a gateway)
 * moves in chunks of at most chunk_bytes, each in three WRITEs:
 *
 *   A  src -> gateway a, into a slot of a's egress staging (64-byte relay
 *      header + payload: a two-SGE WRITE);
 *   B  gateway a -> gateway b over one of wan_qps long-haul QPs, the slot
 *      into a slot of b's ingress staging;
 *   C  gateway b -> dst, the payload into the destination's memory region.
 *
 * Credits, not drops: a chunk's A waits until a's egress staging has a
 * free slot, which B's completion (b acknowledged it) frees; its B waits
 * for a free slot of b's ingress staging, which C's completion frees.
 * Egress and ingress staging are separate pools so that two gateways
 * relaying towards each other cannot each hold the slots the other waits
 * for (C needs no slot, so every wait ends). The flow completes when its
 * last C completes (the destination acknowledged its last byte); its FCT
 * is src's post to that.
 *
 * The simulator grants credits without a message (a real gateway returns
 * them in a SEND to the host, a few microseconds inside the DC) and does
 * not model the header's content (tools/scalex-gateway does); it charges
 * the header's bytes on the wire.
 *
 * Units: bytes, ns (ps in the loop).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <jansson.h>

#include <scalex/cc.h>
#include <scalex/stats.h>
#include "scenario_priv.h"

#define GW_NONE UINT32_MAX

enum gw_stage {
	GW_WAIT_EGRESS,  /* for a slot of the source DC's gateway */
	GW_A,            /* src -> gateway */
	GW_WAIT_INGRESS, /* for a slot of the destination DC's gateway */
	GW_B,            /* gateway -> gateway */
	GW_C,            /* gateway -> dst */
	GW_DONE,
};

struct gw_chunk {
	uint32_t flow;
	uint32_t next;  /* in a wait queue */
	uint64_t off;   /* in the flow */
	uint32_t len;   /* payload */
	uint32_t eslot; /* at the source DC's gateway */
	uint32_t islot; /* at the destination DC's gateway */
	enum gw_stage stage;
};

/* A QP pair of the relay: sq at the sender, rq at the receiver. */
struct gw_qp {
	struct sx_qp *sq;
	struct sx_qp *rq;
};

/* One direction's staging of one gateway: slots of SX_SCN_GW_HDR_BYTES +
 * chunk_bytes, a free-slot stack and the chunks waiting for a slot. */
struct gw_pool {
	uint8_t *mem;
	size_t len;
	struct sx_mr *in_mr;  /* on the inside context */
	struct sx_mr *wan_mr; /* on the WAN context */
	uint32_t *free;
	uint32_t nfree;
	uint32_t wait_head, wait_tail;
	uint32_t used_max;
	uint64_t waits; /* chunks that had to wait for a credit */
};

struct gw_dc {
	uint32_t host;
	struct sx_pd *wan_pd;
	struct gw_pool egress, ingress;
};

struct sx_gw {
	uint32_t ndcs;
	uint32_t slot_bytes;
	uint32_t nslots;
	struct gw_dc *dc;
	struct gw_qp *up;                    /* [host]: host -> its gateway */
	struct gw_qp *down;                  /* [host]: its gateway -> host */
	struct gw_qp *wan;                   /* [(a * ndcs + b) * wan_qps + k] */
	uint32_t *wan_next;                  /* [a * ndcs + b]: the next of the wan_qps */
	uint8_t (*hdr)[SX_SCN_GW_HDR_BYTES]; /* [host]: its relay header buffer */
	struct sx_mr **hdr_mr;               /* [host] */
	struct gw_chunk *chunks;
	uint32_t nchunks, chunks_cap;
	uint32_t *left;     /* [flow]: chunks not yet delivered */
	uint64_t *dl_bytes; /* [host]: payload in flight to it from its gateway */
	uint32_t *dl_head, *dl_tail; /* [host]: chunks waiting to be delivered */
	uint64_t dl_waits;
	uint64_t delivered;     /* payload bytes C wrote */
	uint64_t chunk_bytes_b; /* payload carried over the WAN */
};

static uint32_t
gw_of_dc(const struct sx_scn *s, uint32_t d)
{
	return (d + 1) * s->fab.hosts_per_dc - 1;
}

bool
sx_scn_gw_host(const struct sx_scn *s, uint32_t h)
{
	return s->gw != NULL && h == gw_of_dc(s, sx_fabric_dc_of(&s->fab, h));
}

bool
sx_scn_gw_relayed(const struct sx_scn *s, uint32_t src, uint32_t dst)
{
	return s->gw != NULL &&
	       sx_fabric_dc_of(&s->fab, src) != sx_fabric_dc_of(&s->fab, dst);
}

static uint32_t
next_psn(struct sx_scn *s)
{
	return (uint32_t)(sx_rng_next(&s->psn_rng) % (SX_PSN_MASK - 1)) + 1;
}

/* Create and connect a relay QP pair; 0 or -errno. */
static int
qp_pair(struct sx_scn *s, struct gw_qp *q, struct sx_pd *spd, struct sx_cq *scq,
        struct sx_pd *rpd, struct sx_cq *rcq, uint32_t depth)
{
	const struct sx_scn_cfg *c = &s->cfg;
	struct sx_qp_init_attr qa;
	struct sx_qp_endpoint ep[2];

	memset(&qa, 0, sizeof(qa));
	qa.max_send_wr = depth;
	qa.max_recv_wr = 1;
	qa.reliability = c->rel;
	qa.retry_cnt = c->retry_cnt;
	qa.rnr_retry = 7;
	qa.timeout_us = c->timeout_us;
	qa.send_cq = qa.recv_cq = scq;
	qa.sq_psn = next_psn(s);
	q->sq = sx_create_qp(spd, &qa);
	qa.send_cq = qa.recv_cq = rcq;
	qa.sq_psn = next_psn(s);
	q->rq = sx_create_qp(rpd, &qa);
	if (q->sq == NULL || q->rq == NULL)
		return -ENOSPC;
	sx_qp_local(q->sq, &ep[0]);
	sx_qp_local(q->rq, &ep[1]);
	if (sx_qp_connect(q->sq, &ep[1]) < 0 || sx_qp_connect(q->rq, &ep[0]) < 0)
		return -EINVAL;
	return 0;
}

static void
qp_pair_fini(struct gw_qp *q)
{
	if (q->sq)
		sx_destroy_qp(q->sq);
	if (q->rq)
		sx_destroy_qp(q->rq);
	q->sq = q->rq = NULL;
}

static int
pool_init(struct sx_scn *s, struct gw_dc *g, struct gw_pool *p)
{
	struct sx_gw *gw = s->gw;
	struct sx_host *h = &s->hosts[g->host];
	const unsigned int rw = SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE;
	uint32_t i;

	p->len = (size_t)gw->nslots * gw->slot_bytes;
	/* untouched unless payloads are carried (verify = 1) */
	p->mem = mmap(NULL, p->len, PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		return -ENOMEM;
	}
	p->free = malloc(gw->nslots * sizeof(*p->free));
	if (p->free == NULL)
		return -ENOMEM;
	for (i = 0; i < gw->nslots; i++)
		p->free[i] = gw->nslots - 1 - i;
	p->nfree = gw->nslots;
	p->wait_head = p->wait_tail = GW_NONE;
	p->in_mr = sx_reg_mr(h->pd, p->mem, p->len, rw);
	p->wan_mr = sx_reg_mr(g->wan_pd, p->mem, p->len, rw);
	return p->in_mr != NULL && p->wan_mr != NULL ? 0 : -ENOMEM;
}

static void
pool_fini(struct gw_pool *p)
{
	if (p->in_mr)
		sx_dereg_mr(p->in_mr);
	if (p->wan_mr)
		sx_dereg_mr(p->wan_mr);
	if (p->mem)
		munmap(p->mem, p->len);
	free(p->free);
}

/* The WAN side of gateway host @p h: a second sim port and context. */
static int
wan_side(struct sx_scn *s, struct sx_host *h, struct gw_dc *g, FILE *err)
{
	const struct sx_scn_cfg *c = &s->cfg;
	struct sx_context_attr attr;
	bool cc_on = strcmp(c->gw_wan_cc, "none") != 0;
	uint32_t i;

	h->wan_port = sx_port_sim_open(s->pool, c->mtu + SX_FRAME_HDR_ROOM, sx_scn_host_tx, h);
	if (h->wan_port == NULL)
		return -errno;
	memcpy(h->wan_port->mac, h->port->mac, sizeof(h->port->mac));
	h->wan_port->elide_payload = !c->verify;
	sx_context_attr_init(&attr);
	attr.mtu = c->mtu;
	sx_fabric_ip_of_host(h->id, attr.ip);
	attr.line_rate_bps = c->fab.host_rate_bps;
	attr.cc = cc_on ? c->gw_wan_cc : NULL;
	h->wan_ctx = sx_context_create(h->wan_port, &attr, sx_scn_clock, s);
	if (h->wan_ctx == NULL) {
		h->wan_port = NULL; /* closed by the failed create */
		return -errno;
	}
	if (cc_on && c->gw_wan_cc_preset[0] != '\0' &&
	    sx_cc_preset(h->wan_ctx, c->gw_wan_cc_preset) < 0) {
		if (err != NULL)
			fprintf(err, "[gateway] wan_cc_preset %s: not found for %s\n",
			        c->gw_wan_cc_preset, c->gw_wan_cc);
		return -ENOENT;
	}
	for (i = 0; cc_on && i < c->ngw_wan_cc_param; i++) {
		int rc = sx_cc_param(h->wan_ctx, c->gw_wan_cc_param[i]);

		if (rc < 0) {
			if (err != NULL)
				fprintf(err, "[gateway] wan_cc_param = %s: %s\n",
				        c->gw_wan_cc_param[i], strerror(-rc));
			return rc;
		}
	}
	g->wan_pd = sx_alloc_pd(h->wan_ctx);
	h->wan_cq = sx_create_cq(h->wan_ctx, 1u << 14);
	return g->wan_pd != NULL && h->wan_cq != NULL ? 0 : -ENOMEM;
}

/* ---- the relay ---- */

static void chunk_egress(struct sx_scn *s, uint32_t ci);
static void slot_free(struct sx_scn *s, struct gw_pool *p, uint32_t slot, bool egress);
static void chunk_ingress(struct sx_scn *s, uint32_t ci);

static struct gw_chunk *
chunk(struct sx_scn *s, uint32_t ci)
{
	return &s->gw->chunks[ci];
}

static uint32_t
src_dc(struct sx_scn *s, uint32_t ci)
{
	return sx_fabric_dc_of(&s->fab, s->flows[chunk(s, ci)->flow].src);
}

static uint32_t
dst_dc(struct sx_scn *s, uint32_t ci)
{
	return sx_fabric_dc_of(&s->fab, s->flows[chunk(s, ci)->flow].dst);
}

/* A relay step failed: the flow fails once (its other chunks finish or
 * fail on their own and are ignored). */
static void
chunk_fail(struct sx_scn *s, uint32_t ci, enum sx_wc_status st)
{
	struct gw_chunk *c = chunk(s, ci);

	c->stage = GW_DONE;
	if (!s->flows[c->flow].finished)
		sx_scn_flow_end(s, c->flow, st);
}

static int
post(struct sx_qp *qp, uint32_t ci, struct sx_sge *sge, int nsge, uint64_t raddr,
     uint32_t rkey)
{
	struct sx_send_wr wr, *bad;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = SX_SCN_GW_TAG | ci;
	wr.sg_list = sge;
	wr.num_sge = nsge;
	wr.opcode = SX_WR_RDMA_WRITE;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = rkey;
	return sx_post_send(qp, &wr, &bad);
}

/* A: the chunk's header and payload from its source into slot eslot. */
static void
post_a(struct sx_scn *s, uint32_t ci)
{
	struct sx_gw *gw = s->gw;
	struct gw_chunk *c = chunk(s, ci);
	struct sx_scn_flowrec *f = &s->flows[c->flow];
	struct gw_dc *g = &gw->dc[src_dc(s, ci)];
	struct sx_host *hs = &s->hosts[f->src], *hg = &s->hosts[g->host];
	struct gw_qp *q = &gw->up[f->src];
	struct sx_sge sge[2];

	c->stage = GW_A;
	if (q->sq == NULL) {
		gw->hdr_mr[f->src] =
		    sx_reg_mr(hs->pd, gw->hdr[f->src], SX_SCN_GW_HDR_BYTES, 0);
		if (gw->hdr_mr[f->src] == NULL ||
		    qp_pair(s, q, hs->pd, hs->cq, hg->pd, hg->cq, gw->nslots) < 0) {
			qp_pair_fini(q);
			chunk_fail(s, ci, SX_WC_LOC_QP_OP_ERR);
			return;
		}
	}
	sge[0] = (struct sx_sge){(uintptr_t)gw->hdr[f->src], SX_SCN_GW_HDR_BYTES,
	                         gw->hdr_mr[f->src]->lkey};
	if (s->cfg.verify)
		sge[1] = (struct sx_sge){(uintptr_t)f->src_buf + c->off, c->len,
		                         f->src_mr->lkey};
	else
		sge[1] = (struct sx_sge){(uintptr_t)s->src_region + c->off, c->len,
		                         hs->src_mr->lkey};
	if (post(q->sq, ci, sge, 2,
	         (uintptr_t)g->egress.mem + (uint64_t)c->eslot * gw->slot_bytes,
	         g->egress.in_mr->rkey) < 0)
		chunk_fail(s, ci, SX_WC_LOC_QP_OP_ERR);
	else
		sx_scn_host_wake(s, f->src);
}

/* B: the slot over one of the long-haul QPs into the peer's slot islot. */
static void
post_b(struct sx_scn *s, uint32_t ci)
{
	struct sx_gw *gw = s->gw;
	struct gw_chunk *c = chunk(s, ci);
	uint32_t a = src_dc(s, ci), b = dst_dc(s, ci), pair = a * gw->ndcs + b;
	uint32_t k = gw->wan_next[pair]++ % s->cfg.gw_wan_qps;
	struct gw_dc *ga = &gw->dc[a], *gb = &gw->dc[b];
	struct sx_host *ha = &s->hosts[ga->host], *hb = &s->hosts[gb->host];
	struct gw_qp *q = &gw->wan[(size_t)pair * s->cfg.gw_wan_qps + k];
	struct sx_sge sge;

	c->stage = GW_B;
	/* at most nslots chunks to b are in flight on all of a's QPs to b */
	if (q->sq == NULL && qp_pair(s, q, ga->wan_pd, ha->wan_cq, gb->wan_pd, hb->wan_cq,
	                             gw->nslots) < 0) {
		qp_pair_fini(q);
		chunk_fail(s, ci, SX_WC_LOC_QP_OP_ERR);
		return;
	}
	sge = (struct sx_sge){(uintptr_t)ga->egress.mem +
	                          (uint64_t)c->eslot * gw->slot_bytes,
	                      SX_SCN_GW_HDR_BYTES + c->len, ga->egress.wan_mr->lkey};
	if (post(q->sq, ci, &sge, 1,
	         (uintptr_t)gb->ingress.mem + (uint64_t)c->islot * gw->slot_bytes,
	         gb->ingress.wan_mr->rkey) < 0)
		chunk_fail(s, ci, SX_WC_LOC_QP_OP_ERR);
	else
		sx_scn_host_wake(s, ga->host);
}

/* C: the payload from the peer's slot into the destination. */
static void
post_c_now(struct sx_scn *s, uint32_t ci)
{
	struct sx_gw *gw = s->gw;
	struct gw_chunk *c = chunk(s, ci);
	struct sx_scn_flowrec *f = &s->flows[c->flow];
	struct gw_dc *g = &gw->dc[dst_dc(s, ci)];
	struct sx_host *hg = &s->hosts[g->host], *hd = &s->hosts[f->dst];
	struct gw_qp *q = &gw->down[f->dst];
	struct sx_sge sge;
	uint64_t raddr;
	uint32_t rkey;

	c->stage = GW_C;
	if (q->sq == NULL &&
	    qp_pair(s, q, hg->pd, hg->cq, hd->pd, hd->cq, gw->nslots) < 0) {
		qp_pair_fini(q);
		chunk_fail(s, ci, SX_WC_LOC_QP_OP_ERR);
		return;
	}
	sge =
	    (struct sx_sge){(uintptr_t)g->ingress.mem +
	                        (uint64_t)c->islot * gw->slot_bytes + SX_SCN_GW_HDR_BYTES,
	                    c->len, g->ingress.in_mr->lkey};
	if (s->cfg.verify) {
		raddr = (uintptr_t)f->dst_buf + c->off;
		rkey = f->dst_mr->rkey;
	} else {
		raddr = (uintptr_t)s->sink_region + c->off;
		rkey = hd->sink_mr->rkey;
	}
	gw->dl_bytes[f->dst] += c->len;
	if (post(q->sq, ci, &sge, 1, raddr, rkey) < 0)
		chunk_fail(s, ci, SX_WC_LOC_QP_OP_ERR);
	else
		sx_scn_host_wake(s, g->host);
}

/*
 * C within deliver_bytes: the relayed stream may keep only so much in
 * flight to one host, so the queue it can build at that host's leaf port
 * (where the host's intra-DC traffic meets it) stays below deliver_bytes,
 * whatever the inside CC takes to react.
 */
static void
post_c(struct sx_scn *s, uint32_t ci)
{
	struct sx_gw *gw = s->gw;
	struct gw_chunk *c = chunk(s, ci);
	uint32_t dst = s->flows[c->flow].dst;
	uint64_t lim = s->cfg.gw_deliver_bytes;

	if (lim != 0 && gw->dl_bytes[dst] != 0 && gw->dl_bytes[dst] + c->len > lim) {
		c->stage = GW_C;
		c->next = GW_NONE;
		if (gw->dl_tail[dst] != GW_NONE)
			chunk(s, gw->dl_tail[dst])->next = ci;
		else
			gw->dl_head[dst] = ci;
		gw->dl_tail[dst] = ci;
		gw->dl_waits++;
		return;
	}
	post_c_now(s, ci);
}

/* A delivery to @p dst completed: start the waiting ones that fit. */
static void
deliver_next(struct sx_scn *s, uint32_t dst)
{
	struct sx_gw *gw = s->gw;
	uint64_t lim = s->cfg.gw_deliver_bytes;
	uint32_t ci;

	while ((ci = gw->dl_head[dst]) != GW_NONE &&
	       (gw->dl_bytes[dst] == 0 || gw->dl_bytes[dst] + chunk(s, ci)->len <= lim)) {
		gw->dl_head[dst] = chunk(s, ci)->next;
		if (gw->dl_head[dst] == GW_NONE)
			gw->dl_tail[dst] = GW_NONE;
		if (s->flows[chunk(s, ci)->flow].finished) {
			/* its flow failed meanwhile (its buffers may be gone) */
			chunk(s, ci)->stage = GW_DONE;
			slot_free(s, &gw->dc[dst_dc(s, ci)].ingress, chunk(s, ci)->islot,
			          false);
			continue;
		}
		post_c_now(s, ci);
	}
}

static void
wait_push(struct sx_scn *s, struct gw_pool *p, uint32_t ci)
{
	chunk(s, ci)->next = GW_NONE;
	if (p->wait_tail != GW_NONE)
		chunk(s, p->wait_tail)->next = ci;
	else
		p->wait_head = ci;
	p->wait_tail = ci;
	p->waits++;
}

static uint32_t
slot_take(struct sx_scn *s, struct gw_pool *p)
{
	uint32_t used;

	used = s->gw->nslots - --p->nfree;
	if (used > p->used_max)
		p->used_max = used;
	return p->free[p->nfree];
}

/* A chunk asks its source DC's gateway for an egress slot (a credit). */
static void
chunk_egress(struct sx_scn *s, uint32_t ci)
{
	struct gw_pool *p = &s->gw->dc[src_dc(s, ci)].egress;

	if (p->nfree == 0 || p->wait_head != GW_NONE) {
		chunk(s, ci)->stage = GW_WAIT_EGRESS;
		wait_push(s, p, ci);
		return;
	}
	chunk(s, ci)->eslot = slot_take(s, p);
	post_a(s, ci);
}

/* In the source gateway's staging: ask the destination's for a slot. */
static void
chunk_ingress(struct sx_scn *s, uint32_t ci)
{
	struct gw_pool *p = &s->gw->dc[dst_dc(s, ci)].ingress;

	if (p->nfree == 0 || p->wait_head != GW_NONE) {
		chunk(s, ci)->stage = GW_WAIT_INGRESS;
		wait_push(s, p, ci);
		return;
	}
	chunk(s, ci)->islot = slot_take(s, p);
	post_b(s, ci);
}

/* Slot @p slot of @p p is free again: the first waiter takes it. */
static void
slot_free(struct sx_scn *s, struct gw_pool *p, uint32_t slot, bool egress)
{
	uint32_t ci = p->wait_head;

	if (ci == GW_NONE) {
		p->free[p->nfree++] = slot;
		return;
	}
	p->wait_head = chunk(s, ci)->next;
	if (p->wait_head == GW_NONE)
		p->wait_tail = GW_NONE;
	if (s->flows[chunk(s, ci)->flow].finished) {
		/* its flow failed meanwhile: pass the slot on */
		chunk(s, ci)->stage = GW_DONE;
		slot_free(s, p, slot, egress);
		return;
	}
	if (egress) {
		chunk(s, ci)->eslot = slot;
		post_a(s, ci);
	} else {
		chunk(s, ci)->islot = slot;
		post_b(s, ci);
	}
}

void
sx_scn_gw_wc(struct sx_scn *s, const struct sx_wc *wc)
{
	struct sx_gw *gw = s->gw;
	uint32_t ci = (uint32_t)(wc->wr_id & ~SX_SCN_GW_TAG);
	struct gw_chunk *c;
	struct gw_dc *ga, *gb;

	if (gw == NULL || ci >= gw->nchunks)
		return;
	c = chunk(s, ci);
	ga = &gw->dc[src_dc(s, ci)];
	gb = &gw->dc[dst_dc(s, ci)];
	if (wc->status != SX_WC_SUCCESS) {
		/* the slots it held go back; the flow fails */
		if (c->stage == GW_C) {
			gw->dl_bytes[s->flows[c->flow].dst] -= c->len;
			deliver_next(s, s->flows[c->flow].dst);
			c = chunk(s, ci);
		}
		if (c->stage == GW_A || c->stage == GW_B)
			slot_free(s, &ga->egress, c->eslot, true);
		if (c->stage == GW_B || c->stage == GW_C)
			slot_free(s, &gb->ingress, c->islot, false);
		chunk_fail(s, ci, wc->status);
		return;
	}
	switch (c->stage) {
	case GW_A:
		if (s->flows[c->flow].finished) {
			c->stage = GW_DONE;
			slot_free(s, &ga->egress, c->eslot, true);
			break;
		}
		chunk_ingress(s, ci);
		break;
	case GW_B:
		gw->chunk_bytes_b += c->len;
		slot_free(s, &ga->egress, c->eslot, true);
		/* the egress slot may have gone to a chunk of this pair whose post
		 * grew the chunk array: c is re-read below */
		c = chunk(s, ci);
		if (s->flows[c->flow].finished) {
			c->stage = GW_DONE;
			slot_free(s, &gb->ingress, c->islot, false);
			break;
		}
		post_c(s, ci);
		break;
	case GW_C:
		c->stage = GW_DONE;
		gw->delivered += c->len;
		gw->dl_bytes[s->flows[c->flow].dst] -= c->len;
		deliver_next(s, s->flows[c->flow].dst);
		c = chunk(s, ci);
		slot_free(s, &gb->ingress, c->islot, false);
		c = chunk(s, ci);
		if (--gw->left[c->flow] == 0 && !s->flows[c->flow].finished)
			sx_scn_flow_end(s, c->flow, SX_WC_SUCCESS);
		break;
	default:
		break;
	}
}

void
sx_scn_gw_flow_start(struct sx_scn *s, uint32_t fi)
{
	struct sx_gw *gw = s->gw;
	struct sx_scn_flowrec *f = &s->flows[fi];
	uint64_t chunk_bytes = s->cfg.gw_chunk_bytes, off = 0;
	uint32_t n = (uint32_t)((f->bytes + chunk_bytes - 1) / chunk_bytes), first, i;

	if (sx_scn_gw_host(s, f->src) || sx_scn_gw_host(s, f->dst)) {
		sx_scn_flow_reject(
		    s, fi, SX_SCN_REJECT_POST,
		    "a cross-DC flow from or to a gateway host (the last host of "
		    "its DC) in gateway mode: gateways relay, they do not send");
		return;
	}
	if (n == 0)
		n = 1; /* a zero-byte flow: one empty chunk */
	if (gw->nchunks + (uint64_t)n > gw->chunks_cap) {
		uint64_t cap = gw->chunks_cap ? gw->chunks_cap : 1024;
		struct gw_chunk *nc;

		while (cap < gw->nchunks + (uint64_t)n)
			cap *= 2;
		nc = cap < GW_NONE ? realloc(gw->chunks, cap * sizeof(*nc)) : NULL;
		if (nc == NULL) {
			sx_scn_flow_reject(s, fi, SX_SCN_REJECT_MEMORY,
			                   "no memory for its relay chunks");
			return;
		}
		gw->chunks = nc;
		gw->chunks_cap = (uint32_t)cap;
	}
	if (s->cfg.verify &&
	    sx_scn_flow_bufs(s, fi, &s->hosts[f->src], &s->hosts[f->dst]) < 0) {
		sx_scn_flow_reject(
		    s, fi, SX_SCN_REJECT_MEMORY,
		    "no memory or memory region for its verification buffers");
		return;
	}
	f->posted = true;
	gw->left[fi] = n;
	first = gw->nchunks;
	for (i = 0; i < n; i++, off += chunk_bytes) {
		struct gw_chunk *c = &gw->chunks[gw->nchunks++];

		memset(c, 0, sizeof(*c));
		c->flow = fi;
		c->off = off;
		c->len = (uint32_t)(f->bytes - off < chunk_bytes ? f->bytes - off
		                                                 : chunk_bytes);
		c->next = GW_NONE;
	}
	for (i = 0; i < n && !f->finished; i++)
		chunk_egress(s, first + i);
}

uint64_t
sx_scn_gw_delivered(const struct sx_scn *s)
{
	return s->gw != NULL ? s->gw->delivered : 0;
}

/* ---- setup ---- */

int
sx_scn_gw_create(struct sx_scn *s, FILE *err)
{
	const struct sx_scn_cfg *c = &s->cfg;
	struct sx_gw *gw = calloc(1, sizeof(*gw));
	uint64_t slot = SX_SCN_GW_HDR_BYTES + c->gw_chunk_bytes, nslots;
	uint32_t d, n = s->nhosts;

	if (gw == NULL)
		return -ENOMEM;
	s->gw = gw;
	nslots = c->gw_staging_bytes / slot;
	if (nslots > SX_SCN_GW_MAX_SLOTS)
		nslots = SX_SCN_GW_MAX_SLOTS;
	gw->ndcs = c->fab.dcs;
	gw->slot_bytes = (uint32_t)slot;
	gw->nslots = (uint32_t)nslots;
	gw->dc = calloc(gw->ndcs, sizeof(*gw->dc));
	gw->up = calloc(n, sizeof(*gw->up));
	gw->down = calloc(n, sizeof(*gw->down));
	gw->wan = calloc((size_t)gw->ndcs * gw->ndcs * c->gw_wan_qps, sizeof(*gw->wan));
	gw->wan_next = calloc((size_t)gw->ndcs * gw->ndcs, sizeof(*gw->wan_next));
	gw->hdr = calloc(n, sizeof(*gw->hdr));
	gw->hdr_mr = calloc(n, sizeof(*gw->hdr_mr));
	gw->left = calloc(s->nflows ? s->nflows : 1, sizeof(*gw->left));
	gw->dl_bytes = calloc(n, sizeof(*gw->dl_bytes));
	gw->dl_head = malloc(n * sizeof(*gw->dl_head));
	gw->dl_tail = malloc(n * sizeof(*gw->dl_tail));
	if (gw->dc == NULL || gw->up == NULL || gw->down == NULL || gw->wan == NULL ||
	    gw->wan_next == NULL || gw->hdr == NULL || gw->hdr_mr == NULL ||
	    gw->left == NULL || gw->dl_bytes == NULL || gw->dl_head == NULL ||
	    gw->dl_tail == NULL)
		return -ENOMEM;
	for (d = 0; d < n; d++)
		gw->dl_head[d] = gw->dl_tail[d] = GW_NONE;
	for (d = 0; d < gw->ndcs; d++) {
		struct gw_dc *g = &gw->dc[d];
		int rc;

		g->host = gw_of_dc(s, d);
		rc = wan_side(s, &s->hosts[g->host], g, err);
		if (rc == 0)
			rc = pool_init(s, g, &g->egress);
		if (rc == 0)
			rc = pool_init(s, g, &g->ingress);
		if (rc < 0) {
			if (err != NULL && rc != -ENOENT && rc != -ERANGE &&
			    rc != -EINVAL)
				fprintf(err, "gateway of DC %u (host %u): %s\n", d,
				        g->host, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void
sx_scn_gw_destroy(struct sx_scn *s)
{
	struct sx_gw *gw = s->gw;
	uint32_t i, d;

	if (gw == NULL)
		return;
	for (i = 0; gw->up != NULL && i < s->nhosts; i++)
		qp_pair_fini(&gw->up[i]);
	for (i = 0; gw->down != NULL && i < s->nhosts; i++)
		qp_pair_fini(&gw->down[i]);
	for (i = 0; gw->wan != NULL && i < gw->ndcs * gw->ndcs * s->cfg.gw_wan_qps; i++)
		qp_pair_fini(&gw->wan[i]);
	for (i = 0; gw->hdr_mr != NULL && i < s->nhosts; i++) {
		if (gw->hdr_mr[i])
			sx_dereg_mr(gw->hdr_mr[i]);
	}
	for (d = 0; gw->dc != NULL && d < gw->ndcs; d++) {
		pool_fini(&gw->dc[d].egress);
		pool_fini(&gw->dc[d].ingress);
		if (gw->dc[d].wan_pd)
			sx_dealloc_pd(gw->dc[d].wan_pd);
	}
	free(gw->dc);
	free(gw->up);
	free(gw->down);
	free(gw->wan);
	free(gw->wan_next);
	free(gw->hdr);
	free(gw->hdr_mr);
	free(gw->left);
	free(gw->dl_bytes);
	free(gw->dl_head);
	free(gw->dl_tail);
	free(gw->chunks);
	free(gw);
	s->gw = NULL;
}

/* ---- per-side counters ---- */

struct side_sum {
	uint64_t tx_bytes, retransmits, timeouts, cnp_rcvd, ecn_rcvd;
};

static int
side_cb(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	struct side_sum *t = arg;

	(void)id;
	if (d->scope == SX_STATS_PORT && strcmp(d->name, "tx_bytes") == 0)
		t->tx_bytes += value;
	else if (d->scope == SX_STATS_QP && strcmp(d->name, "retransmits") == 0)
		t->retransmits += value;
	else if (d->scope == SX_STATS_QP && strcmp(d->name, "timeouts") == 0)
		t->timeouts += value;
	else if (d->scope == SX_STATS_QP && strcmp(d->name, "cnp_rcvd") == 0)
		t->cnp_rcvd += value;
	return 0;
}

void
sx_scn_gw_side(const struct sx_scn *s, uint32_t dc, bool wan, struct sx_scn_gw_side *out)
{
	const struct sx_gw *gw = s->gw;
	const struct gw_dc *g = &gw->dc[dc];
	const struct gw_pool *p = wan ? &g->ingress : &g->egress;
	struct sx_context *ctx = wan ? s->hosts[g->host].wan_ctx : s->hosts[g->host].ctx;
	struct side_sum t = {0};

	sx_stats_foreach(ctx, 1u << SX_STATS_PORT | 1u << SX_STATS_QP, side_cb, &t);
	out->host = g->host;
	out->tx_bytes = t.tx_bytes;
	out->retransmits = t.retransmits;
	out->timeouts = t.timeouts;
	out->cnp_rcvd = t.cnp_rcvd;
	out->staging_slots = gw->nslots;
	out->staging_peak = p->used_max;
	out->credit_waits = p->waits;
}

int
sx_scn_gw_write(const struct sx_scn *s, json_t *root)
{
	json_t *arr = json_array();
	uint32_t d;

	if (arr == NULL)
		return -ENOMEM;
	for (d = 0; d < s->gw->ndcs; d++) {
		struct sx_scn_gw_side in, wan;
		json_t *o;

		sx_scn_gw_side(s, d, false, &in);
		sx_scn_gw_side(s, d, true, &wan);
		o = json_pack(
		    "{s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I,s:I,s:I}}",
		    "dc", (json_int_t)d, "host", (json_int_t)in.host, "inside",
		    "tx_bytes", (json_int_t)in.tx_bytes, "retransmits",
		    (json_int_t)in.retransmits, "timeouts", (json_int_t)in.timeouts,
		    "cnp_rcvd", (json_int_t)in.cnp_rcvd, "egress_staging_peak_slots",
		    (json_int_t)in.staging_peak, "egress_credit_waits",
		    (json_int_t)in.credit_waits, "wan", "tx_bytes",
		    (json_int_t)wan.tx_bytes, "retransmits", (json_int_t)wan.retransmits,
		    "timeouts", (json_int_t)wan.timeouts, "cnp_rcvd",
		    (json_int_t)wan.cnp_rcvd, "ingress_staging_peak_slots",
		    (json_int_t)wan.staging_peak, "ingress_credit_waits",
		    (json_int_t)wan.credit_waits);
		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return -ENOMEM;
		}
	}
	return json_object_set_new(root, "gateway", arr) == 0 ? 0 : -ENOMEM;
}
