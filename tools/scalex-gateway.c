/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex-gateway: the gateway of a datacenter for long-haul transfers
 * (docs/longhaul.md, "Gateway mode"), and a pair of test hosts that use it.
 *
 *   scalex-gateway gw    --inside DEV --wan DEV --host-port P
 *                        (--peer-listen P | --peer-connect P) [options]
 *   scalex-gateway hosts --src DEV --dst DEV --src-gw P --dst-gw P --bytes N
 *
 * A gateway has two scalex contexts: inside (its DC's hosts; --inside-cc,
 * e.g. DCQCN's nic preset) and WAN (the peer gateway; --wan-cc, e.g. the
 * longhaul preset, and --wan-fault-tx delay=5ms to stand for the distance),
 * so each control loop sees its own RTT. Its staging memory has two pools
 * of --slots slots of 64 + --chunk bytes: egress (written by its host) and
 * ingress (written by the peer gateway).
 *
 * The relay, one chunk:
 *   1. The host takes a credit (an egress slot it was granted) and
 *      RDMA-WRITE-WITH-IMMs header + payload into the slot, imm = slot.
 *   2. The gateway checks the header (magic, version, length, destination
 *      range), takes a credit of the peer's ingress pool and WRITE-IMMs the
 *      slot there over the long-haul QP, imm = the peer's slot.
 *   3. When the peer acknowledged it (the WRITE completed), the egress slot
 *      is free: the gateway returns the credit to its host (SEND-WITH-IMM,
 *      imm = slot). The host's chunk is then in the peer DC's custody.
 *   4. The peer gateway checks the header and WRITE-IMMs the payload into
 *      its host's region at the header's offset (imm = the chunk's length);
 *      when that completes it returns the ingress credit (SEND-WITH-IMM on
 *      the long-haul QP).
 * No chunk is dropped for lack of room: a host with no credit waits, and a
 * gateway with no peer credit keeps the chunk in its slot, which keeps the
 * host's credit. A bad header is counted (bad_header) and its credit
 * returned. At exit (SIGTERM, SIGINT, --duration) a gateway prints one JSON
 * line per side with the counters API's figures (include/scalex/stats.h).
 *
 * The hosts command runs two hosts in one process: one in each DC. The
 * source writes --bytes of a pattern through its gateway to the
 * destination, which checks every byte and prints goodput.
 *
 * Bootstrap (TCP, include/scalex/bootstrap.h): a gateway accepts its host
 * on --host-port; gateways meet on --peer-listen / --peer-connect. The
 * source gateway must accept its host before it meets its peer, so the
 * hosts process connects to --src-gw first.
 *
 * Exit status: 0; 1 a setup error, a failed WR or (hosts) corrupt or
 * missing data; 2 a bad command line.
 * Units: bytes, ns unless named.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <scalex/bootstrap.h>
#include <scalex/scalex.h>
#include <scalex/stats.h>

#include "common/tool.h"

#define PROG        "scalex-gateway"
#define HDR_BYTES   64
#define HDR_MAGIC   0x53584757u /* "SXGW" */
#define HDR_VERSION 1
#define MAX_SLOTS   1024
#define BOOT_MS     60000
#define POLL        32
#define EXTRA_RECV  8

/* wr_id kinds */
enum {
	WR_RECV = 1, /* a posted receive */
	WR_FWD,      /* step 2: egress slot -> peer */
	WR_CREDIT,   /* a returned credit */
	WR_DELIVER,  /* step 4: ingress slot -> host */
	WR_DATA,     /* the source host's chunk */
};
#define WR(kind, v) ((uint64_t)(kind) << 32 | (uint32_t)(v))
#define WR_KIND(id) ((uint32_t)((id) >> 32))
#define WR_VAL(id)  ((uint32_t)(id))

/* The relay header at the start of a slot (little-endian fields). */
struct gw_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t pad;
	uint32_t dst_host; /* the host behind the destination gateway: 0 */
	uint32_t len;      /* payload bytes after the header */
	uint64_t dst_off;  /* in the destination host's region */
	uint64_t seq;      /* chunk number of the transfer */
	uint8_t rsv[32];
};
_Static_assert(sizeof(struct gw_hdr) == HDR_BYTES, "one relay header size");

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct side {
	const char *name;
	struct sx_context *ctx;
	struct sx_pd *pd;
	struct sx_cq *cq;
	struct sx_qp *qp;
	struct sx_boot_qp peer;
};

struct opts {
	const char *cmd;
	const char *name;
	const char *inside, *wan, *src, *dst;
	const char *in_cc, *in_preset, *wan_cc, *wan_preset;
	struct sx_fault_dir wan_fault;
	uint16_t host_port, peer_port, src_gw, dst_gw;
	bool peer_listen;
	uint32_t slots, chunk, mtu;
	uint64_t bytes;
	double duration_s, timeout_s;
	char prefix[64];
};

static int
open_side(struct side *sd, const char *name, const char *dev, uint8_t ip_last,
          const char *cc, const char *preset, const struct sx_fault_dir *fault,
          uint32_t mtu, uint32_t depth)
{
	struct sx_context_attr attr;
	struct sx_qp_init_attr qa;

	sd->name = name;
	sx_context_attr_init(&attr);
	attr.port = dev;
	attr.ip_version = 4;
	attr.ip[0] = 10;
	attr.ip[3] = ip_last;
	attr.mtu = mtu;
	attr.cc = cc;
	if (fault != NULL)
		attr.fault_tx = *fault;
	sd->ctx = sx_open_device(&attr);
	if (sd->ctx == NULL) {
		fprintf(stderr, PROG ": %s: open %s: %s\n", name, dev, strerror(errno));
		return -1;
	}
	if (cc != NULL && preset != NULL && sx_cc_preset(sd->ctx, preset) < 0) {
		fprintf(stderr, PROG ": %s: %s has no preset %s\n", name, cc, preset);
		return -1;
	}
	sd->pd = sx_alloc_pd(sd->ctx);
	sd->cq = sd->pd ? sx_create_cq(sd->ctx, 4 * depth + 64) : NULL;
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = qa.recv_cq = sd->cq;
	qa.max_send_wr = 2 * depth;
	qa.max_recv_wr = 2 * depth;
	qa.reliability = SX_REL_SR;
	qa.retry_cnt = 7;
	qa.rnr_retry = 7;
	/* the first RTO before any RTT sample: above a WAN round trip and a
	 * loaded machine's scheduling delays */
	qa.timeout_us = 200000;
	sd->qp = sd->cq ? sx_create_qp(sd->pd, &qa) : NULL;
	if (sd->qp == NULL) {
		fprintf(stderr, PROG ": %s: PD/CQ/QP: %s\n", name, strerror(errno));
		return -1;
	}
	return 0;
}

static void
close_side(struct side *sd)
{
	if (sd->qp)
		sx_destroy_qp(sd->qp);
	if (sd->cq)
		sx_destroy_cq(sd->cq);
	if (sd->pd)
		sx_dealloc_pd(sd->pd);
	if (sd->ctx)
		sx_close_device(sd->ctx);
}

/* Exchange QP endpoints and one region with the peer on @p fd, connect. */
static int
meet(struct side *sd, int fd, struct sx_mr *mr, uint64_t len)
{
	struct sx_boot_qp l;
	int rc;

	memset(&l, 0, sizeof(l));
	sx_qp_local(sd->qp, &l.ep);
	if (mr != NULL) {
		l.addr = (uintptr_t)mr->addr;
		l.rkey = mr->rkey;
		l.len = len;
	}
	rc = sx_boot_exchange(fd, &l, &sd->peer, 1, BOOT_MS);
	if (rc == 0)
		rc = sx_qp_connect(sd->qp, &sd->peer.ep);
	if (rc < 0)
		fprintf(stderr, PROG ": %s: bootstrap: %s\n", sd->name, strerror(-rc));
	return rc;
}

static int
post_recv(struct side *sd)
{
	struct sx_recv_wr wr = {.wr_id = WR(WR_RECV, 0)}, *bad;

	return sx_post_recv(sd->qp, &wr, &bad);
}

static int
post_write(struct side *sd, uint64_t id, struct sx_sge *sge, int n, uint64_t raddr,
           uint32_t rkey, uint32_t imm)
{
	struct sx_send_wr wr, *bad;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = id;
	wr.sg_list = sge;
	wr.num_sge = n;
	wr.opcode = SX_WR_RDMA_WRITE_WITH_IMM;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.imm_data = htonl(imm);
	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = rkey;
	return sx_post_send(sd->qp, &wr, &bad);
}

static int
post_credit(struct side *sd, uint32_t slot)
{
	struct sx_send_wr wr, *bad;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = WR(WR_CREDIT, slot);
	wr.opcode = SX_WR_SEND_WITH_IMM;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.imm_data = htonl(slot);
	return sx_post_send(sd->qp, &wr, &bad);
}

/* ---- per-side counters ---- */

struct side_stats {
	uint64_t tx_bytes, rx_bytes, retransmits, timeouts, cnp_rcvd, cnp_sent;
};

static int
stats_cb(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t v)
{
	struct side_stats *t = arg;

	(void)id;
	if (d->scope == SX_STATS_PORT && strcmp(d->name, "tx_bytes") == 0)
		t->tx_bytes += v;
	else if (d->scope == SX_STATS_PORT && strcmp(d->name, "rx_bytes") == 0)
		t->rx_bytes += v;
	else if (d->scope == SX_STATS_QP && strcmp(d->name, "retransmits") == 0)
		t->retransmits += v;
	else if (d->scope == SX_STATS_QP && strcmp(d->name, "timeouts") == 0)
		t->timeouts += v;
	else if (d->scope == SX_STATS_QP && strcmp(d->name, "cnp_rcvd") == 0)
		t->cnp_rcvd += v;
	else if (d->scope == SX_STATS_QP && strcmp(d->name, "cnp_sent") == 0)
		t->cnp_sent += v;
	return 0;
}

static void
print_side(const char *who, const struct side *sd, const char *cc, uint64_t chunks,
           uint64_t bytes, uint64_t credit_waits, uint64_t bad)
{
	struct side_stats t = {0};

	sx_stats_foreach(sd->ctx, 1u << SX_STATS_PORT | 1u << SX_STATS_QP, stats_cb, &t);
	printf(
	    "{\"gateway\": \"%s\", \"side\": \"%s\", \"cc\": \"%s\", \"chunks\": %" PRIu64
	    ", \"payload_bytes\": %" PRIu64 ", \"credit_waits\": %" PRIu64
	    ", \"bad_header\": %" PRIu64 ", \"tx_bytes\": %" PRIu64
	    ", \"rx_bytes\": %" PRIu64 ", \"retransmits\": %" PRIu64
	    ", \"timeouts\": %" PRIu64 ", \"cnp_sent\": %" PRIu64
	    ", \"cnp_rcvd\": %" PRIu64 "}\n",
	    who, sd->name, cc ? cc : "none", chunks, bytes, credit_waits, bad, t.tx_bytes,
	    t.rx_bytes, t.retransmits, t.timeouts, t.cnp_sent, t.cnp_rcvd);
	fflush(stdout);
}

/* ---- the gateway ---- */

struct gw {
	const struct opts *o;
	struct side in, wan;
	uint8_t *egress, *ingress;
	size_t pool_len;
	uint32_t slot_bytes;
	struct sx_mr *eg_in, *eg_wan, *ig_in, *ig_wan;
	/* egress slots waiting for a peer credit (FIFO) */
	uint32_t waitq[MAX_SLOTS], wq_head, wq_len;
	/* the peer's free ingress slots */
	uint32_t peer_free[MAX_SLOTS], npeer_free, peer_slots;
	uint64_t fwd_chunks, fwd_bytes, dlv_chunks, dlv_bytes, credit_waits, bad_in,
	    bad_wan;
	bool failed;
};

/* A header that names a range of the destination host's region. */
static bool
hdr_ok(const struct gw *g, const uint8_t *slot, uint32_t byte_len, uint64_t region_len)
{
	struct gw_hdr h;

	memcpy(&h, slot, sizeof(h));
	return h.magic == HDR_MAGIC && h.version == HDR_VERSION && h.dst_host == 0 &&
	       h.len <= g->o->chunk && byte_len == HDR_BYTES + h.len &&
	       (region_len == 0 ||
	        (h.dst_off <= region_len && h.len <= region_len - h.dst_off));
}

/* Forward what waits while the peer has room. */
static void
forward(struct gw *g)
{
	while (g->wq_len > 0 && g->npeer_free > 0) {
		uint32_t slot = g->waitq[g->wq_head], ps = g->peer_free[--g->npeer_free];
		uint8_t *p = g->egress + (size_t)slot * g->slot_bytes;
		struct gw_hdr h;
		struct sx_sge sge;

		memcpy(&h, p, sizeof(h));
		sge = (struct sx_sge){(uintptr_t)p, HDR_BYTES + h.len, g->eg_wan->lkey};
		if (post_write(&g->wan, WR(WR_FWD, slot), &sge, 1,
		               g->wan.peer.addr + (uint64_t)ps * g->slot_bytes,
		               g->wan.peer.rkey, ps) < 0) {
			g->npeer_free++; /* the send queue is full: later */
			return;
		}
		g->wq_head = (g->wq_head + 1) % MAX_SLOTS;
		g->wq_len--;
		g->fwd_chunks++;
		g->fwd_bytes += h.len;
	}
	if (g->wq_len > 0)
		g->credit_waits++;
}

static void
gw_wc(struct gw *g, bool wan, const struct sx_wc *wc)
{
	uint32_t kind = WR_KIND(wc->wr_id), v = WR_VAL(wc->wr_id), slot;

	if (wc->status != SX_WC_SUCCESS) {
		if (!stop)
			fprintf(stderr, PROG ": %s side: WR %u failed: %s\n",
			        wan ? "wan" : "inside", kind,
			        sx_wc_status_str(wc->status));
		g->failed = true;
		return;
	}
	switch (kind) {
	case WR_RECV:
		if (wan ? post_recv(&g->wan) < 0 : post_recv(&g->in) < 0)
			g->failed = true;
		slot = ntohl(wc->imm_data);
		if (wc->opcode == SX_WC_RECV && wan) {
			/* a credit of the peer's ingress pool came back */
			if (slot < g->peer_slots && g->npeer_free < MAX_SLOTS)
				g->peer_free[g->npeer_free++] = slot;
			forward(g);
			break;
		}
		if (wc->opcode != SX_WC_RECV_RDMA_WITH_IMM || slot >= g->o->slots)
			break;
		if (!wan) {
			/* step 2: a chunk from the host, into the WAN queue */
			if (!hdr_ok(g, g->egress + (size_t)slot * g->slot_bytes,
			            wc->byte_len, 0)) {
				g->bad_in++;
				post_credit(&g->in, slot);
				break;
			}
			g->waitq[(g->wq_head + g->wq_len++) % MAX_SLOTS] = slot;
			forward(g);
		} else {
			/* step 4: a chunk from the peer, to the host */
			uint8_t *p = g->ingress + (size_t)slot * g->slot_bytes;
			struct gw_hdr h;
			struct sx_sge sge;

			if (!hdr_ok(g, p, wc->byte_len, g->in.peer.len)) {
				g->bad_wan++;
				post_credit(&g->wan, slot);
				break;
			}
			memcpy(&h, p, sizeof(h));
			sge = (struct sx_sge){(uintptr_t)p + HDR_BYTES, h.len,
			                      g->ig_in->lkey};
			if (post_write(&g->in, WR(WR_DELIVER, slot), &sge, 1,
			               g->in.peer.addr + h.dst_off, g->in.peer.rkey,
			               h.len) < 0)
				g->failed = true;
			g->dlv_chunks++;
			g->dlv_bytes += h.len;
		}
		break;
	case WR_FWD:
		/* step 3: the peer has it; the host's credit goes back */
		if (post_credit(&g->in, v) < 0)
			g->failed = true;
		break;
	case WR_DELIVER:
		if (post_credit(&g->wan, v) < 0)
			g->failed = true;
		break;
	default:
		break;
	}
}

static int
gw_pools(struct gw *g)
{
	const unsigned int rw = SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE;

	g->slot_bytes = HDR_BYTES + g->o->chunk;
	g->pool_len = (size_t)g->o->slots * g->slot_bytes;
	g->egress = calloc(1, g->pool_len);
	g->ingress = calloc(1, g->pool_len);
	if (g->egress == NULL || g->ingress == NULL)
		return -1;
	g->eg_in = sx_reg_mr(g->in.pd, g->egress, g->pool_len, rw);
	g->eg_wan = sx_reg_mr(g->wan.pd, g->egress, g->pool_len, SX_ACCESS_LOCAL_WRITE);
	g->ig_wan = sx_reg_mr(g->wan.pd, g->ingress, g->pool_len, rw);
	g->ig_in = sx_reg_mr(g->in.pd, g->ingress, g->pool_len, SX_ACCESS_LOCAL_WRITE);
	return g->eg_in && g->eg_wan && g->ig_wan && g->ig_in ? 0 : -1;
}

static int
run_gw(const struct opts *o)
{
	struct gw g;
	struct sx_wc wc[POLL];
	uint32_t i;
	int fd = -1, rc = 1, n;
	uint64_t peer_slots = 0;
	double end;

	memset(&g, 0, sizeof(g));
	g.o = o;
	if (open_side(&g.in, "inside", o->inside, 1, o->in_cc, o->in_preset, NULL, o->mtu,
	              o->slots + EXTRA_RECV) < 0 ||
	    open_side(&g.wan, "wan", o->wan, 2, o->wan_cc, o->wan_preset, &o->wan_fault,
	              o->mtu, o->slots + EXTRA_RECV) < 0 ||
	    gw_pools(&g) < 0)
		goto out;
	/* a memif client that starts before its server's socket exists does
	 * not connect: say when ours are there (tests/longhaul/gateway.sh) */
	fprintf(stderr, PROG ": ports open\n");
	/* receives first: a WRITE-IMM or credit must never find none */
	for (i = 0; i < o->slots + EXTRA_RECV; i++) {
		if (post_recv(&g.in) < 0 || post_recv(&g.wan) < 0)
			goto out;
	}
	fd = sx_boot_accept(NULL, o->host_port, BOOT_MS);
	if (fd < 0 || meet(&g.in, fd, g.eg_in, g.pool_len) < 0 ||
	    sx_boot_send_u64(fd, "slot", g.slot_bytes, BOOT_MS) < 0 ||
	    sx_boot_send_u64(fd, "slots", o->slots, BOOT_MS) < 0) {
		fprintf(stderr, PROG ": host bootstrap on port %u failed\n",
		        o->host_port);
		goto out;
	}
	sx_boot_close(fd);
	fd = o->peer_listen ? sx_boot_accept(NULL, o->peer_port, BOOT_MS)
	                    : sx_boot_connect("127.0.0.1", o->peer_port, BOOT_MS);
	if (fd < 0 || meet(&g.wan, fd, g.ig_wan, g.pool_len) < 0 ||
	    sx_boot_send_u64(fd, "slots", o->slots, BOOT_MS) < 0 ||
	    sx_boot_recv_u64(fd, "slots", &peer_slots, BOOT_MS) < 0 || peer_slots == 0 ||
	    peer_slots > MAX_SLOTS) {
		fprintf(stderr, PROG ": peer bootstrap on port %u failed\n",
		        o->peer_port);
		goto out;
	}
	sx_boot_close(fd);
	fd = -1;
	g.peer_slots = (uint32_t)peer_slots;
	for (i = 0; i < g.peer_slots; i++)
		g.peer_free[g.npeer_free++] = g.peer_slots - 1 - i;
	fprintf(stderr, PROG ": relaying (inside %s, wan %s)\n", o->inside, o->wan);
	end = o->duration_s > 0 ? now_s() + o->duration_s : 0;
	while (!stop && !g.failed && (end == 0 || now_s() < end)) {
		/* sx_poll_cq progresses its context (and backs off when idle) */
		while ((n = sx_poll_cq(g.in.cq, POLL, wc)) > 0)
			for (i = 0; i < (uint32_t)n; i++)
				gw_wc(&g, false, &wc[i]);
		while ((n = sx_poll_cq(g.wan.cq, POLL, wc)) > 0)
			for (i = 0; i < (uint32_t)n; i++)
				gw_wc(&g, true, &wc[i]);
	}
	print_side(o->name, &g.in, o->in_cc, g.dlv_chunks, g.dlv_bytes, 0, g.bad_in);
	print_side(o->name, &g.wan, o->wan_cc, g.fwd_chunks, g.fwd_bytes, g.credit_waits,
	           g.bad_wan);
	rc = g.failed ? 1 : 0;
out:
	if (fd >= 0)
		sx_boot_close(fd);
	if (g.eg_in)
		sx_dereg_mr(g.eg_in);
	if (g.eg_wan)
		sx_dereg_mr(g.eg_wan);
	if (g.ig_in)
		sx_dereg_mr(g.ig_in);
	if (g.ig_wan)
		sx_dereg_mr(g.ig_wan);
	close_side(&g.in);
	close_side(&g.wan);
	free(g.egress);
	free(g.ingress);
	return rc;
}

/* ---- the test hosts ---- */

static inline uint8_t
pattern(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

static int
run_hosts(const struct opts *o)
{
	struct side a, b;
	uint8_t *src = NULL, *dst = NULL, (*hdr)[HDR_BYTES] = NULL;
	struct sx_mr *src_mr = NULL, *dst_mr = NULL, *hdr_mr = NULL;
	uint32_t *credits = NULL, ncred = 0, i, depth = MAX_SLOTS + EXTRA_RECV;
	uint64_t slot_bytes = 0, slots = 0, off = 0, seq = 0, got = 0, bad = 0;
	struct sx_wc wc[POLL];
	double t0, t1 = 0, deadline;
	int fd, rc = 1, n;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (open_side(&a, "src", o->src, 3, o->in_cc, o->in_preset, NULL, o->mtu, depth) <
	        0 ||
	    open_side(&b, "dst", o->dst, 4, o->in_cc, o->in_preset, NULL, o->mtu, depth) <
	        0)
		goto out;
	src = malloc(o->bytes);
	dst = calloc(1, o->bytes);
	hdr = calloc(MAX_SLOTS, HDR_BYTES);
	credits = malloc(MAX_SLOTS * sizeof(*credits));
	if (src == NULL || dst == NULL || hdr == NULL || credits == NULL)
		goto out;
	for (off = 0; off < o->bytes; off++)
		src[off] = pattern(off);
	src_mr = sx_reg_mr(a.pd, src, o->bytes, 0);
	hdr_mr = sx_reg_mr(a.pd, hdr, (size_t)MAX_SLOTS * HDR_BYTES, 0);
	dst_mr = sx_reg_mr(b.pd, dst, o->bytes,
	                   SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE);
	if (src_mr == NULL || hdr_mr == NULL || dst_mr == NULL)
		goto out;
	for (i = 0; i < depth; i++) {
		if (post_recv(&a) < 0 || post_recv(&b) < 0)
			goto out;
	}
	/* the source's gateway first: it meets its peer only after us */
	fd = sx_boot_connect("127.0.0.1", o->src_gw, BOOT_MS);
	if (fd < 0 || meet(&a, fd, NULL, 0) < 0 ||
	    sx_boot_recv_u64(fd, "slot", &slot_bytes, BOOT_MS) < 0 ||
	    sx_boot_recv_u64(fd, "slots", &slots, BOOT_MS) < 0 || slots == 0 ||
	    slots > MAX_SLOTS || slot_bytes <= HDR_BYTES ||
	    a.peer.len < slots * slot_bytes) {
		fprintf(stderr, PROG ": source gateway bootstrap failed\n");
		goto out;
	}
	sx_boot_close(fd);
	fd = sx_boot_connect("127.0.0.1", o->dst_gw, BOOT_MS);
	if (fd < 0 || meet(&b, fd, dst_mr, o->bytes) < 0 ||
	    sx_boot_recv_u64(fd, "slot", &slot_bytes, BOOT_MS) < 0 ||
	    sx_boot_recv_u64(fd, "slots", &slots, BOOT_MS) < 0) {
		fprintf(stderr, PROG ": destination gateway bootstrap failed\n");
		goto out;
	}
	sx_boot_close(fd);
	for (i = 0; i < slots; i++)
		credits[ncred++] = (uint32_t)(slots - 1 - i);
	off = 0;
	t0 = now_s();
	deadline = t0 + o->timeout_s;
	while (!stop && (got < o->bytes || ncred < slots)) {
		if (now_s() > deadline) {
			fprintf(stderr,
			        PROG ": timeout: %" PRIu64 " of %" PRIu64
			             " bytes arrived\n",
			        got, o->bytes);
			goto out;
		}
		while (off < o->bytes && ncred > 0) {
			uint32_t s = credits[--ncred],
			         len = (uint32_t)(o->bytes - off < slot_bytes - HDR_BYTES
			                              ? o->bytes - off
			                              : slot_bytes - HDR_BYTES);
			struct gw_hdr h = {.magic = HDR_MAGIC,
			                   .version = HDR_VERSION,
			                   .len = len,
			                   .dst_off = off,
			                   .seq = seq};
			struct sx_sge sge[2] = {
			    {(uintptr_t)hdr[s], HDR_BYTES, hdr_mr->lkey},
			    {(uintptr_t)src + off, len, src_mr->lkey}};

			memcpy(hdr[s], &h, sizeof(h));
			if (post_write(&a, WR(WR_DATA, s), sge, 2,
			               a.peer.addr + s * slot_bytes, a.peer.rkey,
			               s) < 0) {
				ncred++;
				break;
			}
			off += len;
			seq++;
		}
		while ((n = sx_poll_cq(a.cq, POLL, wc)) > 0) {
			for (i = 0; i < (uint32_t)n; i++) {
				if (wc[i].status != SX_WC_SUCCESS) {
					fprintf(stderr, PROG ": src: %s\n",
					        sx_wc_status_str(wc[i].status));
					goto out;
				}
				if (WR_KIND(wc[i].wr_id) == WR_RECV &&
				    wc[i].opcode == SX_WC_RECV) {
					post_recv(&a);
					if (ntohl(wc[i].imm_data) < slots &&
					    ncred < slots)
						credits[ncred++] = ntohl(wc[i].imm_data);
				}
			}
		}
		while ((n = sx_poll_cq(b.cq, POLL, wc)) > 0) {
			for (i = 0; i < (uint32_t)n; i++) {
				if (wc[i].status != SX_WC_SUCCESS) {
					fprintf(stderr, PROG ": dst: %s\n",
					        sx_wc_status_str(wc[i].status));
					goto out;
				}
				if (wc[i].opcode == SX_WC_RECV_RDMA_WITH_IMM) {
					post_recv(&b);
					got += wc[i].byte_len;
					if (got >= o->bytes && t1 == 0)
						t1 = now_s();
				}
			}
		}
	}
	if (stop)
		goto out;
	for (off = 0; off < o->bytes; off++)
		bad += dst[off] != pattern(off);
	printf("{\"bytes\": %" PRIu64 ", \"seconds\": %.6f, \"goodput_gbps\": %.4f, "
	       "\"chunks\": %" PRIu64 ", \"corrupt_bytes\": %" PRIu64 "}\n",
	       o->bytes, t1 - t0, (double)o->bytes * 8 / (t1 - t0) / 1e9, seq, bad);
	fflush(stdout);
	rc = bad == 0 && got == o->bytes ? 0 : 1;
out:
	if (rc != 0 && a.ctx != NULL && b.ctx != NULL) {
		/* what each host's transport saw, for the failure's report */
		print_side("hosts", &a, o->in_cc, seq, off, 0, 0);
		print_side("hosts", &b, o->in_cc, 0, got, 0, 0);
	}
	if (src_mr)
		sx_dereg_mr(src_mr);
	if (hdr_mr)
		sx_dereg_mr(hdr_mr);
	if (dst_mr)
		sx_dereg_mr(dst_mr);
	close_side(&a);
	close_side(&b);
	free(src);
	free(dst);
	free(hdr);
	free(credits);
	return rc;
}

/* ---- command line ---- */

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: " PROG " gw --inside DEV --wan DEV --host-port P\n"
	    "                      (--peer-listen P | --peer-connect P) [options]\n"
	    "       " PROG
	    " hosts --src DEV --dst DEV --src-gw P --dst-gw P --bytes N [options]\n"
	    "A datacenter's gateway for long-haul transfers, and two test hosts that\n"
	    "relay through a pair of them (docs/longhaul.md). DEV: a DPDK vdev string,\n"
	    "e.g. net_memif0,role=server,socket=/tmp/gw0-in.sock (each with its own "
	    "name).\n"
	    "\n"
	    "  --inside-cc NAME     CC of the inside side (and of the hosts), e.g. "
	    "dcqcn\n"
	    "  --inside-preset P    its preset, e.g. nic\n"
	    "  --wan-cc NAME        CC of the WAN side, e.g. dcqcn or swift\n"
	    "  --wan-preset P       its preset, e.g. longhaul\n"
	    "  --wan-fault-tx SPEC  faults on the WAN side's tx, e.g. delay=5ms (the "
	    "distance)\n"
	    "  --slots N            staging slots per pool, 1..%d (default 64)\n"
	    "  --chunk BYTES        payload per slot, 256..16777216 (default 65536)\n"
	    "  --mtu BYTES          256..4096 (default 4096)\n"
	    "  --duration S         gw: stop after S seconds (default: at "
	    "SIGTERM/SIGINT)\n"
	    "  --timeout S          hosts: give up after S seconds (default 60)\n"
	    "  --file-prefix NAME   DPDK runtime prefix (default " PROG "-<pid>)\n"
	    "  --name NAME          gw: its name in the counters it prints (default gw)\n"
	    "exit status: 0; 1 setup error, failed WR, corrupt or missing data; 2 "
	    "usage\n",
	    MAX_SLOTS);
}

static int
parse_secs(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || *end != '\0' || !(*v >= 0 && *v <= 86400) ? -1 : 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"inside", 1, NULL, 'i'},       {"wan", 1, NULL, 'w'},
	    {"src", 1, NULL, 's'},          {"dst", 1, NULL, 'd'},
	    {"host-port", 1, NULL, 'H'},    {"peer-listen", 1, NULL, 'L'},
	    {"peer-connect", 1, NULL, 'C'}, {"src-gw", 1, NULL, 'S'},
	    {"dst-gw", 1, NULL, 'D'},       {"bytes", 1, NULL, 'b'},
	    {"inside-cc", 1, NULL, 'c'},    {"inside-preset", 1, NULL, 'p'},
	    {"wan-cc", 1, NULL, 'W'},       {"wan-preset", 1, NULL, 'P'},
	    {"wan-fault-tx", 1, NULL, 'f'}, {"slots", 1, NULL, 'n'},
	    {"chunk", 1, NULL, 'k'},        {"mtu", 1, NULL, 'm'},
	    {"duration", 1, NULL, 'T'},     {"timeout", 1, NULL, 't'},
	    {"file-prefix", 1, NULL, 'F'},  {"help", 0, NULL, 'h'},
	    {"name", 1, NULL, 'N'},         {NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->slots = 64;
	o->chunk = 65536;
	o->mtu = 4096;
	o->timeout_s = 60;
	o->name = "gw";
	snprintf(o->prefix, sizeof(o->prefix), PROG "-%ld", (long)getpid());
	if (argc < 2) {
		usage(stderr);
		return -1;
	}
	o->cmd = argv[1];
	if (strcmp(o->cmd, "-h") == 0 || strcmp(o->cmd, "--help") == 0) {
		usage(stdout);
		exit(0);
	}
	if (strcmp(o->cmd, "gw") != 0 && strcmp(o->cmd, "hosts") != 0) {
		fprintf(stderr, PROG ": '%s' is not gw or hosts\n", o->cmd);
		return -1;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->inside = optarg;
			break;
		case 'w':
			o->wan = optarg;
			break;
		case 's':
			o->src = optarg;
			break;
		case 'd':
			o->dst = optarg;
			break;
		case 'c':
			o->in_cc = optarg;
			break;
		case 'p':
			o->in_preset = optarg;
			break;
		case 'W':
			o->wan_cc = optarg;
			break;
		case 'P':
			o->wan_preset = optarg;
			break;
		case 'N':
			o->name = optarg;
			break;
		case 'F':
			snprintf(o->prefix, sizeof(o->prefix), "%s", optarg);
			break;
		case 'f':
			if (sx_fault_parse(optarg, &o->wan_fault) < 0) {
				fprintf(stderr,
				        PROG ": --wan-fault-tx %s: not a fault spec\n",
				        optarg);
				return -1;
			}
			break;
		case 'H':
		case 'L':
		case 'C':
		case 'S':
		case 'D':
			if (sx_tool_parse_u64(optarg, 1, 65535, &v) < 0) {
				fprintf(stderr, PROG ": %s: not a TCP port\n", optarg);
				return -1;
			}
			if (c == 'H')
				o->host_port = (uint16_t)v;
			else if (c == 'S')
				o->src_gw = (uint16_t)v;
			else if (c == 'D')
				o->dst_gw = (uint16_t)v;
			else {
				o->peer_port = (uint16_t)v;
				o->peer_listen = c == 'L';
			}
			break;
		case 'b':
			if (sx_tool_parse_u64(optarg, 1, 1ull << 31, &v) < 0) {
				fprintf(stderr, PROG ": --bytes %s: 1 .. 2^31\n", optarg);
				return -1;
			}
			o->bytes = v;
			break;
		case 'n':
			if (sx_tool_parse_u64(optarg, 1, MAX_SLOTS, &v) < 0) {
				fprintf(stderr, PROG ": --slots %s: 1 .. %d\n", optarg,
				        MAX_SLOTS);
				return -1;
			}
			o->slots = (uint32_t)v;
			break;
		case 'k':
			if (sx_tool_parse_u64(optarg, 256, 1u << 24, &v) < 0) {
				fprintf(stderr, PROG ": --chunk %s: 256 .. 16777216\n",
				        optarg);
				return -1;
			}
			o->chunk = (uint32_t)v;
			break;
		case 'm':
			if (sx_tool_parse_u64(optarg, 256, 4096, &v) < 0 || (v & (v - 1))) {
				fprintf(stderr,
				        PROG ": --mtu %s: 256 .. 4096, a power of two\n",
				        optarg);
				return -1;
			}
			o->mtu = (uint32_t)v;
			break;
		case 'T':
		case 't':
			if (parse_secs(optarg,
			               c == 'T' ? &o->duration_s : &o->timeout_s) < 0) {
				fprintf(stderr, PROG ": %s: not seconds\n", optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (strcmp(o->cmd, "gw") == 0 && (o->inside == NULL || o->wan == NULL ||
	                                  o->host_port == 0 || o->peer_port == 0)) {
		fprintf(stderr, PROG
		        " gw: --inside, --wan, --host-port and a --peer-* are needed\n");
		return -1;
	}
	if (strcmp(o->cmd, "hosts") == 0 &&
	    (o->src == NULL || o->dst == NULL || o->src_gw == 0 || o->dst_gw == 0 ||
	     o->bytes == 0)) {
		fprintf(
		    stderr, PROG
		    " hosts: --src, --dst, --src-gw, --dst-gw and --bytes are needed\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct opts o;
	char *eal[] = {argv[0],  "--no-huge",         "-m",
	               "256",    "--no-pci",          "--file-prefix",
	               o.prefix, "--log-level=error", NULL};
	int rc;

	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (sx_eal_init(8, eal) < 0) {
		fprintf(stderr, PROG ": EAL init failed\n");
		return 1;
	}
	rc = strcmp(o.cmd, "gw") == 0 ? run_gw(&o) : run_hosts(&o);
	sx_eal_cleanup();
	return rc;
}
