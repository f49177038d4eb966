/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fabric: output-queued switches on one or more leaf-spines (joined by
 * border switches and WAN cables), with optional PFC, driven by the
 * scheduler. A frame costs two events per hop at most: its arrival at the
 * far end of a link, and (only when frames wait behind it) the end of its
 * serialization, when the next one starts.
 *
 * Units: time in ps, rates in bit/s, sizes in bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scalex/wire.h>

#include "fabric.h"

_Static_assert(sizeof(struct sx_fab_pkt) <= SX_SIM_META_BYTES, "packet meta too large");

static const char *const link_kind_names[SX_LINK_KINDS] = {
	[SX_LINK_HOST_UP] = "host_up",
	[SX_LINK_LEAF_DOWN] = "leaf_down",
	[SX_LINK_LEAF_UP] = "leaf_up",
	[SX_LINK_SPINE_DOWN] = "spine_down",
	[SX_LINK_SPINE_UP] = "spine_up",
	[SX_LINK_BORDER_DOWN] = "border_down",
	[SX_LINK_WAN] = "wan",
};

static const char *const drop_names[SX_DROP_MAX] = {
	[SX_DROP_TAIL] = "tail",
	[SX_DROP_DOWN] = "link_down",
	[SX_DROP_LOSS] = "loss",
	[SX_DROP_NOROUTE] = "no_route",
};

const char *
sx_link_kind_name(enum sx_link_kind k)
{
	return k < SX_LINK_KINDS ? link_kind_names[k] : "invalid";
}

const char *
sx_drop_name(enum sx_drop d)
{
	return d < SX_DROP_MAX ? drop_names[d] : "invalid";
}

uint32_t
sx_fabric_host_of_ip(const uint8_t *ip4)
{
	uint32_t v = (uint32_t)ip4[1] << 16 | (uint32_t)ip4[2] << 8 | ip4[3];

	if (ip4[0] != 10 || v == 0)
		return UINT32_MAX;
	return v - 1;
}

void
sx_fabric_ip_of_host(uint32_t h, uint8_t ip[16])
{
	uint32_t v = h + 1;

	memset(ip, 0, 16);
	ip[0] = 10;
	ip[1] = (uint8_t)(v >> 16);
	ip[2] = (uint8_t)(v >> 8);
	ip[3] = (uint8_t)v;
}

static void
node_name(const struct sx_fab_node *n, char *buf, size_t len)
{
	static const char kind[] = {'h', 'l', 's', 'b'};

	snprintf(buf, len, "%c%u", kind[n->kind], n->index);
}

static struct sx_fab_node *
host_node(struct sx_fabric *fab, uint32_t h)
{
	return &fab->nodes[h];
}

static struct sx_fab_node *
leaf_node(struct sx_fabric *fab, uint32_t l)
{
	return &fab->nodes[fab->nhosts + l];
}

static struct sx_fab_node *
spine_node(struct sx_fabric *fab, uint32_t s)
{
	return &fab->nodes[fab->nhosts + fab->nleaves + s];
}

static struct sx_fab_node *
border_node(struct sx_fabric *fab, uint32_t d)
{
	return &fab->nodes[fab->nhosts + fab->nleaves + fab->nspines + d];
}

/* A border's port to the WAN cable towards DC @p to. */
static uint32_t
wan_port(const struct sx_fabric *fab, uint32_t from, uint32_t to)
{
	return fab->cfg.spines + (to < from ? to : to - 1);
}

static void
link_setup(struct sx_fabric *fab, struct sx_fab_link *l, enum sx_link_kind kind,
	   struct sx_fab_node *from, struct sx_fab_node *to, uint32_t port)
{
	const struct sx_fabric_cfg *c = &fab->cfg;
	char a[12], b[12];
	bool host_side = kind == SX_LINK_HOST_UP || kind == SX_LINK_LEAF_DOWN;
	bool wan = kind == SX_LINK_WAN;

	l->id = (uint32_t)(l - fab->links);
	l->kind = kind;
	l->from = from;
	l->to = to;
	node_name(from, a, sizeof(a));
	node_name(to, b, sizeof(b));
	snprintf(l->name, sizeof(l->name), "%s>%s", a, b);
	l->rate_bps = host_side ? c->host_rate_bps : wan ? c->wan_rate_bps : c->fabric_rate_bps;
	l->delay_ps = (host_side ? c->host_delay_ns : wan ? c->wan_delay_ns : c->fabric_delay_ns) *
		      SX_PS_PER_NS;
	l->up = true;
	l->routed = true;
	l->loss = c->loss;
	l->reorder = c->reorder;
	if (kind == SX_LINK_HOST_UP) {
		l->cap_frames = c->nic_ring_frames;
	} else {
		l->buffer_bytes = c->buffer_bytes;
		l->ecn = c->ecn;
	}
	from->out[port] = l;
}

/* Recompute every leaf's and border's ECMP sets from what the routing
 * knows. A leaf's set for another leaf of its DC holds the spines with both
 * cables routed; its last set (the border) the spines whose cable to the
 * border is. A border's set for a leaf holds the spines it can reach the
 * leaf through. */
static void
routes_update(struct sx_fabric *fab)
{
	const struct sx_fabric_cfg *c = &fab->cfg;
	uint32_t l, d, s, b;

	for (l = 0; l < fab->nleaves; l++) {
		struct sx_fab_node *leaf = leaf_node(fab, l);
		uint32_t s0 = leaf->dc * c->spines;

		for (d = 0; d <= c->leaves; d++) {
			uint16_t n = 0;

			if (d == c->leaves && c->dcs == 1)
				break;
			for (s = 0; s < c->spines; s++) {
				struct sx_fab_link *up = leaf->out[c->hosts_per_leaf + s];
				struct sx_fab_link *down = spine_node(fab, s0 + s)->out[d];

				if (up->routed && down->routed)
					leaf->ecmp[d * c->spines + n++] = (uint16_t)(c->hosts_per_leaf + s);
			}
			leaf->necmp[d] = n;
		}
	}
	for (b = 0; c->dcs > 1 && b < c->dcs; b++) {
		struct sx_fab_node *border = border_node(fab, b);

		for (d = 0; d < c->leaves; d++) {
			uint16_t n = 0;

			for (s = 0; s < c->spines; s++) {
				struct sx_fab_link *down = border->out[s];
				struct sx_fab_link *leafward = spine_node(fab, b * c->spines + s)->out[d];

				if (down->routed && leafward->routed)
					border->ecmp[d * c->spines + n++] = (uint16_t)s;
			}
			border->necmp[d] = n;
		}
	}
}

int
sx_fabric_init(struct sx_fabric *fab, const struct sx_fabric_cfg *cfg, struct sx_sched *sched,
	       struct sx_sim_pool *pool, const struct sx_fabric_hooks *hooks)
{
	const struct sx_fabric_cfg *c;
	uint32_t h, l, s, nl = 0, i, d, e, nborders;
	struct sx_rng salts;

	memset(fab, 0, sizeof(*fab));
	if (cfg->hosts_per_leaf == 0 || cfg->leaves == 0 || cfg->dcs == 0 || cfg->dcs > 64 ||
	    ((cfg->leaves > 1 || cfg->dcs > 1) && cfg->spines == 0) || cfg->host_rate_bps == 0 ||
	    (cfg->spines && cfg->fabric_rate_bps == 0) || (cfg->dcs > 1 && cfg->wan_rate_bps == 0) ||
	    cfg->nic_ring_frames == 0 || cfg->buffer_bytes == 0 || cfg->hosts_per_leaf > 4096 ||
	    cfg->spines > 4096 ||
	    (uint64_t)cfg->hosts_per_leaf * cfg->leaves * cfg->dcs >= (1u << 24) - 1 ||
	    (cfg->pfc && cfg->pfc_xon_bytes > cfg->pfc_xoff_bytes))
		return -EINVAL;
	fab->cfg = *cfg;
	c = &fab->cfg;
	fab->sched = sched;
	fab->pool = pool;
	fab->hooks = *hooks;
	sx_rng_seed(&fab->rng, c->seed ^ 0xfab1c0de);
	sx_rng_seed(&salts, c->seed ^ 0x5a175a17);
	fab->hosts_per_dc = c->hosts_per_leaf * c->leaves;
	fab->nhosts = fab->hosts_per_dc * c->dcs;
	fab->nleaves = c->leaves * c->dcs;
	fab->nspines = c->spines * c->dcs;
	nborders = c->dcs > 1 ? c->dcs : 0;
	fab->nnodes = fab->nhosts + fab->nleaves + fab->nspines + nborders;
	/* a cable per host, one per leaf-spine pair, one per spine-border
	 * pair, one per border pair; two directions each */
	fab->nlinks = 2 * (fab->nhosts + fab->nleaves * c->spines);
	if (nborders)
		fab->nlinks += 2 * (fab->nspines + c->dcs * (c->dcs - 1) / 2);
	fab->nodes = calloc(fab->nnodes, sizeof(*fab->nodes));
	fab->links = calloc(fab->nlinks, sizeof(*fab->links));
	fab->host_up = calloc(fab->nhosts, sizeof(*fab->host_up));
	if (fab->nodes == NULL || fab->links == NULL || fab->host_up == NULL)
		goto nomem;
	for (i = 0; i < fab->nnodes; i++) {
		struct sx_fab_node *n = &fab->nodes[i];

		if (i < fab->nhosts) {
			n->kind = SX_NODE_HOST;
			n->index = i;
			n->dc = i / fab->hosts_per_dc;
			n->nout = 1;
		} else if (i < fab->nhosts + fab->nleaves) {
			n->kind = SX_NODE_LEAF;
			n->index = i - fab->nhosts;
			n->dc = n->index / c->leaves;
			n->nout = c->hosts_per_leaf + c->spines;
		} else if (i < fab->nhosts + fab->nleaves + fab->nspines) {
			n->kind = SX_NODE_SPINE;
			n->index = i - fab->nhosts - fab->nleaves;
			n->dc = n->index / c->spines;
			n->nout = c->leaves + (nborders ? 1 : 0);
		} else {
			n->kind = SX_NODE_BORDER;
			n->index = i - fab->nhosts - fab->nleaves - fab->nspines;
			n->dc = n->index;
			n->nout = c->spines + c->dcs - 1;
		}
		if (n->kind == SX_NODE_LEAF || n->kind == SX_NODE_BORDER) {
			n->ecmp = calloc((size_t)(c->leaves + 1) * (c->spines ? c->spines : 1),
					 sizeof(*n->ecmp));
			n->necmp = calloc(c->leaves + 1, sizeof(*n->necmp));
			if (n->ecmp == NULL || n->necmp == NULL)
				goto nomem;
		}
		n->salt = sx_rng_next(&salts);
		n->out = calloc(n->nout, sizeof(*n->out));
		if (n->out == NULL)
			goto nomem;
	}
	for (h = 0; h < fab->nhosts; h++) {
		/* leaves are numbered across DCs, as hosts are */
		struct sx_fab_node *leaf = leaf_node(fab, h / c->hosts_per_leaf);

		link_setup(fab, &fab->links[nl++], SX_LINK_HOST_UP, host_node(fab, h), leaf, 0);
		link_setup(fab, &fab->links[nl++], SX_LINK_LEAF_DOWN, leaf, host_node(fab, h),
			   h % c->hosts_per_leaf);
		fab->host_up[h] = host_node(fab, h)->out[0];
	}
	for (l = 0; l < fab->nleaves; l++) {
		uint32_t s0 = leaf_node(fab, l)->dc * c->spines;

		for (s = 0; s < c->spines; s++) {
			link_setup(fab, &fab->links[nl++], SX_LINK_LEAF_UP, leaf_node(fab, l),
				   spine_node(fab, s0 + s), c->hosts_per_leaf + s);
			link_setup(fab, &fab->links[nl++], SX_LINK_SPINE_DOWN,
				   spine_node(fab, s0 + s), leaf_node(fab, l), l % c->leaves);
		}
	}
	for (s = 0; s < fab->nspines && nborders; s++) {
		struct sx_fab_node *b = border_node(fab, s / c->spines);

		link_setup(fab, &fab->links[nl++], SX_LINK_SPINE_UP, spine_node(fab, s), b,
			   c->leaves);
		link_setup(fab, &fab->links[nl++], SX_LINK_BORDER_DOWN, b, spine_node(fab, s),
			   s % c->spines);
	}
	for (d = 0; d < nborders; d++) {
		for (e = d + 1; e < nborders; e++) {
			link_setup(fab, &fab->links[nl++], SX_LINK_WAN, border_node(fab, d),
				   border_node(fab, e), wan_port(fab, d, e));
			link_setup(fab, &fab->links[nl++], SX_LINK_WAN, border_node(fab, e),
				   border_node(fab, d), wan_port(fab, e, d));
		}
	}
	for (i = 0; i < fab->nlinks; i++) {
		if (fab->links[i].kind == SX_LINK_HOST_UP)
			continue;
		fab->links[i].qhist = calloc(1, sizeof(struct sx_hist));
		fab->links[i].qhist_win = calloc(1, sizeof(struct sx_hist));
		if (fab->links[i].qhist == NULL || fab->links[i].qhist_win == NULL)
			goto nomem;
	}
	routes_update(fab);
	return 0;
nomem:
	sx_fabric_fini(fab);
	return -ENOMEM;
}

static void
pkt_free(struct sx_fabric *fab, struct sx_fab_pkt *p)
{
	struct sx_frame f;

	sx_sim_frame_from_meta(p, &f);
	sx_sim_frame_free(fab->pool, &f);
}

void
sx_fabric_fini(struct sx_fabric *fab)
{
	uint32_t i;

	for (i = 0; fab->links != NULL && i < fab->nlinks; i++) {
		struct sx_fab_link *l = &fab->links[i];

		while (l->head != NULL) {
			struct sx_fab_pkt *p = l->head;

			l->head = p->next;
			pkt_free(fab, p);
		}
		free(l->qhist);
		free(l->qhist_win);
	}
	for (i = 0; fab->nodes != NULL && i < fab->nnodes; i++) {
		free(fab->nodes[i].out);
		free(fab->nodes[i].ecmp);
		free(fab->nodes[i].necmp);
	}
	free(fab->nodes);
	free(fab->links);
	free(fab->host_up);
	free(fab->changes);
	fab->nodes = NULL;
	fab->links = NULL;
}

static void
drop(struct sx_fabric *fab, struct sx_fab_link *l, struct sx_fab_pkt *p, enum sx_drop why)
{
	l->drop[why]++;
	fab->drop[why]++;
	pkt_free(fab, p);
}

static void
push(struct sx_fabric *fab, uint64_t at_ps, enum sx_sim_ev type, uint32_t idx, void *ptr)
{
	/* Out of memory for the event heap: nothing sensible remains. */
	if (sx_sched_push(fab->sched, at_ps, type, idx, ptr) < 0)
		abort();
}

/* RED on the instant queue: no mark below Kmin, always above Kmax, and a
 * probability rising linearly to Pmax in between (DCQCN, SIGCOMM'15 3.1). */
static void
mark_ce(struct sx_fabric *fab, struct sx_fab_link *l, struct sx_fab_pkt *p)
{
	/* rewrites the ECN bits and the IPv4 checksum; the ICRC masks both */
	sx_ip_set_ecn(p->data + SX_ETH_HLEN, SX_ECN_CE);
	p->ect = 0; /* marked once */
	l->ecn_marked++;
	fab->ecn_marked++;
}

/* PFC: a pause (XOFF) or resume (XON) for @p in's sender, which takes
 * effect there one propagation delay later (802.1Qbb frames are 64 bytes;
 * their serialization on the reverse link is not modelled). */
static void
pfc_hold(struct sx_fabric *fab, struct sx_fab_link *in, uint32_t len, uint64_t now)
{
	in->ingress_bytes += len;
	if (!in->pause_sent && in->ingress_bytes > fab->cfg.pfc_xoff_bytes) {
		in->pause_sent = true;
		if (sx_sched_push(fab->sched, now + in->delay_ps, SX_EV_PFC, 1, in) < 0)
			abort();
	}
}

static void
pfc_release(struct sx_fabric *fab, struct sx_fab_link *in, uint32_t len, uint64_t now)
{
	in->ingress_bytes -= len;
	if (in->pause_sent && in->ingress_bytes < fab->cfg.pfc_xon_bytes) {
		in->pause_sent = false;
		if (sx_sched_push(fab->sched, now + in->delay_ps, SX_EV_PFC, 0, in) < 0)
			abort();
	}
}

/* A frame held at a switch came in on p->link; from a host it has none. */
static bool
held_at_switch(const struct sx_fabric *fab, const struct sx_fab_link *l)
{
	return fab->cfg.pfc && l->from->kind != SX_NODE_HOST;
}

/* INT: a switch egress port's hop record, as the frame leaves (no-op for
 * frames that reserved no slot, echoes, and full stacks). */
static void
int_stamp(struct sx_fab_link *l, struct sx_fab_pkt *p, uint64_t now)
{
	struct sx_int_hop h = {
		.rate_bps = l->rate_bps,
		.ts_ns = now / 1000,
		.tx_bytes = l->tx_bytes,
		.qlen_bytes = l->qbytes,
	};

	if (sx_int_stamp(p->data, p->len, &h) == 0)
		l->int_stamped++;
}

/* Put the head of @p l's queue on the wire at @p now. */
static void
link_start(struct sx_fabric *fab, struct sx_fab_link *l, uint64_t now)
{
	struct sx_fab_pkt *p = l->head;
	uint64_t end;

	/* most frames are as long as the last one (a division saved) */
	if (p->len != l->ser_len) {
		l->ser_len = p->len;
		l->ser_ps = sx_fab_ser_ps(l, p->len, fab->cfg.wire_overhead_bytes);
	}
	/* one frame at a time: a start before the last one ended would send
	 * faster than the line rate */
	if (now < l->busy_until_ps)
		fab->overruns++;
	end = now + l->ser_ps;
	l->busy_ps += l->ser_ps;
	if (l->kind == SX_LINK_HOST_UP && fab->hooks.tx_start != NULL)
		fab->hooks.tx_start(fab->hooks.arg, l->from->index, p->dst, p->data, p->len);

	l->head = p->next;
	if (l->head == NULL)
		l->tail = NULL;
	else
		__builtin_prefetch(l->head); /* the next frame, started next */
	l->qbytes -= p->len;
	l->qpkts--;
	if (held_at_switch(fab, l))
		pfc_release(fab, p->link, p->len, now);
	if (l->ecn && fab->cfg.ecn_dequeue && p->ect &&
	    sx_red_mark(&fab->cfg, l->rate_bps, l->qbytes, &fab->rng))
		mark_ce(fab, l, p);
	l->busy_until_ps = end;
	l->tx_pkts++;
	l->tx_bytes += p->len;
	if (fab->cfg.int_stamp && l->from->kind != SX_NODE_HOST)
		int_stamp(l, p, now);
	p->link = l;
	if (l->reorder > 0 && sx_rng_double(&fab->rng) < l->reorder) {
		/* Reordering: this frame arrives 1-3 frame times late, after
		 * frames sent behind it (no draw at all when reorder is 0). */
		uint64_t ser = end - now;

		fab->reordered++;
		push(fab, end + l->delay_ps + ser * (1 + (uint64_t)(sx_rng_double(&fab->rng) * 3)),
		     SX_EV_ARRIVE, l->id, p);
	} else {
		push(fab, end + l->delay_ps, SX_EV_ARRIVE, l->id, p);
	}
	if (l->head != NULL) {
		push(fab, end, SX_EV_TXDONE, 0, l);
		l->txdone_pending = true;
	}
	/* A host refused by its full ring resumes at half a ring. */
	if (l->host_blocked && l->qpkts <= l->cap_frames / 2) {
		l->host_blocked = false;
		fab->hooks.tx_room(fab->hooks.arg, l->from->index);
	}
}

/* Enqueue at a switch port (false: dropped). */
static bool
link_enqueue(struct sx_fabric *fab, struct sx_fab_link *l, struct sx_fab_pkt *p, uint64_t now)
{
	if (!l->up) {
		drop(fab, l, p, SX_DROP_DOWN);
		return false;
	}
	if (l->cap_frames == 0) {
		if (l->qhist != NULL) {
			sx_hist_add(l->qhist, l->qbytes);
			if (fab->in_window) {
				sx_hist_add(l->qhist_win, l->qbytes);
				if (l->qbytes > l->qmax_win)
					l->qmax_win = l->qbytes;
			}
		}
		if (l->qbytes + p->len > l->buffer_bytes) {
			drop(fab, l, p, SX_DROP_TAIL);
			return false;
		}
		if (l->ecn && !fab->cfg.ecn_dequeue && p->ect &&
		    sx_red_mark(&fab->cfg, l->rate_bps, l->qbytes, &fab->rng))
			mark_ce(fab, l, p);
		if (held_at_switch(fab, l))
			pfc_hold(fab, p->link, p->len, now);
	}
	p->next = NULL;
	if (l->tail != NULL)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	l->qbytes += p->len;
	l->qpkts++;
	if (!l->txdone_pending && !l->paused) {
		if (l->busy_until_ps <= now) {
			link_start(fab, l, now);
		} else {
			push(fab, l->busy_until_ps, SX_EV_TXDONE, 0, l);
			l->txdone_pending = true;
		}
	}
	return true;
}

/* Hash the 5-tuple (addresses, protocol, ports) of an IPv4 or IPv6 frame. */
static bool
classify(struct sx_fab_pkt *p)
{
	const uint8_t *d = p->data;
	uint64_t h;
	uint16_t et;

	if (p->len < SX_ETH_HLEN + SX_IPV4_HLEN + SX_UDP_HLEN)
		return false;
	et = (uint16_t)(d[12] << 8 | d[13]);
	if (et == SX_ETHERTYPE_IPV4) {
		const uint8_t *ip = d + SX_ETH_HLEN;
		uint32_t src, dst, ports;

		memcpy(&src, ip + 12, 4);
		memcpy(&dst, ip + 16, 4);
		memcpy(&ports, ip + 20, 4); /* no IP options: the engine sends none */
		h = sx_mix64((uint64_t)src << 32 | dst) ^ sx_mix64((uint64_t)ports << 8 | ip[9]);
		p->ect = (ip[1] & 3) != SX_ECN_NOT_ECT;
		p->dst = sx_fabric_host_of_ip(ip + 16);
	} else if (et == SX_ETHERTYPE_IPV6 &&
		   p->len >= SX_ETH_HLEN + SX_IPV6_HLEN + SX_UDP_HLEN) {
		const uint8_t *ip = d + SX_ETH_HLEN;
		uint64_t a[4];
		uint32_t ports;

		memcpy(a, ip + 8, 32);
		memcpy(&ports, ip + 40, 4);
		h = sx_mix64(a[0] ^ sx_mix64(a[1] ^ sx_mix64(a[2] ^ sx_mix64(a[3])))) ^
		    sx_mix64((uint64_t)ports << 8 | ip[6]);
		p->ect = ((ip[1] >> 4) & 3) != SX_ECN_NOT_ECT;
		/* fd00::10.a.b.c style: the low four bytes as an IPv4 address */
		p->dst = sx_fabric_host_of_ip(ip + 24 + 12);
	} else {
		return false;
	}
	p->hash = (uint32_t)(h ^ (h >> 32));
	return true;
}

uint32_t
sx_fabric_host_room(struct sx_fabric *fab, uint32_t h)
{
	struct sx_fab_link *l = fab->host_up[h];

	/* none: the host is told when there is (tx_room at half a ring) */
	if (l->paused || l->qpkts >= l->cap_frames) {
		l->host_blocked = true;
		return 0;
	}
	return l->cap_frames - l->qpkts;
}

bool
sx_fabric_host_tx(struct sx_fabric *fab, uint32_t h, struct sx_frame *f)
{
	struct sx_fab_link *l = fab->host_up[h];
	struct sx_fab_pkt *p = sx_sim_frame_meta(f);

	/* A paused NIC takes no frames, as a full one (802.1Qbb: the MAC
	 * stops the priority's transmit queue). */
	if (l->paused || l->qpkts >= l->cap_frames) {
		l->host_blocked = true;
		return false;
	}
	p->link = NULL;
	p->data = f->data;
	p->len = f->len;
	p->src = h;
	if (!classify(p) || p->dst >= fab->nhosts) {
		/* Not routable: taken and lost, as a switch would drop it. */
		drop(fab, l, p, SX_DROP_NOROUTE);
		return true;
	}
	link_enqueue(fab, l, p, fab->sched->now_ps);
	return true;
}

static void
arrive(struct sx_fabric *fab, struct sx_fab_link *in, struct sx_fab_pkt *p, uint64_t now)
{
	struct sx_fab_node *n = in->to;
	const struct sx_fabric_cfg *c = &fab->cfg;
	struct sx_fab_link *out;
	uint32_t dleaf, ddc, dl, k;
	uint64_t hh;

	fab->hops++;
	if (!in->up) {
		drop(fab, in, p, SX_DROP_DOWN);
		return;
	}
	if (in->loss > 0 && sx_rng_double(&fab->rng) < in->loss) {
		drop(fab, in, p, SX_DROP_LOSS);
		return;
	}
	switch (n->kind) {
	case SX_NODE_HOST: {
		struct sx_frame f;

		sx_sim_frame_from_meta(p, &f);
		fab->pkts_delivered++;
		fab->bytes_delivered += p->len;
		fab->hooks.deliver(fab->hooks.arg, n->index, &f);
		return;
	}
	default:
		break;
	}
	dleaf = p->dst / c->hosts_per_leaf;
	ddc = p->dst / fab->hosts_per_dc;
	dl = dleaf % c->leaves; /* within its DC */
	switch (n->kind) {
	case SX_NODE_LEAF:
		if (dleaf == n->index) {
			out = n->out[p->dst % c->hosts_per_leaf];
			break;
		}
		/* to a leaf of this DC, or up towards the border */
		if (ddc != n->dc)
			dl = c->leaves;
		/* fall through */
	case SX_NODE_BORDER:
		if (n->kind == SX_NODE_BORDER && ddc != n->dc) {
			out = n->out[wan_port(fab, n->dc, ddc)];
			break;
		}
		k = n->necmp[dl];
		if (k == 0) {
			drop(fab, in, p, SX_DROP_NOROUTE);
			return;
		}
		hh = sx_mix64(p->hash ^ n->salt);
		out = n->out[n->ecmp[dl * c->spines + (uint32_t)((hh >> 32) * k >> 32)]];
		break;
	case SX_NODE_SPINE:
		out = n->out[ddc == n->dc ? dl : c->leaves];
		break;
	default:
		abort();
	}
	link_enqueue(fab, out, p, now);
}

static struct sx_fab_link *
reverse_of(struct sx_fabric *fab, struct sx_fab_link *l)
{
	/* links are set up in pairs: forward at an even index, reverse next */
	return &fab->links[l->id ^ 1];
}

static void
link_fail(struct sx_fabric *fab, struct sx_fab_link *l)
{
	l->up = false;
	/* What waits in the queue is lost; the frame on the wire is lost on
	 * arrival. */
	while (l->head != NULL) {
		struct sx_fab_pkt *p = l->head;

		l->head = p->next;
		l->qbytes -= p->len;
		l->qpkts--;
		if (held_at_switch(fab, l))
			pfc_release(fab, p->link, p->len, fab->sched->now_ps);
		drop(fab, l, p, SX_DROP_DOWN);
	}
	l->tail = NULL;
}

/* A pause or resume reaches the sender of @p l. */
static void
pfc_apply(struct sx_fabric *fab, struct sx_fab_link *l, bool pause, uint64_t now)
{
	if (pause == l->paused)
		return;
	l->paused = pause;
	if (pause) {
		l->pfc_pauses++;
		l->paused_since_ps = now;
		fab->pfc_pauses++;
		if (l->from->kind == SX_NODE_HOST)
			fab->pfc_pauses_host++;
		return;
	}
	l->paused_ps += now - l->paused_since_ps;
	if (l->head != NULL && !l->txdone_pending) {
		if (l->busy_until_ps <= now) {
			link_start(fab, l, now);
		} else {
			push(fab, l->busy_until_ps, SX_EV_TXDONE, 0, l);
			l->txdone_pending = true;
		}
	}
	/* a host refused while paused, its ring not full: it may send again */
	if (l->host_blocked && l->qpkts <= l->cap_frames / 2) {
		l->host_blocked = false;
		fab->hooks.tx_room(fab->hooks.arg, l->from->index);
	}
}

uint64_t
sx_fabric_paused_ps(const struct sx_fabric *fab, const struct sx_fab_link *l)
{
	return l->paused_ps + (l->paused ? fab->sched->now_ps - l->paused_since_ps : 0);
}

void
sx_fabric_event(struct sx_fabric *fab, const struct sx_sim_event *ev)
{
	uint64_t now = fab->sched->now_ps;

	switch (ev->type) {
	case SX_EV_TXDONE: {
		struct sx_fab_link *l = ev->ptr;

		l->txdone_pending = false;
		if (l->head != NULL && !l->paused)
			link_start(fab, l, now);
		break;
	}
	case SX_EV_PFC:
		pfc_apply(fab, ev->ptr, ev->idx != 0, now);
		break;
	case SX_EV_ARRIVE:
		/* idx: the link, so that it loads alongside the frame (p->link) */
		arrive(fab, &fab->links[ev->idx], ev->ptr, now);
		break;
	case SX_EV_LINK_CHANGE: {
		struct sx_fab_change *ch = &fab->changes[ev->idx];
		struct sx_fab_link *a = &fab->links[ch->link], *b = reverse_of(fab, a);

		if (ch->kind == 0) {
			link_fail(fab, a);
			link_fail(fab, b);
		} else if (ch->kind == 1) {
			a->routed = b->routed = false;
			routes_update(fab);
		} else {
			a->rate_bps = b->rate_bps = ch->rate_bps;
			a->ser_len = b->ser_len = 0;
		}
		break;
	}
	default:
		break;
	}
}

struct sx_fab_link *
sx_fabric_link(struct sx_fabric *fab, const char *name)
{
	char want[32];
	uint32_t i;

	if (strlen(name) >= sizeof(want))
		return NULL;
	strcpy(want, name);
	for (i = 0; i < sizeof(want) && want[i]; i++) {
		if (want[i] == '-')
			want[i] = '>';
	}
	for (i = 0; i < fab->nlinks; i++) {
		if (strcmp(fab->links[i].name, want) == 0)
			return &fab->links[i];
	}
	return NULL;
}

static int
add_change(struct sx_fabric *fab, struct sx_fab_link *l, int kind, uint64_t at_ps,
	   uint64_t rate_bps)
{
	struct sx_fab_change *c = realloc(fab->changes, (fab->nchanges + 1) * sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	fab->changes = c;
	c[fab->nchanges] = (struct sx_fab_change){.link = l->id, .kind = kind, .rate_bps = rate_bps};
	return sx_sched_push(fab->sched, at_ps, SX_EV_LINK_CHANGE, fab->nchanges++, NULL);
}

int
sx_fabric_fail_at(struct sx_fabric *fab, struct sx_fab_link *l, uint64_t at_ps)
{
	int rc = add_change(fab, l, 0, at_ps, 0);

	if (rc == 0)
		rc = add_change(fab, l, 1, at_ps + fab->cfg.detect_ns * SX_PS_PER_NS, 0);
	return rc;
}

int
sx_fabric_rate_at(struct sx_fabric *fab, struct sx_fab_link *l, uint64_t at_ps, uint64_t rate_bps)
{
	if (rate_bps == 0)
		return -EINVAL;
	return add_change(fab, l, 2, at_ps, rate_bps);
}

void
sx_fabric_window(struct sx_fabric *fab)
{
	uint32_t i, d;

	fab->in_window = true;
	for (i = 0; i < fab->nlinks; i++) {
		struct sx_fab_link *l = &fab->links[i];

		l->tx_bytes_win = l->tx_bytes;
		l->tx_pkts_win = l->tx_pkts;
		l->busy_win_ps = sx_fabric_busy_ps(fab, l);
		l->drops_win = 0;
		for (d = 0; d < SX_DROP_MAX; d++)
			l->drops_win += l->drop[d];
	}
}
