/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulation loop: hosts that are real scalex contexts on sim ports,
 * the fabric, the workload, and the event dispatch that joins them.
 *
 * Virtual time starts at SCN_T0_NS (not 0: some timers treat 0 as "unset")
 * and every output is relative to it. Start PSNs come from the scenario's
 * seeded PRNG (sq_psn), not from the library's clock-and-address seed, so a
 * run does not depend on where malloc put the context.
 *
 * Units: ps inside the loop, ns for the hosts, bytes, bit/s.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <scalex/cc.h>
#include "../dataplane/engine/context.h"
#include "scenario_priv.h"

/* Steps of one host at one instant before the loop calls it a livelock. */
#define SCN_SAME_TIME_STEPS 100000
/* Flows of one run at most (a record each, about 130 bytes). */
#define SCN_MAX_FLOWS (1u << 24)
/* The sink region is this much memory mapped over and over. */
#define SCN_SINK_CHUNK (1u << 20)

uint64_t
sx_scn_clock(void *arg)
{
	const struct sx_scn *s = arg;

	return s->sched.now_ps / SX_PS_PER_NS;
}

static void
push(struct sx_scn *s, uint64_t at_ps, enum sx_sim_ev type, uint32_t idx)
{
	if (sx_sched_push(&s->sched, at_ps, type, idx, NULL) < 0)
		abort(); /* the event heap cannot grow: nothing sensible remains */
}

static void
host_wake_at(struct sx_host *h, uint64_t at_ps)
{
	if (h->wake_ps <= at_ps)
		return; /* already due then or earlier */
	h->wake_ps = at_ps;
	push(h->scn, at_ps, SX_EV_HOST_WAKE, h->id);
}

/* The sim port's tx callback: hand the frame to the fabric. */
bool
sx_scn_host_tx(void *arg, struct sx_port *port, struct sx_frame *f)
{
	struct sx_host *h = arg;

	(void)port;
	if (sx_fabric_host_tx(&h->scn->fab, h->id, f))
		return true;
	h->tx_blocked = true;
	return false;
}

/* The sim port's ring room: what the host's NIC ring takes now. */
static uint32_t
host_room(void *arg, struct sx_port *port)
{
	struct sx_host *h = arg;
	uint32_t room = sx_fabric_host_room(&h->scn->fab, h->id);

	(void)port;
	if (room == 0)
		h->tx_blocked = true;
	return room;
}

static void
fab_deliver(void *arg, uint32_t hi, struct sx_frame *f)
{
	struct sx_scn *s = arg;
	struct sx_host *h = &s->hosts[hi];
	const uint32_t sip = SX_ETH_HLEN + 12;

	/* a gateway: what comes from another DC is for its WAN side (only
	 * gateways talk across DCs in gateway mode) */
	if (h->wan_port != NULL && f->len >= sip + 4 && f->data[12] == 0x08 &&
	    f->data[13] == 0x00) {
		uint32_t src = sx_fabric_host_of_ip(f->data + sip);

		if (src < s->nhosts &&
		    sx_fabric_dc_of(&s->fab, src) != sx_fabric_dc_of(&s->fab, hi)) {
			sx_port_sim_deliver(h->wan_port, f);
			host_wake_at(h, s->sched.now_ps);
			return;
		}
	}
	sx_port_sim_deliver(h->port, f);
	host_wake_at(h, s->sched.now_ps);
}

void
sx_scn_host_wake(struct sx_scn *s, uint32_t h)
{
	host_wake_at(&s->hosts[h], s->sched.now_ps);
}

static void
fab_tx_room(void *arg, uint32_t hi)
{
	struct sx_scn *s = arg;
	struct sx_host *h = &s->hosts[hi];

	h->tx_blocked = false;
	host_wake_at(h, s->sched.now_ps);
}

/*
 * A host's frame starts on its wire. The first frame of a WRITE (FIRST or
 * ONLY, RC or SR form) carrying the PSN of the oldest posted flow of its
 * pair not yet seen there ends that flow's host queueing; retransmissions
 * carry older PSNs and are ignored.
 */
static void
fab_tx_start(void *arg, uint32_t hi, uint32_t dst, const uint8_t *d, uint32_t len)
{
	const uint32_t bth = SX_ETH_HLEN + SX_IPV4_HLEN + SX_UDP_HLEN;
	struct sx_scn *s = arg;
	struct sx_pair *p;
	struct sx_scn_flowrec *f;
	uint32_t psn;
	uint8_t op;

	if (len < bth + SX_BTH_LEN || d[12] != 0x08 || d[13] != 0x00 || dst >= s->nhosts)
		return;
	op = d[bth];
	if (op == SX_OP_SR_INT) /* the INT shim names the real opcode (docs/wire.md) */
		op = len > bth + SX_BTH_LEN ? d[bth + SX_BTH_LEN] : 0xff;
	if (op >= SX_OP_SR_BASE && op < SX_OP_SR_ACK)
		op = (uint8_t)(op - SX_OP_SR_BASE);
	if (op != SX_OP_RC_WRITE_FIRST && op != SX_OP_RC_WRITE_ONLY)
		return;
	p = s->pair_of[(size_t)hi * s->nhosts + dst];
	if (p == NULL)
		return;
	psn = (uint32_t)d[bth + 9] << 16 | (uint32_t)d[bth + 10] << 8 | d[bth + 11];
	/* flows that failed before reaching the wire leave the queue */
	while (p->wire_head != SCN_NO_FLOW && s->flows[p->wire_head].finished &&
	       s->flows[p->wire_head].wire_ps == 0)
		p->wire_head = s->flows[p->wire_head].next_wire;
	if (p->wire_head == SCN_NO_FLOW) {
		p->wire_tail = SCN_NO_FLOW;
		return;
	}
	f = &s->flows[p->wire_head];
	if (f->first_psn != psn)
		return;
	f->wire_ps = s->sched.now_ps;
	p->wire_head = f->next_wire;
	if (p->wire_head == SCN_NO_FLOW)
		p->wire_tail = SCN_NO_FLOW;
}

static const char *const reject_names[SX_SCN_REJECT_MAX] = {
	[SX_SCN_REJECT_NONE] = "none",
	[SX_SCN_REJECT_QP_LIMIT] = "rejected_qp_limit",
	[SX_SCN_REJECT_POST] = "rejected_post",
	[SX_SCN_REJECT_MEMORY] = "rejected_memory",
	[SX_SCN_REJECT_PREDECESSOR] = "predecessor_failed",
};

const char *
sx_scn_reject_name(enum sx_scn_reject r)
{
	return r < SX_SCN_REJECT_MAX ? reject_names[r] : "invalid";
}

static void flow_release(struct sx_scn *s, uint32_t fi, bool ok);

/*
 * The simulator refuses flow @p fi before it reaches the wire: the first
 * refusal of each kind says which limit and how to raise it (the run's end
 * counts them all).
 */
void
sx_scn_flow_reject(struct sx_scn *s, uint32_t fi, enum sx_scn_reject why, const char *detail)
{
	struct sx_scn_flowrec *f = &s->flows[fi];

	f->failed = true;
	f->finished = true;
	f->reject = why;
	s->res.failed++;
	s->done++;
	if (s->res.rejected[why]++ == 0 && s->err != NULL && why != SX_SCN_REJECT_PREDECESSOR)
		fprintf(s->err, "scalex-sim: flow %u (host %u -> %u, %lu bytes) refused: %s\n", fi,
			f->src, f->dst, (unsigned long)f->bytes, detail);
	flow_release(s, fi, false);
}

/* ---- memory for payloads ---- */

/*
 * Without verification every flow reads the same source region and writes
 * the same sink region: the source is untouched anonymous memory (every
 * page the kernel's zero page), the sink one 1 MiB memfd mapped over and
 * over, so neither costs more than a few MiB of cache however large flows
 * are.
 */
static int
payload_regions(struct sx_scn *s, uint64_t max_bytes)
{
	size_t len = ((max_bytes + SCN_SINK_CHUNK - 1) / SCN_SINK_CHUNK) * SCN_SINK_CHUNK, off;
	uint8_t *sink;
	int fd;

	if (len == 0)
		len = SCN_SINK_CHUNK;
	s->region_len = len;
	s->src_region = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			     -1, 0);
	if (s->src_region == MAP_FAILED) {
		s->src_region = NULL;
		return -ENOMEM;
	}
	sink = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (sink == MAP_FAILED)
		return -ENOMEM;
	s->sink_region = sink;
	fd = memfd_create("scalex-sim-sink", 0);
	if (fd < 0 || ftruncate(fd, SCN_SINK_CHUNK) < 0) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	for (off = 0; off < len; off += SCN_SINK_CHUNK) {
		if (mmap(sink + off, SCN_SINK_CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 fd, 0) == MAP_FAILED) {
			close(fd);
			return -ENOMEM;
		}
	}
	close(fd);
	return 0;
}


/* Why [transport] cc_param = @p a was refused, with the parameter's range
 * (the same words as scalex-perf's --cc-param). */
static void
cc_param_error(FILE *err, const char *cc, const char *a, int rc)
{
	const struct sx_cc_ops *ops = sx_cc_find(cc);
	size_t n = strcspn(a, "=");
	unsigned int i;

	fprintf(err, "[transport] cc_param = %s: ", a);
	if (rc == -ENOENT) {
		fprintf(err, "%s has no such parameter (docs/cc.md)\n", cc);
		return;
	}
	for (i = 0; ops != NULL && i < ops->nparams; i++) {
		if (strlen(ops->params[i].name) == n && strncmp(ops->params[i].name, a, n) == 0) {
			fprintf(err, "%s; allowed: %s[%.10g, %.10g] %s\n",
				rc == -ERANGE ? "outside the parameter's range" : "not a number",
				ops->params[i].flags & SX_PARAM_INT ? "a whole number in " : "",
				ops->params[i].min, ops->params[i].max, ops->params[i].unit);
			return;
		}
	}
	fprintf(err, "%s\n", strerror(-rc));
}

/* ---- hosts ---- */

static int
host_init(struct sx_scn *s, struct sx_host *h, uint32_t id, FILE *err)
{
	const struct sx_scn_cfg *c = &s->cfg;
	struct sx_context_attr attr;
	struct sx_port *port;
	uint32_t i;

	h->scn = s;
	h->id = id;
	h->wake_ps = UINT64_MAX;
	port = sx_port_sim_open(s->pool, c->mtu + SX_FRAME_HDR_ROOM, sx_scn_host_tx, h);
	if (port == NULL)
		return -errno;
	sx_port_sim_set_room(port, host_room);
	port->mac[2] = (uint8_t)(id >> 24);
	port->mac[3] = (uint8_t)(id >> 16);
	port->mac[4] = (uint8_t)(id >> 8);
	port->mac[5] = (uint8_t)id;
	/* Without verification nobody reads the payload: carry lengths only. */
	port->elide_payload = !c->verify;
	h->port = port;
	sx_context_attr_init(&attr);
	attr.mtu = c->mtu;
	sx_fabric_ip_of_host(id, attr.ip);
	attr.line_rate_bps = c->fab.host_rate_bps;
	attr.cc = s->cc_on ? c->cc : NULL;
	attr.path = c->path[0] != '\0' ? c->path : NULL;
	h->ctx = sx_context_create(port, &attr, sx_scn_clock, s);
	if (h->ctx == NULL) {
		h->port = NULL; /* closed by the failed create */
		if (err != NULL)
			fprintf(err, "host %u: context: %s\n", id, strerror(errno));
		return -errno;
	}
	if (sx_scn_path_host(s, h, err) < 0)
		return -EINVAL;
	if (s->cc_on && c->cc_preset[0] != '\0' && sx_cc_preset(h->ctx, c->cc_preset) < 0) {
		if (err != NULL)
			fprintf(err, "cc preset %s: not found for %s\n", c->cc_preset, c->cc);
		return -ENOENT;
	}
	for (i = 0; s->cc_on && i < c->ncc_param; i++) {
		int rc = sx_cc_param(h->ctx, c->cc_param[i]);

		if (rc < 0) {
			if (err != NULL)
				cc_param_error(err, c->cc, c->cc_param[i], rc);
			return rc;
		}
	}
	h->pd = sx_alloc_pd(h->ctx);
	h->cq = sx_create_cq(h->ctx, 1u << 14);
	if (h->pd == NULL || h->cq == NULL) {
		if (err != NULL)
			fprintf(err, "host %u: no memory for its PD or CQ\n", id);
		return -ENOMEM;
	}
	if (!c->verify) {
		h->src_mr = sx_reg_mr(h->pd, s->src_region, s->region_len, 0);
		h->sink_mr = sx_reg_mr(h->pd, s->sink_region, s->region_len,
				       SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE);
		if (h->src_mr == NULL || h->sink_mr == NULL) {
			if (err != NULL)
				fprintf(err, "host %u: cannot register the payload regions\n", id);
			return -ENOMEM;
		}
	}
	return 0;
}

static void
host_fini(struct sx_host *h)
{
	if (h->wan_cq)
		sx_destroy_cq(h->wan_cq);
	if (h->wan_ctx)
		sx_close_device(h->wan_ctx);
	else if (h->wan_port)
		sx_port_close(h->wan_port);
	if (h->ctx == NULL) {
		sx_port_close(h->port);
		return;
	}
	if (h->src_mr)
		sx_dereg_mr(h->src_mr);
	if (h->sink_mr)
		sx_dereg_mr(h->sink_mr);
	if (h->cq)
		sx_destroy_cq(h->cq);
	if (h->pd)
		sx_dealloc_pd(h->pd);
	sx_close_device(h->ctx);
}

static uint32_t
next_psn(struct sx_scn *s)
{
	/* never 0: sq_psn 0 asks the library for a random one */
	return (uint32_t)(sx_rng_next(&s->psn_rng) % (SX_PSN_MASK - 1)) + 1;
}

/* The QP pair that carries src -> dst, created on first use; NULL with
 * @p full the host whose QPs ran out (UINT32_MAX: another failure). */
static struct sx_pair *
pair_get(struct sx_scn *s, uint32_t src, uint32_t dst, uint32_t *full)
{
	const struct sx_scn_cfg *c = &s->cfg;
	struct sx_pair **slot = &s->pair_of[(size_t)src * s->nhosts + dst], *p;
	struct sx_qp_endpoint ep[2];
	struct sx_host *hs = &s->hosts[src], *hd = &s->hosts[dst];
	struct sx_qp_init_attr qa;

	*full = UINT32_MAX;
	if (*slot != NULL)
		return *slot;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	memset(&qa, 0, sizeof(qa));
	qa.max_send_wr = c->max_send_wr;
	qa.max_recv_wr = 1;
	qa.reliability = c->rel;
	qa.retry_cnt = c->retry_cnt;
	qa.rnr_retry = 7;
	qa.timeout_us = c->timeout_us;
	qa.max_inflight_pkts = c->window_pkts;
	qa.send_cq = qa.recv_cq = hs->cq;
	qa.sq_psn = next_psn(s);
	p->sq = sx_create_qp(hs->pd, &qa);
	if (p->sq == NULL && errno == ENOSPC)
		*full = src;
	qa.send_cq = qa.recv_cq = hd->cq;
	qa.sq_psn = next_psn(s);
	p->rq = sx_create_qp(hd->pd, &qa);
	if (p->rq == NULL && p->sq != NULL && errno == ENOSPC)
		*full = dst;
	if (p->sq == NULL || p->rq == NULL)
		goto fail;
	sx_qp_local(p->sq, &ep[0]);
	sx_qp_local(p->rq, &ep[1]);
	if (sx_qp_connect(p->sq, &ep[1]) < 0 || sx_qp_connect(p->rq, &ep[0]) < 0)
		goto fail;
	p->src = src;
	p->dst = dst;
	p->id = s->npairs;
	p->pending_tail = UINT32_MAX;
	p->pending_head = UINT32_MAX;
	p->wire_head = SCN_NO_FLOW;
	p->wire_tail = SCN_NO_FLOW;
	if (s->npairs == s->pairs_cap) {
		uint32_t cap = s->pairs_cap ? 2 * s->pairs_cap : 64;
		struct sx_pair **np = realloc(s->pairs, cap * sizeof(*np));

		if (np == NULL)
			goto fail;
		s->pairs = np;
		s->pairs_cap = cap;
	}
	s->pairs[s->npairs++] = p;
	*slot = p;
	return p;
fail:
	if (p->sq)
		sx_destroy_qp(p->sq);
	if (p->rq)
		sx_destroy_qp(p->rq);
	free(p);
	return NULL;
}

int
sx_scn_flow_bufs(struct sx_scn *s, uint32_t fi, struct sx_host *hs, struct sx_host *hd)
{
	struct sx_scn_flowrec *f = &s->flows[fi];
	uint64_t i;

	f->src_buf = malloc(f->bytes);
	f->dst_buf = calloc(1, f->bytes);
	if (f->src_buf == NULL || f->dst_buf == NULL)
		return -ENOMEM;
	for (i = 0; i < f->bytes; i++)
		f->src_buf[i] = sx_scn_pattern(fi, i);
	f->src_mr = sx_reg_mr(hs->pd, f->src_buf, f->bytes, 0);
	f->dst_mr = sx_reg_mr(hd->pd, f->dst_buf, f->bytes,
			      SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE);
	if (f->src_mr == NULL || f->dst_mr == NULL)
		return -ENOMEM;
	return 0;
}

/* The WRITE of flow @p fi on its pair's QP (with verification, on its own
 * registered buffers); 0 or -errno. */
static int
flow_post_wr(struct sx_scn *s, struct sx_pair *p, uint32_t fi)
{
	struct sx_scn_flowrec *f = &s->flows[fi];
	struct sx_host *hs = &s->hosts[f->src], *hd = &s->hosts[f->dst];
	struct sx_send_wr wr, *bad;
	struct sx_sge sge;
	struct sx_mr *lmr = hs->src_mr, *rmr = hd->sink_mr;
	int rc;

	if (s->cfg.verify) {
		if (sx_scn_flow_bufs(s, fi, hs, hd) < 0)
			return -ENOMEM;
		lmr = f->src_mr;
		rmr = f->dst_mr;
	}
	memset(&wr, 0, sizeof(wr));
	sge.addr = (uintptr_t)lmr->addr;
	sge.length = (uint32_t)f->bytes;
	sge.lkey = lmr->lkey;
	wr.wr_id = fi;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = SX_WR_RDMA_WRITE;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)rmr->addr;
	wr.wr.rdma.rkey = rmr->rkey;
	/* the WQE takes the QP's next PSN: its first frame carries it */
	f->first_psn = p->sq->sq_psn;
	rc = sx_post_send(p->sq, &wr, &bad);
	if (rc < 0)
		return rc;
	f->posted = true;
	p->outstanding++;
	p->posted_bytes += f->bytes;
	f->next_wire = SCN_NO_FLOW;
	if (p->wire_tail != SCN_NO_FLOW)
		s->flows[p->wire_tail].next_wire = fi;
	else
		p->wire_head = fi;
	p->wire_tail = fi;
	return 0;
}

/* Post flow @p fi, or refuse it with the reason; 0 or -errno. */
static int
flow_post(struct sx_scn *s, struct sx_pair *p, uint32_t fi)
{
	char why[200];
	int rc = flow_post_wr(s, p, fi);

	if (rc == 0)
		return 0;
	if (rc == -ENOMEM && s->cfg.verify) {
		sx_scn_flow_reject(s, fi, SX_SCN_REJECT_MEMORY,
			    "no memory or memory region for its verification buffers "
			    "([transport] verify = 1 gives every flow its own): use smaller flows "
			    "or verify = 0");
	} else {
		snprintf(why, sizeof(why), "sx_post_send: %s", strerror(-rc));
		sx_scn_flow_reject(s, fi, SX_SCN_REJECT_POST, why);
	}
	return rc;
}

/*
 * Flow @p fi is done: start the flows it releases, or, when it failed, fail
 * them (and theirs) too, since they will never be released.
 */
static void
flow_release(struct sx_scn *s, uint32_t fi, bool ok)
{
	uint64_t t0_ps = SCN_T0_NS * SX_PS_PER_NS;
	uint32_t d;

	for (d = s->flows[fi].dep_head; d != SCN_NO_FLOW; d = s->flows[d].dep_next) {
		struct sx_scn_flowrec *f = &s->flows[d];
		uint64_t at_ps = t0_ps + f->at_ns * SX_PS_PER_NS;

		if (ok) {
			uint64_t rel_ps = s->sched.now_ps + f->delay_ns * SX_PS_PER_NS;

			push(s, at_ps > rel_ps ? at_ps : rel_ps, SX_EV_FLOW_START, d);
			continue;
		}
		sx_scn_flow_reject(s, d, SX_SCN_REJECT_PREDECESSOR, "");
	}
}

static void
flow_start(struct sx_scn *s, uint32_t fi)
{
	struct sx_scn_flowrec *f = &s->flows[fi];
	uint32_t full;
	struct sx_pair *p;
	char why[320];

	f->start_ps = s->sched.now_ps;
	f->started = true;
	s->started++;
	if (s->first_start_ps == 0)
		s->first_start_ps = f->start_ps;
	if (s->gw != NULL && sx_scn_gw_relayed(s, f->src, f->dst)) {
		f->pair = UINT32_MAX;
		sx_scn_gw_flow_start(s, fi);
		return;
	}
	p = pair_get(s, f->src, f->dst, &full);
	if (p == NULL) {
		if (full != UINT32_MAX) {
			snprintf(why, sizeof(why),
				 "host %u has no QP left: a scalex context has %u (MAX_QPS in "
				 "dataplane/engine/context.c) and every host it sends to or receives "
				 "from takes one; use fewer peers per host, or raise MAX_QPS",
				 full, s->hosts[full].ctx->engine.max_qps);
			sx_scn_flow_reject(s, fi, SX_SCN_REJECT_QP_LIMIT, why);
		} else {
			sx_scn_flow_reject(s, fi, SX_SCN_REJECT_POST, "cannot create or connect its QPs");
		}
		return;
	}
	f->pair = p->id;
	if (p->outstanding < s->cfg.max_send_wr && p->pending_head == UINT32_MAX) {
		if (flow_post(s, p, fi) < 0)
			return;
	} else {
		/* the send queue is full: wait behind the pair's earlier flows */
		f->next_pending = UINT32_MAX;
		if (p->pending_tail != UINT32_MAX)
			s->flows[p->pending_tail].next_pending = fi;
		else
			p->pending_head = fi;
		p->pending_tail = fi;
	}
	host_wake_at(&s->hosts[f->src], s->sched.now_ps);
}

static void
flow_done(struct sx_scn *s, const struct sx_wc *wc)
{
	struct sx_scn_flowrec *f;
	struct sx_pair *p;

	if (wc->wr_id >= s->nflows)
		return;
	f = &s->flows[wc->wr_id];
	if (f->finished)
		return;
	p = s->pairs[f->pair];
	p->outstanding--;
	if (wc->status == SX_WC_SUCCESS)
		p->done_bytes += f->bytes;
	sx_scn_flow_end(s, (uint32_t)wc->wr_id, wc->status);
	/* the next waiting flow of the pair takes the free slot */
	while (p->pending_head != UINT32_MAX && p->outstanding < s->cfg.max_send_wr) {
		uint32_t fi = p->pending_head;

		p->pending_head = s->flows[fi].next_pending;
		if (p->pending_head == UINT32_MAX)
			p->pending_tail = UINT32_MAX;
		flow_post(s, p, fi); /* a refusal is recorded there */
	}
}

void
sx_scn_flow_end(struct sx_scn *s, uint32_t fi, enum sx_wc_status status)
{
	struct sx_scn_flowrec *f = &s->flows[fi];

	f->finished = true;
	f->end_ps = s->sched.now_ps;
	s->last_end_ps = f->end_ps;
	f->status = status;
	s->done++;
	if (status != SX_WC_SUCCESS) {
		f->failed = true;
		s->res.failed++;
	} else {
		s->res.completed++;
		s->res.bytes_completed += f->bytes;
		if (s->cfg.verify) {
			uint64_t i;

			for (i = 0; i < f->bytes; i++) {
				if (f->dst_buf[i] != sx_scn_pattern(fi, i)) {
					f->verify_error = true;
					s->res.verify_errors++;
					break;
				}
			}
		}
	}
	flow_release(s, fi, !f->failed);
	/* A region a WR still points into stays registered (-EBUSY): then
	 * the buffers wait for sx_scn_destroy(). */
	if (s->cfg.verify && sx_dereg_mr(f->src_mr) == 0) {
		f->src_mr = NULL;
		free(f->src_buf);
		f->src_buf = NULL;
	}
	if (s->cfg.verify && sx_dereg_mr(f->dst_mr) == 0) {
		f->dst_mr = NULL;
		free(f->dst_buf);
		f->dst_buf = NULL;
	}
}

/* Why a host cannot leave an instant: its engine's and QPs' timers. */
static void
host_dump(const struct sx_host *h, uint64_t now_ns)
{
	const struct sx_engine *e = &h->ctx->engine;
	uint32_t q;

	fprintf(stderr,
		"scalex-sim: host %u makes no progress at %lu ns (engine time %lu): active %u, "
		"backlog %u, pacer next %lu, rx pending %u, tx blocked %d\n",
		h->id, (unsigned long)(now_ns - SCN_T0_NS), (unsigned long)now_ns, e->drr.count,
		e->nbacklog, (unsigned long)sx_wheel_next(&e->pacer),
		sx_port_sim_rx_pending(h->port), h->tx_blocked);
	for (q = 0; q < e->max_qps; q++) {
		const struct sx_qp *qp = e->qps[q];

		if (qp == NULL || sx_qp_deadline(qp) > now_ns)
			continue;
		fprintf(stderr,
			"  qp %u: state %d deadline %lu cc_timer %lu rto %lu rnr %lu rate %lu "
			"snd_una %u snd_nxt %u\n",
			qp->qpn, qp->state, (unsigned long)sx_qp_deadline(qp),
			(unsigned long)qp->cc_timer_ns, (unsigned long)qp->rto_deadline,
			(unsigned long)qp->rnr_until, (unsigned long)qp->rate_bps, qp->snd_una,
			qp->snd_nxt);
	}
}

/* One engine round of host @p h, then its completions and its next wake. */
static void
host_step(struct sx_scn *s, struct sx_host *h)
{
	uint64_t now_ps = s->sched.now_ps, now_ns = now_ps / SX_PS_PER_NS, d;
	struct sx_wc wc[64];
	int n, i;

	if (now_ps == h->last_step_ps) {
		if (++h->same_time_steps > SCN_SAME_TIME_STEPS) {
			host_dump(h, now_ns);
			abort();
		}
	} else {
		h->last_step_ps = now_ps;
		h->same_time_steps = 0;
	}
	s->res.host_steps++;
	sx_engine_poll(&h->ctx->engine, now_ns);
	if (h->wan_ctx != NULL)
		sx_engine_poll(&h->wan_ctx->engine, now_ns);
	for (int side = 0; side < (h->wan_ctx != NULL ? 2 : 1); side++) {
		struct sx_cq *cq = side ? h->wan_cq : h->cq;

		while ((n = sx_cq_pop(cq, 64, wc)) > 0) {
			for (i = 0; i < n; i++) {
				if (wc[i].wr_id & SX_SCN_GW_TAG)
					sx_scn_gw_wc(s, &wc[i]);
				else if (wc[i].opcode == SX_WC_RDMA_WRITE ||
					 wc[i].status != SX_WC_SUCCESS)
					flow_done(s, &wc[i]);
			}
		}
	}
	if (sx_port_sim_rx_pending(h->port) > 0 ||
	    (h->wan_port != NULL && sx_port_sim_rx_pending(h->wan_port) > 0)) {
		host_wake_at(h, now_ps);
		return;
	}
	d = sx_engine_next_deadline(&h->ctx->engine, now_ns);
	if (h->wan_ctx != NULL) {
		uint64_t dw = sx_engine_next_deadline(&h->wan_ctx->engine, now_ns);

		if (dw < d)
			d = dw;
	}
	if (d <= now_ns) {
		/* More to send now, unless the NIC ring is full: then the
		 * fabric wakes the host when it has room. */
		if (!h->tx_blocked)
			host_wake_at(h, now_ps);
	} else if (d != UINT64_MAX) {
		host_wake_at(h, d * SX_PS_PER_NS);
	}
}

/* ---- creation ---- */

static int
resolve_cdf(struct sx_scn *s, char *out, size_t cap)
{
	const struct sx_scn_cfg *c = &s->cfg;
	const char *name = c->cdf_path;

	if (name[0] == '/') {
		snprintf(out, cap, "%s", name);
		return access(out, R_OK);
	}
	snprintf(out, cap, "%s/%s", c->dir, name);
	if (access(out, R_OK) == 0)
		return 0;
	if (c->data_dir[0] != '\0') {
		snprintf(out, cap, "%s/%s", c->data_dir, name);
		if (access(out, R_OK) == 0)
			return 0;
	}
	return -1;
}

static int
flows_add(struct sx_scn *s, const struct sx_flow *f)
{
	struct sx_scn_flowrec *r;

	if (s->nflows == SCN_MAX_FLOWS)
		return -E2BIG;
	if (s->nflows == s->flows_cap) {
		uint32_t cap = s->flows_cap ? 2 * s->flows_cap : 256;
		struct sx_scn_flowrec *nf = realloc(s->flows, cap * sizeof(*nf));

		if (nf == NULL)
			return -ENOMEM;
		s->flows = nf;
		s->flows_cap = cap;
	}
	r = &s->flows[s->nflows++];
	memset(r, 0, sizeof(*r));
	r->src = f->src;
	r->dst = f->dst;
	r->bytes = f->bytes;
	r->at_ns = f->start_ns;
	r->next_pending = UINT32_MAX;
	r->seq = s->nflows - 1;
	r->after = SCN_NO_FLOW;
	r->dep_head = SCN_NO_FLOW;
	r->dep_next = SCN_NO_FLOW;
	return 0;
}

static int
flow_cmp(const void *a, const void *b)
{
	const struct sx_scn_flowrec *x = a, *y = b;

	if (x->at_ns != y->at_ns)
		return x->at_ns < y->at_ns ? -1 : 1;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	if (x->dst != y->dst)
		return x->dst < y->dst ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
sx_scn_flow_add(struct sx_scn *s, const struct sx_flow *f, uint32_t after_seq, uint64_t delay_ns)
{
	int rc = flows_add(s, f);

	if (rc < 0)
		return rc;
	s->flows[s->nflows - 1].after = after_seq;
	s->flows[s->nflows - 1].delay_ns = delay_ns;
	return 0;
}

/* After sorting: `after` from a creation number to an index, and each
 * flow's dependents listed in start order. */
static int
flows_link(struct sx_scn *s)
{
	uint32_t *idx_of = malloc((s->nflows ? s->nflows : 1) * sizeof(*idx_of)), i;

	if (idx_of == NULL)
		return -ENOMEM;
	for (i = 0; i < s->nflows; i++)
		idx_of[s->flows[i].seq] = i;
	for (i = s->nflows; i-- > 0;) {
		struct sx_scn_flowrec *f = &s->flows[i], *pre;

		if (f->after == SCN_NO_FLOW)
			continue;
		f->after = idx_of[f->after];
		pre = &s->flows[f->after];
		f->dep_next = pre->dep_head;
		pre->dep_head = i;
	}
	free(idx_of);
	return 0;
}

/* Every flow of the run, in start order (the generator's and the listed ones). */
static int
flows_build(struct sx_scn *s, FILE *err)
{
	const struct sx_scn_cfg *c = &s->cfg;
	struct sx_wl_cfg wc = c->wl;
	struct sx_workload w;
	struct sx_flow f;
	uint32_t i, *seq_of = NULL; /* generator position -> creation number */
	uint64_t ngen = 0;
	int rc;

	for (i = 0; i < c->nflows; i++) {
		const struct sx_scn_flow_spec *fs = &c->flows[i];

		if (fs->src >= s->nhosts || fs->dst >= s->nhosts) {
			if (err != NULL)
				fprintf(err, "flow %u -> %u: no such host\n", fs->src, fs->dst);
			return -EINVAL;
		}
		f = (struct sx_flow){fs->src, fs->dst, fs->bytes, fs->start_ns,
				     SX_FLOW_INDEPENDENT};
		if ((rc = flows_add(s, &f)) < 0)
			return rc;
		/* explicit flows come first: line k is creation number k - 1 */
		if (fs->after != 0)
			s->flows[s->nflows - 1].after = fs->after - 1;
	}
	if (c->coll.op != SX_COLL_NONE && (rc = sx_scn_coll_flows(s, err)) < 0)
		return rc;
	if (wc.kind == SX_WL_NONE)
		goto sort;
	wc.nhosts = s->nhosts;
	wc.host_rate_bps = c->fab.host_rate_bps;
	wc.seed = c->seed;
	wc.dcs = c->fab.dcs;
	if (wc.kind == SX_WL_CDF) {
		char path[2 * SX_SCN_PATH + 2];

		if (c->cdf_path[0] == '\0' || resolve_cdf(s, path, sizeof(path)) < 0) {
			if (err != NULL)
				fprintf(err, "[workload] cdf = %s: not found beside the config nor in "
					"%s\n", c->cdf_path, c->data_dir);
			return -EINVAL;
		}
		if (sx_cdf_load(&s->cdf, path, err) < 0)
			return -EINVAL;
		wc.cdf = &s->cdf;
		wc.stop_ns = c->duration_ns;
	}
	rc = sx_wl_init(&w, &wc);
	if (rc < 0) {
		if (err != NULL)
			fprintf(err, "workload %s: bad parameters\n", sx_wl_kind_name(wc.kind));
		return rc;
	}
	for (; sx_wl_next(&w, &f); ngen++) {
		if ((ngen & (ngen - 1)) == 0) {
			uint32_t *ns = realloc(seq_of, (ngen ? 2 * ngen : 1) * sizeof(*seq_of));

			if (ns == NULL) {
				rc = -ENOMEM;
				break;
			}
			seq_of = ns;
		}
		seq_of[ngen] = SCN_NO_FLOW;
		/* a flow released by one that never runs never runs either */
		if (f.start_ns >= c->duration_ns ||
		    (f.after != SX_FLOW_INDEPENDENT && seq_of[f.after - 1] == SCN_NO_FLOW))
			continue;
		if ((rc = flows_add(s, &f)) < 0)
			break;
		seq_of[ngen] = s->nflows - 1;
		if (f.after != SX_FLOW_INDEPENDENT)
			s->flows[s->nflows - 1].after = seq_of[f.after - 1];
	}
	sx_wl_fini(&w);
	free(seq_of);
	if (rc == -E2BIG && err != NULL)
		fprintf(err,
			"workload %s: more than %u flows in %.3f us; lower the load or "
			"duration_us, or set [workload] max_flows\n",
			sx_wl_kind_name(wc.kind), SCN_MAX_FLOWS, (double)c->duration_ns / 1e3);
	if (rc < 0)
		return rc;
sort:
	/* stable order for equal starts: the ids are the sorted positions */
	if (s->nflows > 0) /* no flows, no array: qsort() wants one */
		qsort(s->flows, s->nflows, sizeof(*s->flows), flow_cmp);
	return flows_link(s);
}

struct sx_scn *
sx_scn_create(const struct sx_scn_cfg *cfg, FILE *err)
{
	struct sx_scn *s = calloc(1, sizeof(*s));
	struct sx_fabric_hooks hooks;
	uint64_t max_bytes = 0, t0_ps = SCN_T0_NS * SX_PS_PER_NS;
	uint32_t i;
	int rc;

	if (s == NULL)
		return NULL;
	if (sx_scn_check(cfg, err) < 0) {
		free(s);
		return NULL;
	}
	s->cfg = *cfg;
	s->err = err;
	/* the flow list stays the caller's; keep a copy */
	s->cfg.flows = NULL;
	if (cfg->nflows) {
		s->cfg.flows = malloc(cfg->nflows * sizeof(*cfg->flows));
		if (s->cfg.flows == NULL)
			goto fail;
		memcpy(s->cfg.flows, cfg->flows, cfg->nflows * sizeof(*cfg->flows));
	}
	s->cfg.fab.seed = cfg->seed;
	if (s->cfg.window_ns == 0)
		s->cfg.window_ns = s->cfg.duration_ns / 2;
	s->cc_on = cfg->cc[0] != '\0' && strcmp(cfg->cc, "none") != 0;
	if (s->cfg.fab.leaves == 1 && s->cfg.fab.dcs == 1)
		s->cfg.fab.spines = 0;
	sx_rng_seed(&s->psn_rng, cfg->seed ^ 0x9517);
	if (sx_sched_init(&s->sched, t0_ps) < 0)
		goto fail;
	s->pool = sx_sim_pool_create(cfg->mtu + SX_FRAME_HDR_ROOM);
	if (s->pool == NULL)
		goto fail;
	hooks = (struct sx_fabric_hooks){
		.deliver = fab_deliver, .tx_room = fab_tx_room, .tx_start = fab_tx_start, .arg = s};
	rc = sx_fabric_init(&s->fab, &s->cfg.fab, &s->sched, s->pool, &hooks);
	if (rc < 0) {
		if (err != NULL)
			fprintf(err, "topology: %s (several DCs need spines; PFC needs xon <= xoff)\n",
				strerror(-rc));
		goto fail;
	}
	s->nhosts = s->fab.nhosts;
	if (flows_build(s, err) < 0)
		goto fail;
	for (i = 0; i < s->nflows; i++) {
		if (s->flows[i].bytes > max_bytes)
			max_bytes = s->flows[i].bytes;
	}
	if (!cfg->verify && payload_regions(s, max_bytes) < 0) {
		if (err != NULL)
			fprintf(err, "payload regions: %s\n", strerror(errno));
		goto fail;
	}
	s->pair_of = calloc((size_t)s->nhosts * s->nhosts, sizeof(*s->pair_of));
	s->hosts = calloc(s->nhosts, sizeof(*s->hosts));
	if (s->pair_of == NULL || s->hosts == NULL) {
		if (err != NULL)
			fprintf(err, "%u hosts: no memory for their pair table (%llu bytes)\n",
				s->nhosts,
				(unsigned long long)s->nhosts * s->nhosts * sizeof(*s->pair_of));
		goto fail;
	}
	for (i = 0; i < s->nhosts; i++) {
		if (host_init(s, &s->hosts[i], i, err) < 0)
			goto fail;
	}
	if (s->cfg.gw && sx_scn_gw_create(s, err) < 0)
		goto fail;
	for (i = 0; i < s->cfg.nevents; i++) {
		const struct sx_scn_link_event *e = &s->cfg.events[i];
		struct sx_fab_link *l = sx_fabric_link(&s->fab, e->link);
		uint64_t at = t0_ps + e->at_ns * SX_PS_PER_NS;

		if (l == NULL) {
			if (err != NULL)
				fprintf(err,
					"[fault] %s: no link %s in this fabric (names: h3-l0, "
					"l0-s1, s1-b0, b0-b1; '>' for one direction)\n",
					e->rate_bps ? "rate" : "fail", e->link);
			goto fail;
		}
		rc = e->rate_bps ? sx_fabric_rate_at(&s->fab, l, at, e->rate_bps)
				 : sx_fabric_fail_at(&s->fab, l, at);
		if (rc < 0)
			goto fail;
	}
	for (i = 0; i < s->nflows; i++) {
		if (s->flows[i].after == SCN_NO_FLOW)
			push(s, t0_ps + s->flows[i].at_ns * SX_PS_PER_NS, SX_EV_FLOW_START, i);
	}
	push(s, t0_ps + s->cfg.window_ns * SX_PS_PER_NS, SX_EV_WINDOW, 0);
	push(s, t0_ps + s->cfg.duration_ns * SX_PS_PER_NS, SX_EV_END, 0);
	if (s->cfg.series)
		push(s, t0_ps + s->cfg.sample_ns * SX_PS_PER_NS, SX_EV_SAMPLE, 0);
	s->res.flows = s->nflows;
	return s;
fail:
	sx_scn_destroy(s);
	return NULL;
}

/* Bytes of pair @p p acknowledged so far: its finished flows plus what the
 * oldest outstanding WRITE has had acknowledged. */
uint64_t
sx_scn_pair_acked(const struct sx_scn *s, const struct sx_pair *p)
{
	const struct sx_qp *qp = p->sq;
	uint64_t b = p->done_bytes;

	(void)s;
	if (qp->sq_head != qp->sq_tail) {
		const struct sx_wqe *w = sx_sq_at(qp, qp->sq_head);
		uint64_t pkts = sx_psn_fwd(w->first_psn, qp->snd_una);

		if (!w->done && pkts < w->npkts)
			b += pkts * qp->mtu < w->length ? pkts * qp->mtu : w->length;
	}
	return b;
}

int
sx_scn_run(struct sx_scn *s)
{
	uint64_t end_ps = (SCN_T0_NS + s->cfg.duration_ns + s->cfg.drain_ns) * SX_PS_PER_NS;
	struct sx_sim_event ev;

	while (sx_sched_peek(&s->sched) <= end_ps && sx_sched_pop(&s->sched, &ev)) {
		s->res.events++;
		switch (ev.type) {
		case SX_EV_HOST_WAKE: {
			struct sx_host *h = &s->hosts[ev.idx];

			if (h->wake_ps != ev.at_ps)
				break; /* superseded by an earlier wake */
			h->wake_ps = UINT64_MAX;
			host_step(s, h);
			break;
		}
		case SX_EV_TXDONE:
		case SX_EV_ARRIVE:
		case SX_EV_LINK_CHANGE:
		case SX_EV_PFC:
			sx_fabric_event(&s->fab, &ev);
			break;
		case SX_EV_FLOW_START:
			flow_start(s, ev.idx);
			break;
		case SX_EV_SAMPLE:
			sx_scn_sample(s);
			push(s, ev.at_ps + s->cfg.sample_ns * SX_PS_PER_NS, SX_EV_SAMPLE, 0);
			break;
		case SX_EV_WINDOW:
			sx_scn_window(s, false);
			break;
		case SX_EV_END:
			sx_scn_window(s, true);
			s->ended = true;
			break;
		default:
			break;
		}
		/* after the measured duration, stop once every flow is done */
		if (s->ended && s->done == s->nflows)
			break;
	}
	if (!s->ended) {
		sx_scn_window(s, true);
		s->ended = true;
	}
	s->res.end_ns = s->sched.now_ps / SX_PS_PER_NS - SCN_T0_NS;
	sx_scn_finish(s);
	return s->res.invariants_broken ? -ERANGE : 0;
}

const struct sx_scn_result *
sx_scn_result(const struct sx_scn *s)
{
	return &s->res;
}

void
sx_scn_destroy(struct sx_scn *s)
{
	uint32_t i;

	if (s == NULL)
		return;
	sx_scn_gw_destroy(s);
	for (i = 0; i < s->npairs; i++) {
		sx_destroy_qp(s->pairs[i]->sq);
		sx_destroy_qp(s->pairs[i]->rq);
		free(s->pairs[i]);
	}
	free(s->pairs);
	for (i = 0; i < s->nflows; i++) {
		struct sx_scn_flowrec *f = &s->flows[i];

		if (f->src_mr)
			sx_dereg_mr(f->src_mr);
		if (f->dst_mr)
			sx_dereg_mr(f->dst_mr);
		free(f->src_buf);
		free(f->dst_buf);
	}
	for (i = 0; s->hosts != NULL && i < s->nhosts; i++) {
		if (s->hosts[i].port != NULL)
			host_fini(&s->hosts[i]);
	}
	sx_fabric_fini(&s->fab);
	free(s->hosts);
	free(s->pair_of);
	free(s->flows);
	if (s->src_region)
		munmap(s->src_region, s->region_len);
	if (s->sink_region)
		munmap(s->sink_region, s->region_len);
	sx_sim_pool_destroy(s->pool);
	sx_sched_fini(&s->sched);
	sx_cdf_free(&s->cdf);
	free(s->link_busy_win1);
	free(s->link_drops_win1);
	free(s->series_q);
	free(s->series_r);
	free(s->cfg.flows);
	sx_scn_coll_free(s);
	free(s);
}
