/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NCCL net plugin over scalex RC QPs (docs/integrations.md).
 *
 * Protocol, per connection (one RC QP): the receiver advertises each irecv
 * by an RDMA WRITE of its buffers (address, rkey, size, tag, sequence) into
 * a FIFO of SXN_MAX_REQUESTS slots registered by the sender; the sender
 * takes the slots in order, matches its isend's tag to one of the slot's
 * (multi-receive) entries and RDMA WRITEs WITH IMMEDIATE the payload
 * straight into that buffer. The immediate names the slot's sequence and
 * the entry; the receive completion's byte_len is the size sent. This is
 * the clear-to-send scheme NCCL's own IB transport uses: zero copy, no
 * receive-not-ready, sends smaller than the receive buffer, and tags
 * matched at the sender. SEND/RECV would need the receiver to guess which
 * of n buffers the next message goes to.
 *
 * Threading: NCCL calls connect/accept from its proxy service thread and
 * isend/irecv/test from its progress thread; a scalex context is driven by
 * one thread at a time, so every entry point holds the device lock.
 * NCCL calls the plugin only while it has requests outstanding, but RC
 * needs both ends to keep answering (the ACK of a receive that already
 * completed here can be lost, and the peer's retransmission must be
 * answered or its retries run out): a helper thread makes progress while
 * any comm is open and no NCCL call came for a while.
 *
 * Versions: one implementation (the net_* functions) serves every plugin
 * version NCCL may look up, ncclNetPlugin_v8 to _v12 (nccl_net.h); the
 * v8..v12 functions at the end of the file only convert arguments (int and
 * size_t sizes, the v10 config, the v11+ context, the properties struct).
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <scalex/scalex.h>
#include <scalex/stats.h>

#include "nccl_net.h"

#define SXN_MAX_RECVS 8          /* grouped receives per irecv (maxRecvs) */
#define SXN_HANDLE_MAGIC 0x53584e43u /* "SXNC" */
#define SXN_WIRE_VERSION 2u /* 2: the hello carries the traffic class */
#define SXN_CQE 1024
#define SXN_SEND_REQS (SXN_MAX_REQUESTS * SXN_MAX_RECVS)
#define SXN_RECV_WRS (SXN_MAX_REQUESTS * SXN_MAX_RECVS)
#define SXN_MAX_ARGS 32
#define SXN_MAX_COMMS 1024
#define SXN_IDLE_NS 200000ull   /* no NCCL call for this long: the thread polls */
#define SXN_THREAD_SLEEP_US 100
/* maxP2pBytes and maxCollBytes: NCCL cuts larger transfers. test() reports
 * sizes as int and a RoCE message is at most 2^31 bytes; a power of two
 * below both, as NCCL's own MAX_GIN_SIZE picks. */
#define SXN_MAX_MSG_BYTES (1ull << 30)
/* meson -Dnccl_dmabuf=true: regMrDmaBuf maps the DMA-BUF for the CPU. */
#ifndef SXN_DMABUF
#define SXN_DMABUF 0
#endif

#define LOG(lvl, ...)                                                          \
	do {                                                                   \
		if (sxn_logger != NULL)                                        \
			sxn_logger(lvl, SXN_LOG_SUBSYS_NET, __FILE__, __LINE__, \
				   __VA_ARGS__);                               \
	} while (0)
#define WARN(...) LOG(SXN_LOG_WARN, "NET/scalex: " __VA_ARGS__)
#define INFO(...) LOG(SXN_LOG_INFO, "NET/scalex: " __VA_ARGS__)

/* One FIFO entry: a receive buffer the sender may write. Raw host-order
 * struct, RDMA-written between two little-endian hosts as NCCL's IB
 * transport does. */
struct sxn_fifo {
	uint64_t addr;
	uint32_t rkey;
	uint32_t size;
	int32_t tag;
	uint32_t nreqs;
	uint64_t seq; /* irecv number, from 1: zeroed memory is never valid */
};

/* What connect sends and accept answers over TCP (fixed size, network
 * order): the QP endpoint and, from the sender, its FIFO. */
struct sxn_hello {
	uint32_t magic;
	uint32_t version;
	uint32_t qpn;
	uint32_t psn;
	uint8_t mac[6];
	uint8_t ip_version;
	uint8_t pad;
	uint8_t ip[16];
	uint64_t fifo_addr;
	uint32_t fifo_rkey;
	/* connect's: the connection's traffic class (both QPs send with
	 * it, as NCCL's IB transport does); SXN_TRAFFIC_CLASS_UNDEF: none */
	int32_t traffic_class;
} __attribute__((packed));

struct sxn_dev {
	pthread_mutex_t lock;
	struct sx_context *ctx;
	struct sx_pd *pd;
	char name[64];
	int speed_mbps;
	enum sx_reliability rel;
	uint32_t timeout_us;
	int ncomms;
	/* Progress thread: see progress_main(). */
	pthread_t thread;
	bool thread_up;
	bool stop;
	uint64_t last_call_ns;
};

enum sxn_stage { ST_START, ST_CONNECTING, ST_SEND, ST_RECV, ST_DONE };

struct sxn_conn {
	int fd;
	int traffic_class; /* the connection's (net_connect, net_accept) */
	enum sxn_stage stage;
	size_t off;
	struct sxn_hello out, in;
	struct sx_cq *cq;
	struct sx_qp *qp;
	struct sxn_comm *comm;
};

/* The listen handle NCCL carries to the peer; stage is this side's only
 * (NCCL passes the same handle memory to every connect call). */
struct sxn_handle {
	uint32_t magic;
	uint32_t ipv4; /* network order */
	uint16_t port; /* network order */
	uint16_t pad;
	struct sxn_conn *stage;
	int32_t traffic_class; /* the listener's: for a connector with none */
};
_Static_assert(sizeof(struct sxn_handle) <= SXN_HANDLE_MAXSIZE, "NCCL_NET_HANDLE_MAXSIZE");

struct sxn_listen {
	struct sxn_dev *dev;
	int fd;
	int traffic_class; /* v11+: the listening communicator's */
	struct sxn_conn *pending;
};

enum sxn_req_kind { REQ_FREE, REQ_SEND, REQ_RECV };

/* A registration (NCCL's mhandle): the scalex MR over the bytes the CPU
 * reaches, and the address NCCL names them by. Host memory: the same
 * address. A DMA-BUF: NCCL's (device) address, the CPU mapping of the
 * buffer at cpu. */
struct sxn_mr {
	struct sx_mr *mr;
	uintptr_t base;
	size_t len;
	uint8_t *cpu;
	void *map;      /* DMA-BUF mapping to munmap at deregMr; NULL: none */
	size_t map_len;
};

/* The v11+ context: one per NCCL communicator (init .. finalize). */
struct sxn_ctx {
	uint64_t comm_id;
	int traffic_class;
};

struct sxn_comm;

struct sxn_req {
	enum sxn_req_kind kind;
	struct sxn_comm *comm;
	bool done;
	int n;
	int ndone;
	uint64_t seq;
	int sizes[SXN_MAX_RECVS];
	uint32_t posted[SXN_MAX_RECVS]; /* receive: the buffer sizes advertised */
	/* Profiler events open (bit j: receive j, or the send) and their
	 * handles, which the stops pass back. */
	uint8_t prof;
	void *ev[SXN_MAX_RECVS];
};

struct sxn_comm {
	struct sxn_dev *dev;
	bool is_send;
	bool failed;
	struct sx_cq *cq;
	struct sx_qp *qp;
	/* sender: the FIFO the receiver writes; receiver: the staging copy */
	struct sxn_fifo fifo[SXN_MAX_REQUESTS][SXN_MAX_RECVS];
	struct sx_mr *fifo_mr;
	uint64_t remote_fifo;
	uint32_t remote_rkey;
	uint64_t seq;        /* sender: slot taken next; receiver: next irecv */
	int slot_posted;     /* sender: entries of the current slot written */
	uint8_t slot_used;   /* sender: which entries */
	bool fifo_busy[SXN_MAX_REQUESTS]; /* receiver: FIFO write in flight */
	struct sxn_req recv_reqs[SXN_MAX_REQUESTS];
	struct sxn_req send_reqs[SXN_SEND_REQS];
	uint32_t send_next;
};

#define WRID_RECV (1ull << 62)
#define WRID_FIFO (1ull << 61)

static void stats_dump(struct sxn_dev *d, unsigned int scopes, uint32_t qpn);

static sxn_logger_fn sxn_logger;
/* v10+: NCCL's ncclProfilerCallback_t, the same function on every init */
static sxn_profiler_fn sxn_profiler;
static struct sxn_dev *sxn_devs;
static int sxn_ndevs;
static bool sxn_eal_up;
static pthread_mutex_t sxn_init_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
dev_lock(struct sxn_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->last_call_ns = mono_ns();
}

static void
dev_unlock(struct sxn_dev *d)
{
	pthread_mutex_unlock(&d->lock);
}

/* Only while comms are open: with none, the port is left alone, so an
 * orderly memif shutdown (close every comm, then unload) is possible. */
static void *
progress_main(void *arg)
{
	struct sxn_dev *d = arg;

	for (;;) {
		usleep(SXN_THREAD_SLEEP_US);
		pthread_mutex_lock(&d->lock);
		if (d->stop) {
			pthread_mutex_unlock(&d->lock);
			return NULL;
		}
		if (d->ncomms > 0 && mono_ns() - d->last_call_ns > SXN_IDLE_NS)
			sx_progress(d->ctx);
		pthread_mutex_unlock(&d->lock);
	}
}

static int
env_fault(const char *name, struct sx_fault_dir *dir)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		return 0;
	if (sx_fault_parse(v, dir) < 0) {
		WARN("bad %s=%s", name, v);
		return -EINVAL;
	}
	return 0;
}

static int
eal_up(void)
{
	const char *env = getenv("SCALEX_NCCL_EAL");
	char *copy, *save = NULL, *tok;
	char *argv[SXN_MAX_ARGS + 1];
	int argc = 0, ret;

	copy = strdup(env != NULL ? env : "--no-huge -m 256 --no-pci");
	if (copy == NULL)
		return -ENOMEM;
	argv[argc++] = (char *)"scalex-nccl";
	for (tok = strtok_r(copy, " ", &save); tok != NULL && argc < SXN_MAX_ARGS;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	ret = sx_eal_init(argc, argv);
	free(copy);
	return ret < 0 ? ret : 0;
}

static int
dev_open(struct sxn_dev *d, const char *port)
{
	struct sx_context_attr attr;
	const char *ip = getenv("SCALEX_NCCL_IP"), *rel = getenv("SCALEX_NCCL_REL");
	const char *mtu = getenv("SCALEX_NCCL_MTU"), *seed = getenv("SCALEX_NCCL_SEED");
	const char *speed = getenv("SCALEX_NCCL_SPEED_MBPS");
	const char *pcap = getenv("SCALEX_NCCL_PCAP");
	struct in_addr a;

	sx_context_attr_init(&attr);
	attr.port = port;
	attr.ip_version = 4;
	if (ip == NULL || inet_pton(AF_INET, ip, &a) != 1) {
		WARN("SCALEX_NCCL_IP must be this host's IPv4 address on the port (got %s)",
		     ip != NULL ? ip : "nothing");
		return -EINVAL;
	}
	memcpy(attr.ip, &a, 4);
	if (mtu != NULL)
		attr.mtu = (uint32_t)strtoul(mtu, NULL, 10);
	if (pcap != NULL && *pcap != '\0')
		attr.pcap_path = pcap; /* every frame sent and received, pcapng */
	if (seed != NULL)
		attr.fault_seed = strtoull(seed, NULL, 0);
	if (env_fault("SCALEX_NCCL_FAULT_TX", &attr.fault_tx) < 0 ||
	    env_fault("SCALEX_NCCL_FAULT_RX", &attr.fault_rx) < 0)
		return -EINVAL;
	d->rel = SX_REL_SR;
	if (rel != NULL && strcmp(rel, "gbn") == 0)
		d->rel = SX_REL_GBN;
	else if (rel != NULL && strcmp(rel, "sr") != 0) {
		WARN("SCALEX_NCCL_REL=%s: gbn or sr", rel);
		return -EINVAL;
	}
	d->speed_mbps = speed != NULL ? atoi(speed) : 100000;
	/* A proxy thread can be descheduled for a while on a busy host:
	 * a longer first RTO keeps 7 retries from running out. */
	if (getenv("SCALEX_NCCL_TIMEOUT_US") != NULL)
		d->timeout_us = (uint32_t)strtoul(getenv("SCALEX_NCCL_TIMEOUT_US"), NULL, 10);
	d->ctx = sx_open_device(&attr);
	if (d->ctx == NULL) {
		WARN("sx_open_device(%s): %s", port, strerror(errno));
		return -errno;
	}
	d->pd = sx_alloc_pd(d->ctx);
	if (d->pd == NULL) {
		sx_close_device(d->ctx);
		d->ctx = NULL;
		return -ENOMEM;
	}
	snprintf(d->name, sizeof(d->name), "scalex%d", sxn_ndevs);
	pthread_mutex_init(&d->lock, NULL);
	return 0;
}

/* Every version's init: the first call opens the device, later ones (v11+
 * calls init once per NCCL communicator) find it open. */
static int
net_init(sxn_logger_fn logger, sxn_profiler_fn profiler)
{
	const char *port = getenv("SCALEX_NCCL_PORT");
	int ret = SXN_SUCCESS;

	pthread_mutex_lock(&sxn_init_lock);
	sxn_logger = logger;
	if (profiler != NULL)
		sxn_profiler = profiler;
	if (sxn_devs != NULL)
		goto cleanup;
	/* Not configured: init fails, and NCCL falls back on another network
	 * (plugins/net/README.md: with no usable device init must not
	 * succeed; zero devices would fail NCCL's initialization). */
	if (port == NULL || *port == '\0') {
		INFO("SCALEX_NCCL_PORT not set: not initialized");
		ret = SXN_INTERNAL_ERROR;
		goto cleanup;
	}
	if (!sxn_eal_up) {
		if (eal_up() < 0) {
			WARN("EAL init failed (SCALEX_NCCL_EAL)");
			ret = SXN_SYSTEM_ERROR;
			goto cleanup;
		}
		sxn_eal_up = true;
	}
	sxn_devs = calloc(1, sizeof(*sxn_devs));
	if (sxn_devs == NULL || dev_open(&sxn_devs[0], port) < 0) {
		free(sxn_devs);
		sxn_devs = NULL;
		ret = SXN_SYSTEM_ERROR;
		goto cleanup;
	}
	sxn_ndevs = 1;
	if (pthread_create(&sxn_devs[0].thread, NULL, progress_main, &sxn_devs[0]) != 0) {
		WARN("progress thread: %s", strerror(errno));
		ret = SXN_SYSTEM_ERROR;
		goto cleanup;
	}
	sxn_devs[0].thread_up = true;
	INFO("device 0 on %s", port);
cleanup:
	pthread_mutex_unlock(&sxn_init_lock);
	return ret;
}

/* The device closes when the library unloads: v8..v10 have no finalize,
 * and v11+'s finalize ends one communicator's context, not the process's
 * use of the port (the EAL cannot start again once cleaned up). */
__attribute__((destructor)) static void
sxn_fini(void)
{
	int i;

	for (i = 0; i < sxn_ndevs; i++) {
		if (sxn_devs[i].thread_up) {
			pthread_mutex_lock(&sxn_devs[i].lock);
			sxn_devs[i].stop = true;
			pthread_mutex_unlock(&sxn_devs[i].lock);
			pthread_join(sxn_devs[i].thread, NULL);
		}
		stats_dump(&sxn_devs[i], (1u << SX_STATS_PORT) | (1u << SX_STATS_ENGINE), 0);
		sx_dealloc_pd(sxn_devs[i].pd);
		sx_close_device(sxn_devs[i].ctx);
	}
	free(sxn_devs);
	sxn_devs = NULL;
	sxn_ndevs = 0;
	if (sxn_eal_up)
		sx_eal_cleanup();
	sxn_eal_up = false;
}

static int
net_devices(int *ndev)
{
	*ndev = sxn_ndevs;
	return SXN_SUCCESS;
}

/* The newest properties; older versions copy the fields they have. */
static int
net_get_properties(int dev, struct sxn_props_v12 *p)
{
	if (dev < 0 || dev >= sxn_ndevs)
		return SXN_INVALID_ARGUMENT;
	memset(p, 0, sizeof(*p));
	p->name = sxn_devs[dev].name;
	p->pci_path = NULL; /* a DPDK vdev has no PCI function */
	p->guid = (uint64_t)dev;
	/* The CPU moves every byte: GPU memory only through a DMA-BUF the
	 * CPU can map, and only in a build that asked for it. */
	p->ptr_support = SXN_PTR_HOST | (SXN_DMABUF ? SXN_PTR_CUDA | SXN_PTR_DMABUF : 0);
	p->reg_is_global = 0;
	p->force_flush = 0;
	p->speed_mbps = sxn_devs[dev].speed_mbps;
	p->port = 1;
	p->latency_us = 0;
	p->max_comms = SXN_MAX_COMMS;
	p->max_recvs = SXN_MAX_RECVS;
	p->net_device_type = SXN_NET_DEVICE_HOST;
	p->net_device_version = 0;
	/* a physical device: itself, no fusion (makeVDevice is NULL) */
	p->vprops.ndevs = 1;
	p->vprops.devs[0] = dev;
	p->max_p2p_bytes = SXN_MAX_MSG_BYTES;
	p->max_coll_bytes = SXN_MAX_MSG_BYTES;
	p->max_multi_request_size = 1; /* what NCCL assumes of v9/v10 plugins */
	p->rail_id = SXN_NET_ID_UNDEF;
	p->plane_id = SXN_NET_ID_UNDEF;
	return SXN_SUCCESS;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* NCCL_NET_TRAFFIC_CLASS_UNDEF, or an IP traffic class (IPv4 ToS, IPv6
 * traffic class) as NCCL_IB_TC and the GRH's traffic_class take it. */
static bool
traffic_class_ok(int tc)
{
	return tc == SXN_TRAFFIC_CLASS_UNDEF || (tc >= 0 && tc <= 255);
}

static int
net_listen(int dev, int traffic_class, void *handle, void **listen_comm)
{
	const char *addr = getenv("SCALEX_NCCL_BOOT_ADDR");
	struct sxn_handle *h = handle;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct sxn_listen *l;

	*listen_comm = NULL;
	if (dev < 0 || dev >= sxn_ndevs)
		return SXN_INVALID_ARGUMENT;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return SXN_SYSTEM_ERROR;
	l->dev = &sxn_devs[dev];
	l->traffic_class = traffic_class;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (inet_pton(AF_INET, addr != NULL ? addr : "127.0.0.1", &sa.sin_addr) != 1) {
		WARN("bad SCALEX_NCCL_BOOT_ADDR %s", addr);
		free(l);
		return SXN_INVALID_ARGUMENT;
	}
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l->fd, 64) < 0 || set_nonblock(l->fd) < 0 ||
	    getsockname(l->fd, (struct sockaddr *)&sa, &len) < 0) {
		WARN("listen: %s", strerror(errno));
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		return SXN_SYSTEM_ERROR;
	}
	memset(h, 0, SXN_HANDLE_MAXSIZE);
	h->magic = SXN_HANDLE_MAGIC;
	h->ipv4 = sa.sin_addr.s_addr;
	h->port = sa.sin_port;
	h->traffic_class = traffic_class;
	*listen_comm = l;
	return SXN_SUCCESS;
}

static struct sxn_conn *
conn_new(int fd, int traffic_class)
{
	struct sxn_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->traffic_class = traffic_class;
	return c;
}

/*
 * The connection's CQ and QP. A traffic class sets the QP's DSCP (its top
 * six bits, RFC 2474); the two ECN bits stay the transport's (ECT(0) on
 * data, as a RoCE NIC with ECN on sends whatever the GRH traffic class).
 */
static int
conn_qp(struct sxn_dev *d, struct sxn_conn *c)
{
	struct sx_qp_init_attr qa;

	c->cq = sx_create_cq(d->ctx, SXN_CQE);
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.max_send_wr = 2 * SXN_SEND_REQS;
	qa.max_recv_wr = SXN_RECV_WRS;
	qa.reliability = d->rel;
	qa.retry_cnt = 7;
	qa.rnr_retry = 7;
	qa.timeout_us = d->timeout_us;
	if (c->traffic_class != SXN_TRAFFIC_CLASS_UNDEF) {
		qa.dscp = (uint8_t)(c->traffic_class >> 2);
		qa.set_dscp = 1;
	}
	if (c->cq != NULL)
		c->qp = sx_create_qp(d->pd, &qa);
	if (c->qp == NULL) {
		WARN("QP: %s", strerror(errno));
		if (c->cq != NULL)
			sx_destroy_cq(c->cq);
		c->cq = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void
conn_free(struct sxn_conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	if (c->qp != NULL)
		sx_destroy_qp(c->qp);
	if (c->cq != NULL)
		sx_destroy_cq(c->cq);
	free(c);
}

static void
hello_fill(struct sxn_hello *m, struct sx_qp *qp)
{
	struct sx_qp_endpoint ep;

	sx_qp_local(qp, &ep);
	memset(m, 0, sizeof(*m));
	m->magic = htonl(SXN_HANDLE_MAGIC);
	m->version = htonl(SXN_WIRE_VERSION);
	m->qpn = htonl(ep.qpn);
	m->psn = htonl(ep.psn);
	memcpy(m->mac, ep.mac, 6);
	m->ip_version = ep.ip_version;
	memcpy(m->ip, ep.ip, 16);
	m->traffic_class = SXN_TRAFFIC_CLASS_UNDEF;
}

static int
hello_endpoint(const struct sxn_hello *m, struct sx_qp_endpoint *ep)
{
	if (ntohl(m->magic) != SXN_HANDLE_MAGIC || ntohl(m->version) != SXN_WIRE_VERSION ||
	    (m->ip_version != 4 && m->ip_version != 6) ||
	    !traffic_class_ok((int32_t)ntohl((uint32_t)m->traffic_class)))
		return -EPROTO;
	memset(ep, 0, sizeof(*ep));
	ep->qpn = ntohl(m->qpn);
	ep->psn = ntohl(m->psn);
	memcpy(ep->mac, m->mac, 6);
	ep->ip_version = m->ip_version;
	memcpy(ep->ip, m->ip, 16);
	return 0;
}

/* Move @p len bytes of @p buf at c->off without blocking: 1 done, 0 again,
 * -errno failed (peer gone, or closed early). */
static int
io_step(struct sxn_conn *c, void *buf, size_t len, bool out)
{
	while (c->off < len) {
		ssize_t r = out ? send(c->fd, (uint8_t *)buf + c->off, len - c->off, MSG_NOSIGNAL)
				: recv(c->fd, (uint8_t *)buf + c->off, len - c->off, 0);

		if (r == 0)
			return -ECONNRESET;
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
		c->off += (size_t)r;
	}
	c->off = 0;
	return 1;
}

static struct sxn_comm *
comm_new(struct sxn_dev *d, struct sxn_conn *c, bool is_send)
{
	struct sxn_comm *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->dev = d;
	m->is_send = is_send;
	m->seq = 1;
	m->fifo_mr = sx_reg_mr(d->pd, m->fifo, sizeof(m->fifo),
			       SX_ACCESS_LOCAL_WRITE | (is_send ? SX_ACCESS_REMOTE_WRITE : 0));
	if (m->fifo_mr == NULL) {
		free(m);
		return NULL;
	}
	m->cq = c->cq;
	m->qp = c->qp;
	return m;
}

static int
post_recvs(struct sxn_comm *m, int n)
{
	struct sx_recv_wr wr, *bad;
	int i;

	for (i = 0; i < n; i++) {
		memset(&wr, 0, sizeof(wr));
		wr.wr_id = WRID_RECV;
		if (sx_post_recv(m->qp, &wr, &bad) < 0)
			return -1;
	}
	return 0;
}

static void
comm_free(struct sxn_comm *m)
{
	if (m == NULL)
		return;
	if (m->qp != NULL)
		sx_destroy_qp(m->qp);
	if (m->fifo_mr != NULL)
		sx_dereg_mr(m->fifo_mr);
	if (m->cq != NULL)
		sx_destroy_cq(m->cq);
	free(m);
}

/* Hand the QP and CQ of a finished handshake to its comm. */
static struct sxn_comm *
conn_finish(struct sxn_dev *d, struct sxn_conn *c)
{
	struct sxn_comm *m = c->comm;

	c->comm = NULL;
	c->qp = NULL;
	c->cq = NULL;
	conn_free(c);
	d->ncomms++;
	return m;
}

static void
conn_abort(struct sxn_conn *c)
{
	if (c->comm != NULL) {
		/* the comm shares the conn's QP and CQ: free them once */
		c->comm->qp = NULL;
		c->comm->cq = NULL;
		comm_free(c->comm);
	}
	conn_free(c);
}

static int
net_connect(int dev, int traffic_class, void *handle, void **send_comm,
	    struct sxn_dev_handle_v8 **send_dev)
{
	struct sxn_handle *h = handle;
	struct sx_qp_endpoint ep;
	struct sxn_dev *d;
	struct sxn_conn *c;
	int ret = SXN_SUCCESS, r = 0;

	(void)send_dev;
	*send_comm = NULL;
	if (dev < 0 || dev >= sxn_ndevs || h->magic != SXN_HANDLE_MAGIC ||
	    !traffic_class_ok(h->traffic_class))
		return SXN_INVALID_ARGUMENT;
	/* The connection's class: this communicator's, else the listener's
	 * (accept applies the same rule, so both QPs agree). */
	if (traffic_class == SXN_TRAFFIC_CLASS_UNDEF)
		traffic_class = h->traffic_class;
	d = &sxn_devs[dev];
	dev_lock(d);
	c = h->stage;
	if (c == NULL) {
		struct sockaddr_in sa;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || set_nonblock(fd) < 0) {
			if (fd >= 0)
				close(fd);
			ret = SXN_SYSTEM_ERROR;
			goto cleanup;
		}
		c = conn_new(fd, traffic_class);
		if (c == NULL) {
			close(fd);
			ret = SXN_SYSTEM_ERROR;
			goto cleanup;
		}
		h->stage = c;
		if (conn_qp(d, c) < 0) {
			ret = SXN_SYSTEM_ERROR;
			goto fail;
		}
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = h->ipv4;
		sa.sin_port = h->port;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
			WARN("connect: %s", strerror(errno));
			ret = SXN_SYSTEM_ERROR;
			goto fail;
		}
		c->stage = ST_CONNECTING;
	}
	if (c->stage == ST_CONNECTING) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer), el = sizeof(r);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &r, &el) < 0 || r != 0) {
			WARN("connect: %s", strerror(r));
			ret = SXN_SYSTEM_ERROR;
			goto fail;
		}
		if (getpeername(c->fd, (struct sockaddr *)&peer, &pl) < 0)
			goto cleanup; /* still connecting */
		/* The sender owns the FIFO: its hello names it. */
		c->comm = comm_new(d, c, true);
		if (c->comm == NULL) {
			ret = SXN_SYSTEM_ERROR;
			goto fail;
		}
		hello_fill(&c->out, c->qp);
		c->out.fifo_addr = htobe64((uint64_t)(uintptr_t)c->comm->fifo);
		c->out.fifo_rkey = htonl(c->comm->fifo_mr->rkey);
		c->out.traffic_class = (int32_t)htonl((uint32_t)c->traffic_class);
		c->stage = ST_SEND;
	}
	if (c->stage == ST_SEND) {
		r = io_step(c, &c->out, sizeof(c->out), true);
		if (r < 0)
			goto io_fail;
		if (r == 0)
			goto cleanup;
		c->stage = ST_RECV;
	}
	r = io_step(c, &c->in, sizeof(c->in), false);
	if (r < 0)
		goto io_fail;
	if (r == 0)
		goto cleanup;
	if (hello_endpoint(&c->in, &ep) < 0 || sx_qp_connect(c->qp, &ep) < 0) {
		WARN("connect: bad hello from the peer");
		ret = SXN_REMOTE_ERROR;
		goto fail;
	}
	h->stage = NULL;
	*send_comm = conn_finish(d, c);
	goto cleanup;
io_fail:
	WARN("connect handshake: %s", strerror(-r));
	ret = SXN_REMOTE_ERROR;
fail:
	conn_abort(c);
	h->stage = NULL;
cleanup:
	dev_unlock(d);
	return ret;
}

static int
net_accept(void *listen_comm, void **recv_comm, struct sxn_dev_handle_v8 **recv_dev)
{
	struct sxn_listen *l = listen_comm;
	struct sxn_dev *d = l->dev;
	struct sx_qp_endpoint ep;
	struct sxn_conn *c;
	int ret = SXN_SUCCESS, r = 0;

	(void)recv_dev;
	*recv_comm = NULL;
	dev_lock(d);
	c = l->pending;
	if (c == NULL) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				WARN("accept: %s", strerror(errno));
				ret = SXN_SYSTEM_ERROR;
			}
			goto cleanup;
		}
		c = conn_new(fd, l->traffic_class);
		if (c == NULL) {
			close(fd);
			ret = SXN_SYSTEM_ERROR;
			goto cleanup;
		}
		l->pending = c;
		c->stage = ST_RECV;
	}
	if (c->stage == ST_RECV) {
		r = io_step(c, &c->in, sizeof(c->in), false);
		if (r < 0)
			goto io_fail;
		if (r == 0)
			goto cleanup;
		if (hello_endpoint(&c->in, &ep) < 0) {
			WARN("accept: bad hello from the peer");
			ret = SXN_REMOTE_ERROR;
			goto fail;
		}
		/* The QP waits for the hello: the connecting side's class is the
		 * connection's, as in NCCL's IB transport (the listener's own
		 * when the peer has none). */
		if ((int32_t)ntohl((uint32_t)c->in.traffic_class) != SXN_TRAFFIC_CLASS_UNDEF)
			c->traffic_class = (int32_t)ntohl((uint32_t)c->in.traffic_class);
		if (conn_qp(d, c) < 0 || (c->comm = comm_new(d, c, false)) == NULL) {
			ret = SXN_SYSTEM_ERROR;
			goto fail;
		}
		if (sx_qp_connect(c->qp, &ep) < 0 || post_recvs(c->comm, SXN_RECV_WRS) < 0) {
			WARN("accept: bad hello from the peer");
			ret = SXN_REMOTE_ERROR;
			goto fail;
		}
		c->comm->remote_fifo = be64toh(c->in.fifo_addr);
		c->comm->remote_rkey = ntohl(c->in.fifo_rkey);
		hello_fill(&c->out, c->qp);
		c->out.traffic_class = (int32_t)htonl((uint32_t)c->traffic_class);
		c->stage = ST_SEND;
	}
	r = io_step(c, &c->out, sizeof(c->out), true);
	if (r < 0)
		goto io_fail;
	if (r == 0)
		goto cleanup;
	l->pending = NULL;
	*recv_comm = conn_finish(d, c);
	goto cleanup;
io_fail:
	WARN("accept handshake: %s", strerror(-r));
	ret = SXN_REMOTE_ERROR;
fail:
	conn_abort(c);
	l->pending = NULL;
cleanup:
	dev_unlock(d);
	return ret;
}

static int
net_close_listen(void *listen_comm)
{
	struct sxn_listen *l = listen_comm;

	if (l == NULL)
		return SXN_SUCCESS;
	dev_lock(l->dev);
	if (l->pending != NULL)
		conn_abort(l->pending);
	dev_unlock(l->dev);
	close(l->fd);
	free(l);
	return SXN_SUCCESS;
}

static int
mr_new(struct sxn_comm *m, uintptr_t base, void *cpu, size_t size, void *map, size_t map_len,
       void **mhandle)
{
	struct sxn_mr *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return SXN_SYSTEM_ERROR;
	dev_lock(m->dev);
	h->mr = sx_reg_mr(m->dev->pd, cpu, size,
			  SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE | SX_ACCESS_REMOTE_READ);
	dev_unlock(m->dev);
	if (h->mr == NULL) {
		WARN("regMr(%p, %zu): %s", cpu, size, strerror(errno));
		free(h);
		return SXN_SYSTEM_ERROR;
	}
	h->base = base;
	h->len = size;
	h->cpu = cpu;
	h->map = map;
	h->map_len = map_len;
	*mhandle = h;
	return SXN_SUCCESS;
}

static int
net_reg_mr(void *comm, void *data, size_t size, int type, void **mhandle)
{
	*mhandle = NULL;
	if (type != SXN_PTR_HOST) {
		WARN("regMr: only host memory (type %d)%s", type,
		     SXN_DMABUF ? "; GPU memory through regMrDmaBuf" : "");
		return SXN_INVALID_ARGUMENT;
	}
	return mr_new(comm, (uintptr_t)data, data, size, NULL, 0, mhandle);
}

/*
 * Off (the default): unsupported, and getProperties does not offer
 * NCCL_PTR_DMABUF, so NCCL does not call it. On: the CPU moves the bytes,
 * so the DMA-BUF must be mappable by the CPU (mmap of the fd at @p offset;
 * exporters that refuse it get a clear error); NCCL keeps naming the
 * buffer by @p data and the MR translates.
 */
static int
net_reg_mr_dmabuf(void *comm, void *data, size_t size, int type, uint64_t offset, int fd,
		  void **mhandle)
{
	*mhandle = NULL;
#if SXN_DMABUF
	{
		uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), skew = offset % page;
		size_t map_len = size + (size_t)skew;
		void *map;

		if (type != SXN_PTR_HOST && type != SXN_PTR_CUDA) {
			WARN("regMrDmaBuf: memory type %d", type);
			return SXN_INVALID_ARGUMENT;
		}
		if (size == 0 || fd < 0) {
			WARN("regMrDmaBuf: size %zu, fd %d", size, fd);
			return SXN_INVALID_ARGUMENT;
		}
		map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			   (off_t)(offset - skew));
		if (map == MAP_FAILED) {
			WARN("regMrDmaBuf: the exporter of fd %d does not let the CPU map it "
			     "(%s); scalex moves bytes with the CPU", fd, strerror(errno));
			return SXN_SYSTEM_ERROR;
		}
		if (mr_new(comm, (uintptr_t)data, (uint8_t *)map + skew, size, map, map_len,
			   mhandle) != SXN_SUCCESS) {
			munmap(map, map_len);
			return SXN_SYSTEM_ERROR;
		}
		return SXN_SUCCESS;
	}
#else
	(void)comm;
	(void)data;
	(void)size;
	(void)type;
	(void)offset;
	(void)fd;
	WARN("regMrDmaBuf: not supported by this build (meson -Dnccl_dmabuf=true enables it); "
	     "ptrSupport is NCCL_PTR_HOST");
	return SXN_INVALID_USAGE;
#endif
}

static int
net_dereg_mr(void *comm, void *mhandle)
{
	struct sxn_comm *m = comm;
	struct sxn_mr *h = mhandle;
	int r;

	if (h == NULL)
		return SXN_INVALID_ARGUMENT;
	dev_lock(m->dev);
	r = sx_dereg_mr(h->mr);
	dev_unlock(m->dev);
	if (r < 0) {
		WARN("deregMr: %s", strerror(-r));
		return SXN_INTERNAL_ERROR;
	}
	if (h->map != NULL)
		munmap(h->map, h->map_len);
	free(h);
	return SXN_SUCCESS;
}

/* The CPU address of NCCL's [data, data + size), inside registration @p h;
 * NULL if it is not inside. */
static uint8_t *
mr_cpu(const struct sxn_mr *h, const void *data, size_t size)
{
	uintptr_t a = (uintptr_t)data;

	if (a < h->base || a - h->base > h->len || size > h->len - (a - h->base))
		return NULL;
	return h->cpu + (a - h->base);
}

static int
stat_log(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	uint32_t qpn = *(const uint32_t *)arg;

	if (value != 0 && (d->scope != SX_STATS_QP || id == qpn))
		WARN("  %s %u %s = %lu", sx_stats_scope_name(d->scope), id, d->name,
		     (unsigned long)value);
	return 0;
}

struct stat_dump {
	FILE *fp;
	uint32_t qpn;
};

static int
stat_write(void *arg, const struct sx_stat_desc *d, uint32_t id, uint64_t value)
{
	struct stat_dump *sd = arg;

	if (value != 0 && (d->scope != SX_STATS_QP || id == sd->qpn))
		fprintf(sd->fp, "%s %u %s %lu\n", sx_stats_scope_name(d->scope), id, d->name,
			(unsigned long)value);
	return 0;
}

/* SCALEX_NCCL_STATS_FILE: append the non-zero counters of @p scopes (a
 * QP's just before it is destroyed, the port's and engine's when the
 * device closes), "scope id name value" a line, so a run can prove which
 * transport carried its bytes. */
static void
stats_dump(struct sxn_dev *d, unsigned int scopes, uint32_t qpn)
{
	const char *path = getenv("SCALEX_NCCL_STATS_FILE");
	struct stat_dump sd = {.qpn = qpn};

	if (path == NULL || *path == '\0')
		return;
	sd.fp = fopen(path, "a");
	if (sd.fp == NULL) {
		WARN("SCALEX_NCCL_STATS_FILE %s: %s", path, strerror(errno));
		return;
	}
	sx_stats_foreach(d->ctx, scopes, stat_write, &sd);
	fclose(sd.fp);
}

/* A comm failed: the counters say why (drops, retransmits, NAKs). */
static void
comm_fail(struct sxn_comm *m, const struct sx_wc *w)
{
	uint32_t qpn = w->qp_num;

	if (m->failed)
		return;
	m->failed = true;
	WARN("completion error: %s (qp %u), counters:", sx_wc_status_str(w->status), qpn);
	sx_stats_foreach(m->dev->ctx, (1u << SX_STATS_PORT) | (1u << SX_STATS_ENGINE) |
				     (1u << SX_STATS_QP), stat_log, &qpn);
}

/* Poll the comm's CQ (which also moves the whole context on) and account
 * the completions to their requests. Lock held. */
static void
comm_progress(struct sxn_comm *m)
{
	struct sx_wc wc[32];
	int i, n;

	while ((n = sx_poll_cq(m->cq, 32, wc)) > 0) {
		for (i = 0; i < n; i++) {
			const struct sx_wc *w = &wc[i];

			if (w->status != SX_WC_SUCCESS) {
				comm_fail(m, w);
				continue;
			}
			if (w->wr_id & WRID_RECV) {
				uint32_t imm = ntohl(w->imm_data);
				uint32_t j = imm & 0xff, seq24 = imm >> 8;
				struct sxn_req *r = &m->recv_reqs[0];
				int s;

				for (s = 0; s < SXN_MAX_REQUESTS; s++) {
					r = &m->recv_reqs[s];
					if (r->kind == REQ_RECV && !r->done &&
					    (r->seq & 0xffffff) == seq24)
						break;
				}
				/* The rkey admits the whole region: a peer that wrote
				 * past the advertised buffer is caught here. */
				if (s == SXN_MAX_REQUESTS || (int)j >= r->n ||
				    !(w->wc_flags & SX_WC_WITH_IMM) || w->byte_len > r->posted[j]) {
					WARN("write for no receive (imm %#x)", imm);
					m->failed = true;
					continue;
				}
				r->sizes[j] = (int)w->byte_len;
				if (++r->ndone == r->n)
					r->done = true;
				if (post_recvs(m, 1) < 0)
					m->failed = true;
			} else if (w->wr_id & WRID_FIFO) {
				m->fifo_busy[w->wr_id & (SXN_MAX_REQUESTS - 1)] = false;
			} else if (w->wr_id < SXN_SEND_REQS) {
				m->send_reqs[w->wr_id].done = true;
			}
		}
	}
}

/*
 * Profiler events (v10+), as NCCL's own transports emit them: one per
 * isend and per receive of an irecv, started when the request is posted
 * (the irecv's FIFO write, the isend's RDMA WRITE), stopped by the test()
 * that reports it done; only with NCCL's callback and a profiler handle
 * for that request (NCCL passes NULL when no profiler wants net events).
 */
static void
prof_start(struct sxn_comm *m, struct sxn_req *r, int j, void *phandle, int op, int tag,
	   size_t length)
{
	/* NCCL's callback hands it to the profiler's startEvent, which reads
	 * it then: the call's lifetime is enough (NCCL's socket transport
	 * passes one on its stack too). */
	struct sxn_profiler_descr_v1 pd;

	if (sxn_profiler == NULL || phandle == NULL)
		return;
	memset(&pd, 0, sizeof(pd));
	pd.type = SXN_PROFILE_QP;
	pd.qp.device = (int)(m->dev - sxn_devs);
	pd.qp.qpn = sx_qp_num(m->qp);
	pd.qp.op = op;
	pd.qp.tag = tag;
	pd.qp.length = length;
	pd.qp.seq = r->seq;
	r->ev[j] = NULL;
	if (sxn_profiler(&r->ev[j], SXN_PROFILER_NET_EVENT_START, phandle,
			 (int64_t)SXN_PROFILER_PLUGIN_ID, &pd) != SXN_SUCCESS) {
		WARN("profiler: start of a %s event failed; not recorded",
		     op == SXN_PROFILE_OP_SEND ? "send" : "receive");
		return;
	}
	r->prof |= (uint8_t)(1u << j);
}

static void
prof_stop(struct sxn_req *r)
{
	int j;

	for (j = 0; r->prof != 0 && j < SXN_MAX_RECVS; j++)
		if (r->prof & (1u << j))
			sxn_profiler(&r->ev[j], SXN_PROFILER_NET_EVENT_STOP, NULL, 0, NULL);
	r->prof = 0;
}

static struct sxn_req *
send_req_get(struct sxn_comm *m)
{
	uint32_t i;

	for (i = 0; i < SXN_SEND_REQS; i++) {
		uint32_t k = (m->send_next + i) % SXN_SEND_REQS;

		if (m->send_reqs[k].kind == REQ_FREE) {
			m->send_next = k + 1;
			return &m->send_reqs[k];
		}
	}
	return NULL;
}

static int
net_isend(void *send_comm, void *data, size_t size, int tag, void *mhandle, void *phandle,
	  void **request)
{
	struct sxn_comm *m = send_comm;
	struct sxn_fifo *slot;
	struct sxn_mr *mh = mhandle;
	struct sx_send_wr wr, *bad;
	struct sx_sge sge;
	struct sxn_req *req;
	uint8_t *cpu;
	int ret = SXN_SUCCESS, j, n, r;

	*request = NULL;
	if (size > SXN_MAX_MSG_BYTES || mh == NULL)
		return SXN_INVALID_ARGUMENT;
	cpu = mr_cpu(mh, data, size);
	if (cpu == NULL) {
		WARN("isend: %zu bytes at %p outside their registration", size, data);
		return SXN_INVALID_ARGUMENT;
	}
	dev_lock(m->dev);
	comm_progress(m);
	if (m->failed) {
		ret = SXN_REMOTE_ERROR;
		goto cleanup;
	}
	slot = m->fifo[m->seq % SXN_MAX_REQUESTS];
	/* Not posted yet by the receiver: NCCL calls again. */
	if (__atomic_load_n(&slot[0].seq, __ATOMIC_ACQUIRE) != m->seq)
		goto cleanup;
	n = (int)slot[0].nreqs;
	if (n < 1 || n > SXN_MAX_RECVS) {
		WARN("isend: FIFO entry with %d receives", n);
		ret = SXN_REMOTE_ERROR;
		goto cleanup;
	}
	for (j = 0; j < n; j++)
		if (slot[j].seq != m->seq)
			goto cleanup;
	for (j = 0; j < n; j++)
		if (!(m->slot_used & (1u << j)) && slot[j].tag == tag)
			break;
	if (j == n)
		goto cleanup; /* no receive for this tag in the current slot yet */
	if (size > slot[j].size) {
		WARN("isend: %zu bytes to a receive of %u (tag %d)", size, slot[j].size, tag);
		ret = SXN_INVALID_USAGE;
		goto cleanup;
	}
	req = send_req_get(m);
	if (req == NULL)
		goto cleanup;
	memset(&wr, 0, sizeof(wr));
	sge.addr = (uint64_t)(uintptr_t)cpu;
	sge.length = (uint32_t)size;
	sge.lkey = mh->mr->lkey;
	wr.wr_id = (uint64_t)(req - m->send_reqs);
	wr.sg_list = &sge;
	wr.num_sge = size > 0 ? 1 : 0;
	wr.opcode = SX_WR_RDMA_WRITE_WITH_IMM;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.imm_data = htonl((uint32_t)((m->seq & 0xffffff) << 8) | (uint32_t)j);
	wr.wr.rdma.remote_addr = slot[j].addr;
	wr.wr.rdma.rkey = slot[j].rkey;
	r = sx_post_send(m->qp, &wr, &bad);
	if (r == -ENOMEM || r == -EAGAIN)
		goto cleanup; /* send queue full: again later */
	if (r < 0) {
		WARN("isend: post: %s", strerror(-r));
		ret = SXN_INTERNAL_ERROR;
		goto cleanup;
	}
	memset(req, 0, sizeof(*req));
	req->kind = REQ_SEND;
	req->comm = m;
	req->n = 1;
	req->seq = m->seq;
	req->sizes[0] = (int)size;
	prof_start(m, req, 0, phandle, SXN_PROFILE_OP_SEND, tag, size);
	m->slot_used |= (uint8_t)(1u << j);
	if (++m->slot_posted == n) {
		m->slot_posted = 0;
		m->slot_used = 0;
		m->seq++;
	}
	*request = req;
cleanup:
	dev_unlock(m->dev);
	return ret;
}

static int
net_irecv(void *recv_comm, int n, void **data, const size_t *sizes, int *tags, void **mhandles,
	  void **phandles, void **request)
{
	uint8_t *cpu[SXN_MAX_RECVS];
	struct sxn_comm *m = recv_comm;
	struct sx_send_wr wr, *bad;
	struct sxn_fifo *slot;
	struct sxn_req *req;
	uint32_t s;
	struct sx_sge sge;
	int ret = SXN_SUCCESS, j, r;

	*request = NULL;
	if (n < 1 || n > SXN_MAX_RECVS)
		return SXN_INVALID_ARGUMENT;
	for (j = 0; j < n; j++) {
		if (sizes[j] > SXN_MAX_MSG_BYTES || mhandles[j] == NULL)
			return SXN_INVALID_ARGUMENT;
		cpu[j] = mr_cpu(mhandles[j], data[j], sizes[j]);
		if (cpu[j] == NULL) {
			WARN("irecv: %zu bytes at %p outside their registration", sizes[j], data[j]);
			return SXN_INVALID_ARGUMENT;
		}
	}
	dev_lock(m->dev);
	s = (uint32_t)(m->seq % SXN_MAX_REQUESTS);
	req = &m->recv_reqs[s];
	slot = m->fifo[s];
	comm_progress(m);
	if (m->failed) {
		ret = SXN_REMOTE_ERROR;
		goto cleanup;
	}
	if (req->kind != REQ_FREE || m->fifo_busy[s])
		goto cleanup; /* more than SXN_MAX_REQUESTS in flight: again later */
	for (j = 0; j < n; j++) {
		slot[j].addr = (uint64_t)(uintptr_t)cpu[j];
		slot[j].rkey = ((struct sxn_mr *)mhandles[j])->mr->rkey;
		slot[j].size = (uint32_t)sizes[j];
		slot[j].tag = tags[j];
		slot[j].nreqs = (uint32_t)n;
		slot[j].seq = m->seq;
	}
	sge.addr = (uint64_t)(uintptr_t)slot;
	sge.length = (uint32_t)(n * sizeof(*slot));
	sge.lkey = m->fifo_mr->lkey;
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = WRID_FIFO | s;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = SX_WR_RDMA_WRITE;
	wr.send_flags = SX_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = m->remote_fifo + (uint64_t)s * sizeof(m->fifo[0]);
	wr.wr.rdma.rkey = m->remote_rkey;
	r = sx_post_send(m->qp, &wr, &bad);
	if (r == -ENOMEM || r == -EAGAIN)
		goto cleanup;
	if (r < 0) {
		WARN("irecv: post: %s", strerror(-r));
		ret = SXN_INTERNAL_ERROR;
		goto cleanup;
	}
	m->fifo_busy[s] = true;
	memset(req, 0, sizeof(*req));
	req->kind = REQ_RECV;
	req->comm = m;
	req->n = n;
	req->seq = m->seq;
	for (j = 0; j < n; j++)
		req->posted[j] = (uint32_t)sizes[j];
	for (j = 0; phandles != NULL && j < n; j++)
		prof_start(m, req, j, phandles[j], SXN_PROFILE_OP_RECV, tags[j], sizes[j]);
	m->seq++;
	*request = req;
cleanup:
	dev_unlock(m->dev);
	return ret;
}

static int
net_iflush(void *recv_comm, int n, void **data, int *sizes, void **mhandles, void **request)
{
	(void)recv_comm;
	(void)n;
	(void)data;
	(void)sizes;
	(void)mhandles;
	/* Host memory is coherent once the receive completed: nothing to do. */
	*request = NULL;
	return SXN_SUCCESS;
}

static int
net_test(void *request, int *done, int *sizes)
{
	struct sxn_req *r = request;
	struct sxn_comm *m = r->comm;
	int ret = SXN_SUCCESS, j;

	*done = 0;
	dev_lock(m->dev);
	if (!r->done)
		comm_progress(m);
	if (r->done) {
		*done = 1;
		if (sizes != NULL)
			for (j = 0; j < r->n; j++)
				sizes[j] = r->sizes[j];
		prof_stop(r);
		r->kind = REQ_FREE;
		r->done = false;
	} else if (m->failed) {
		ret = SXN_REMOTE_ERROR;
	}
	dev_unlock(m->dev);
	return ret;
}

static int
close_comm(void *comm)
{
	struct sxn_comm *m = comm;
	struct sxn_dev *d;
	int i;

	if (m == NULL)
		return SXN_SUCCESS;
	d = m->dev;
	dev_lock(d);
	/* requests NCCL abandoned (an aborted communicator): their events end */
	for (i = 0; i < SXN_MAX_REQUESTS; i++)
		prof_stop(&m->recv_reqs[i]);
	for (i = 0; i < SXN_SEND_REQS; i++)
		prof_stop(&m->send_reqs[i]);
	stats_dump(d, 1u << SX_STATS_QP, sx_qp_num(m->qp));
	comm_free(m);
	d->ncomms--;
	dev_unlock(d);
	return SXN_SUCCESS;
}

static int
net_get_device_mr(void *comm, void *mhandle, void **dptr)
{
	(void)comm;
	(void)mhandle;
	*dptr = NULL;
	return SXN_INVALID_USAGE; /* no device offload */
}

static int
net_irecv_consumed(void *recv_comm, int n, void *request)
{
	(void)recv_comm;
	(void)n;
	(void)request;
	return SXN_SUCCESS;
}

/* Version shims: argument conversions only. */

static int
v8_init(sxn_logger_fn logger)
{
	return net_init(logger, NULL);
}

static int
v10_init(sxn_logger_fn logger, sxn_profiler_fn profiler)
{
	return net_init(logger, profiler);
}

static int
v11_init(void **ctx, uint64_t comm_id, struct sxn_comm_config *config, sxn_logger_fn logger,
	 sxn_profiler_fn profiler)
{
	int tc = config != NULL ? config->traffic_class : SXN_TRAFFIC_CLASS_UNDEF;
	struct sxn_ctx *c;
	int ret;

	*ctx = NULL;
	if (!traffic_class_ok(tc)) {
		if (logger != NULL)
			sxn_logger = logger;
		WARN("init: trafficClass %d out of range: NCCL_NET_TRAFFIC_CLASS_UNDEF (-1) or "
		     "an IP traffic class 0..255 (DSCP << 2)", tc);
		return SXN_INVALID_ARGUMENT;
	}
	ret = net_init(logger, profiler);
	if (ret != SXN_SUCCESS)
		return ret;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SXN_SYSTEM_ERROR;
	c->comm_id = comm_id;
	c->traffic_class = tc;
	if (tc != SXN_TRAFFIC_CLASS_UNDEF)
		INFO("comm %#lx: traffic class %d (DSCP %d)", (unsigned long)comm_id, tc, tc >> 2);
	*ctx = c;
	return SXN_SUCCESS;
}

static int
v11_finalize(void *ctx)
{
	free(ctx);
	return SXN_SUCCESS;
}

/* The fields every properties version from v9 on has, in v9's order. */
#define PROPS_COPY_V9(dst, src)                                                \
	do {                                                                   \
		(dst)->name = (src)->name;                                     \
		(dst)->pci_path = (src)->pci_path;                             \
		(dst)->guid = (src)->guid;                                     \
		(dst)->ptr_support = (src)->ptr_support;                       \
		(dst)->reg_is_global = (src)->reg_is_global;                   \
		(dst)->force_flush = (src)->force_flush;                       \
		(dst)->speed_mbps = (src)->speed_mbps;                         \
		(dst)->port = (src)->port;                                     \
		(dst)->latency_us = (src)->latency_us;                         \
		(dst)->max_comms = (src)->max_comms;                           \
		(dst)->max_recvs = (src)->max_recvs;                           \
		(dst)->net_device_type = (src)->net_device_type;               \
		(dst)->net_device_version = (src)->net_device_version;         \
		(dst)->vprops.ndevs = (src)->vprops.ndevs;                     \
		memcpy((dst)->vprops.devs, (src)->vprops.devs, sizeof((dst)->vprops.devs)); \
		(dst)->max_p2p_bytes = (src)->max_p2p_bytes;                   \
		(dst)->max_coll_bytes = (src)->max_coll_bytes;                 \
	} while (0)

static int
v8_get_properties(int dev, struct sxn_props_v8 *p)
{
	struct sxn_props_v12 q;
	int ret = net_get_properties(dev, &q);

	if (ret != SXN_SUCCESS)
		return ret;
	memset(p, 0, sizeof(*p));
	p->name = q.name;
	p->pci_path = q.pci_path;
	p->guid = q.guid;
	p->ptr_support = q.ptr_support;
	p->reg_is_global = q.reg_is_global;
	p->speed_mbps = q.speed_mbps;
	p->port = q.port;
	p->latency_us = q.latency_us;
	p->max_comms = q.max_comms;
	p->max_recvs = q.max_recvs;
	p->net_device_type = q.net_device_type;
	p->net_device_version = q.net_device_version;
	return SXN_SUCCESS;
}

static int
v9_get_properties(int dev, struct sxn_props_v9 *p)
{
	struct sxn_props_v12 q;
	int ret = net_get_properties(dev, &q);

	if (ret != SXN_SUCCESS)
		return ret;
	memset(p, 0, sizeof(*p));
	PROPS_COPY_V9(p, &q);
	return SXN_SUCCESS;
}

static int
v11_get_properties(int dev, struct sxn_props_v11 *p)
{
	struct sxn_props_v12 q;
	int ret = net_get_properties(dev, &q);

	if (ret != SXN_SUCCESS)
		return ret;
	memset(p, 0, sizeof(*p));
	PROPS_COPY_V9(p, &q);
	p->max_multi_request_size = q.max_multi_request_size;
	return SXN_SUCCESS;
}

static int
v10_connect(int dev, struct sxn_comm_config *config, void *handle, void **send_comm,
	    struct sxn_dev_handle_v8 **send_dev)
{
	int tc = config != NULL ? config->traffic_class : SXN_TRAFFIC_CLASS_UNDEF;

	*send_comm = NULL;
	if (!traffic_class_ok(tc)) {
		WARN("connect: trafficClass %d out of range: NCCL_NET_TRAFFIC_CLASS_UNDEF (-1) or "
		     "an IP traffic class 0..255 (DSCP << 2)", tc);
		return SXN_INVALID_ARGUMENT;
	}
	return net_connect(dev, tc, handle, send_comm, send_dev);
}

static int
v8_listen(int dev, void *handle, void **listen_comm)
{
	return net_listen(dev, SXN_TRAFFIC_CLASS_UNDEF, handle, listen_comm);
}

static int
v8_connect(int dev, void *handle, void **send_comm, struct sxn_dev_handle_v8 **send_dev)
{
	return net_connect(dev, SXN_TRAFFIC_CLASS_UNDEF, handle, send_comm, send_dev);
}

static int
v11_listen(void *ctx, int dev, void *handle, void **listen_comm)
{
	/* one port serves every communicator; the class is per connection */
	const struct sxn_ctx *c = ctx;

	return net_listen(dev, c != NULL ? c->traffic_class : SXN_TRAFFIC_CLASS_UNDEF, handle,
			  listen_comm);
}

static int
v11_connect(void *ctx, int dev, void *handle, void **send_comm,
	    struct sxn_dev_handle_v8 **send_dev)
{
	const struct sxn_ctx *c = ctx;

	return net_connect(dev, c != NULL ? c->traffic_class : SXN_TRAFFIC_CLASS_UNDEF, handle,
			   send_comm, send_dev);
}

static int
v8_isend(void *send_comm, void *data, int size, int tag, void *mhandle, void **request)
{
	*request = NULL;
	if (size < 0)
		return SXN_INVALID_ARGUMENT;
	return net_isend(send_comm, data, (size_t)size, tag, mhandle, NULL, request);
}

static int
v8_irecv(void *recv_comm, int n, void **data, int *sizes, int *tags, void **mhandles,
	 void **request)
{
	size_t wide[SXN_MAX_RECVS];
	int j;

	*request = NULL;
	if (n < 1 || n > SXN_MAX_RECVS)
		return SXN_INVALID_ARGUMENT;
	for (j = 0; j < n; j++) {
		if (sizes[j] < 0)
			return SXN_INVALID_ARGUMENT;
		wide[j] = (size_t)sizes[j];
	}
	return net_irecv(recv_comm, n, data, wide, tags, mhandles, NULL, request);
}

static int
v9_irecv(void *recv_comm, int n, void **data, size_t *sizes, int *tags, void **mhandles,
	 void **request)
{
	return net_irecv(recv_comm, n, data, sizes, tags, mhandles, NULL, request);
}

static int
v9_isend(void *send_comm, void *data, size_t size, int tag, void *mhandle, void **request)
{
	return net_isend(send_comm, data, size, tag, mhandle, NULL, request);
}

static int
v10_irecv(void *recv_comm, int n, void **data, size_t *sizes, int *tags, void **mhandles,
	  void **phandles, void **request)
{
	return net_irecv(recv_comm, n, data, sizes, tags, mhandles, phandles, request);
}

/* ASan pads globals with redzones, which would make the exported symbols
 * larger than the structs NCCL (and the harness) expect. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SXN_NO_REDZONE __attribute__((no_sanitize("address")))
#endif
#endif
#ifndef SXN_NO_REDZONE
#define SXN_NO_REDZONE
#endif

#define SXN_EXPORT SXN_NO_REDZONE __attribute__((visibility("default")))

/* The functions every version shares, by their slot names. */
#define SXN_COMMON_SLOTS                                                       \
	.name = "scalex", .devices = net_devices, .accept = net_accept,       \
	.reg_mr = net_reg_mr, .reg_mr_dmabuf = net_reg_mr_dmabuf,              \
	.dereg_mr = net_dereg_mr, .iflush = net_iflush, .test = net_test,      \
	.close_send = close_comm, .close_recv = close_comm,                    \
	.close_listen = net_close_listen, .get_device_mr = net_get_device_mr,  \
	.irecv_consumed = net_irecv_consumed

/* makeVDevice (v9+) and setNetAttr (v11+) are NULL: one device, nothing to
 * fuse, and no use for NCCL's flow hints; NCCL checks both for NULL. */
SXN_EXPORT const struct sxn_net_v8 ncclNetPlugin_v8 = {
	SXN_COMMON_SLOTS,
	.init = v8_init,
	.get_properties = v8_get_properties,
	.listen = v8_listen,
	.connect = v8_connect,
	.isend = v8_isend,
	.irecv = v8_irecv,
};

SXN_EXPORT const struct sxn_net_v9 ncclNetPlugin_v9 = {
	SXN_COMMON_SLOTS,
	.init = v8_init,
	.get_properties = v9_get_properties,
	.listen = v8_listen,
	.connect = v8_connect,
	.isend = v9_isend,
	.irecv = v9_irecv,
	.make_vdevice = NULL,
};

SXN_EXPORT const struct sxn_net_v10 ncclNetPlugin_v10 = {
	SXN_COMMON_SLOTS,
	.init = v10_init,
	.get_properties = v9_get_properties,
	.listen = v8_listen,
	.connect = v10_connect,
	.isend = net_isend,
	.irecv = v10_irecv,
	.make_vdevice = NULL,
};

SXN_EXPORT const struct sxn_net_v11 ncclNetPlugin_v11 = {
	SXN_COMMON_SLOTS,
	.init = v11_init,
	.get_properties = v11_get_properties,
	.listen = v11_listen,
	.connect = v11_connect,
	.isend = net_isend,
	.irecv = v10_irecv,
	.make_vdevice = NULL,
	.finalize = v11_finalize,
	.set_net_attr = NULL,
};

SXN_EXPORT const struct sxn_net_v12 ncclNetPlugin_v12 = {
	SXN_COMMON_SLOTS,
	.init = v11_init,
	.get_properties = net_get_properties,
	.listen = v11_listen,
	.connect = v11_connect,
	.isend = net_isend,
	.irecv = v10_irecv,
	.make_vdevice = NULL,
	.finalize = v11_finalize,
	.set_net_attr = NULL,
};
