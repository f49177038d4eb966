/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex-traffic: the multi-host traffic generator. One process per host
 * (`scalex-traffic host`), each one scalex context; the pattern comes from
 * the simulator's workload module (sim/workload.h) read from the same INI
 * file scalex-sim runs, so every host computes the same flow list from
 * the same seed and knows what it sends, what it receives and where each
 * flow's bytes go. `scalex-traffic merge` joins the hosts' records into the
 * simulator's flows.csv / summary.json / rates.csv columns.
 *
 * Bootstrap (a star, as torchrun's rendezvous): rank 0 listens on
 * --boot-port, every other rank connects to --connect (MASTER_ADDR), sends
 * its row (one QP endpoint per peer, and its memory region), and receives
 * its column (each peer's QP for it). Then a two-phase barrier starts the
 * run everywhere, and at the end every rank reports "done" to rank 0 and
 * keeps serving its peers (a finished host still answers RDMA traffic)
 * until rank 0 says "bye". Every wait has a deadline (--timeout).
 *
 * Flows: one RC QP per pair of hosts. A flow is cut into --chunk byte work
 * requests posted in order on its QP; WRITE and SEND end with an immediate
 * (the flow id) that completes at the receiver, READ is posted by the
 * receiver. Each host's memory holds every flow it sends (tx region,
 * filled with a pattern of the flow id) and every flow it receives (rx
 * region): the receiver checks the bytes of each flow when it completes.
 * A ring all-reduce step starts when the step it depends on completed
 * where this host can see it (it sent or received that step).
 *
 * A peer that dies: its QP's work requests end with error completions
 * (retry exceeded); flows from it are then no longer awaited. A host
 * waiting only for incoming flows probes each silent sender with a 1-byte
 * READ every PROBE_NS, so it learns of a dead sender too.
 *
 * Records (in --out): host-R.csv (one line per flow this host initiated or
 * received), host-R.json (counters), rates-R.csv (per peer: CC rate and
 * goodput every --sample-ms).
 *
 * Exit status: 0 every flow of this host completed and verified, 1 a flow
 * failed, data differed, or a deadline passed, 2 bad command line.
 * Units: time in ns unless named, sizes in bytes, rates in bit/s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_errno.h>

#include <scalex/bootstrap.h>
#include <scalex/scalex.h>

#include <scalex/stats.h>

#include "../../sim/scenario.h"
#include "../common/tool.h"
#include "traffic.h"

#define PROG            "scalex-traffic"
#define MAX_HOSTS       64
#define POLL_BATCH      64
#define PROBE_NS        500000000ull
#define WR_RECV         (1ull << 63)
#define WR_PROBE        (1ull << 62)
#define RQ_DEPTH        256
#define REGION_ALIGN    64

static const struct sx_tool_mode modes[] = {
	{.name = "host", .kind = SX_TOOL_BW, .default_size = 65536, .default_iters = 1,
	 .help = "one host: run its part of the pattern, write its records"},
};

static const struct sx_tool_spec spec = {
	.prog = PROG,
	.summary = "multi-host traffic generator over scalex (docs/fabric.md);\n"
		   "also: " PROG " merge --config FILE --out DIR [--fabric-stats FILE]",
	.modes = modes,
	.nmodes = 1,
};

/* ---- options of this tool, taken out before the shared parser ---- */

struct gen_opts {
	const char *config;
	const char *sets[64];
	unsigned int nsets;
	const char *out;
	const char *sock_dir;
	const char *fabric_stats;
	enum sx_wr_opcode op;
	const char *op_name;
	int rank;
	int hosts;
	uint64_t chunk;
	uint64_t mem_cap;
	double timeout_s;
	uint64_t sample_ns;
	uint32_t idle_spins;
	uint32_t idle_sleep_us;
	bool given_rel, given_mtu, given_cc, given_dev, given_ip, given_connect, given_port,
		given_timeout, given_depth;
};

struct tflow {
	uint32_t src, dst;
	uint64_t bytes;
	uint64_t start_ns;
	uint64_t after;
	uint64_t off_tx; /* in src's tx region */
	uint64_t off_rx; /* in dst's rx region */
	/* initiator */
	uint64_t posted, done;
	uint64_t t_post, t_end;
	uint8_t state; /* FL_* */
	uint8_t status;
	/* receiver */
	uint8_t rx;    /* RX_* */
};

enum { FL_WAIT, FL_RUN, FL_OK, FL_FAIL };
enum { RX_PENDING, RX_OK, RX_CORRUPT, RX_LOST };

struct tpeer {
	struct sx_qp *qp;
	struct sx_boot_qp remote;
	uint32_t *out; /* flows this host initiates on this QP, in start order */
	uint32_t nout, next_out;
	uint32_t *in;  /* flows completing at this host from the peer (WRITE, SEND) */
	uint32_t nin, in_done;
	uint32_t rq_flow;  /* SEND: next receive to post: flow in[rq_flow] at rq_off */
	uint64_t rq_off;
	uint32_t rq_posted;
	uint32_t inflight;
	bool dead;
	bool probing;
	uint64_t probe_ns;
	uint64_t done_bytes, sampled_bytes;
	uint64_t last_rate_bps, min_rate_bps, rate_cuts;
};

struct rate_sample {
	uint64_t t_ns;
	uint32_t peer;
	double cc_gbps, gbps;
};

struct gen {
	struct sx_tool_opts o;
	struct gen_opts g;
	struct sx_scn_cfg scn;
	uint32_t me, n;
	struct tflow *fl;
	uint32_t nfl;
	uint64_t *tx_size, *rx_size; /* per host */
	struct sx_context *ctx;
	struct sx_pd *pd;
	struct sx_cq *cq;
	struct sx_mr *mr;
	uint8_t *buf;
	size_t buf_len;
	uint8_t *tx, *rx;
	struct tpeer peer[MAX_HOSTS];
	struct sx_boot_qp row[MAX_HOSTS], col[MAX_HOSTS];
	int fd[MAX_HOSTS]; /* rank 0: per rank; others: fd[0] */
	bool done_rcvd[MAX_HOSTS];
	uint64_t t0;
	struct rate_sample *rs;
	size_t nrs, rs_cap;
	uint64_t next_sample;
	uint64_t verify_fail, flows_failed;
	FILE *trace;
	uint64_t line_rate_bps;
	char trace_path[1024];
	const char *fail_why;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
now_rel(const struct gen *g)
{
	return mono_ns() - g->t0;
}

/* ---- the flow list ---- */

static int
flow_cmp(const void *a, const void *b)
{
	const struct tflow *x = a, *y = b;

	return (x->start_ns > y->start_ns) - (x->start_ns < y->start_ns);
}

static int
flow_list(struct sx_scn_cfg *scn, uint32_t nhosts, struct tflow **out, uint32_t *nout,
		 FILE *err)
{
	struct sx_workload wl;
	struct sx_cdf cdf = {0};
	struct sx_wl_cfg wc = scn->wl;
	struct tflow *fl = NULL;
	struct sx_flow f;
	uint32_t n = 0, cap = 0, i, explicit_n = scn->nflows;
	bool generated = wc.kind != SX_WL_NONE;
	int rc;

	if (scn->gw) {
		fprintf(err, "[gateway] enable = 1: gateway mode is the simulator's; real "
			     "gateways are tools/scalex-gateway (docs/longhaul.md)\n");
		return -EINVAL;
	}
	/* a flow released by another's completion is the simulator's alone */
	for (i = 0; i < scn->nflows; i++) {
		if (scn->flows[i].after != 0) {
			fprintf(err, "[workload] flow %u -> %u names a flow that releases it: "
				     "scalex-traffic starts every listed flow on its own\n",
				scn->flows[i].src, scn->flows[i].dst);
			return -EINVAL;
		}
	}
	if (generated) {
		if (wc.kind == SX_WL_CDF) {
			char path[2 * SX_SCN_PATH];

			if (scn->cdf_path[0] == '/')
				snprintf(path, sizeof(path), "%s", scn->cdf_path);
			else
				snprintf(path, sizeof(path), "%s/%s", scn->dir, scn->cdf_path);
			if (access(path, R_OK) != 0)
				snprintf(path, sizeof(path), "%s/%s", SX_TRAFFIC_DATA_DIR,
					 scn->cdf_path);
			rc = sx_cdf_load(&cdf, path, err);
			if (rc != 0)
				return -EINVAL;
			wc.cdf = &cdf;
			if (wc.stop_ns == 0)
				wc.stop_ns = scn->duration_ns;
			if (wc.max_flows == 0)
				wc.max_flows = 100000;
		}
		wc.nhosts = nhosts;
		wc.host_rate_bps = scn->fab.host_rate_bps;
		wc.seed = scn->seed;
		if (wc.dcs == 0)
			wc.dcs = 1;
		rc = sx_wl_init(&wl, &wc);
		if (rc < 0) {
			fprintf(err, PROG ": workload: bad configuration\n");
			sx_cdf_free(&cdf);
			return rc;
		}
	}
	for (;;) {
		if (generated) {
			if (!sx_wl_next(&wl, &f))
				generated = false;
		}
		if (!generated) {
			if (explicit_n == 0)
				break;
			i = scn->nflows - explicit_n--;
			f = (struct sx_flow){.src = scn->flows[i].src, .dst = scn->flows[i].dst,
					     .bytes = scn->flows[i].bytes,
					     .start_ns = scn->flows[i].start_ns};
		}
		if (f.src >= nhosts || f.dst >= nhosts || f.src == f.dst || f.bytes == 0) {
			fprintf(err, PROG ": flow %u -> %u of %" PRIu64 " bytes: no such pair of "
				     "hosts (%u hosts)\n",
				f.src, f.dst, f.bytes, nhosts);
			rc = -EINVAL;
			goto fail;
		}
		if (n == cap) {
			struct tflow *nf;

			cap = cap ? 2 * cap : 256;
			nf = realloc(fl, cap * sizeof(*nf));
			if (nf == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			fl = nf;
		}
		memset(&fl[n], 0, sizeof(fl[n]));
		fl[n].src = f.src;
		fl[n].dst = f.dst;
		fl[n].bytes = f.bytes;
		fl[n].start_ns = f.start_ns;
		fl[n].after = f.after;
		n++;
	}
	/* the generator's flows come in start order and name earlier ones;
	 * explicit flows only need sorting when there are no generated ones */
	if (scn->wl.kind == SX_WL_NONE)
		qsort(fl, n, sizeof(*fl), flow_cmp);
	if (scn->wl.kind != SX_WL_NONE)
		sx_wl_fini(&wl);
	sx_cdf_free(&cdf);
	*out = fl;
	*nout = n;
	return 0;
fail:
	if (scn->wl.kind != SX_WL_NONE)
		sx_wl_fini(&wl);
	sx_cdf_free(&cdf);
	free(fl);
	return rc;
}

/* Every host lays out its tx and rx regions the same way: flows in order. */
static void
layout(struct gen *g)
{
	uint32_t i;

	for (i = 0; i < g->nfl; i++) {
		struct tflow *f = &g->fl[i];

		f->off_tx = g->tx_size[f->src];
		g->tx_size[f->src] += (f->bytes + REGION_ALIGN - 1) & ~(uint64_t)(REGION_ALIGN - 1);
		f->off_rx = g->rx_size[f->dst];
		g->rx_size[f->dst] += (f->bytes + REGION_ALIGN - 1) & ~(uint64_t)(REGION_ALIGN - 1);
	}
}

/* The bytes of flow @p id: a keyed counter, so any byte can be checked. */
static void
pattern(uint32_t id, uint8_t *p, uint64_t len)
{
	uint64_t i, w;

	for (i = 0; i < len; i += 8) {
		w = sx_traffic_word(id, i / 8);
		memcpy(p + i, &w, len - i < 8 ? len - i : 8);
	}
}

static bool
pattern_ok(uint32_t id, const uint8_t *p, uint64_t len)
{
	uint64_t i, w;

	for (i = 0; i < len; i += 8) {
		w = sx_traffic_word(id, i / 8);
		if (memcmp(p + i, &w, len - i < 8 ? len - i : 8) != 0)
			return false;
	}
	return true;
}

/* The host that posts flow @p f's work requests. */
static uint32_t
initiator(const struct gen *g, const struct tflow *f)
{
	return g->g.op == SX_WR_RDMA_READ ? f->dst : f->src;
}

static uint32_t
other_end(const struct gen *g, const struct tflow *f)
{
	return g->g.op == SX_WR_RDMA_READ ? f->src : f->dst;
}

static int
assign_flows(struct gen *g)
{
	uint32_t i, p;

	for (p = 0; p < g->n; p++) {
		g->peer[p].out = calloc(g->nfl + 1, sizeof(uint32_t));
		g->peer[p].in = calloc(g->nfl + 1, sizeof(uint32_t));
		if (g->peer[p].out == NULL || g->peer[p].in == NULL)
			return -ENOMEM;
		g->peer[p].min_rate_bps = UINT64_MAX;
	}
	for (i = 0; i < g->nfl; i++) {
		struct tflow *f = &g->fl[i];

		if (initiator(g, f) == g->me) {
			struct tpeer *pp = &g->peer[other_end(g, f)];

			pp->out[pp->nout++] = i;
		} else if (g->g.op != SX_WR_RDMA_READ && f->dst == g->me) {
			struct tpeer *pp = &g->peer[f->src];

			pp->in[pp->nin++] = i;
		}
	}
	return 0;
}

/* ---- bootstrap ---- */

static int
listen_on(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, MAX_HOSTS) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

static int
accept_by(int lfd, uint64_t deadline)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	int one = 1, fd;

	while (!stop) {
		uint64_t now = mono_ns();
		int rc;

		if (now >= deadline)
			return -ETIMEDOUT;
		rc = poll(&p, 1, (int)((deadline - now) / 1000000 + 1));
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return -errno;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return fd;
	}
	return -EINTR;
}

static int
timeout_ms(const struct gen *g)
{
	return (int)(g->g.timeout_s * 1000);
}

static int
bootstrap(struct gen *g)
{
	int tmo = timeout_ms(g), rc, lfd;
	uint32_t k, j;

	if (g->me != 0) {
		rc = sx_boot_connect(g->o.host, g->o.boot_port, tmo);
		if (rc < 0) {
			fprintf(stderr, PROG ": rank %u: connect to rank 0 at %s:%u: %s\n", g->me,
				g->o.host, g->o.boot_port, strerror(-rc));
			return rc;
		}
		g->fd[0] = rc;
		rc = sx_boot_exchange(g->fd[0], g->row, g->col, g->n, tmo);
		if (rc == 0)
			rc = sx_boot_exchange(g->fd[0], g->row, g->col, g->n, tmo);
		if (rc < 0)
			fprintf(stderr, PROG ": rank %u: exchange with rank 0: %s\n", g->me,
				strerror(-rc));
		return rc;
	}
	{
		struct sx_boot_qp (*rows)[MAX_HOSTS] = calloc(g->n, sizeof(*rows));
		struct sx_boot_qp tmp[MAX_HOSTS];
		uint64_t deadline = mono_ns() + (uint64_t)tmo * 1000000ull;

		if (rows == NULL)
			return -ENOMEM;
		lfd = listen_on(g->o.boot_port);
		if (lfd < 0) {
			fprintf(stderr, PROG ": rank 0: listen on port %u: %s\n", g->o.boot_port,
				strerror(-lfd));
			free(rows);
			return lfd;
		}
		memcpy(rows[0], g->row, g->n * sizeof(g->row[0]));
		rc = 0;
		for (k = 1; k < g->n && rc == 0; k++) {
			int fd = accept_by(lfd, deadline);

			if (fd < 0) {
				fprintf(stderr, PROG ": rank 0: waiting for %u more hosts: %s\n",
					g->n - k, strerror(-fd));
				rc = fd;
				break;
			}
			rc = sx_boot_exchange(fd, g->row, tmp, g->n, tmo);
			j = rc == 0 ? sx_fabric_host_of_ip(tmp[0].ep.ip) : UINT32_MAX;
			if (rc == 0 && (j == 0 || j >= g->n || g->fd[j] >= 0)) {
				fprintf(stderr, PROG ": rank 0: a host with address of rank %d: not a "
						"rank of this run or a second one\n",
					(int)j);
				rc = -EPROTO;
			}
			if (rc < 0) {
				close(fd);
				break;
			}
			g->fd[j] = fd;
			memcpy(rows[j], tmp, g->n * sizeof(tmp[0]));
		}
		close(lfd);
		for (j = 1; j < g->n && rc == 0; j++) {
			for (k = 0; k < g->n; k++)
				tmp[k] = rows[k][j];
			rc = sx_boot_exchange(g->fd[j], tmp, g->col /* scratch */, g->n, tmo);
			if (rc < 0)
				fprintf(stderr, PROG ": rank 0: exchange with rank %u: %s\n", j,
					strerror(-rc));
		}
		for (k = 0; k < g->n; k++)
			g->col[k] = rows[k][0];
		free(rows);
		return rc;
	}
}

/* Every rank at the same point: rank 0 hears every other, then answers. */
static int
barrier(struct gen *g, const char *tag)
{
	char t2[32];
	int tmo = timeout_ms(g), rc = 0;
	uint32_t j;

	snprintf(t2, sizeof(t2), "%s-all", tag);
	if (g->me != 0) {
		rc = sx_boot_barrier(g->fd[0], tag, tmo);
		if (rc == 0)
			rc = sx_boot_barrier(g->fd[0], t2, tmo);
	} else {
		for (j = 1; j < g->n && rc == 0; j++)
			rc = sx_boot_barrier(g->fd[j], tag, tmo);
		for (j = 1; j < g->n && rc == 0; j++)
			rc = sx_boot_barrier(g->fd[j], t2, tmo);
	}
	if (rc < 0)
		fprintf(stderr, PROG ": rank %u: barrier %s: %s\n", g->me, tag, strerror(-rc));
	return rc;
}

/* ---- resources ---- */

static int
open_host(struct gen *g)
{
	struct sx_context_attr attr;
	struct sx_qp_init_attr qa;
	uint32_t p, depth = g->o.tx_depth;
	size_t txl = g->tx_size[g->me], rxl = g->rx_size[g->me];

	sx_context_attr_init(&attr);
	attr.port = g->o.dev;
	attr.ip_version = g->o.ip_version;
	memcpy(attr.ip, g->o.ip, sizeof(attr.ip));
	attr.mtu = g->o.mtu;
	attr.fault_tx = g->o.fault_tx;
	attr.fault_rx = g->o.fault_rx;
	attr.fault_seed = g->o.seed + g->me;
	attr.pcap_path = g->o.pcap;
	attr.cc = g->o.cc;
	attr.line_rate_bps = g->o.line_rate_bps ? g->o.line_rate_bps : g->scn.fab.host_rate_bps;
	g->line_rate_bps = attr.line_rate_bps;
	attr.idle_spins = g->g.idle_spins;
	attr.idle_sleep_us = g->g.idle_sleep_us;
	g->ctx = sx_open_device(&attr);
	if (g->ctx == NULL) {
		fprintf(stderr, PROG ": rank %u: open %s: %s\n", g->me, g->o.dev,
			errno == ENOENT && g->o.cc ? "no such congestion control" : strerror(errno));
		return -1;
	}
	if (g->o.trace != NULL) {
		/* one trace per host: FILE.R, opened here (sx_tool_apply_cc()
		 * takes an open file) and closed by this tool */
		snprintf(g->trace_path, sizeof(g->trace_path), "%s.%u", g->o.trace, g->me);
		g->o.trace = g->trace_path;
		g->trace = fopen(g->trace_path, "w");
		if (g->trace == NULL) {
			fprintf(stderr, PROG ": --trace %s: %s\n", g->trace_path,
				strerror(errno));
			return -1;
		}
	}
	g->o.trace_fp = g->trace;
	if (sx_tool_apply_cc(&g->o, g->ctx) < 0) {
		g->o.trace_fp = NULL;
		return -1;
	}
	g->o.trace_fp = NULL;
	g->pd = sx_alloc_pd(g->ctx);
	g->cq = g->pd ? sx_create_cq(g->ctx, g->n * (depth + RQ_DEPTH + 4) + POLL_BATCH) : NULL;
	if (g->cq == NULL) {
		fprintf(stderr, PROG ": PD/CQ: %s\n", strerror(errno));
		return -1;
	}
	g->buf_len = txl + rxl + REGION_ALIGN;
	g->buf = aligned_alloc(4096, (g->buf_len + 4095) & ~(size_t)4095);
	if (g->buf == NULL) {
		fprintf(stderr, PROG ": %zu bytes of buffers: %s\n", g->buf_len, strerror(errno));
		return -1;
	}
	g->tx = g->buf;
	g->rx = g->buf + txl;
	memset(g->rx, 0, rxl + REGION_ALIGN);
	for (p = 0; p < g->nfl; p++)
		if (g->fl[p].src == g->me)
			pattern(p, g->tx + g->fl[p].off_tx, g->fl[p].bytes);
	g->mr = sx_reg_mr(g->pd, g->buf, g->buf_len,
			  SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE | SX_ACCESS_REMOTE_READ);
	if (g->mr == NULL) {
		fprintf(stderr, PROG ": register memory: %s\n", strerror(errno));
		return -1;
	}
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = g->cq;
	qa.recv_cq = g->cq;
	qa.max_send_wr = depth + 2;
	qa.max_recv_wr = RQ_DEPTH;
	qa.reliability = g->o.rel;
	qa.mtu = g->o.mtu;
	qa.timeout_us = g->o.qp_timeout_us;
	qa.retry_cnt = g->scn.retry_cnt;
	qa.rnr_retry = 7;
	for (p = 0; p < g->n; p++) {
		struct sx_boot_qp *r = &g->row[p];

		if (p == g->me) {
			sx_context_endpoint(g->ctx, &r->ep);
		} else {
			g->peer[p].qp = sx_create_qp(g->pd, &qa);
			if (g->peer[p].qp == NULL) {
				fprintf(stderr, PROG ": QP to rank %u: %s\n", p, strerror(errno));
				return -1;
			}
			sx_qp_local(g->peer[p].qp, &r->ep);
		}
		r->addr = (uintptr_t)g->buf;
		r->rkey = g->mr->rkey;
		r->len = g->buf_len;
	}
	return 0;
}

/* A memif client is open before its connection is: a peer that learns our
 * QP and sends at once would see its first frames refused by the fabric. */
static int
wait_link(struct gen *g)
{
	uint64_t deadline = mono_ns() + (uint64_t)(g->g.timeout_s * 1e9);
	char name[RTE_DEV_NAME_MAX_LEN];
	struct rte_eth_link link;
	uint16_t port;
	size_t n = strcspn(g->o.dev, ",");

	if (strncmp(g->o.dev, "port=", 5) == 0 || n >= sizeof(name))
		return 0;
	memcpy(name, g->o.dev, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, &port) != 0)
		return 0;
	while (!stop && mono_ns() < deadline) {
		if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP)
			return 0;
		usleep(1000);
	}
	fprintf(stderr, PROG ": rank %u: %s: link not up (is scalex-fabric running?)\n", g->me,
		g->o.dev);
	return -ETIMEDOUT;
}

static int
connect_qps(struct gen *g)
{
	uint32_t p;
	int rc;

	for (p = 0; p < g->n; p++) {
		if (p == g->me)
			continue;
		g->peer[p].remote = g->col[p];
		rc = sx_qp_connect(g->peer[p].qp, &g->col[p].ep);
		if (rc < 0) {
			fprintf(stderr, PROG ": connect QP to rank %u: %s\n", p, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static void
close_host(struct gen *g)
{
	uint32_t p;

	for (p = 0; p < MAX_HOSTS; p++)
		if (g->peer[p].qp != NULL)
			sx_destroy_qp(g->peer[p].qp);
	if (g->mr != NULL)
		sx_dereg_mr(g->mr);
	if (g->cq != NULL)
		sx_destroy_cq(g->cq);
	if (g->pd != NULL)
		sx_dealloc_pd(g->pd);
	if (g->ctx != NULL)
		sx_close_device(g->ctx);
	if (g->trace != NULL)
		fclose(g->trace);
	free(g->buf);
}

/* ---- the run ---- */

static uint64_t
wr_id(uint32_t flow, uint64_t len)
{
	return (uint64_t)len << 32 | flow;
}

/* Post receives for what the peer will send: an immediate per flow for
 * WRITE, a buffer per chunk for SEND, in the order the peer sends them. */
static void
post_recvs(struct gen *g, uint32_t p)
{
	struct tpeer *pp = &g->peer[p];

	while (!pp->dead && pp->rq_flow < pp->nin && pp->rq_posted < RQ_DEPTH) {
		uint32_t id = pp->in[pp->rq_flow];
		struct tflow *f = &g->fl[id];
		struct sx_sge sge;
		struct sx_recv_wr wr = {0}, *bad;
		uint64_t len = 0;

		if (g->g.op == SX_WR_SEND) {
			len = f->bytes - pp->rq_off < g->g.chunk ? f->bytes - pp->rq_off : g->g.chunk;
			sge = (struct sx_sge){.addr = (uintptr_t)(g->rx + f->off_rx + pp->rq_off),
					      .length = (uint32_t)len, .lkey = g->mr->lkey};
			wr.sg_list = &sge;
			wr.num_sge = 1;
		}
		wr.wr_id = WR_RECV | wr_id(id, len);
		if (sx_post_recv(pp->qp, &wr, &bad) < 0)
			return;
		pp->rq_posted++;
		pp->rq_off += len;
		if (g->g.op != SX_WR_SEND || pp->rq_off >= f->bytes) {
			pp->rq_flow++;
			pp->rq_off = 0;
		}
	}
}

/* Has the flow flow @p f waits for completed, as far as this host sees? */
static bool
released(const struct gen *g, const struct tflow *f)
{
	const struct tflow *a;

	if (f->after == SX_FLOW_INDEPENDENT)
		return true;
	a = &g->fl[f->after - 1];
	if (initiator(g, a) == g->me)
		return a->state >= FL_OK;
	if (g->g.op != SX_WR_RDMA_READ && a->dst == g->me)
		return a->rx != RX_PENDING;
	return true; /* not visible here: its start time only */
}

static void
fail_rest(struct gen *g, uint32_t p, uint8_t status)
{
	struct tpeer *pp = &g->peer[p];
	uint32_t i;

	for (i = pp->next_out; i < pp->nout; i++) {
		struct tflow *f = &g->fl[pp->out[i]];

		if (f->state < FL_OK) {
			f->state = FL_FAIL;
			f->status = status;
			f->t_end = now_rel(g);
			g->flows_failed++;
		}
	}
	pp->next_out = pp->nout;
	for (i = pp->in_done; i < pp->nin; i++)
		if (g->fl[pp->in[i]].rx == RX_PENDING)
			g->fl[pp->in[i]].rx = RX_LOST;
}

static void
peer_failed(struct gen *g, uint32_t p, uint8_t status)
{
	struct tpeer *pp = &g->peer[p];

	if (pp->dead)
		return;
	pp->dead = true;
	fprintf(stderr, PROG ": rank %u: QP to rank %u failed: %s\n", g->me, p,
		sx_wc_status_str((enum sx_wc_status)status));
	fail_rest(g, p, status);
}

/* Post the next chunks of the flows to peer @p p; returns WRs posted. */
static uint32_t
post_flows(struct gen *g, uint32_t p, uint64_t now)
{
	struct tpeer *pp = &g->peer[p];
	uint32_t posted = 0;

	while (!pp->dead && pp->next_out < pp->nout && pp->inflight < g->o.tx_depth) {
		uint32_t id = pp->out[pp->next_out];
		struct tflow *f = &g->fl[id];
		uint64_t len = f->bytes - f->posted < g->g.chunk ? f->bytes - f->posted : g->g.chunk;
		bool last = f->posted + len == f->bytes;
		struct sx_sge sge;
		struct sx_send_wr wr = {0}, *bad;
		int rc;

		if (f->state == FL_WAIT) {
			if (now < f->start_ns || !released(g, f))
				break;
			f->state = FL_RUN;
			f->t_post = now;
		}
		wr.wr_id = wr_id(id, len);
		wr.sg_list = &sge;
		wr.num_sge = 1;
		wr.send_flags = SX_SEND_SIGNALED;
		if (g->g.op == SX_WR_RDMA_READ) {
			sge = (struct sx_sge){.addr = (uintptr_t)(g->rx + f->off_rx + f->posted),
					      .length = (uint32_t)len, .lkey = g->mr->lkey};
			wr.opcode = SX_WR_RDMA_READ;
			wr.wr.rdma.remote_addr = pp->remote.addr + f->off_tx + f->posted;
		} else {
			sge = (struct sx_sge){.addr = (uintptr_t)(g->tx + f->off_tx + f->posted),
					      .length = (uint32_t)len, .lkey = g->mr->lkey};
			/* the peer's rx region follows its tx region */
			wr.wr.rdma.remote_addr =
				pp->remote.addr + g->tx_size[p] + f->off_rx + f->posted;
			if (g->g.op == SX_WR_SEND)
				wr.opcode = last ? SX_WR_SEND_WITH_IMM : SX_WR_SEND;
			else
				wr.opcode = last ? SX_WR_RDMA_WRITE_WITH_IMM : SX_WR_RDMA_WRITE;
			wr.imm_data = htonl(id);
		}
		wr.wr.rdma.rkey = pp->remote.rkey;
		rc = sx_post_send(pp->qp, &wr, &bad);
		if (rc < 0) {
			if (rc != -ENOMEM && rc != -EAGAIN)
				peer_failed(g, p, SX_WC_LOC_QP_OP_ERR);
			break;
		}
		pp->inflight++;
		f->posted += len;
		posted++;
		if (last)
			pp->next_out++;
	}
	return posted;
}

static void
rx_flow_done(struct gen *g, uint32_t id)
{
	struct tflow *f = &g->fl[id];

	if (f->rx != RX_PENDING)
		return;
	f->rx = pattern_ok(id, g->rx + f->off_rx, f->bytes) ? RX_OK : RX_CORRUPT;
	if (f->rx == RX_CORRUPT)
		g->verify_fail++;
	g->peer[f->src].in_done++;
}

static void
on_wc(struct gen *g, const struct sx_wc *wc, uint64_t now)
{
	uint32_t p, id = (uint32_t)wc->wr_id;
	uint64_t len = (wc->wr_id >> 32) & 0x3fffffff;

	/* the QP names the peer */
	for (p = 0; p < g->n; p++)
		if (g->peer[p].qp != NULL && sx_qp_num(g->peer[p].qp) == wc->qp_num)
			break;
	if (p == g->n)
		return;
	if (wc->wr_id & WR_PROBE) {
		g->peer[p].probing = false;
		g->peer[p].inflight--;
		if (wc->status != SX_WC_SUCCESS)
			peer_failed(g, p, (uint8_t)wc->status);
		return;
	}
	if (wc->wr_id & WR_RECV) {
		g->peer[p].rq_posted--;
		if (wc->status != SX_WC_SUCCESS) {
			peer_failed(g, p, (uint8_t)wc->status);
			return;
		}
		if (wc->wc_flags & SX_WC_WITH_IMM) {
			uint32_t fid = ntohl(wc->imm_data);

			if (fid < g->nfl && g->fl[fid].dst == g->me)
				rx_flow_done(g, fid);
		}
		return;
	}
	g->peer[p].inflight--;
	if (id >= g->nfl)
		return;
	if (wc->status != SX_WC_SUCCESS) {
		struct tflow *f = &g->fl[id];

		if (f->state < FL_OK) {
			f->state = FL_FAIL;
			f->status = (uint8_t)wc->status;
			f->t_end = now;
			g->flows_failed++;
		}
		peer_failed(g, p, (uint8_t)wc->status);
		return;
	}
	{
		struct tflow *f = &g->fl[id];

		f->done += len;
		g->peer[p].done_bytes += len;
		if (f->done == f->bytes && f->state == FL_RUN) {
			f->state = FL_OK;
			f->t_end = now;
			if (g->g.op == SX_WR_RDMA_READ) {
				f->rx = pattern_ok(id, g->rx + f->off_rx, f->bytes) ? RX_OK
										    : RX_CORRUPT;
				if (f->rx == RX_CORRUPT)
					g->verify_fail++;
			}
		}
	}
}

/* A 1-byte READ to a peer that still owes this host flows: a dead one
 * answers with an error completion. */
static void
probe(struct gen *g, uint32_t p, uint64_t now)
{
	struct tpeer *pp = &g->peer[p];
	struct sx_sge sge = {.addr = (uintptr_t)(g->rx + g->rx_size[g->me]), .length = 1,
			     .lkey = g->mr->lkey};
	struct sx_send_wr wr = {.wr_id = WR_PROBE, .sg_list = &sge, .num_sge = 1,
				.opcode = SX_WR_RDMA_READ, .send_flags = SX_SEND_SIGNALED};
	struct sx_send_wr *bad;

	if (pp->dead || pp->probing || pp->in_done == pp->nin || pp->next_out < pp->nout ||
	    now < pp->probe_ns)
		return;
	wr.wr.rdma.remote_addr = pp->remote.addr;
	wr.wr.rdma.rkey = pp->remote.rkey;
	if (sx_post_send(pp->qp, &wr, &bad) == 0) {
		pp->probing = true;
		pp->inflight++;
	}
	pp->probe_ns = now + PROBE_NS;
}

/* One counter of one object (<scalex/stats.h>); 0 when it has none. */
static uint64_t
cstat(const struct gen *g, enum sx_stats_scope scope, uint32_t id, const char *name)
{
	uint64_t v = 0;

	if (sx_stats_get(g->ctx, scope, id, name, &v) < 0)
		v = 0;
	return v;
}

static uint64_t
qp_stat(const struct gen *g, const struct tpeer *pp, const char *name)
{
	return cstat(g, SX_STATS_QP, sx_qp_num(pp->qp), name);
}

/* The QP's CC rate; 0 without CC. */
static uint64_t
cc_rate(const struct gen *g, const struct tpeer *pp)
{
	return cstat(g, SX_STATS_CC, sx_qp_num(pp->qp), "rate_bps");
}

static void
sample(struct gen *g, uint64_t now)
{
	uint32_t p;

	for (p = 0; p < g->n; p++) {
		struct tpeer *pp = &g->peer[p];
		uint64_t rate, d;

		if (pp->qp == NULL)
			continue;
		rate = cc_rate(g, pp);
		if (rate == 0)
			rate = g->line_rate_bps;
		d = pp->done_bytes - pp->sampled_bytes;
		if (d == 0 && pp->inflight == 0)
			continue;
		if (g->nrs == g->rs_cap) {
			size_t cap = g->rs_cap ? 2 * g->rs_cap : 1024;
			struct rate_sample *n = realloc(g->rs, cap * sizeof(*n));

			if (n == NULL)
				return;
			g->rs = n;
			g->rs_cap = cap;
		}
		g->rs[g->nrs++] = (struct rate_sample){
			.t_ns = now, .peer = p, .cc_gbps = (double)rate / 1e9,
			.gbps = (double)d * 8 / (double)g->g.sample_ns};
		pp->sampled_bytes = pp->done_bytes;
	}
}

/* Rate cuts: every drop of a QP's CC rate between two looks. */
static void
watch_rates(struct gen *g)
{
	uint32_t p;

	if (g->o.cc == NULL)
		return;
	for (p = 0; p < g->n; p++) {
		struct tpeer *pp = &g->peer[p];
		uint64_t r;

		if (pp->qp == NULL)
			continue;
		r = cc_rate(g, pp);
		if (r == 0)
			continue;
		if (pp->last_rate_bps != 0 && r < pp->last_rate_bps)
			pp->rate_cuts++;
		if (r < pp->min_rate_bps)
			pp->min_rate_bps = r;
		pp->last_rate_bps = r;
	}
}

static bool
all_done(const struct gen *g)
{
	uint32_t p, i;

	for (p = 0; p < g->n; p++) {
		const struct tpeer *pp = &g->peer[p];

		if (p == g->me || pp->dead)
			continue;
		if (pp->next_out < pp->nout || pp->in_done < pp->nin)
			return false;
		for (i = 0; i < pp->nout; i++)
			if (g->fl[pp->out[i]].state < FL_OK)
				return false;
	}
	return true;
}

/* Rank 0: a rank's "done", or its death. Others: rank 0's "bye". */
static bool
control_poll(struct gen *g, bool self_done, bool *bye)
{
	int tmo = timeout_ms(g);
	uint32_t j;
	uint64_t v;

	if (g->me != 0) {
		struct pollfd p = {.fd = g->fd[0], .events = POLLIN};

		if (!self_done)
			return false;
		if (poll(&p, 1, 0) == 1) {
			if (sx_boot_recv_u64(g->fd[0], "bye", &v, tmo) < 0)
				g->fail_why = "rank 0 went away before the end";
			*bye = true;
		}
		return true;
	}
	for (j = 1; j < g->n; j++) {
		struct pollfd p = {.fd = g->fd[j], .events = POLLIN};

		if (g->fd[j] < 0 || g->done_rcvd[j] || poll(&p, 1, 0) != 1)
			continue;
		if (sx_boot_recv_u64(g->fd[j], "done", &v, tmo) < 0) {
			fprintf(stderr, PROG ": rank 0: rank %u went away\n", j);
			close(g->fd[j]);
			g->fd[j] = -1;
		}
		g->done_rcvd[j] = true;
	}
	if (!self_done)
		return false;
	for (j = 1; j < g->n; j++)
		if (g->fd[j] >= 0 && !g->done_rcvd[j])
			return true;
	for (j = 1; j < g->n; j++)
		if (g->fd[j] >= 0)
			sx_boot_send_u64(g->fd[j], "bye", 0, tmo);
	*bye = true;
	return true;
}

static int
run(struct gen *g)
{
	struct sx_wc wc[POLL_BATCH];
	uint64_t end = (uint64_t)(g->g.timeout_s * 1e9), now;
	bool self_done = false, bye = false, reported = false;
	uint32_t p;
	int n, i;

	g->next_sample = g->g.sample_ns;
	while (!stop && !bye) {
		now = now_rel(g);
		n = sx_poll_cq(g->cq, POLL_BATCH, wc);
		for (i = 0; i < n; i++)
			on_wc(g, &wc[i], now);
		for (p = 0; p < g->n; p++) {
			if (p == g->me)
				continue;
			post_recvs(g, p);
			post_flows(g, p, now);
			probe(g, p, now);
		}
		watch_rates(g);
		if (now >= g->next_sample) {
			sample(g, now);
			g->next_sample += g->g.sample_ns;
		}
		if (!self_done && all_done(g)) {
			self_done = true;
			fprintf(stderr, PROG ": rank %u: done at %.3f ms\n", g->me, (double)now / 1e6);
		}
		if (self_done && !reported && g->me != 0) {
			if (sx_boot_send_u64(g->fd[0], "done", g->flows_failed, timeout_ms(g)) < 0) {
				g->fail_why = "rank 0 went away before the end";
				break;
			}
			reported = true;
		}
		control_poll(g, self_done, &bye);
		if (now > end) {
			g->fail_why = "deadline (--timeout) passed";
			break;
		}
	}
	if (stop && g->fail_why == NULL)
		g->fail_why = "interrupted";
	/* whatever is unfinished now failed */
	for (p = 0; p < g->n; p++)
		if (p != g->me && !g->peer[p].dead)
			fail_rest(g, p, SX_WC_GENERAL_ERR);
	for (p = 0; p < g->nfl; p++) {
		struct tflow *f = &g->fl[p];

		if (initiator(g, f) == g->me && f->state == FL_RUN) {
			f->state = FL_FAIL;
			f->status = SX_WC_GENERAL_ERR;
			g->flows_failed++;
		}
	}
	return g->fail_why != NULL ? -1 : 0;
}

/* ---- records ---- */

static const char *
flow_status(const struct tflow *f)
{
	switch (f->state) {
	case FL_WAIT:
		return "not_started";
	case FL_RUN:
		return "unfinished";
	case FL_OK:
		return "ok";
	default:
		return sx_wc_status_str((enum sx_wc_status)f->status);
	}
}

/* sx_stats_foreach callback: add a QP counter into the JSON sum by name. */
static int
sum_qp(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	json_t *o = arg, *v;

	(void)id;
	if (d->type != SX_STAT_COUNTER)
		return 0;
	v = json_object_get(o, d->name);
	return json_object_set_new(o, d->name,
				   json_integer((json_int_t)value +
						(v != NULL ? json_integer_value(v) : 0)));
}

static int
write_records(struct gen *g)
{
	static const char *const rxs[] = {"pending", "ok", "corrupt", "lost"};
	char path[1024];
	FILE *f;
	uint32_t i, p;
	json_t *root, *qpc, *peers;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/host-%u.csv", g->g.out, g->me);
	f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "role,id,src,dst,bytes,start_us,post_us,end_us,status\n");
	for (i = 0; i < g->nfl; i++) {
		const struct tflow *fl = &g->fl[i];

		if (initiator(g, fl) == g->me)
			fprintf(f, "tx,%u,%u,%u,%" PRIu64 ",%.3f,%.3f,%.3f,%s\n", i, fl->src,
				fl->dst, fl->bytes, (double)fl->start_ns / 1e3,
				(double)fl->t_post / 1e3, (double)fl->t_end / 1e3, flow_status(fl));
		if (fl->dst == g->me)
			fprintf(f, "rx,%u,%u,%u,%" PRIu64 ",,,,%s\n", i, fl->src, fl->dst,
				fl->bytes,
				g->g.op == SX_WR_RDMA_READ && fl->state != FL_OK ? "lost"
										 : rxs[fl->rx]);
	}
	if (fclose(f) != 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/rates-%u.csv", g->g.out, g->me);
	f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "time_us,src,dst,cc_gbps,goodput_gbps\n");
	for (i = 0; i < g->nrs; i++) {
		const struct rate_sample *s = &g->rs[i];
		uint32_t a = g->me, b = s->peer;

		if (g->g.op == SX_WR_RDMA_READ) {
			a = s->peer;
			b = g->me;
		}
		fprintf(f, "%.3f,%u,%u,%.4f,%.4f\n", (double)s->t_ns / 1e3, a, b, s->cc_gbps,
			s->gbps);
	}
	if (fclose(f) != 0)
		return -errno;

	qpc = json_object();
	peers = json_array();
	/* every QP counter, summed over this host's QPs */
	if (sx_stats_foreach(g->ctx, 1u << SX_STATS_QP, sum_qp, qpc) < 0)
		rc = -EIO;
	for (p = 0; p < g->n; p++) {
		struct tpeer *pp = &g->peer[p];

		if (pp->qp == NULL)
			continue;
		json_array_append_new(
			peers, json_pack("{s:I,s:b,s:I,s:I,s:I,s:I,s:I,s:o}", "peer", (json_int_t)p,
					 "failed", pp->dead, "ecn_ce_rcvd",
					 (json_int_t)qp_stat(g, pp, "ecn_ce_rcvd"), "cnp_sent",
					 (json_int_t)qp_stat(g, pp, "cnp_sent"), "cnp_rcvd",
					 (json_int_t)qp_stat(g, pp, "cnp_rcvd"), "retransmits",
					 (json_int_t)qp_stat(g, pp, "retransmits"), "rate_cuts",
					 (json_int_t)pp->rate_cuts, "min_cc_gbps",
					 json_real(pp->min_rate_bps == UINT64_MAX
							   ? 0
							   : (double)pp->min_rate_bps / 1e9)));
	}
	{
		uint64_t cuts = 0;

		for (p = 0; p < g->n; p++)
			cuts += g->peer[p].rate_cuts;
		json_object_set_new(qpc, "rate_cuts", json_integer((json_int_t)cuts));
	}
	root = json_pack("{s:I,s:I,s:s,s:s,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I},s:I,s:I,s:s?}", "rank",
			 (json_int_t)g->me, "hosts", (json_int_t)g->n, "op", g->g.op_name, "cc",
			 g->o.cc ? g->o.cc : "none", "qp", qpc, "peers", peers, "port", "rx_frames",
			 (json_int_t)cstat(g, SX_STATS_PORT, 0, "rx_frames"), "tx_frames",
			 (json_int_t)cstat(g, SX_STATS_PORT, 0, "tx_frames"), "rx_bytes",
			 (json_int_t)cstat(g, SX_STATS_PORT, 0, "rx_bytes"), "tx_bytes",
			 (json_int_t)cstat(g, SX_STATS_PORT, 0, "tx_bytes"), "tx_full",
			 (json_int_t)cstat(g, SX_STATS_PORT, 0, "tx_full"), "flows_failed",
			 (json_int_t)g->flows_failed, "verify_failed", (json_int_t)g->verify_fail,
			 "error", g->fail_why);
	if (root == NULL)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/host-%u.json", g->g.out, g->me);
	if (json_dump_file(root, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0)
		rc = -EIO;
	json_decref(root);
	return rc;
}

/* ---- command line ---- */

static int
env_int(const char *a, const char *b, const char *c)
{
	const char *v = getenv(a);

	if (v == NULL)
		v = getenv(b);
	if (v == NULL && c != NULL)
		v = getenv(c);
	return v != NULL ? atoi(v) : -1;
}

/* Takes this tool's options out of argv (the rest goes to the shared
 * parser) and notes which shared options were given. */
static int
take_opts(int *argc, char **argv, struct gen_opts *g)
{
	int i, k = 1;
	char *end;

	memset(g, 0, sizeof(*g));
	g->rank = -1;
	g->hosts = -1;
	g->chunk = 65536;
	g->mem_cap = 256ull << 20;
	g->timeout_s = 60;
	g->sample_ns = 1000000;
	g->op = SX_WR_RDMA_WRITE;
	g->op_name = "write";
	for (i = 1; i < *argc; i++) {
		const char *a = argv[i], *v = i + 1 < *argc ? argv[i + 1] : NULL;
		bool mine = true;
		uint64_t x;

		if (strcmp(a, "--") == 0) {
			for (; i < *argc; i++)
				argv[k++] = argv[i];
			break;
		}
		if (strcmp(a, "--config") == 0 && v)
			g->config = v;
		else if (strcmp(a, "--set") == 0 && v && g->nsets < 64)
			g->sets[g->nsets++] = v;
		else if (strcmp(a, "--out") == 0 && v)
			g->out = v;
		else if (strcmp(a, "--sock-dir") == 0 && v)
			g->sock_dir = v;
		else if (strcmp(a, "--fabric-stats") == 0 && v)
			g->fabric_stats = v;
		else if (strcmp(a, "--rank") == 0 && v) {
			g->rank = (int)strtol(v, &end, 10);
			if (*end || g->rank < 0 || g->rank >= MAX_HOSTS) {
				fprintf(stderr, PROG ": --rank: '%s' is not 0..%d\n", v, MAX_HOSTS - 1);
				return 2;
			}
		} else if (strcmp(a, "--hosts") == 0 && v) {
			g->hosts = (int)strtol(v, &end, 10);
			if (*end || g->hosts < 2 || g->hosts > MAX_HOSTS) {
				fprintf(stderr, PROG ": --hosts: '%s' is not 2..%d\n", v, MAX_HOSTS);
				return 2;
			}
		} else if (strcmp(a, "--op") == 0 && v) {
			g->op_name = v;
			if (strcmp(v, "write") == 0)
				g->op = SX_WR_RDMA_WRITE;
			else if (strcmp(v, "send") == 0)
				g->op = SX_WR_SEND;
			else if (strcmp(v, "read") == 0)
				g->op = SX_WR_RDMA_READ;
			else {
				fprintf(stderr, PROG ": --op: '%s' is not write, send or read\n", v);
				return 2;
			}
		} else if (strcmp(a, "--chunk") == 0 && v) {
			if (sx_tool_parse_size(v, 16u << 20, &x) < 0 || x < 64) {
				fprintf(stderr, PROG ": --chunk: '%s' is not 64 B..16 MiB\n", v);
				return 2;
			}
			g->chunk = x;
		} else if (strcmp(a, "--mem-cap") == 0 && v) {
			if (sx_tool_parse_size(v, 1ull << 34, &x) < 0 || x == 0) {
				fprintf(stderr, PROG ": --mem-cap: '%s' is not a size\n", v);
				return 2;
			}
			g->mem_cap = x;
		} else if (strcmp(a, "--timeout") == 0 && v) {
			g->timeout_s = strtod(v, &end);
			if (*end || !(g->timeout_s > 0) || g->timeout_s > 86400) {
				fprintf(stderr, PROG ": --timeout: '%s' is not (0, 86400] s\n", v);
				return 2;
			}
		} else if ((strcmp(a, "--idle-spins") == 0 || strcmp(a, "--idle-sleep-us") == 0) && v) {
			unsigned long x2 = strtoul(v, &end, 10);

			if (*end || *v < '0' || *v > '9' || x2 > 100000000ul) {
				fprintf(stderr, PROG ": %s: '%s' is not 0..10^8\n", a, v);
				return 2;
			}
			if (a[8] == 'p')
				g->idle_spins = (uint32_t)x2;
			else
				g->idle_sleep_us = (uint32_t)x2;
		} else if (strcmp(a, "--sample-ms") == 0 && v) {
			double ms = strtod(v, &end);

			if (*end || !(ms >= 0.1) || ms > 10000) {
				fprintf(stderr, PROG ": --sample-ms: '%s' is not 0.1..10000\n", v);
				return 2;
			}
			g->sample_ns = (uint64_t)(ms * 1e6);
		} else {
			mine = false;
		}
		if (mine) {
			i++;
			continue;
		}
		g->given_rel |= strcmp(a, "--rel") == 0;
		g->given_mtu |= strcmp(a, "--mtu") == 0;
		g->given_cc |= strcmp(a, "--cc") == 0 || strcmp(a, "--cc-preset") == 0 ||
			       strcmp(a, "--cc-param") == 0;
		g->given_dev |= strcmp(a, "--dev") == 0;
		g->given_ip |= strcmp(a, "--ip") == 0;
		g->given_connect |= strcmp(a, "--connect") == 0;
		g->given_port |= strcmp(a, "--boot-port") == 0;
		g->given_timeout |= strcmp(a, "--qp-timeout") == 0;
		g->given_depth |= strcmp(a, "--tx-depth") == 0;
		argv[k++] = argv[i];
	}
	*argc = k;
	argv[k] = NULL;
	return 0;
}

/* The INI's [transport] where the command line said nothing. */
static int
apply_ini(struct gen *g)
{
	struct sx_tool_opts *o = &g->o;
	const struct sx_scn_cfg *s = &g->scn;
	unsigned int i;

	if (!g->g.given_rel)
		o->rel = s->rel;
	if (!g->g.given_mtu)
		o->mtu = s->mtu;
	if (!g->g.given_timeout)
		o->qp_timeout_us = s->timeout_us;
	if (!g->g.given_depth)
		o->tx_depth = s->max_send_wr;
	if (!g->g.given_cc && s->cc[0] != '\0' && strcmp(s->cc, "none") != 0) {
		o->cc = s->cc;
		o->cc_preset = s->cc_preset[0] ? s->cc_preset : NULL;
		for (i = 0; i < s->ncc_param && i < SX_TOOL_MAX_CC_PARAMS; i++)
			o->cc_params[i] = s->cc_param[i];
		o->ncc_params = s->ncc_param;
	}
	return 0;
}

static int
host_main(int argc, char **argv)
{
	struct gen *g = calloc(1, sizeof(*g));
	uint32_t i;
	int rc, exit_rc = SX_TOOL_EXIT_FAIL, eal = 0;
	cpu_set_t allowed;
	bool have_aff;

	if (g == NULL)
		return 1;
	for (i = 0; i < MAX_HOSTS; i++)
		g->fd[i] = -1;
	rc = take_opts(&argc, argv, &g->g);
	if (rc != 0) {
		free(g);
		return rc;
	}
	rc = sx_tool_parse(&spec, argc, argv, &g->o);
	if (rc != 0) {
		free(g);
		return rc < 0 ? 0 : rc;
	}
	if (g->g.config == NULL || g->g.out == NULL) {
		fprintf(stderr, PROG ": host needs --config FILE and --out DIR\n");
		exit_rc = 2;
		goto out;
	}
	if (g->g.rank < 0)
		g->g.rank = env_int("RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK");
	if (g->g.rank < 0 || g->g.rank >= MAX_HOSTS) {
		fprintf(stderr, PROG ": no --rank (nor RANK, OMPI_COMM_WORLD_RANK, PMI_RANK)\n");
		exit_rc = 2;
		goto out;
	}
	if (g->g.hosts < 0)
		g->g.hosts = env_int("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE");
	if (!g->g.given_connect && getenv("MASTER_ADDR") != NULL)
		g->o.host = getenv("MASTER_ADDR");
	if (!g->g.given_port && getenv("MASTER_PORT") != NULL)
		g->o.boot_port = (uint16_t)atoi(getenv("MASTER_PORT"));
	/* the configuration: topology, transport, workload */
	sx_scn_cfg_init(&g->scn);
	if (sx_scn_load(&g->scn, g->g.config, stderr) != 0) {
		exit_rc = 2;
		goto out;
	}
	for (i = 0; i < g->g.nsets; i++)
		if (sx_scn_set(&g->scn, g->g.sets[i], stderr) < 0) {
			exit_rc = 2;
			goto out;
		}
	g->n = g->scn.fab.hosts_per_leaf * g->scn.fab.leaves * g->scn.fab.dcs;
	if (g->g.hosts > 0 && (uint32_t)g->g.hosts != g->n) {
		fprintf(stderr, PROG ": %d hosts given, the topology has %u\n", g->g.hosts, g->n);
		exit_rc = 2;
		goto out;
	}
	g->me = (uint32_t)g->g.rank;
	if (g->n < 2 || g->n > MAX_HOSTS || g->me >= g->n) {
		fprintf(stderr, PROG ": rank %u of %u hosts: out of range (2..%d hosts)\n", g->me,
			g->n, MAX_HOSTS);
		exit_rc = 2;
		goto out;
	}
	apply_ini(g);
	if (!g->g.given_dev) {
		if (g->g.sock_dir == NULL) {
			fprintf(stderr, PROG ": --sock-dir (scalex-fabric's) or --dev needed\n");
			exit_rc = 2;
			goto out;
		}
		/* memif's default 1024-slot rings: in front of the fabric's
		 * NIC queue (nic_ring_frames) they hold a host that sends
		 * above its line rate back, and behind it they absorb the
		 * time a receiving host is not scheduled (docs/fabric.md) */
		snprintf(g->o.dev_buf, sizeof(g->o.dev_buf),
			 "net_memif0,role=client,id=0,socket=%s/h%u.sock", g->g.sock_dir, g->me);
		g->o.dev = g->o.dev_buf;
	}
	if (!g->g.given_ip) {
		sx_fabric_ip_of_host(g->me, g->o.ip);
		g->o.ip_version = 4;
	}
	rc = flow_list(&g->scn, g->n, &g->fl, &g->nfl, stderr);
	if (rc < 0) {
		exit_rc = 2;
		goto out;
	}
	g->tx_size = calloc(g->n, sizeof(uint64_t));
	g->rx_size = calloc(g->n, sizeof(uint64_t));
	if (g->tx_size == NULL || g->rx_size == NULL || assign_flows(g) < 0)
		goto out;
	layout(g);
	if (g->tx_size[g->me] + g->rx_size[g->me] > g->g.mem_cap) {
		fprintf(stderr,
			PROG ": rank %u: the pattern moves %" PRIu64 " bytes through this host, "
			     "over --mem-cap %" PRIu64 " (fewer flows: [workload] max_flows)\n",
			g->me, g->tx_size[g->me] + g->rx_size[g->me], g->g.mem_cap);
		exit_rc = 2;
		goto out;
	}
	if (mkdir(g->g.out, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, PROG ": --out %s: %s\n", g->g.out, strerror(errno));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	/* EAL pins the main thread to the first CPU; N hosts and the
	 * fabric on a small machine do better left to the scheduler */
	have_aff = sched_getaffinity(0, sizeof(allowed), &allowed) == 0;
	if (sx_eal_init(g->o.eal_argc, g->o.eal_argv) < 0) {
		fprintf(stderr, PROG ": EAL: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	eal = 1;
	if (have_aff && g->o.eal_default)
		sched_setaffinity(0, sizeof(allowed), &allowed);
	if (open_host(g) < 0 || wait_link(g) < 0)
		goto out;
	if (bootstrap(g) < 0 || connect_qps(g) < 0)
		goto out;
	for (i = 0; i < g->n; i++)
		if (i != g->me)
			post_recvs(g, i);
	if (barrier(g, "go") < 0)
		goto out;
	g->t0 = mono_ns();
	fprintf(stderr, PROG ": rank %u: started, %u flows in the pattern\n", g->me, g->nfl);
	rc = run(g);
	if (write_records(g) < 0) {
		fprintf(stderr, PROG ": rank %u: writing records in %s failed\n", g->me, g->g.out);
		rc = -1;
	}
	fprintf(stderr, PROG ": rank %u: %u flows, %" PRIu64 " failed, %" PRIu64
			" data mismatches%s%s\n",
		g->me, g->nfl, g->flows_failed, g->verify_fail, g->fail_why ? "; " : "",
		g->fail_why ? g->fail_why : "");
	exit_rc = rc == 0 && g->flows_failed == 0 && g->verify_fail == 0 ? 0 : 1;
out:
	close_host(g);
	for (i = 0; i < MAX_HOSTS; i++)
		if (g->fd[i] >= 0)
			sx_boot_close(g->fd[i]);
	if (eal)
		sx_eal_cleanup();
	for (i = 0; i < MAX_HOSTS; i++) {
		free(g->peer[i].out);
		free(g->peer[i].in);
	}
	free(g->fl);
	free(g->tx_size);
	free(g->rx_size);
	free(g->rs);
	sx_scn_cfg_fini(&g->scn);
	sx_tool_opts_free(&g->o);
	free(g);
	return exit_rc;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "merge") == 0) {
		struct gen_opts go;
		int rc;

		argc--;
		argv++;
		rc = take_opts(&argc, argv, &go);
		if (rc != 0)
			return rc;
		if (argc > 1) {
			fprintf(stderr, PROG " merge: unexpected argument '%s'\n", argv[1]);
			return 2;
		}
		if (go.config == NULL || go.out == NULL) {
			fprintf(stderr, PROG " merge: needs --config FILE and --out DIR\n");
			return 2;
		}
		return sx_traffic_merge(go.config, go.sets, go.nsets, go.out, go.fabric_stats);
	}
	return host_main(argc, argv);
}
