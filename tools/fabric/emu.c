/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated leaf-spine (emu.h): queues, shapers, delay lines, RED/ECN,
 * ECMP and fault injection, driven by the caller's clock.
 *
 * Units: time in ns, rates in bit/s, sizes in bytes.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <scalex/wire.h>

#include "emu.h"

#define FX_DEFAULT_RING    8192
#define FX_DEFAULT_BURST   (4 * 4096)
#define FX_DEFAULT_HOLD_NS 100000
#define FX_DEFAULT_BURST_NS 4000000

static const char *const drop_names[FX_DROP_MAX] = {
	[FX_DROP_TAIL] = "tail",
	[FX_DROP_LOSS] = "loss",
	[FX_DROP_NOROUTE] = "no_route",
	[FX_DROP_TTL] = "ttl",
	[FX_DROP_WIRE_FULL] = "wire_full",
	[FX_DROP_HOST] = "host",
};

const char *
fx_drop_name(enum fx_drop d)
{
	return d < FX_DROP_MAX ? drop_names[d] : "invalid";
}

/* ---- rings ---- */

static int
ring_init(struct fx_ring *r, uint32_t frames)
{
	r->s = calloc(frames, sizeof(*r->s));
	r->mask = frames - 1;
	r->head = r->tail = 0;
	return r->s != NULL ? 0 : -ENOMEM;
}

static uint32_t
ring_count(const struct fx_ring *r)
{
	return r->tail - r->head;
}

static bool
ring_full(const struct fx_ring *r)
{
	return ring_count(r) > r->mask;
}

static struct fx_slot *
ring_peek(struct fx_ring *r)
{
	return r->head != r->tail ? &r->s[r->head & r->mask] : NULL;
}

static void
ring_push(struct fx_ring *r, const struct fx_slot *s)
{
	r->s[r->tail++ & r->mask] = *s;
}

/* ---- classification ---- */

bool
fx_classify(const uint8_t *d, uint32_t len, uint32_t *dst, uint64_t *hash)
{
	const uint8_t *ip = d + SX_ETH_HLEN;
	uint32_t src, daddr, ports, h;

	if (len < SX_ETH_HLEN + SX_IPV4_HLEN + SX_UDP_HLEN)
		return false;
	if ((uint16_t)(d[12] << 8 | d[13]) != SX_ETHERTYPE_IPV4 || ip[0] != 0x45 ||
	    ip[9] != SX_IPPROTO_UDP)
		return false;
	h = sx_fabric_host_of_ip(ip + 16);
	if (h == UINT32_MAX)
		return false;
	memcpy(&src, ip + 12, 4);
	memcpy(&daddr, ip + 16, 4);
	memcpy(&ports, ip + 20, 4);
	/* the simulator's 5-tuple hash (sim/fabric.c classify) */
	*hash = sx_mix64((uint64_t)src << 32 | daddr) ^ sx_mix64((uint64_t)ports << 8 | ip[9]);
	*dst = h;
	return true;
}

static bool
is_ect(const uint8_t *d)
{
	return (d[SX_ETH_HLEN + 1] & 3) != SX_ECN_NOT_ECT;
}

/* ---- topology ---- */

static uint64_t
ser_ns(const struct fx *f, const struct fx_link *l, uint32_t len)
{
	return ((uint64_t)(len + f->cfg.fab.wire_overhead_bytes) * 8 * 1000000000ull +
		l->rate_bps - 1) /
	       l->rate_bps;
}

static struct fx_link *
add_link(struct fx *f, enum sx_link_kind kind, uint32_t from, uint32_t to)
{
	const struct sx_fabric_cfg *c = &f->cfg.fab;
	struct fx_link *l = &f->links[f->nlinks];
	static const char kc[] = {'h', 'l', 's', 'b'};
	const struct fx_node *a = &f->nodes[from], *b = &f->nodes[to];
	bool host = kind == SX_LINK_HOST_UP || kind == SX_LINK_LEAF_DOWN;

	l->id = f->nlinks++;
	l->kind = kind;
	l->from = from;
	l->to = to;
	snprintf(l->name, sizeof(l->name), "%c%u>%c%u", kc[a->kind], a->index, kc[b->kind],
		 b->index);
	l->rate_bps = host ? c->host_rate_bps : c->fabric_rate_bps;
	l->delay_ns = host ? c->host_delay_ns : c->fabric_delay_ns;
	l->ecn = c->ecn && kind != SX_LINK_HOST_UP;
	l->burst_ns = (f->cfg.burst_bytes * 8 * 1000000000ull) / l->rate_bps;
	if (l->burst_ns < f->cfg.burst_min_ns)
		l->burst_ns = f->cfg.burst_min_ns;
	if (ring_init(&l->q, f->cfg.ring_frames) < 0 || ring_init(&l->wire, f->cfg.ring_frames) < 0)
		return NULL;
	return l;
}

int
fx_init(struct fx *f, const struct fx_cfg *cfg, const struct fx_hooks *hooks)
{
	const struct sx_fabric_cfg *c = &cfg->fab;
	uint32_t nleaves = c->leaves, nspines = c->spines, i, s, h;
	uint64_t seed;
	int rc = -ENOMEM;

	memset(f, 0, sizeof(*f));
	if (c->dcs > 1 || c->pfc || (nleaves > 1 && nspines == 0) || c->hosts_per_leaf == 0 ||
	    c->host_rate_bps == 0 || c->fabric_rate_bps == 0 ||
	    (c->ecn && c->kmax_bytes < c->kmin_bytes))
		return -EINVAL;
	if (cfg->ring_frames != 0 && (cfg->ring_frames & (cfg->ring_frames - 1)) != 0)
		return -EINVAL;
	f->cfg = *cfg;
	if (f->cfg.ring_frames == 0)
		f->cfg.ring_frames = FX_DEFAULT_RING;
	if (f->cfg.burst_bytes == 0)
		f->cfg.burst_bytes = FX_DEFAULT_BURST;
	if (f->cfg.hold_ns == 0)
		f->cfg.hold_ns = FX_DEFAULT_HOLD_NS;
	if (f->cfg.burst_min_ns == 0)
		f->cfg.burst_min_ns = FX_DEFAULT_BURST_NS;
	if (nleaves == 1)
		nspines = 0; /* one leaf: nothing goes up */
	f->hooks = *hooks;
	seed = cfg->seed;
	sx_rng_seed(&f->rng, sx_splitmix64(&seed));
	f->nhosts = c->hosts_per_leaf * nleaves;
	f->nnodes = f->nhosts + nleaves + nspines;
	f->nodes = calloc(f->nnodes, sizeof(*f->nodes));
	f->links = calloc(2 * f->nhosts + 2 * nleaves * nspines, sizeof(*f->links));
	f->host_up = calloc(f->nhosts, sizeof(*f->host_up));
	f->leaf_down = calloc(f->nhosts, sizeof(*f->leaf_down));
	f->leaf_up = calloc(nleaves * nspines + 1, sizeof(*f->leaf_up));
	f->spine_down = calloc(nleaves * nspines + 1, sizeof(*f->spine_down));
	if (f->nodes == NULL || f->links == NULL || f->host_up == NULL || f->leaf_down == NULL ||
	    f->leaf_up == NULL || f->spine_down == NULL)
		goto fail;
	for (i = 0; i < f->nnodes; i++) {
		struct fx_node *n = &f->nodes[i];

		if (i < f->nhosts) {
			n->kind = SX_NODE_HOST;
			n->index = i;
		} else if (i < f->nhosts + nleaves) {
			n->kind = SX_NODE_LEAF;
			n->index = i - f->nhosts;
		} else {
			n->kind = SX_NODE_SPINE;
			n->index = i - f->nhosts - nleaves;
		}
		n->salt = sx_splitmix64(&seed);
	}
	for (h = 0; h < f->nhosts; h++) {
		uint32_t leaf = f->nhosts + h / c->hosts_per_leaf;

		f->host_up[h] = add_link(f, SX_LINK_HOST_UP, h, leaf);
		f->leaf_down[h] = add_link(f, SX_LINK_LEAF_DOWN, leaf, h);
		if (f->host_up[h] == NULL || f->leaf_down[h] == NULL)
			goto fail;
	}
	for (i = 0; i < nleaves; i++) {
		for (s = 0; s < nspines; s++) {
			uint32_t leaf = f->nhosts + i, spine = f->nhosts + nleaves + s;

			f->leaf_up[i * nspines + s] = add_link(f, SX_LINK_LEAF_UP, leaf, spine);
			f->spine_down[s * nleaves + i] =
				add_link(f, SX_LINK_SPINE_DOWN, spine, leaf);
			if (f->leaf_up[i * nspines + s] == NULL ||
			    f->spine_down[s * nleaves + i] == NULL)
				goto fail;
		}
	}
	f->cfg.fab.spines = nspines;
	return 0;
fail:
	fx_fini(f);
	return rc;
}

static void
drop(struct fx *f, struct fx_link *l, struct fx_slot *s, enum fx_drop why)
{
	l->drop[why]++;
	f->drop[why]++;
	f->hooks.free(f->hooks.arg, &s->p);
}

static void
ring_free(struct fx *f, struct fx_ring *r)
{
	struct fx_slot *s;

	if (r->s == NULL)
		return;
	while ((s = ring_peek(r)) != NULL) {
		f->hooks.free(f->hooks.arg, &s->p);
		r->head++;
	}
	free(r->s);
	r->s = NULL;
}

void
fx_fini(struct fx *f)
{
	uint32_t i;

	for (i = 0; f->links != NULL && i < f->nlinks; i++) {
		struct fx_link *l = &f->links[i];

		ring_free(f, &l->q);
		ring_free(f, &l->wire);
		if (l->held)
			f->hooks.free(f->hooks.arg, &l->hold.p);
	}
	free(f->links);
	free(f->nodes);
	free(f->host_up);
	free(f->leaf_down);
	free(f->leaf_up);
	free(f->spine_down);
	memset(f, 0, sizeof(*f));
}

/* ---- the data path ---- */

static void
mark_ce(struct fx *f, struct fx_link *l, struct fx_slot *s)
{
	/* rewrites the ECN bits and the IPv4 checksum; the ICRC masks both */
	sx_ip_set_ecn(s->p.data + SX_ETH_HLEN, SX_ECN_CE);
	s->ect = false;
	l->ecn_marked++;
	f->ecn_marked++;
}

static void
enqueue(struct fx *f, struct fx_link *l, struct fx_slot *s)
{
	l->rx_pkts++;
	l->rx_bytes += s->p.len;
	if (l->kind != SX_LINK_HOST_UP) {
		sx_hist_add(&l->qhist, l->qbytes);
		if (l->qbytes + s->p.len > f->cfg.fab.buffer_bytes) {
			drop(f, l, s, FX_DROP_TAIL);
			return;
		}
	}
	if (ring_full(&l->q)) {
		drop(f, l, s, FX_DROP_TAIL);
		return;
	}
	if (l->ecn && !f->cfg.fab.ecn_dequeue && s->ect &&
	    sx_red_mark(&f->cfg.fab, l->rate_bps, l->qbytes, &f->rng))
		mark_ce(f, l, s);
	ring_push(&l->q, s);
	l->qbytes += s->p.len;
}

void
fx_host_refused(struct fx *f, uint32_t host, uint64_t n)
{
	if (host >= f->nhosts || n == 0)
		return;
	f->leaf_down[host]->drop[FX_DROP_HOST] += n;
	f->drop[FX_DROP_HOST] += n;
	f->delivered -= n;
}

bool
fx_host_ready(const struct fx *f, uint32_t host)
{
	return host < f->nhosts && ring_count(&f->host_up[host]->q) < f->cfg.fab.nic_ring_frames;
}

void
fx_ingress(struct fx *f, uint32_t host, struct fx_pkt *p, uint64_t now_ns)
{
	struct fx_link *l = f->host_up[host];
	struct fx_slot s = {.p = *p, .t_ns = now_ns};

	if (!fx_classify(p->data, p->len, &s.dst, &s.hash) || s.dst >= f->nhosts) {
		l->rx_pkts++;
		drop(f, l, &s, FX_DROP_NOROUTE);
		return;
	}
	s.ect = is_ect(p->data);
	enqueue(f, l, &s);
}

/* The frame @p s reached node @p to over @p l. */
static void
arrive(struct fx *f, struct fx_link *l, struct fx_slot *s)
{
	const struct fx_node *n = &f->nodes[l->to];
	const struct sx_fabric_cfg *c = &f->cfg.fab;
	uint32_t dleaf = s->dst / c->hosts_per_leaf;
	struct fx_link *next;

	if (n->kind == SX_NODE_HOST) {
		if (f->hooks.deliver(f->hooks.arg, n->index, &s->p))
			f->delivered++;
		else
			drop(f, l, s, FX_DROP_HOST);
		return;
	}
	if (!sx_ip_dec_ttl(s->p.data + SX_ETH_HLEN)) {
		drop(f, l, s, FX_DROP_TTL);
		return;
	}
	if (n->kind == SX_NODE_LEAF && dleaf == n->index)
		next = f->leaf_down[s->dst];
	else if (n->kind == SX_NODE_LEAF)
		next = f->leaf_up[n->index * c->spines +
				  (uint32_t)(sx_mix64(s->hash ^ n->salt) % c->spines)];
	else
		next = f->spine_down[n->index * c->leaves + dleaf];
	enqueue(f, next, s);
}

static void
wire_push(struct fx *f, struct fx_link *l, struct fx_slot *s)
{
	if (ring_full(&l->wire))
		drop(f, l, s, FX_DROP_WIRE_FULL);
	else
		ring_push(&l->wire, s);
}

/* Flip one byte past the headers: the receiver's ICRC check fails. */
static void
corrupt(struct fx *f, struct fx_slot *s)
{
	uint32_t lo = SX_ETH_HLEN + SX_IPV4_HLEN + SX_UDP_HLEN, span;

	if (s->p.len <= lo)
		return;
	span = s->p.len - lo;
	s->p.data[lo + sx_rng_below(&f->rng, span)] ^= (uint8_t)(1u + sx_rng_below(&f->rng, 255));
}

/* The head of @p l's queue starts on the wire at @p start_ns. */
static void
transmit(struct fx *f, struct fx_link *l, struct fx_slot *s, uint64_t start_ns, uint64_t now_ns)
{
	const struct sx_fault_dir *fd = &f->cfg.fault;
	double loss = f->cfg.fab.loss + fd->drop, reorder = f->cfg.fab.reorder + fd->reorder;
	struct fx_slot dup;

	l->tx_pkts++;
	l->tx_bytes += s->p.len;
	if (l->ecn && f->cfg.fab.ecn_dequeue && s->ect &&
	    sx_red_mark(&f->cfg.fab, l->rate_bps, l->qbytes, &f->rng))
		mark_ce(f, l, s);
	s->t_ns = start_ns + ser_ns(f, l, s->p.len) + l->delay_ns;
	/* no draw for a fault whose probability is 0: runs without faults
	 * make the same marking decisions */
	if (loss > 0 && sx_rng_double(&f->rng) < loss) {
		drop(f, l, s, FX_DROP_LOSS);
		return;
	}
	if (fd->duplicate > 0 && sx_rng_double(&f->rng) < fd->duplicate &&
	    f->hooks.copy(f->hooks.arg, &s->p, &dup.p)) {
		dup.t_ns = s->t_ns;
		dup.hash = s->hash;
		dup.dst = s->dst;
		dup.ect = s->ect;
		l->duplicated++;
	} else {
		dup.p.h = NULL;
	}
	if (fd->corrupt > 0 && sx_rng_double(&f->rng) < fd->corrupt) {
		corrupt(f, s);
		l->corrupted++;
	}
	if (!l->held && reorder > 0 && sx_rng_double(&f->rng) < reorder) {
		/* held back until the next frame on this link has passed it */
		l->hold = *s;
		l->hold.t_ns = now_ns;
		l->held = true;
		l->reordered++;
	} else {
		wire_push(f, l, s);
		if (l->held) {
			l->hold.t_ns = s->t_ns;
			wire_push(f, l, &l->hold);
			l->held = false;
		}
	}
	if (dup.p.h != NULL)
		wire_push(f, l, &dup);
}

uint32_t
fx_poll(struct fx *f, uint64_t now_ns)
{
	uint32_t moved = 0, i;

	for (i = 0; i < f->nlinks; i++) {
		struct fx_link *l = &f->links[i];
		struct fx_slot *s, cur;

		/* frames that reached the far end */
		while ((s = ring_peek(&l->wire)) != NULL && s->t_ns <= now_ns) {
			cur = *s;
			l->wire.head++;
			arrive(f, l, &cur);
			moved++;
		}
		/* a reordered frame nobody passed in time */
		if (l->held && now_ns >= l->hold.t_ns + f->cfg.hold_ns) {
			l->hold.t_ns = now_ns + l->delay_ns;
			l->held = false;
			wire_push(f, l, &l->hold);
		}
		/* the shaper: start frames while the theoretical start time is
		 * within the burst tolerance */
		while ((s = ring_peek(&l->q)) != NULL && l->tat_ns <= now_ns + l->burst_ns) {
			uint64_t start = l->tat_ns > now_ns ? l->tat_ns : now_ns;

			cur = *s;
			l->q.head++;
			l->qbytes -= cur.p.len;
			l->tat_ns = start + ser_ns(f, l, cur.p.len);
			transmit(f, l, &cur, start, now_ns);
			moved++;
		}
	}
	return moved;
}

uint64_t
fx_next_ns(const struct fx *f)
{
	uint64_t next = UINT64_MAX;
	uint32_t i;

	for (i = 0; i < f->nlinks; i++) {
		const struct fx_link *l = &f->links[i];
		uint64_t t;

		if (l->wire.head != l->wire.tail) {
			t = l->wire.s[l->wire.head & l->wire.mask].t_ns;
			next = t < next ? t : next;
		}
		if (l->held) {
			t = l->hold.t_ns + f->cfg.hold_ns;
			next = t < next ? t : next;
		}
		if (l->q.head != l->q.tail) {
			t = l->tat_ns > l->burst_ns ? l->tat_ns - l->burst_ns : 0;
			next = t < next ? t : next;
		}
	}
	return next;
}

uint64_t
fx_held(const struct fx *f)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < f->nlinks; i++)
		n += ring_count(&f->links[i].q) + ring_count(&f->links[i].wire) + f->links[i].held;
	return n;
}

/* ---- report ---- */

static json_t *
jreal(double v)
{
	return json_real(round(v * 1e6) / 1e6);
}

json_t *
fx_json(const struct fx *f, double elapsed_s)
{
	json_t *ports = json_array(), *drops = json_object(), *root;
	uint64_t qp99 = 0, qmax = 0;
	uint32_t i, d;

	if (ports == NULL || drops == NULL)
		goto fail;
	for (i = 0; i < f->nlinks; i++) {
		const struct fx_link *l = &f->links[i];
		json_t *ld = json_object(), *p;
		uint64_t q99 = sx_hist_quantile(&l->qhist, 0.99);

		if (ld == NULL)
			goto fail;
		for (d = 0; d < FX_DROP_MAX; d++)
			json_object_set_new(ld, fx_drop_name(d), json_integer((json_int_t)l->drop[d]));
		if (l->kind != SX_LINK_HOST_UP) {
			qp99 = q99 > qp99 ? q99 : qp99;
			qmax = l->qhist.max > qmax ? l->qhist.max : qmax;
		}
		p = json_pack("{s:s,s:s,s:o,s:I,s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}",
			      "port", l->name, "kind", sx_link_kind_name(l->kind), "rate_gbps",
			      jreal((double)l->rate_bps / 1e9), "delay_ns", (json_int_t)l->delay_ns,
			      "rx_pkts", (json_int_t)l->rx_pkts, "rx_bytes", (json_int_t)l->rx_bytes,
			      "tx_pkts", (json_int_t)l->tx_pkts, "tx_bytes", (json_int_t)l->tx_bytes,
			      "drops", ld, "ecn_marked", (json_int_t)l->ecn_marked, "reordered",
			      (json_int_t)l->reordered, "duplicated", (json_int_t)l->duplicated,
			      "corrupted", (json_int_t)l->corrupted, "queue_p50_bytes",
			      (json_int_t)sx_hist_quantile(&l->qhist, 0.5), "queue_p99_bytes",
			      (json_int_t)q99, "queue_max_bytes", (json_int_t)l->qhist.max, "util",
			      jreal(elapsed_s > 0 ? (double)(l->tx_bytes + l->tx_pkts *
							       f->cfg.fab.wire_overhead_bytes) *
							   8 / ((double)l->rate_bps * elapsed_s)
						  : 0));
		if (p == NULL || json_array_append_new(ports, p) < 0)
			goto fail;
	}
	for (d = 0; d < FX_DROP_MAX; d++)
		json_object_set_new(drops, fx_drop_name(d), json_integer((json_int_t)f->drop[d]));
	root = json_pack("{s:s,s:{s:I,s:I,s:I,s:I},s:o,s:I,s:I,s:o,s:I,s:I,s:o}", "tool",
			 "scalex-fabric", "topology", "hosts", (json_int_t)f->nhosts, "hosts_per_leaf",
			 (json_int_t)f->cfg.fab.hosts_per_leaf, "leaves",
			 (json_int_t)f->cfg.fab.leaves, "spines", (json_int_t)f->cfg.fab.spines,
			 "elapsed_s", jreal(elapsed_s), "delivered", (json_int_t)f->delivered,
			 "ecn_marked", (json_int_t)f->ecn_marked, "drops", drops,
			 "switch_queue_p99_bytes", (json_int_t)qp99, "switch_queue_max_bytes",
			 (json_int_t)qmax, "ports", ports);
	return root;
fail:
	json_decref(ports);
	json_decref(drops);
	return NULL;
}
