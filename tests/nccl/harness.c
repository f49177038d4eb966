/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NCCL net plugin driven as NCCL's proxy thread drives it.
 *
 * One launcher forks two ranks, each a process with its own DPDK EAL and
 * one scalex device on one side of a memif pair (rank 0 the server). Each
 * rank dlopens libnccl-net-scalex.so, finds "ncclNetPlugin_vN" (--version,
 * 8..12) by name, checks the struct against NCCL's documented vN layout,
 * calls it as an NCCL of that version does (v11+: init once per
 * communicator, two of them, and finalize), and then does what
 * a ring neighbour does: listen, swap handles with the peer out of band (a
 * socketpair here, NCCL's bootstrap there), connect and accept polled
 * together until both return a comm, register buffers, and run both
 * directions at once with up to --window requests in flight per comm
 * (NCCL_NET_MAX_REQUESTS), every request tested to completion:
 *   - single receives of varying sizes, each smaller than or equal to the
 *     posted buffer, with tags; sizes reported by test() and the bytes
 *     (and a guard past them) checked;
 *   - grouped receives (n up to maxRecvs) whose tags the sender serves in
 *     a shuffled order;
 *   - iflush on every receive (host memory: no request);
 * then deregMr, closeSend/closeRecv/closeListen and an orderly shutdown
 * (memif: the client closes first, the server once the client is gone).
 * Expected bytes and sizes come from a pattern both ranks compute, never
 * from the plugin. --bench: rank 1 streams to rank 0 only and prints MB/s.
 *
 * Faults: SCALEX_NCCL_FAULT_TX/RX set from --fault-tx/--fault-rx.
 *
 * --traffic-class C: the communicator's ncclNetCommConfig_t.trafficClass
 * (v10: connect's config; v11+: init's), and --pcap-dir D keeps each
 * rank's capture (D/rank0.pcapng, D/rank1.pcapng; SCALEX_NCCL_PCAP) for
 * tclass.sh to read the DSCP with tshark. Out-of-range classes must fail.
 * --traffic-class-rank0: rank 1's communicator has none, so its outgoing
 * connection takes rank 0's class from the listener, and rank 0's
 * connection carries its class to rank 1's QP in the handshake.
 *
 * --profile (v10+): init gets a recording profiler callback, and two of
 * every three messages (isend, and each receive of an irecv) a profiler
 * handle; each such request must see exactly one start, when it is posted,
 * with the size, tag and direction it was posted with, and one stop, inside
 * the test() that reports it done; the others none. Without --profile the
 * callback fails the run if it is called at all.
 * Exit 0 only if both ranks passed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../adapters/nccl/nccl_net.h"
#include "../port/testutil.h"

/*
 * NCCL's documented layouts on LP64 (plugins/net/example/nccl/net_v*.h),
 * worked out by hand from the C layout rules, not taken from sizeof:
 * ncclNet_v8_t is 19 pointers; v9 and v10 add makeVDevice (20); v11 and
 * v12 add finalize and setNetAttr (22). ncclNetProperties_v8_t: three
 * 8-byte fields, nine 4-byte ones = 64. v9/v10: forceFlush makes ten
 * 4-byte fields (64), vProps {int; int[4]} ends at 84, two size_t at 88
 * and 96 = 104. v11: maxMultiRequestSize at 104, padded to 112. v12:
 * vProps {int; int[8]} ends at 100, size_t at 104 and 112, then an int at
 * 120 and two int16 at 124 and 126 = 128.
 */
_Static_assert(sizeof(struct sxn_net_v8) == 19 * 8, "ncclNet_v8_t size");
_Static_assert(offsetof(struct sxn_net_v8, isend) == 10 * 8, "isend slot");
_Static_assert(offsetof(struct sxn_net_v8, irecv_consumed) == 18 * 8, "last slot");
_Static_assert(sizeof(struct sxn_net_v9) == 20 * 8, "ncclNet_v9_t size");
_Static_assert(offsetof(struct sxn_net_v9, make_vdevice) == 19 * 8, "makeVDevice slot");
_Static_assert(sizeof(struct sxn_net_v10) == 20 * 8, "ncclNet_v10_t size");
_Static_assert(offsetof(struct sxn_net_v10, irecv) == 11 * 8, "irecv slot");
_Static_assert(sizeof(struct sxn_net_v11) == 22 * 8, "ncclNet_v11_t size");
_Static_assert(offsetof(struct sxn_net_v11, finalize) == 20 * 8, "finalize slot");
_Static_assert(sizeof(struct sxn_net_v12) == 22 * 8, "ncclNet_v12_t size");
_Static_assert(offsetof(struct sxn_net_v12, set_net_attr) == 21 * 8, "setNetAttr slot");
_Static_assert(sizeof(struct sxn_props_v8) == 64, "ncclNetProperties_v8_t size");
_Static_assert(offsetof(struct sxn_props_v8, speed_mbps) == 32, "speed offset");
_Static_assert(offsetof(struct sxn_props_v8, max_recvs) == 48, "maxRecvs offset");
_Static_assert(offsetof(struct sxn_props_v8, net_device_version) == 56, "version offset");
_Static_assert(sizeof(struct sxn_props_v9) == 104, "ncclNetProperties_v9_t size");
_Static_assert(offsetof(struct sxn_props_v9, force_flush) == 32, "forceFlush offset");
_Static_assert(offsetof(struct sxn_props_v9, speed_mbps) == 36, "v9 speed offset");
_Static_assert(offsetof(struct sxn_props_v9, vprops) == 64, "v9 vProps offset");
_Static_assert(offsetof(struct sxn_props_v9, max_p2p_bytes) == 88, "maxP2pBytes offset");
_Static_assert(offsetof(struct sxn_props_v9, max_coll_bytes) == 96, "maxCollBytes offset");
_Static_assert(sizeof(struct sxn_props_v11) == 112, "ncclNetProperties_v11_t size");
_Static_assert(offsetof(struct sxn_props_v11, max_multi_request_size) == 104, "v11 multi");
_Static_assert(sizeof(struct sxn_props_v12) == 128, "ncclNetProperties_v12_t size");
_Static_assert(offsetof(struct sxn_props_v12, max_p2p_bytes) == 104, "v12 maxP2pBytes");
_Static_assert(offsetof(struct sxn_props_v12, max_multi_request_size) == 120, "v12 multi");
_Static_assert(offsetof(struct sxn_props_v12, rail_id) == 124, "railId offset");
_Static_assert(offsetof(struct sxn_props_v12, plane_id) == 126, "planeId offset");
_Static_assert(sizeof(struct sxn_comm_config) == 4, "ncclNetCommConfig_t size");
/* scalex's profiler descriptor v1 (docs/integrations.md), the layout a
 * profiler plugin decodes: type at 0, then the qp struct at 8 (its size_t
 * aligns it): device 8, qpn 12, op 16, tag 20, length 24, seq 32 = 40. */
_Static_assert(sizeof(struct sxn_profiler_descr_v1) == 40, "profiler descriptor size");
_Static_assert(offsetof(struct sxn_profiler_descr_v1, qp.qpn) == 12, "descriptor qpn");
_Static_assert(offsetof(struct sxn_profiler_descr_v1, qp.length) == 24, "descriptor length");
_Static_assert(offsetof(struct sxn_profiler_descr_v1, qp.seq) == 32, "descriptor seq");

#define MAX_RECVS 8
#define MAX_WINDOW 32 /* NCCL_NET_MAX_REQUESTS of every NCCL that loads v8+ but 2.19 */
#define GUARD 64
#define MAX_MSG_BYTES (1ull << 30) /* maxP2pBytes, maxCollBytes (docs) */

struct opts {
	const char *plugin;
	const char *rel;
	const char *fault_tx;
	const char *fault_rx;
	int window;
	int iters;
	int max_size;
	int timeout_s;
	int bench_size;
	int bench_iters;
	int version;
	bool bench;
	/* the plugin was built with -Dnccl_dmabuf=true: traffic buffers are
	 * registered with regMrDmaBuf (see buf_new) */
	bool dmabuf;
	bool profile;
	bool tc_rank0;
	int traffic_class;
	const char *pcap_dir;
};

static struct opts o = {
	.rel = "sr", .window = SXN_V8_MAX_REQUESTS, .iters = 300, .max_size = 256 * 1024,
	.timeout_s = 60, .bench_size = 1 << 20, .bench_iters = 2000, .version = 12,
	.traffic_class = SXN_TRAFFIC_CLASS_UNDEF,
};
static int me;
/* Fill and check payload bytes (off in the timed benchmark phase only:
 * NCCL's proxy does not touch the bytes either; sizes are still checked). */
static bool verify = true;
static int peer_fd;
/* The struct under test: exactly one is set (--version). */
static const struct sxn_net_v8 *n8;
static const struct sxn_net_v9 *n9;
static const struct sxn_net_v10 *n10;
static const struct sxn_net_v11 *n11;
static const struct sxn_net_v12 *n12;
/* v11+: the contexts of two communicators (the second is finalized first) */
static void *nctx[2];

/* A slot whose signature every version shares. */
#define SLOT(f)                                                                \
	(n8 != NULL ? n8->f : n9 != NULL ? n9->f : n10 != NULL ? n10->f : n11 != NULL ? n11->f : n12->f)
static double t_deadline;

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rank %d: FAIL: ", me);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
check_deadline(const char *what)
{
	if (now_s() > t_deadline)
		die("timed out in %s", what);
}

static void
logger(int level, unsigned long flags, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	(void)flags;
	if (level > SXN_LOG_WARN && getenv("HARNESS_VERBOSE") == NULL)
		return;
	fprintf(stderr, "rank %d: plugin %s:%d: ", me, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
xfer_peer(void *buf, size_t len, bool out)
{
	size_t off = 0;

	while (off < len) {
		struct pollfd p = {.fd = peer_fd, .events = out ? POLLOUT : POLLIN};
		ssize_t r;

		if (poll(&p, 1, 1000) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		check_deadline("the out-of-band exchange");
		if (p.revents == 0)
			continue;
		r = out ? send(peer_fd, (char *)buf + off, len - off, MSG_NOSIGNAL)
			: recv(peer_fd, (char *)buf + off, len - off, 0);
		if (r <= 0)
			die("peer channel closed");
		off += (size_t)r;
	}
}

static void
barrier(char tag)
{
	char c = tag, d = 0;

	xfer_peer(&c, 1, true);
	xfer_peer(&d, 1, false);
	if (d != tag)
		die("barrier %c: peer at %c", tag, d);
}

/* The byte at @p off of message @p k from rank @p from (tag mixed in). */
static uint8_t
pattern(int from, uint64_t k, int tag, size_t off)
{
	uint64_t x = ((uint64_t)from << 56) ^ (k * 0x9e3779b97f4a7c15ull) ^
		     ((uint64_t)(unsigned)tag << 32) ^ off;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return (uint8_t)(x >> 32);
}

/* Size of message @p k: 0, 1, odd sizes, MTU edges and the largest. */
static int
msg_size(uint64_t k, int tag)
{
	static const int fixed[] = {0, 1, 4095, 4096, 4097, 1023, 65536};
	uint64_t h = (k + 1) * 0x2545f4914f6cdd1dull ^ (uint64_t)(unsigned)tag;

	if (o.bench)
		return o.max_size; /* the benchmark: every message full size */
	if (k % 11 < 7)
		return fixed[k % 11] <= o.max_size ? fixed[k % 11] : o.max_size;
	if (k % 11 == 7)
		return o.max_size;
	return (int)((h >> 20) % (uint64_t)(o.max_size + 1));
}

static void
check_rc(int rc, const char *what)
{
	if (rc != SXN_SUCCESS)
		die("%s returned %d", what, rc);
}

/* What NCCL of each version sees in the struct: its ELF size, its name,
 * every function in the plugin, the optional ones NULL. */
static void
check_struct(void *so, const void *sym_addr)
{
	static const size_t nslots_of[] = {[8] = 19, [9] = 20, [10] = 20, [11] = 22, [12] = 22};
	char name[32];
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	const void *const *slot = sym_addr;
	size_t i, nslots = nslots_of[o.version];
	int v;

	if (dladdr1(sym_addr, &info, (void **)&sym, RTLD_DL_SYMENT) == 0 || sym == NULL)
		die("dladdr1(ncclNetPlugin_v%d) failed", o.version);
	if (sym->st_size != nslots * sizeof(void *))
		die("ncclNetPlugin_v%d is %zu bytes in the ELF, v%d is %zu", o.version,
		    (size_t)sym->st_size, o.version, nslots * sizeof(void *));
	if (slot[0] == NULL || strcmp(slot[0], "scalex") != 0)
		die("plugin name %s", slot[0] != NULL ? (const char *)slot[0] : "(null)");
	for (i = 1; i < nslots; i++) {
		Dl_info fi;
		/* makeVDevice (slot 19) and setNetAttr (21) may be NULL, and
		 * are: one device, no fusion, no use for NCCL's hints */
		bool optional = i == 19 || i == 21;

		if (optional && slot[i] != NULL)
			die("optional slot %zu is set", i);
		if (!optional && (slot[i] == NULL || dladdr(slot[i], &fi) == 0 ||
				  fi.dli_fbase != info.dli_fbase))
			die("function slot %zu is not in the plugin", i);
	}
	/* every version NCCL may look up, and nothing else of the plugin's:
	 * libscalex and its munmap guard stay local (exports.map) */
	for (v = 7; v <= 13; v++) {
		snprintf(name, sizeof(name), "ncclNetPlugin_v%d", v);
		if ((dlsym(so, name) != NULL) != (v >= 8 && v <= 12))
			die("%s is %s", name, v >= 8 && v <= 12 ? "missing" : "exported");
	}
	if (dlsym(so, "sx_open_device") != NULL || dlsym(so, "net_isend") != NULL)
		die("the plugin exports its internals");
	{
		Dl_info pi, mi;
		void *m = dlsym(so, "munmap");

		if (m == NULL || dladdr(m, &mi) == 0 || dladdr(sym_addr, &pi) == 0)
			die("munmap not found");
		if (mi.dli_fbase == pi.dli_fbase)
			die("the plugin exports munmap");
	}
}

/* getProperties of the version under test into a guarded buffer: NCCL's
 * struct of that version is exactly what it writes. */
static void
get_props(int dev, struct sxn_props_v12 *out, int *ret)
{
	static const size_t size_of[] = {[8] = 64, [9] = 104, [10] = 104, [11] = 112, [12] = 128};
	union {
		struct sxn_props_v8 v8;
		struct sxn_props_v9 v9;
		struct sxn_props_v11 v11;
		struct sxn_props_v12 v12;
		uint8_t raw[sizeof(struct sxn_props_v12) + GUARD];
	} u;
	size_t i;

	memset(&u, 0xab, sizeof(u));
	memset(out, 0, sizeof(*out));
	if (n8 != NULL)
		*ret = n8->get_properties(dev, &u.v8);
	else if (n9 != NULL)
		*ret = n9->get_properties(dev, &u.v9);
	else if (n10 != NULL)
		*ret = n10->get_properties(dev, &u.v9);
	else if (n11 != NULL)
		*ret = n11->get_properties(dev, &u.v11);
	else
		*ret = n12->get_properties(dev, &u.v12);
	if (*ret != SXN_SUCCESS)
		return;
	for (i = size_of[o.version]; i < sizeof(u.raw); i++)
		if (u.raw[i] != 0xab)
			die("getProperties wrote past the v%d struct (byte %zu)", o.version, i);
	if (n8 != NULL) {
		out->name = u.v8.name;
		out->ptr_support = u.v8.ptr_support;
		out->speed_mbps = u.v8.speed_mbps;
		out->max_comms = u.v8.max_comms;
		out->max_recvs = u.v8.max_recvs;
		out->net_device_type = u.v8.net_device_type;
		return;
	}
	/* v9+: the v9 fields sit at the same offsets up to vProps */
	memcpy(out, &u.v9, offsetof(struct sxn_props_v9, vprops));
	out->vprops.ndevs = u.v9.vprops.ndevs;
	out->vprops.devs[0] = u.v9.vprops.devs[0];
	if (n12 != NULL) {
		*out = u.v12;
		return;
	}
	out->max_p2p_bytes = u.v9.max_p2p_bytes;
	out->max_coll_bytes = u.v9.max_coll_bytes;
	out->max_multi_request_size = n11 != NULL ? u.v11.max_multi_request_size : 1;
	out->rail_id = out->plane_id = SXN_NET_ID_UNDEF;
}

static void
check_props(void)
{
	struct sxn_props_v12 p;
	int ndev = -1, ret;

	check_rc(SLOT(devices)(&ndev), "devices");
	if (ndev != 1)
		die("devices: %d, expected 1", ndev);
	get_props(0, &p, &ret);
	check_rc(ret, "getProperties");
	/* the default build: host memory only (regMrDmaBuf refuses) */
	if (p.name == NULL || strncmp(p.name, "scalex", 6) != 0 ||
	    p.ptr_support != (o.dmabuf ? SXN_PTR_HOST | SXN_PTR_CUDA | SXN_PTR_DMABUF
					 : SXN_PTR_HOST) ||
	    p.speed_mbps <= 0 || p.max_comms <= 0 || p.max_recvs != MAX_RECVS ||
	    p.net_device_type != SXN_NET_DEVICE_HOST)
		die("getProperties: name %s ptr %#x speed %d maxComms %d maxRecvs %d type %d",
		    p.name, p.ptr_support, p.speed_mbps, p.max_comms, p.max_recvs,
		    p.net_device_type);
	if (o.version >= 9 &&
	    (p.force_flush != 0 || p.vprops.ndevs != 1 || p.vprops.devs[0] != 0 ||
	     p.max_p2p_bytes != MAX_MSG_BYTES || p.max_coll_bytes != MAX_MSG_BYTES ||
	     p.max_multi_request_size != 1 || p.rail_id != SXN_NET_ID_UNDEF ||
	     p.plane_id != SXN_NET_ID_UNDEF))
		die("getProperties v%d: forceFlush %d vProps %d/%d maxP2pBytes %zu maxCollBytes "
		    "%zu maxMultiRequestSize %d rail %d plane %d", o.version, p.force_flush,
		    p.vprops.ndevs, p.vprops.devs[0], p.max_p2p_bytes, p.max_coll_bytes,
		    p.max_multi_request_size, p.rail_id, p.plane_id);
	get_props(1, &p, &ret);
	if (ret == SXN_SUCCESS)
		die("getProperties(1) succeeded with one device");
	if (me == 0) {
		get_props(0, &p, &ret);
		printf("v%d device 0: %s speed %d Mb/s ptrSupport %#x maxComms %d maxRecvs %d",
		       o.version, p.name, p.speed_mbps, p.ptr_support, p.max_comms, p.max_recvs);
		if (o.version >= 9)
			printf(" maxP2pBytes %zu", p.max_p2p_bytes);
		printf("\n");
	}
}

/* The calls whose signature changed between versions, made as NCCL of
 * version o.version makes them. */
static int
api_listen(void *handle, void **lcomm)
{
	if (n8 != NULL || n9 != NULL || n10 != NULL)
		return n8 != NULL ? n8->listen(0, handle, lcomm)
		       : n9 != NULL ? n9->listen(0, handle, lcomm) : n10->listen(0, handle, lcomm);
	return n11 != NULL ? n11->listen(nctx[0], 0, handle, lcomm)
			   : n12->listen(nctx[0], 0, handle, lcomm);
}

static int
api_connect_tc(int dev, int tc, void *handle, void **scomm, struct sxn_dev_handle_v8 **dh)
{
	/* v10: the traffic class comes with each connect */
	struct sxn_comm_config cfg = {.traffic_class = tc};

	if (n8 != NULL || n9 != NULL)
		return n8 != NULL ? n8->connect(dev, handle, scomm, dh)
				  : n9->connect(dev, handle, scomm, dh);
	if (n10 != NULL)
		return n10->connect(dev, &cfg, handle, scomm, dh);
	return n11 != NULL ? n11->connect(nctx[0], dev, handle, scomm, dh)
			   : n12->connect(nctx[0], dev, handle, scomm, dh);
}

static int
api_connect(int dev, void *handle, void **scomm, struct sxn_dev_handle_v8 **dh)
{
	return api_connect_tc(dev, o.traffic_class, handle, scomm, dh);
}

static int
api_isend(void *scomm, void *data, size_t size, int tag, void *mh, void *ph, void **req)
{
	if (n8 != NULL)
		return n8->isend(scomm, data, (int)size, tag, mh, req);
	if (n9 != NULL)
		return n9->isend(scomm, data, size, tag, mh, req);
	return n10 != NULL ? n10->isend(scomm, data, size, tag, mh, ph, req)
	       : n11 != NULL ? n11->isend(scomm, data, size, tag, mh, ph, req)
			     : n12->isend(scomm, data, size, tag, mh, ph, req);
}

/* NCCL passes NCCL_NET_OPTIONAL_RECV_COMPLETION in *req for LL receives:
 * the plugin must still return a request of its own. */
static int
api_irecv(void *rcomm, int n, void **data, const int *sizes, int *tags, void **mh,
	  void *const *phs, void **req)
{
	size_t wide[MAX_RECVS + 1];
	int narrow[MAX_RECVS + 1], i, ret;
	void *ph[MAX_RECVS + 1];

	for (i = 0; i < n && i <= MAX_RECVS; i++) {
		wide[i] = (size_t)sizes[i];
		narrow[i] = sizes[i];
		ph[i] = phs != NULL ? phs[i] : NULL;
	}
	*req = SXN_OPTIONAL_RECV_COMPLETION;
	if (n8 != NULL)
		ret = n8->irecv(rcomm, n, data, narrow, tags, mh, req);
	else if (n9 != NULL)
		ret = n9->irecv(rcomm, n, data, wide, tags, mh, req);
	else if (n10 != NULL)
		ret = n10->irecv(rcomm, n, data, wide, tags, mh, ph, req);
	else if (n11 != NULL)
		ret = n11->irecv(rcomm, n, data, wide, tags, mh, ph, req);
	else
		ret = n12->irecv(rcomm, n, data, wide, tags, mh, ph, req);
	if (*req == SXN_OPTIONAL_RECV_COMPLETION)
		die("irecv left NCCL_NET_OPTIONAL_RECV_COMPLETION as the request");
	return ret;
}

static int
prof_stub(void **event, int type, void *phandle, int64_t plugin_id, void *ext)
{
	(void)event;
	(void)phandle;
	(void)plugin_id;
	(void)ext;
	die("the plugin called the profiler (event type %d) though no request had a "
	    "profiler handle", type);
}

/*
 * The recording profiler. A request's profiler handle is its struct pev,
 * holding what it was posted with; the plugin's start must name the same,
 * in the scalex descriptor version 1 (plugin id: type "SX" 0x5358 in bits
 * 16..31, version 1 in 0..15, plugins/profiler/README.md), and hand back
 * the event handle that its stop then passes.
 */
#define PEV_MAGIC 0x70657631u
#define PROF_PLUGIN_ID ((int64_t)0x5358 << 16 | 1)

struct pev {
	uint32_t magic;
	int op; /* SXN_PROFILE_OP_SEND or _RECV */
	int tag;
	size_t length;
	int starts, stops;
	uint32_t qpn;
};

static bool prof_in_test; /* inside a test() call */
static uint64_t prof_starts, prof_stops, prof_checked, prof_unhandled;

static int
prof_rec(void **event, int type, void *phandle, int64_t plugin_id, void *ext)
{
	const struct sxn_profiler_descr_v1 *d = ext;
	struct pev *e;

	if (type == SXN_PROFILER_NET_EVENT_START) {
		e = phandle;
		if (e == NULL || e->magic != PEV_MAGIC)
			die("profiler start with a handle no request was given");
		if (plugin_id != PROF_PLUGIN_ID)
			die("profiler start: plugin id %#lx, expected %#lx", (unsigned long)plugin_id,
			    (unsigned long)PROF_PLUGIN_ID);
		if (e->starts != 0)
			die("a second profiler start for one request");
		if (d == NULL || d->type != SXN_PROFILE_QP || d->qp.op != e->op ||
		    d->qp.tag != e->tag || d->qp.length != e->length || d->qp.device != 0 ||
		    d->qp.qpn == 0)
			die("profiler start: type %d op %d tag %d length %zu device %d qpn %u; "
			    "posted op %d tag %d length %zu", d != NULL ? d->type : -1,
			    d != NULL ? d->qp.op : -1, d != NULL ? d->qp.tag : -1,
			    d != NULL ? d->qp.length : 0, d != NULL ? d->qp.device : -1,
			    d != NULL ? d->qp.qpn : 0, e->op, e->tag, e->length);
		e->starts++;
		e->qpn = d->qp.qpn;
		*event = e;
		prof_starts++;
		return SXN_SUCCESS;
	}
	if (type != SXN_PROFILER_NET_EVENT_STOP)
		die("profiler event type %d", type);
	e = event != NULL ? *event : NULL;
	if (phandle != NULL || plugin_id != 0 || ext != NULL)
		die("profiler stop with a handle, id or data");
	if (e == NULL || e->magic != PEV_MAGIC || e->starts != 1 || e->stops != 0)
		die("profiler stop of an event not started, or stopped twice");
	if (!prof_in_test)
		die("profiler stop outside test()");
	e->stops++;
	prof_stops++;
	return SXN_SUCCESS;
}

/* A request's event record before it is posted: a handle for messages
 * k % 3 != 2 (so grouped receives mix both), NULL for the others. */
static void *
pev_arm(struct pev *e, uint64_t k, int op, int tag, size_t length)
{
	memset(e, 0, sizeof(*e));
	if (!o.profile || k % 3 == 2)
		return NULL;
	e->magic = PEV_MAGIC;
	e->op = op;
	e->tag = tag;
	e->length = length;
	return e;
}

/* After a post: started iff it was posted with a handle; after test():
 * stopped iff test said done. */
static void
pev_check(const struct pev *e, bool posted, bool done, const char *what)
{
	if (e->magic != PEV_MAGIC) {
		if (done)
			prof_unhandled++;
		return;
	}
	if (e->starts != (posted ? 1 : 0) || e->stops != (done ? 1 : 0))
		die("%s: %d profiler starts and %d stops, expected %d and %d", what, e->starts,
		    e->stops, posted ? 1 : 0, done ? 1 : 0);
	if (done)
		prof_checked++;
}

/* v8/v9: init(logger); v10: init(logger, profiler); v11+: init once per
 * communicator (@p id, @p cfg), returning its context in @p ctx. */
static int
init_once(void **ctx, uint64_t id, struct sxn_comm_config *cfg)
{
	if (n8 != NULL || n9 != NULL)
		return n8 != NULL ? n8->init(logger) : n9->init(logger);
	sxn_profiler_fn prof = o.profile ? prof_rec : prof_stub;

	if (n10 != NULL)
		return n10->init(logger, prof);
	*ctx = NULL;
	return n11 != NULL ? n11->init(ctx, id, cfg, logger, prof)
			   : n12->init(ctx, id, cfg, logger, prof);
}

/* Not configured (no SCALEX_NCCL_PORT), init fails so that NCCL uses
 * another network; configured, it succeeds, and v11+ gives each of two
 * communicators its own context. */
static void
api_init(void)
{
	struct sxn_comm_config cfg[2] = {{o.traffic_class}, {5}};
	char *port = strdup(getenv("SCALEX_NCCL_PORT"));
	int i;

	if (port == NULL)
		die("out of memory");
	unsetenv("SCALEX_NCCL_PORT");
	nctx[0] = (void *)1;
	if (init_once(&nctx[0], 0x5c00, &cfg[0]) == SXN_SUCCESS)
		die("init without SCALEX_NCCL_PORT succeeded");
	if (o.version >= 11 && nctx[0] != NULL)
		die("a failed init returned a context");
	setenv("SCALEX_NCCL_PORT", port, 1);
	free(port);
	/* v11+: a traffic class past one byte, or below UNDEF, is refused */
	for (i = 0; o.version >= 11 && i < 2; i++) {
		struct sxn_comm_config bad = {i == 0 ? 256 : -2};

		nctx[0] = (void *)1;
		if (init_once(&nctx[0], 0x5c00, &bad) != SXN_INVALID_ARGUMENT || nctx[0] != NULL)
			die("init with trafficClass %d did not fail", bad.traffic_class);
	}
	for (i = 0; i < (o.version >= 11 ? 2 : 1); i++) {
		check_rc(init_once(&nctx[i], 0x5c00 + (uint64_t)i, &cfg[i]), "init");
		if (o.version >= 11 && nctx[i] == NULL)
			die("init returned no context");
	}
	if (o.version >= 11 && nctx[0] == nctx[1])
		die("two communicators got the same context");
}

static void
api_finalize(int i)
{
	if (n11 != NULL || n12 != NULL)
		check_rc(n11 != NULL ? n11->finalize(nctx[i]) : n12->finalize(nctx[i]), "finalize");
}

struct slot {
	void *req;
	uint64_t k;
	int n;
	int tags[MAX_RECVS];
	uint8_t *bufs[MAX_RECVS];
	struct pev pe[MAX_RECVS]; /* --profile */
	bool busy;
};

/* Bad arguments get an error code, and change nothing. */
static void
bad_calls(const uint8_t *handle, void *scomm, void *rcomm)
{
	uint8_t junk[SXN_HANDLE_MAXSIZE], *buf = malloc(4096);
	void *comm = (void *)1, *req = (void *)1, *data[MAX_RECVS + 1], *mh[MAX_RECVS + 1];
	void *good = NULL;
	int sizes[MAX_RECVS + 1], tags[MAX_RECVS + 1], i, r;

	if (buf == NULL)
		die("out of memory");
	memset(junk, 0x5a, sizeof(junk));
	if (api_connect(0, junk, &comm, NULL) == SXN_SUCCESS || comm != NULL)
		die("connect with a foreign handle succeeded");
	comm = (void *)1;
	if (api_connect(7, (void *)handle, &comm, NULL) == SXN_SUCCESS || comm != NULL)
		die("connect to device 7 succeeded");
	/* v10: the traffic class comes with connect, and is checked there */
	comm = (void *)1;
	if (o.version == 10 &&
	    (api_connect_tc(0, 256, (void *)handle, &comm, NULL) != SXN_INVALID_ARGUMENT ||
	     comm != NULL))
		die("connect with trafficClass 256 did not fail");
	for (i = 0; i <= MAX_RECVS; i++) {
		data[i] = junk;
		sizes[i] = 1;
		tags[i] = i;
		mh[i] = NULL;
	}
	if (api_irecv(rcomm, MAX_RECVS + 1, data, sizes, tags, mh, NULL, &req) == SXN_SUCCESS ||
	    req != NULL)
		die("irecv of %d > maxRecvs buffers succeeded", MAX_RECVS + 1);
	if (api_irecv(rcomm, 1, data, sizes, tags, mh, NULL, &req) == SXN_SUCCESS || req != NULL)
		die("irecv without a memory handle succeeded");
	if (SLOT(reg_mr)(rcomm, junk, sizeof(junk), SXN_PTR_CUDA, &comm) == SXN_SUCCESS)
		die("regMr of CUDA memory succeeded (the CPU reaches it only through a DMA-BUF)");
	/* the default build: DMA-BUF is refused, clearly, whatever the fd */
	if (!o.dmabuf) {
		comm = (void *)1;
		r = SLOT(reg_mr_dmabuf)(rcomm, buf, 4096, SXN_PTR_CUDA, 0, 0, &comm);
		if (r != SXN_INVALID_USAGE || comm != NULL)
			die("regMrDmaBuf in a build without DMA-BUF: %d", r);
	}
	/* buffers outside their registration, sizes past maxP2pBytes */
	check_rc(SLOT(reg_mr)(scomm, buf, 4096, SXN_PTR_HOST, &good), "regMr");
	data[0] = buf + 4000;
	sizes[0] = 200;
	mh[0] = good;
	if (api_irecv(rcomm, 1, data, sizes, tags, mh, NULL, &req) == SXN_SUCCESS || req != NULL)
		die("irecv past the end of its registration succeeded");
	if (api_isend(scomm, buf + 4000, 200, 0, good, NULL, &req) == SXN_SUCCESS || req != NULL)
		die("isend past the end of its registration succeeded");
	if (o.version >= 9 &&
	    (api_isend(scomm, buf, MAX_MSG_BYTES + 1, 0, good, NULL, &req) == SXN_SUCCESS ||
	     req != NULL))
		die("isend of maxP2pBytes + 1 succeeded");
	if (o.version == 8 &&
	    (n8->isend(scomm, buf, -1, 0, good, &req) == SXN_SUCCESS || req != NULL))
		die("isend of -1 bytes succeeded");
	check_rc(SLOT(dereg_mr)(scomm, good), "deregMr");
	free(buf);
}

static void
connect_both(void **lcomm, void **scomm, void **rcomm)
{
	uint8_t mine[SXN_HANDLE_MAXSIZE], theirs[SXN_HANDLE_MAXSIZE];
	struct sxn_dev_handle_v8 *dh = NULL;
	unsigned long polls = 0;

	check_rc(api_listen(mine, lcomm), "listen");
	xfer_peer(mine, sizeof(mine), true);
	xfer_peer(theirs, sizeof(theirs), false);
	*scomm = *rcomm = NULL;
	while (*scomm == NULL || *rcomm == NULL) {
		if (*scomm == NULL)
			check_rc(api_connect(0, theirs, scomm, &dh), "connect");
		if (*rcomm == NULL)
			check_rc(SLOT(accept)(*lcomm, rcomm, &dh), "accept");
		polls++;
		check_deadline("connect/accept");
		if (*scomm == NULL || *rcomm == NULL)
			usleep(100);
	}
	if (me == 0)
		printf("connect/accept: done after %lu polls\n", polls);
	bad_calls(theirs, *scomm, *rcomm);
}

/*
 * Traffic buffers. Host memory: malloc and regMr. With --dmabuf, a stand-in
 * for GPU memory exported as a DMA-BUF: a memfd mapped here at one address
 * (the "device" address NCCL names the buffer by) and registered through
 * regMrDmaBuf with the fd, which the plugin maps again at another address;
 * the bytes it moves must show up here, so its address translation is what
 * the data checks test. (A GPU's DMA-BUF is registered the same way; only
 * whether its exporter lets the CPU map it differs.)
 */
struct buf {
	uint8_t *p;
	size_t len;
	int fd;
};

static uint8_t *
buf_new(struct buf *b, size_t len)
{
	b->len = len;
	b->fd = -1;
	if (!o.dmabuf)
		return b->p = malloc(len);
	b->fd = memfd_create("sx-nccl-dmabuf", MFD_CLOEXEC);
	if (b->fd < 0 || ftruncate(b->fd, (off_t)len) < 0)
		die("memfd: %s", strerror(errno));
	b->p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (b->p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	return b->p;
}

static void
buf_reg(struct buf *b, void *comm, void **mh)
{
	if (!o.dmabuf) {
		check_rc(SLOT(reg_mr)(comm, b->p, b->len, SXN_PTR_HOST, mh), "regMr");
		return;
	}
	check_rc(SLOT(reg_mr_dmabuf)(comm, b->p, b->len, SXN_PTR_CUDA, 0, b->fd, mh),
		 "regMrDmaBuf");
}

static void
buf_free(struct buf *b)
{
	if (!o.dmabuf) {
		free(b->p);
		return;
	}
	munmap(b->p, b->len);
	close(b->fd);
}

/*
 * Both directions at once: @p total messages out on scomm, @p total in on
 * rcomm, grouped by @p group (1: single receives) with up to o.window
 * requests in flight each way.
 */
static void
traffic(void *scomm, void *rcomm, uint64_t total, int group, bool send_on, bool recv_on,
	uint64_t *bytes_in)
{
	size_t bufsz = (size_t)o.max_size + GUARD;
	size_t nbuf = (size_t)o.window * MAX_RECVS;
	struct buf sb, rb;
	uint8_t *sbufs = buf_new(&sb, nbuf * bufsz), *rbufs = buf_new(&rb, nbuf * bufsz);
	struct slot ss[MAX_WINDOW * MAX_RECVS], rs[MAX_WINDOW];
	uint64_t sent = 0, sdone = 0, posted = 0, rdone = 0, rbatch = 0, peak = 0;
	void *smr = NULL, *rmr = NULL;
	int nsend_slots = o.window * group, i, j;
	uint64_t sgroup_next = 0; /* index of the next send within its group */
	int order[MAX_RECVS];

	if (sbufs == NULL || rbufs == NULL)
		die("out of memory");
	memset(ss, 0, sizeof(ss));
	memset(rs, 0, sizeof(rs));
	buf_reg(&sb, scomm, &smr);
	buf_reg(&rb, rcomm, &rmr);
	if (!send_on)
		sdone = sent = total;
	if (!recv_on)
		rdone = posted = total / (uint64_t)group;
	for (i = 0; i < group; i++)
		order[i] = i;
	while (sdone < total || rdone < total / (uint64_t)group) {
		check_deadline("traffic");
		/* receives: one irecv per group of @p group messages */
		for (i = 0; i < o.window && posted < total / (uint64_t)group; i++) {
			struct slot *r = &rs[posted % (uint64_t)o.window];
			void *data[MAX_RECVS], *mh[MAX_RECVS], *ph[MAX_RECVS];
			int sizes[MAX_RECVS];

			if (r->busy)
				break;
			for (j = 0; j < group; j++) {
				ph[j] = pev_arm(&r->pe[j], posted * (uint64_t)group + (uint64_t)j,
						SXN_PROFILE_OP_RECV, 100 + j, (size_t)o.max_size);
				r->tags[j] = 100 + j;
				r->bufs[j] = rbufs + ((posted % (uint64_t)o.window) * MAX_RECVS + (size_t)j) * bufsz;
				if (verify)
					memset(r->bufs[j], 0xee, bufsz);
				data[j] = r->bufs[j];
				sizes[j] = o.max_size;
				mh[j] = rmr;
			}
			check_rc(api_irecv(rcomm, group, data, sizes, r->tags, mh, ph, &r->req),
				 "irecv");
			for (j = 0; j < group; j++)
				pev_check(&r->pe[j], r->req != NULL, false, "irecv");
			if (r->req == NULL)
				break;
			r->busy = true;
			r->k = posted * (uint64_t)group;
			r->n = group;
			posted++;
			if (posted - rdone > peak)
				peak = posted - rdone;
		}
		/* sends: each group's tags in a shuffled order */
		while (sent < total) {
			struct slot *s = &ss[sent % (uint64_t)nsend_slots];
			uint64_t grp = sent / (uint64_t)group;
			int tag, sz;
			uint64_t k;

			if (s->busy)
				break;
			if (sgroup_next == 0)
				for (i = group - 1; i > 0; i--) {
					int r = (int)((grp * 7 + (uint64_t)i * 13) % (uint64_t)(i + 1)), t;

					t = order[i];
					order[i] = order[r];
					order[r] = t;
				}
			tag = 100 + order[sgroup_next];
			k = grp * (uint64_t)group + (uint64_t)order[sgroup_next];
			sz = msg_size(k, tag);
			s->bufs[0] = sbufs + (sent % (uint64_t)nsend_slots) * bufsz;
			for (j = 0; verify && j < sz; j++)
				s->bufs[0][j] = pattern(me, k, tag, (size_t)j);
			check_rc(api_isend(scomm, s->bufs[0], (size_t)sz, tag, smr,
					   pev_arm(&s->pe[0], k, SXN_PROFILE_OP_SEND, tag, (size_t)sz),
					   &s->req), "isend");
			pev_check(&s->pe[0], s->req != NULL, false, "isend");
			if (s->req == NULL)
				break;
			s->busy = true;
			sent++;
			sgroup_next = (sgroup_next + 1) % (uint64_t)group;
		}
		/* test: sends in any order, receives checked on completion */
		for (i = 0; i < nsend_slots; i++) {
			int done = 0, size = -1;

			if (!ss[i].busy)
				continue;
			prof_in_test = true;
			check_rc(SLOT(test)(ss[i].req, &done, &size), "test send");
			prof_in_test = false;
			pev_check(&ss[i].pe[0], true, done, "isend");
			if (done) {
				ss[i].busy = false;
				sdone++;
			}
		}
		for (i = 0; i < o.window; i++) {
			struct slot *r = &rs[(rbatch + (uint64_t)i) % (uint64_t)o.window];
			int done = 0, sizes[MAX_RECVS];
			void *freq = (void *)1, *data[MAX_RECVS], *mh[MAX_RECVS];

			if (!r->busy)
				continue;
			prof_in_test = true;
			check_rc(SLOT(test)(r->req, &done, sizes), "test recv");
			prof_in_test = false;
			for (j = 0; j < r->n; j++)
				pev_check(&r->pe[j], true, done, "irecv");
			if (!done)
				continue;
			for (j = 0; j < r->n; j++) {
				uint64_t k = r->k + (uint64_t)j;
				int want = msg_size(k, r->tags[j]), b;

				if (sizes[j] != want)
					die("recv k=%lu tag %d: size %d, sent %d", (unsigned long)k,
					    r->tags[j], sizes[j], want);
				for (b = 0; verify && b < want; b++)
					if (r->bufs[j][b] != pattern(1 - me, k, r->tags[j], (size_t)b))
						die("recv k=%lu tag %d: byte %d of %d differs",
						    (unsigned long)k, r->tags[j], b, want);
				for (b = want; verify && b < o.max_size + GUARD; b++)
					if (r->bufs[j][b] != 0xee)
						die("recv k=%lu: byte %d past the %d sent was written",
						    (unsigned long)k, b, want);
				*bytes_in += (uint64_t)want;
				data[j] = r->bufs[j];
				mh[j] = rmr;
			}
			check_rc(SLOT(iflush)(rcomm, r->n, data, sizes, mh, &freq), "iflush");
			if (freq != NULL)
				die("iflush on host memory returned a request");
			r->busy = false;
			rdone++;
		}
		while (rbatch < posted && !rs[rbatch % (uint64_t)o.window].busy)
			rbatch++;
	}
	/* NCCL keeps NCCL_NET_MAX_REQUESTS receives in flight: all were
	 * accepted at once (the sender cannot finish one before it posts) */
	if (recv_on && total / (uint64_t)group >= (uint64_t)o.window && peak != (uint64_t)o.window)
		die("only %lu of %d receives were in flight at once", (unsigned long)peak, o.window);
	check_rc(SLOT(dereg_mr)(scomm, smr), "deregMr send");
	check_rc(SLOT(dereg_mr)(rcomm, rmr), "deregMr recv");
	buf_free(&sb);
	buf_free(&rb);
}

/* Payload bytes this rank received and checked, over every phase. */
static uint64_t rx_payload;

static int
rank_main(void)
{
	void *so, *lcomm, *scomm, *rcomm;
	uint64_t bytes = 0;
	double t0;
	char c;

	t_deadline = now_s() + o.timeout_s;
	if (me == 1) /* the memif server's socket exists first */
		xfer_peer(&c, 1, false);
	so = dlopen(o.plugin, RTLD_NOW | RTLD_LOCAL);
	if (so == NULL)
		die("dlopen: %s", dlerror());
	{
		char name[32];
		const void *sym;

		snprintf(name, sizeof(name), "ncclNetPlugin_v%d", o.version);
		sym = dlsym(so, name);
		if (sym == NULL)
			die("no %s: %s", name, dlerror());
		n8 = o.version == 8 ? sym : NULL;
		n9 = o.version == 9 ? sym : NULL;
		n10 = o.version == 10 ? sym : NULL;
		n11 = o.version == 11 ? sym : NULL;
		n12 = o.version == 12 ? sym : NULL;
		check_struct(so, sym);
	}
	if (o.tc_rank0 && me == 1)
		o.traffic_class = SXN_TRAFFIC_CLASS_UNDEF;
	api_init();
	check_props();
	if (me == 0) {
		c = 'u';
		xfer_peer(&c, 1, true);
	}
	connect_both(&lcomm, &scomm, &rcomm);
	api_finalize(1); /* one communicator ends; the other's comms go on */
	if (o.bench) {
		int saved_max = o.max_size, saved_iters = o.iters;

		o.max_size = o.bench_size;
		barrier('w');
		o.iters = 64; /* warm-up: page faults of --no-huge buffers */
		traffic(scomm, rcomm, (uint64_t)o.iters, 1, me == 1, me == 0, &bytes);
		barrier('b');
		bytes = 0;
		verify = false;
		t0 = now_s();
		traffic(scomm, rcomm, (uint64_t)o.bench_iters, 1, me == 1, me == 0, &bytes);
		rx_payload = bytes;
		if (me == 0)
			printf("bench: %d x %d B, window %d: %.1f MB/s\n", o.bench_iters,
			       o.bench_size, o.window, (double)bytes / (now_s() - t0) / 1e6);
		o.max_size = saved_max;
		o.iters = saved_iters;
	} else {
		int groups[] = {1, 2, 4, MAX_RECVS};
		size_t g;

		for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
			uint64_t total = (uint64_t)o.iters / (uint64_t)groups[g] * (uint64_t)groups[g];

			bytes = 0;
			t0 = now_s();
			traffic(scomm, rcomm, total, groups[g], true, true, &bytes);
			rx_payload += bytes;
			if (me == 0)
				printf("group %d: %lu messages each way, window %d: ok (%.2f s)\n",
				       groups[g], (unsigned long)total, o.window, now_s() - t0);
			barrier('g');
		}
	}
	if (o.profile) {
		if (prof_starts != prof_checked || prof_stops != prof_checked || prof_checked == 0 ||
		    prof_unhandled == 0)
			die("profiler: %lu starts, %lu stops, %lu requests checked, %lu without a handle",
			    (unsigned long)prof_starts, (unsigned long)prof_stops,
			    (unsigned long)prof_checked, (unsigned long)prof_unhandled);
		printf("rank %d: profiler: %lu requests with a handle, one start and one stop each; "
		       "%lu without, no event\n", me, (unsigned long)prof_checked,
		       (unsigned long)prof_unhandled);
	}
	barrier('c');
	check_rc(SLOT(close_send)(scomm), "closeSend");
	check_rc(SLOT(close_recv)(rcomm), "closeRecv");
	check_rc(SLOT(close_listen)(lcomm), "closeListen");
	api_finalize(0);
	barrier('e');
	if (getenv("SCALEX_NCCL_STATS_FILE") != NULL) {
		FILE *fp = fopen(getenv("SCALEX_NCCL_STATS_FILE"), "a");

		if (fp == NULL)
			die("stats file: %s", strerror(errno));
		fprintf(fp, "harness 0 rx_payload %lu\n", (unsigned long)rx_payload);
		fclose(fp);
	}
	/* Orderly memif shutdown: the client closes its port and exits, the
	 * server closes once the client is gone (its end of the channel
	 * closes), so no side polls a port whose peer unmaps it. */
	if (me == 0) {
		while (recv(peer_fd, &c, 1, 0) > 0)
			;
		usleep(200 * 1000);
	}
	dlclose(so);
	if (me == 0)
		printf("rank 0: pass\n");
	fflush(stdout);
	return 0;
}

/* Sum of counter @p name in scope @p scope of a stats file (-1: none). */
static int64_t
stat_sum(const char *path, const char *scope, const char *name)
{
	char sc[32], nm[64];
	unsigned long id, v;
	int64_t sum = -1;
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return -1;
	while (fscanf(fp, "%31s %lu %63s %lu", sc, &id, nm, &v) == 4)
		if (strcmp(sc, scope) == 0 && strcmp(nm, name) == 0)
			sum = (sum < 0 ? 0 : sum) + (int64_t)v;
	fclose(fp);
	return sum;
}

/*
 * scalex carried the bytes: each rank's QPs received at least the payload
 * the harness checked, the peer's port sent more than that; and injected
 * faults were injected and recovered from (retransmits).
 */
static int
check_stats(char stats[2][PATH_MAX])
{
	int64_t drops = 0, rexmit = 0, v;
	int r, bad = 0;

	for (r = 0; r < 2; r++) {
		int64_t rx = stat_sum(stats[r], "harness", "rx_payload");
		int64_t qrx = stat_sum(stats[r], "qp", "rx_bytes");
		int64_t ptx = stat_sum(stats[1 - r], "port", "tx_bytes");

		printf("rank %d: checked %ld payload bytes; its QPs received %ld, "
		       "the peer's port sent %ld\n", r, (long)rx, (long)qrx, (long)ptx);
		if (o.bench && r == 1) /* rank 1 only sends in the benchmark */
			continue;
		if (rx <= 0 || qrx < rx || ptx <= rx)
			bad = 1;
		if ((v = stat_sum(stats[r], "port", "fault_drop_tx")) > 0)
			drops += v;
		if ((v = stat_sum(stats[r], "port", "fault_drop_rx")) > 0)
			drops += v;
		if ((v = stat_sum(stats[r], "qp", "retransmits")) > 0)
			rexmit += v;
	}
	if (o.fault_tx != NULL && strstr(o.fault_tx, "drop=") != NULL) {
		printf("faults: %ld frames dropped, %ld packets retransmitted\n", (long)drops,
		       (long)rexmit);
		if (drops == 0 || rexmit == 0)
			bad = 1;
	}
	if (bad)
		fprintf(stderr, "counters do not show scalex carrying the traffic\n");
	return bad;
}

static void
usage(void)
{
	fprintf(stderr, "usage: nccl_harness --plugin SO [--rel sr|gbn] [--fault-tx SPEC]\n"
			"  [--fault-rx SPEC] [--window N] [--iters N] [--max-size B]\n"
			"  [--timeout S] [--version 8..12] [--dmabuf] [--bench [--bench-size B] [--bench-iters N]]\n"
			"  [--profile] [--traffic-class C [--traffic-class-rank0]] [--pcap-dir DIR]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"plugin", required_argument, NULL, 'p'}, {"rel", required_argument, NULL, 'r'},
		{"fault-tx", required_argument, NULL, 't'}, {"fault-rx", required_argument, NULL, 'x'},
		{"window", required_argument, NULL, 'w'}, {"iters", required_argument, NULL, 'n'},
		{"max-size", required_argument, NULL, 's'}, {"timeout", required_argument, NULL, 'T'},
		{"bench", no_argument, NULL, 'b'}, {"bench-size", required_argument, NULL, 'S'},
		{"bench-iters", required_argument, NULL, 'N'}, {"version", required_argument, NULL, 'V'},
		{"dmabuf", no_argument, NULL, 'D'}, {"profile", no_argument, NULL, 'P'},
		{"traffic-class", required_argument, NULL, 'C'},
		{"pcap-dir", required_argument, NULL, 'c'},
		{"traffic-class-rank0", no_argument, NULL, '0'},
		{NULL, 0, NULL, 0},
	};
	char dir[] = "/tmp/sx-nccl.XXXXXX", sock[PATH_MAX], port[PATH_MAX + 128];
	char eal[256], prefix[2][64], ip[32], seedv[32], stats[2][PATH_MAX];
	int sp[2], ch, r, status, failed = 0, cpus[2] = {0, 0}, ncpu = 0, cpu;
	pid_t pid[2];
	cpu_set_t set;
	double t_end;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'p': o.plugin = optarg; break;
		case 'r': o.rel = optarg; break;
		case 't': o.fault_tx = optarg; break;
		case 'x': o.fault_rx = optarg; break;
		case 'w': o.window = atoi(optarg); break;
		case 'n': o.iters = atoi(optarg); break;
		case 's': o.max_size = atoi(optarg); break;
		case 'T': o.timeout_s = atoi(optarg); break;
		case 'b': o.bench = true; break;
		case 'S': o.bench_size = atoi(optarg); break;
		case 'N': o.bench_iters = atoi(optarg); break;
		case 'V': o.version = atoi(optarg); break;
		case 'D': o.dmabuf = true; break;
		case 'P': o.profile = true; break;
		case 'C': o.traffic_class = atoi(optarg); break;
		case 'c': o.pcap_dir = optarg; break;
		case '0': o.tc_rank0 = true; break;
		default: usage();
		}
	}
	if (o.plugin == NULL || o.window < 1 || o.window > MAX_WINDOW || o.iters < MAX_RECVS ||
	    o.max_size < 1 || o.timeout_s < 1 || o.bench_size < 1 || o.bench_iters < 1 ||
	    o.version < 8 || o.version > 12 || (o.profile && o.version < 10) ||
	    (o.traffic_class != SXN_TRAFFIC_CLASS_UNDEF && o.version < 10) ||
	    (o.tc_rank0 && o.version < 11))
		usage();
	if (mkdtemp(dir) == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0) {
		perror("setup");
		return 1;
	}
	snprintf(sock, sizeof(sock), "%s/memif.sock", dir);
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (cpu = 0; cpu < CPU_SETSIZE && ncpu < 2; cpu++)
			if (CPU_ISSET(cpu, &set))
				cpus[ncpu++] = cpu;
	if (ncpu == 1)
		cpus[1] = cpus[0];
	for (me = 0; me < 2; me++)
		snprintf(stats[me], sizeof(stats[me]), "%s/stats.%d", dir, me);
	for (me = 0; me < 2; me++) {
		snprintf(prefix[me], sizeof(prefix[me]), "sx-nccl-%d-%d", (int)getpid(), me);
		pid[me] = fork();
		if (pid[me] < 0) {
			perror("fork");
			return 1;
		}
		if (pid[me] > 0)
			continue;
		peer_fd = sp[me];
		close(sp[1 - me]);
		snprintf(port, sizeof(port),
			 "net_memif0,role=%s,id=0,socket=%s,socket-abstract=no",
			 me == 0 ? "server" : "client", sock);
		snprintf(eal, sizeof(eal),
			 "--no-huge -m 256 --no-pci --no-telemetry --log-level=error "
			 "--file-prefix %s --lcores 0@%d", prefix[me], cpus[me]);
		snprintf(ip, sizeof(ip), "10.0.0.%d", me + 1);
		snprintf(seedv, sizeof(seedv), "%d", 17 + me);
		setenv("SCALEX_NCCL_PORT", port, 1);
		setenv("SCALEX_NCCL_EAL", eal, 1);
		setenv("SCALEX_NCCL_IP", ip, 1);
		setenv("SCALEX_NCCL_REL", o.rel, 1);
		setenv("SCALEX_NCCL_MTU", "4096", 1);
		setenv("SCALEX_NCCL_SEED", seedv, 1);
		setenv("SCALEX_NCCL_STATS_FILE", stats[me], 1);
		if (o.pcap_dir != NULL) {
			char pcap[PATH_MAX];

			snprintf(pcap, sizeof(pcap), "%s/rank%d.pcapng", o.pcap_dir, me);
			setenv("SCALEX_NCCL_PCAP", pcap, 1);
		}
		/* 2 cores shared with other builds (load 18 seen): a rank can be
		 * descheduled for a second; 7 retries from 50 ms tolerate ~2 s */
		setenv("SCALEX_NCCL_TIMEOUT_US", "50000", 0);
		if (o.fault_tx != NULL)
			setenv("SCALEX_NCCL_FAULT_TX", o.fault_tx, 1);
		if (o.fault_rx != NULL)
			setenv("SCALEX_NCCL_FAULT_RX", o.fault_rx, 1);
		alarm((unsigned)o.timeout_s + 10);
		fflush(stdout);
		_exit(rank_main());
	}
	close(sp[0]);
	close(sp[1]);
	/* Both ranks, bounded: a rank past its deadline is killed. */
	t_end = now_s() + o.timeout_s + 15;
	for (me = 0; me < 2;) {
		r = waitpid(pid[me], &status, WNOHANG);
		if (r == 0 && now_s() < t_end) {
			usleep(20000);
			continue;
		}
		if (r == 0) {
			fprintf(stderr, "rank %d: killed after %d s\n", me, o.timeout_s + 15);
			kill(pid[me], SIGKILL);
			waitpid(pid[me], &status, 0);
			failed = 1;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "rank %d: %s %d\n", me,
				WIFEXITED(status) ? "exit" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			failed = 1;
		}
		me++;
	}
	if (!failed)
		failed = check_stats(stats);
	for (me = 0; me < 2; me++) {
		eal_runtime_dir_remove(prefix[me]);
		unlink(stats[me]);
	}
	unlink(sock);
	rmdir(dir);
	printf("%s\n", failed ? "FAIL" : "PASS");
	return failed;
}
