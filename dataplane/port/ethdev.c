/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A port over any DPDK ethdev: memif, af_xdp, af_packet, tap, ring or a
 * PCI NIC. One rx and one tx queue, driven by the thread that owns the
 * port.
 *
 * Frames are mbufs from a pool of this port whose data room holds a whole
 * max_frame, so a frame is one contiguous segment. A received chain (a
 * memif peer with smaller buffers, a NIC with scatter) is linearized into
 * one mbuf; a chain longer than max_frame is dropped and counted.
 *
 * memif: the PMD reports a 1518-byte max_rx_pktlen but enforces no MTU;
 * what bounds a frame is its buffer size (devarg bsize, default 2048). A
 * larger frame is spread over several descriptors, and with DPDK 22.11 that
 * corrupts frames for some size ratios (4200-byte frames in 2048-byte
 * buffers do, 1514 in 1024 do not). So for memif the device maximum is not
 * a limit, a spec without bsize gets one that holds max_frame (both ends
 * opened here then move every frame in one descriptor; measured up to
 * 64000-byte frames), and a spec whose bsize is smaller is refused. The
 * peer's bsize must be as large: the client's sizes the shared buffers.
 *
 * Capture: with a pcap path every frame sent or received is copied into a
 * pcapng file in this process (dpdk-dumpcap cannot attach to --no-huge
 * processes). DPDK 22.11's rte_pcapng writes one interface block per ethdev
 * that exists when the file is opened and numbers them in that order.
 *
 * memif and a peer's exit (DPDK 22.11, unfixed upstream): when the peer
 * goes, the PMD's disconnect runs in the EAL interrupt thread and unmaps
 * the shared regions while a worker may be inside eth_memif_rx/tx, which
 * checks the connected flag only on entry; the survivor then touches
 * unmapped memory. The guard below closes that window without patching
 * DPDK: each thread that polls a port keeps a counter that is odd while it
 * is inside an rx or tx burst, and this file defines munmap() itself. An
 * executable exports it (-Wl,--export-dynamic-symbol=munmap, set on
 * scalex's dependency) so that the PMD, a shared library, binds to it; when
 * called from a thread that is not polling, it waits until every counter
 * that was odd has moved on, then unmaps with the system call. A polling
 * thread never waits, so it can neither wait on itself nor on the
 * interrupt thread.
 *
 * The tx ring bound (txring.h): the port hands out buffers only while
 * fewer than tx_ring_frames (a scalex option in the spec, taken out before
 * DPDK sees it) frames wait in the device's tx ring, so frames wait in the
 * engine, whose DRR picks who goes next, not in a 1024-descriptor FIFO.
 * It needs rte_eth_tx_descriptor_status(); memif, ring, af_packet and tap
 * lack it (-ENOTSUP) and stay unbounded. tx_burst also takes no more than
 * the bound allows; the rest stays the caller's, as for a full ring.
 *
 * Units: lengths in bytes, ring sizes in descriptors, pools in mbufs.
 */
/* rte_pcapng is experimental in DPDK 22.11. */
#define ALLOW_EXPERIMENTAL_API 1

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pcapng.h>

#include "port.h"
#include "txring.h"

RTE_LOG_REGISTER(sx_port_logtype, scalex.port, NOTICE);
#define SX_PORT_LOG(level, ...)                                                         \
	rte_log(RTE_LOG_##level, sx_port_logtype, "scalex.port: " __VA_ARGS__)

/* mbufs handed to DPDK per call, and the stack arrays that carry them. */
#define SX_ETHDEV_BURST 64
/* Descriptors per ring before the driver adjusts them. */
#define SX_ETHDEV_RING_DESC 1024
/* mbufs beyond the rings: frames the engine holds between calls and the
 * memif copy path's per-burst allocations. */
#define SX_ETHDEV_SPARE_MBUFS 2048
#define SX_ETHDEV_POOL_CACHE 256
/* Capture copies live only from copy to write, one burst at a time. */
#define SX_ETHDEV_CAPTURE_MBUFS 511
/* Smallest payload room per mbuf: DPDK's default, which every PMD accepts. */
#define SX_ETHDEV_MIN_ROOM RTE_MBUF_DEFAULT_DATAROOM
/* Largest frame: an mbuf's data room is a 16-bit count. */
#define SX_ETHDEV_MAX_FRAME (UINT16_MAX - RTE_PKTMBUF_HEADROOM - 1024)

struct sx_port_ethdev {
	struct sx_port port; /* first: the ops cast back to this */
	uint16_t port_id;
	struct rte_device *hotplugged; /* removed on close; NULL if not ours */
	struct rte_mempool *pool;
	uint32_t room; /* payload bytes per mbuf */
	rte_pcapng_t *pcap;
	struct rte_mempool *pcap_pool;
	struct sx_txring ring; /* frames waiting in the device's tx ring */
	double ns_per_cycle;
	bool ring_off_logged;
};

static struct sx_port_ethdev *
ethdev_of(struct sx_port *port)
{
	return (struct sx_port_ethdev *)port;
}

static void
frame_set(struct sx_frame *f, struct rte_mbuf *m)
{
	f->data = rte_pktmbuf_mtod(m, uint8_t *);
	f->len = rte_pktmbuf_data_len(m);
	f->cap = rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m);
	f->priv = m;
}

/* ------------------------------------------------------------------------ */
/* The munmap guard (see the file header)                                    */

/* Threads that ever polled a port; more are unguarded (and logged once). */
#define SX_ETHDEV_GUARD_SLOTS 64

/*
 * munmap() has no context argument, so the counters are the one piece of
 * process-wide state of this file: one slot per polling thread, claimed on
 * its first burst and never given back (a thread that exits leaves an even
 * counter, which the waiter skips).
 */
static _Atomic uint64_t guard_pass[SX_ETHDEV_GUARD_SLOTS];
static _Atomic unsigned int guard_nslots;
static _Thread_local int guard_slot = -1; /* -1: not claimed yet; -2: none left */

static _Atomic uint64_t *
guard_counter(void)
{
	unsigned int i;

	if (likely(guard_slot >= 0))
		return &guard_pass[guard_slot];
	if (guard_slot == -2)
		return NULL;
	i = atomic_fetch_add(&guard_nslots, 1);
	if (i >= SX_ETHDEV_GUARD_SLOTS) {
		guard_slot = -2;
		SX_PORT_LOG(WARNING,
		            "more than %d polling threads: a memif peer's exit "
		            "may crash this one\n",
		            SX_ETHDEV_GUARD_SLOTS);
		return NULL;
	}
	guard_slot = (int)i;
	return &guard_pass[i];
}

/* Before and after a burst: the counter is odd inside. seq_cst read-modify-
 * writes are full barriers: the PMD's connected-flag load on entry cannot
 * move above the increment. */
static inline void
guard_enter(_Atomic uint64_t *c)
{
	if (c != NULL)
		atomic_fetch_add(c, 1);
}

static inline void
guard_leave(_Atomic uint64_t *c)
{
	if (c != NULL)
		atomic_fetch_add(c, 1);
}

int munmap(void *addr, size_t len);

void
sx_poll_pass_begin(void)
{
	guard_enter(guard_counter());
}

void
sx_poll_pass_end(void)
{
	guard_leave(guard_counter());
}

int
munmap(void *addr, size_t len)
{
	unsigned int i, n;

	/* A polling thread unmaps only what it owns (its own port's close). */
	if (guard_slot < 0) {
		/* The caller's stores (the PMD clearing its connected flag)
		 * before our loads of the counters. */
		atomic_thread_fence(memory_order_seq_cst);
		n = atomic_load(&guard_nslots);
		if (n > SX_ETHDEV_GUARD_SLOTS)
			n = SX_ETHDEV_GUARD_SLOTS;
		for (i = 0; i < n; i++) {
			uint64_t c = atomic_load(&guard_pass[i]);

			if ((c & 1) == 0)
				continue;
			/* A burst is microseconds; yield rather than spin on a
			 * shared core. */
			while (atomic_load(&guard_pass[i]) == c)
				sched_yield();
		}
	}
	return (int)syscall(SYS_munmap, addr, len);
}

/* ------------------------------------------------------------------------ */
/* Capture                                                                   */

/* Copies @p m into pcapng form; NULL (and counted) when the pool is dry. */
static struct rte_mbuf *
capture_copy(struct sx_port_ethdev *e, const struct rte_mbuf *m,
	     enum rte_pcapng_direction dir)
{
	struct rte_mbuf *c = rte_pcapng_copy(e->port_id, 0, m, e->pcap_pool, UINT32_MAX,
					     rte_get_tsc_cycles(), dir);

	if (c == NULL)
		e->port.stats.capture_drop++;
	return c;
}

/* Writes the non-NULL copies among @p c[0..n) and frees them. */
static void
capture_write(struct sx_port_ethdev *e, struct rte_mbuf **c, uint16_t n)
{
	uint16_t i, k = 0;

	for (i = 0; i < n; i++)
		if (c[i] != NULL)
			c[k++] = c[i];
	if (k == 0)
		return;
	if (rte_pcapng_write_packets(e->pcap, c, k) < 0)
		e->port.stats.capture_drop += k;
	/* 22.11's header says the copies are freed, but measured they are
	 * not (dpdk-dumpcap frees them itself, as here). */
	rte_pktmbuf_free_bulk(c, k);
}

/* ------------------------------------------------------------------------ */
/* rx                                                                        */

/* One contiguous segment holding all of @p m, or NULL when it is longer
 * than max_frame or no mbuf is left (counted as rx_drop). @p m is consumed
 * either way. */
static struct rte_mbuf *
linearize(struct sx_port_ethdev *e, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct rte_mbuf *flat = NULL;
	void *dst;

	if (len <= e->port.max_frame) {
		/* In place when the first segment has the room: our own pool's
		 * mbufs hold max_frame, so this is the usual case. */
		if (rte_pktmbuf_linearize(m) == 0) {
			e->port.stats.rx_linearized++;
			return m;
		}
		flat = rte_pktmbuf_alloc(e->pool);
		dst = flat != NULL ? rte_pktmbuf_append(flat, (uint16_t)len) : NULL;
		/* For a chain rte_pktmbuf_read copies into dst and returns it. */
		if (dst != NULL && rte_pktmbuf_read(m, 0, len, dst) == dst) {
			flat->port = m->port;
			rte_pktmbuf_free(m);
			e->port.stats.rx_linearized++;
			return flat;
		}
	}
	rte_pktmbuf_free(flat);
	rte_pktmbuf_free(m);
	e->port.stats.rx_drop++;
	return NULL;
}

static uint16_t
ethdev_rx_burst(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_port_ethdev *e = ethdev_of(port);
	struct rte_mbuf *m[SX_ETHDEV_BURST];
	struct rte_mbuf *cap[SX_ETHDEV_BURST];
	_Atomic uint64_t *pass = guard_counter();
	uint16_t got = 0;

	while (got < n) {
		uint16_t want = RTE_MIN(n - got, SX_ETHDEV_BURST);
		uint16_t nb, i, first = got;

		guard_enter(pass);
		nb = rte_eth_rx_burst(e->port_id, 0, m, want);
		guard_leave(pass);

		for (i = 0; i < nb; i++) {
			struct rte_mbuf *x = m[i];

			if (x->nb_segs > 1) {
				x = linearize(e, x);
			} else if (x->data_len > port->max_frame) {
				rte_pktmbuf_free(x);
				port->stats.rx_drop++;
				x = NULL;
			}
			if (x == NULL)
				continue;
			frame_set(&f[got++], x);
			port->stats.rx_frames++;
			port->stats.rx_bytes += x->data_len;
		}
		if (e->pcap != NULL) {
			for (i = first; i < got; i++)
				cap[i - first] = capture_copy(e, f[i].priv,
							      RTE_PCAPNG_DIRECTION_IN);
			capture_write(e, cap, got - first);
		}
		if (nb < want)
			break;
	}
	return got;
}

static void
ethdev_free_frames(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct rte_mbuf *m[SX_ETHDEV_BURST];
	uint16_t i, k = 0;

	(void)port;
	for (i = 0; i < n; i++) {
		m[k++] = f[i].priv;
		if (k == SX_ETHDEV_BURST) {
			rte_pktmbuf_free_bulk(m, k);
			k = 0;
		}
	}
	if (k > 0)
		rte_pktmbuf_free_bulk(m, k);
}

/* ------------------------------------------------------------------------ */
/* tx                                                                        */

/* The device's word on one tx descriptor, for the ring bound (txring.h). */
static int
ethdev_tx_desc_status(void *arg, uint16_t offset)
{
	const struct sx_port_ethdev *e = arg;

	return rte_eth_tx_descriptor_status(e->port_id, 0, offset);
}

/* How many of @p want frames the ring bound lets go to the device now. */
static uint16_t
ring_room(struct sx_port_ethdev *e, uint16_t want)
{
	uint16_t room;

	if (likely(!sx_txring_bounded(&e->ring)))
		return want;
	room = sx_txring_room(&e->ring, want,
			      (uint64_t)((double)rte_get_tsc_cycles() * e->ns_per_cycle));
	if (!sx_txring_bounded(&e->ring) && !e->ring_off_logged) {
		e->ring_off_logged = true;
		SX_PORT_LOG(WARNING, "port %u: tx descriptor status %s: tx ring unbounded\n",
			    e->port_id,
			    e->ring.err == -ETIMEDOUT ? "shows no progress"
						      : rte_strerror(-e->ring.err));
	}
	return room;
}

static uint16_t
ethdev_tx_alloc(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_port_ethdev *e = ethdev_of(port);
	struct rte_mbuf *m[SX_ETHDEV_BURST];
	uint16_t got = 0, allow = ring_room(e, n);

	/* Buffers only for frames the ring bound lets go soon: the engine
	 * builds no more, and its DRR picks the QP of each. */
	if (allow < n)
		port->stats.tx_ring_held++;
	while (got < allow) {
		uint16_t want = RTE_MIN(allow - got, SX_ETHDEV_BURST), k, i;

		if (rte_pktmbuf_alloc_bulk(e->pool, m, want) == 0) {
			k = want;
		} else {
			/* The bulk call is all or nothing; take what is left. */
			for (k = 0; k < want; k++) {
				m[k] = rte_pktmbuf_alloc(e->pool);
				if (m[k] == NULL)
					break;
			}
		}
		for (i = 0; i < k; i++)
			frame_set(&f[got + i], m[i]);
		got += k;
		if (k < want)
			break;
	}
	port->stats.alloc_fail += allow - got;
	return got;
}

/* Points @p x at the frame's bytes; false if they are not a frame this port
 * can send (longer than max_frame, or moved outside the mbuf's buffer). */
static bool
tx_prepare(const struct sx_port *port, const struct sx_frame *fr, struct rte_mbuf *x)
{
	uint8_t *buf = x->buf_addr;

	if (fr->len > port->max_frame || fr->data < buf || fr->data + fr->len > buf + x->buf_len)
		return false;
	x->data_off = (uint16_t)(fr->data - buf);
	x->data_len = (uint16_t)fr->len;
	x->pkt_len = fr->len;
	return true;
}

static uint16_t
ethdev_tx_burst(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_port_ethdev *e = ethdev_of(port);
	struct rte_mbuf *m[SX_ETHDEV_BURST];
	struct rte_mbuf *cap[SX_ETHDEV_BURST];
	uint16_t idx[SX_ETHDEV_BURST]; /* index in the chunk of each m */
	bool bad[SX_ETHDEV_BURST];
	_Atomic uint64_t *pass = guard_counter();
	/* Frames beyond the ring bound stay the caller's, as for a full ring. */
	uint16_t done = 0, allow = ring_room(e, n);

	while (done < allow) {
		uint16_t chunk = RTE_MIN(allow - done, SX_ETHDEV_BURST);
		uint16_t k = 0, sent, taken, i;

		for (i = 0; i < chunk; i++) {
			bad[i] = !tx_prepare(port, &f[done + i], f[done + i].priv);
			if (!bad[i]) {
				idx[k] = i;
				m[k++] = f[done + i].priv;
			}
		}
		if (e->pcap != NULL)
			for (i = 0; i < k; i++)
				cap[i] = capture_copy(e, m[i], RTE_PCAPNG_DIRECTION_OUT);
		sent = 0;
		if (k > 0) {
			guard_enter(pass);
			sent = rte_eth_tx_burst(e->port_id, 0, m, k);
			guard_leave(pass);
			if (sx_txring_bounded(&e->ring))
				sx_txring_sent(&e->ring, sent,
					       (uint64_t)((double)rte_get_tsc_cycles() *
							  e->ns_per_cycle));
		}
		if (e->pcap != NULL) {
			capture_write(e, cap, sent);
			rte_pktmbuf_free_bulk(cap + sent, k - sent);
		}
		for (i = 0; i < sent; i++) {
			port->stats.tx_frames++;
			port->stats.tx_bytes += f[done + idx[i]].len;
		}
		/* Taken: every frame before the first one the device refused.
		 * Unsendable frames among them are dropped (a bug upstream;
		 * sending them truncated would hide it); later ones stay the
		 * caller's, like the refused ones. */
		taken = sent < k ? idx[sent] : chunk;
		for (i = 0; i < taken; i++) {
			if (bad[i]) {
				rte_pktmbuf_free(f[done + i].priv);
				port->stats.tx_drop++;
			}
		}
		done += taken;
		if (taken < chunk)
			break;
	}
	port->stats.tx_full += n - done;
	return done;
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                            */

static void
ethdev_close(struct sx_port *port)
{
	struct sx_port_ethdev *e = ethdev_of(port);
	int ret;

	/* Polling has stopped (the caller owns the only polling thread), so
	 * no burst is in flight here. Nothing is drained: for memif a burst
	 * after the peer started to disconnect can touch unmapped memory. */
	ret = rte_eth_dev_stop(e->port_id);
	if (ret != 0)
		SX_PORT_LOG(WARNING, "port %u: stop: %s\n", e->port_id, rte_strerror(-ret));
	ret = rte_eth_dev_close(e->port_id);
	if (ret != 0)
		SX_PORT_LOG(WARNING, "port %u: close: %s\n", e->port_id, rte_strerror(-ret));
	if (e->hotplugged != NULL) {
		ret = rte_dev_remove(e->hotplugged);
		if (ret != 0)
			SX_PORT_LOG(WARNING, "port %u: remove: %s\n", e->port_id,
				    rte_strerror(-ret));
	}
	if (e->pcap != NULL)
		rte_pcapng_close(e->pcap); /* closes the file descriptor too */
	rte_mempool_free(e->pcap_pool);
	rte_mempool_free(e->pool);
	free(e);
}

static int capture_open(struct sx_port_ethdev *e, const char *path, uint32_t max_frame,
			int socket);

/* Capture on demand (scalex-ctl capture start|stop): engine thread only,
 * like rx and tx, which write the capture. */
static int
ethdev_capture(struct sx_port *port, const char *path)
{
	struct sx_port_ethdev *e = ethdev_of(port);

	if (path == NULL) {
		if (e->pcap == NULL)
			return -ENOENT;
		rte_pcapng_close(e->pcap);
		e->pcap = NULL;
		return 0;
	}
	if (e->pcap != NULL)
		return -EBUSY;
	return capture_open(e, path, port->max_frame, rte_eth_dev_socket_id(e->port_id));
}

static const struct sx_port_ops sx_ethdev_ops = {
	.name = "ethdev",
	.rx_burst = ethdev_rx_burst,
	.rx_done = ethdev_free_frames,
	.tx_alloc = ethdev_tx_alloc,
	.tx_burst = ethdev_tx_burst,
	.tx_free = ethdev_free_frames,
	.close = ethdev_close,
	.capture = ethdev_capture,
};

/* The value of devarg @p key in "name,k=v,k=v" copied to @p out, or false. */
static bool
devarg_get(const char *spec, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = strchr(spec, ',');

	while (p != NULL) {
		const char *v = p + 1;
		const char *end = strchr(v, ',');
		size_t vlen;

		if (strncmp(v, key, klen) == 0 && v[klen] == '=') {
			v += klen + 1;
			vlen = end != NULL ? (size_t)(end - v) : strlen(v);
			if (vlen >= size)
				return false;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
		p = end;
	}
	return false;
}

static bool
is_memif(const char *spec)
{
	return strncmp(spec, "net_memif", strlen("net_memif")) == 0;
}

/* A memif server cannot bind a socket file left by a process that died.
 * Remove it, but only if nobody answers on it: a live server's socket is
 * left alone (and the probe then fails as it should). */
static void
memif_remove_stale_socket(const char *spec)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char role[16], abstract[8];
	struct stat st;
	int fd;

	if (!devarg_get(spec, "role", role, sizeof(role)) || strcmp(role, "server") != 0)
		return;
	if (devarg_get(spec, "socket-abstract", abstract, sizeof(abstract)) &&
	    strcmp(abstract, "no") != 0)
		return;
	if (!devarg_get(spec, "socket", sa.sun_path, sizeof(sa.sun_path)))
		return;
	if (stat(sa.sun_path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno == ECONNREFUSED) {
		SX_PORT_LOG(INFO, "removing stale memif socket %s\n", sa.sun_path);
		unlink(sa.sun_path);
	}
	close(fd);
}

/* Probes @p spec, adding a memif bsize of @p room when it sets none, and
 * finds its port id. *hotplugged is the device if this call created it. */
static int
probe_vdev(const char *spec, uint32_t max_frame, uint32_t room, uint16_t *port_id,
	   struct rte_device **hotplugged)
{
	char name[RTE_DEV_NAME_MAX_LEN];
	char bsize[16];
	struct rte_eth_dev_info info;
	size_t nlen = strcspn(spec, ",");
	size_t len = strlen(spec) + 32;
	char *args = malloc(len);
	int probed, ret;

	if (args == NULL)
		return -ENOMEM;
	if (nlen == 0 || nlen >= sizeof(name)) {
		ret = -EINVAL;
		goto cleanup;
	}
	memcpy(name, spec, nlen);
	name[nlen] = '\0';
	snprintf(args, len, "%s", spec);
	if (is_memif(spec)) {
		if (!devarg_get(spec, "bsize", bsize, sizeof(bsize))) {
			snprintf(args, len, "%s,bsize=%u", spec, room);
		} else if (strtoul(bsize, NULL, 0) < max_frame) {
			/* Measured with DPDK 22.11: frames spread over several
			 * memif descriptors arrive corrupted for some sizes. */
			SX_PORT_LOG(ERR, "%s: bsize %s is below the %u-byte frames\n", name,
				    bsize, max_frame);
			ret = -EINVAL;
			goto cleanup;
		}
	}
	if (is_memif(spec))
		memif_remove_stale_socket(spec);

	*hotplugged = NULL;
	probed = rte_dev_probe(args);
	if (probed != 0 && probed != -EEXIST) {
		ret = probed;
		SX_PORT_LOG(ERR, "probe %s: %s\n", args, rte_strerror(-ret));
		goto cleanup;
	}
	ret = rte_eth_dev_get_port_by_name(name, port_id);
	if (ret != 0) {
		SX_PORT_LOG(ERR, "%s: no such ethdev\n", name);
		goto cleanup;
	}
	/* A device that was already there (--vdev on the EAL command line)
	 * is the application's to remove, not ours. */
	if (probed == 0) {
		ret = rte_eth_dev_info_get(*port_id, &info);
		if (ret != 0)
			goto cleanup;
		*hotplugged = info.device;
	}

cleanup:
	free(args);
	return ret;
}

static int
parse_port_id(const char *spec, uint16_t *port_id)
{
	const char *s = spec + strlen("port=");
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= RTE_MAX_ETHPORTS ||
	    !rte_eth_dev_is_valid_port((uint16_t)v))
		return -ENODEV;
	*port_id = (uint16_t)v;
	return 0;
}

/* Does the device carry frames of @p max_frame bytes? */
static int
check_frame_size(uint16_t port_id, const struct rte_eth_dev_info *info, const char *spec,
		 uint32_t max_frame, uint16_t *mtu)
{
	/* max_rx_pktlen counts the FCS; max_frame does not. */
	uint32_t need = max_frame + RTE_ETHER_CRC_LEN;

	*mtu = 0; /* the driver's default */
	if (need <= info->max_rx_pktlen) {
		if (max_frame - RTE_ETHER_HDR_LEN > RTE_ETHER_MTU)
			*mtu = (uint16_t)RTE_MIN(max_frame - RTE_ETHER_HDR_LEN,
						 (uint32_t)info->max_mtu);
		return 0;
	}
	if (is_memif(spec) || strcmp(info->driver_name, "net_memif") == 0)
		return 0;
	SX_PORT_LOG(ERR, "port %u (%s): frames of %u bytes exceed the device's %u\n", port_id,
		    info->driver_name, max_frame, info->max_rx_pktlen);
	return -EMSGSIZE;
}

static int
capture_open(struct sx_port_ethdev *e, const char *path, uint32_t max_frame, int socket)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	int fd;

	snprintf(name, sizeof(name), "sx_cap%u", e->port_id);
	if (e->pcap_pool == NULL) /* kept from an earlier capture of this port */
		e->pcap_pool = rte_pktmbuf_pool_create(name, SX_ETHDEV_CAPTURE_MBUFS, 0, 0,
						       (uint16_t)rte_pcapng_mbuf_size(max_frame),
						       socket);
	if (e->pcap_pool == NULL)
		return -rte_errno;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	/* rte_pcapng_fdopen() sets rte_errno for its own failures but leaves
	 * a failed write of the section header in errno (ENOSPC on a full
	 * disk): clear both so that a stale value is not reported. */
	errno = 0;
	rte_errno = 0;
	e->pcap = rte_pcapng_fdopen(fd, NULL, NULL, "scalex", NULL);
	if (e->pcap == NULL) {
		int ret = errno != 0 ? -errno : -rte_errno;

		close(fd);
		return ret != 0 ? ret : -EIO;
	}
	return 0;
}

/* Bound the frames in the device's tx ring to @p limit where the driver
 * reports descriptor status; elsewhere the ring is unbounded, as before. */
static void
ring_open(struct sx_port_ethdev *e, uint32_t limit, uint16_t nb_txd, const char *driver)
{
	int ret = sx_txring_init(&e->ring, limit, nb_txd, ethdev_tx_desc_status, e);

	e->ns_per_cycle = 1e9 / (double)rte_get_tsc_hz();
	if (ret == 0 && limit != 0)
		SX_PORT_LOG(INFO, "port %u (%s): at most %u frames in the tx ring\n", e->port_id,
			    driver, limit);
	else if (ret == 0)
		SX_PORT_LOG(INFO, "port %u (%s): tx ring unbounded (tx_ring_frames=0)\n",
			    e->port_id, driver);
	else if (ret == -ERANGE)
		SX_PORT_LOG(INFO, "port %u (%s): tx_ring_frames=%u is not below the ring's "
			    "%u descriptors: the ring is the bound\n",
			    e->port_id, driver, limit, nb_txd);
	else if (ret == -ENOTSUP)
		SX_PORT_LOG(INFO, "port %u (%s): the driver reports no tx descriptor status: "
			    "tx ring unbounded (%u descriptors)\n",
			    e->port_id, driver, nb_txd);
	else
		SX_PORT_LOG(WARNING, "port %u (%s): tx descriptor status: %s: tx ring "
			    "unbounded (%u descriptors)\n",
			    e->port_id, driver, rte_strerror(-ret), nb_txd);
}

struct sx_port *
sx_port_ethdev_open(const char *spec, uint32_t max_frame, const char *pcap_path)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	struct sx_port_ethdev *e;
	struct rte_ether_addr mac;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t nb_rxd = SX_ETHDEV_RING_DESC, nb_txd = SX_ETHDEV_RING_DESC, mtu;
	uint32_t ring_frames;
	bool configured = false;
	char *dev = NULL; /* the spec without scalex's own options */
	int socket, ret;

	if (spec == NULL || max_frame < RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN ||
	    max_frame > SX_ETHDEV_MAX_FRAME) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	dev = malloc(strlen(spec) + 1);
	if (e == NULL || dev == NULL) {
		free(e);
		free(dev);
		errno = ENOMEM;
		return NULL;
	}
	ret = sx_txring_parse_spec(spec, dev, strlen(spec) + 1, &ring_frames);
	if (ret != 0) {
		SX_PORT_LOG(ERR, "%s: tx_ring_frames takes one integer in 0..%u\n", spec,
			    SX_TXRING_MAX_FRAMES);
		goto cleanup;
	}
	spec = dev;
	e->port.ops = &sx_ethdev_ops;
	e->port.max_frame = max_frame;
	/* Round up so the memif buffers and our mbufs agree on a size. */
	e->room = RTE_MAX(RTE_ALIGN_CEIL(max_frame, 64), (uint32_t)SX_ETHDEV_MIN_ROOM);

	if (strncmp(spec, "port=", strlen("port=")) == 0)
		ret = parse_port_id(spec, &e->port_id);
	else
		ret = probe_vdev(spec, max_frame, e->room, &e->port_id, &e->hotplugged);
	if (ret != 0)
		goto cleanup;

	ret = rte_eth_dev_info_get(e->port_id, &info);
	if (ret != 0)
		goto cleanup;
	ret = check_frame_size(e->port_id, &info, spec, max_frame, &mtu);
	if (ret != 0)
		goto cleanup;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(e->port_id, &nb_rxd, &nb_txd);
	if (ret != 0)
		goto cleanup;

	socket = rte_eth_dev_socket_id(e->port_id);
	if (socket < 0)
		socket = SOCKET_ID_ANY;
	snprintf(name, sizeof(name), "sx_port%u", e->port_id);
	e->pool = rte_pktmbuf_pool_create(
		name, rte_align32pow2(nb_rxd + nb_txd + SX_ETHDEV_SPARE_MBUFS) - 1,
		SX_ETHDEV_POOL_CACHE, 0, (uint16_t)(e->room + RTE_PKTMBUF_HEADROOM), socket);
	if (e->pool == NULL) {
		ret = -rte_errno;
		SX_PORT_LOG(ERR, "port %u: mbuf pool: %s\n", e->port_id, rte_strerror(rte_errno));
		goto cleanup;
	}

	/* The capture before the start: a memif client meets its server when
	 * it starts, and a port torn down in the middle of that handshake
	 * makes the server's EAL interrupt thread panic (epoll_ctl on a closed
	 * fd, DPDK 22.11). A capture that cannot be written (a full disk)
	 * must fail before. */
	if (pcap_path != NULL) {
		ret = capture_open(e, pcap_path, max_frame, socket);
		if (ret != 0) {
			SX_PORT_LOG(ERR, "capture %s: %s\n", pcap_path, rte_strerror(-ret));
			goto cleanup;
		}
	}

	conf.rxmode.mtu = mtu;
	ret = rte_eth_dev_configure(e->port_id, 1, 1, &conf);
	if (ret != 0)
		goto cleanup;
	configured = true;
	ret = rte_eth_rx_queue_setup(e->port_id, 0, nb_rxd, (unsigned int)socket, NULL, e->pool);
	if (ret != 0)
		goto cleanup;
	ret = rte_eth_tx_queue_setup(e->port_id, 0, nb_txd, (unsigned int)socket, NULL);
	if (ret != 0)
		goto cleanup;
	ret = rte_eth_dev_start(e->port_id);
	if (ret != 0)
		goto cleanup;
	/* Peers address us by our MAC, but a virtual device may not filter;
	 * where it does, accept everything and let the parser decide. */
	ret = rte_eth_promiscuous_enable(e->port_id);
	if (ret != 0 && ret != -ENOTSUP)
		SX_PORT_LOG(WARNING, "port %u: promiscuous: %s\n", e->port_id,
			    rte_strerror(-ret));
	ret = rte_eth_macaddr_get(e->port_id, &mac);
	if (ret != 0)
		goto cleanup;
	memcpy(e->port.mac, mac.addr_bytes, sizeof(e->port.mac));

	SX_PORT_LOG(INFO, "port %u (%s): frames up to %u bytes, %u/%u descriptors\n",
		    e->port_id, info.driver_name, max_frame, nb_rxd, nb_txd);
	ring_open(e, ring_frames, nb_txd, info.driver_name);
	free(dev);
	return &e->port;

cleanup:
	if (configured) {
		rte_eth_dev_stop(e->port_id);
		rte_eth_dev_close(e->port_id);
	}
	if (e->hotplugged != NULL)
		rte_dev_remove(e->hotplugged);
	if (e->pcap != NULL)
		rte_pcapng_close(e->pcap);
	rte_mempool_free(e->pcap_pool);
	rte_mempool_free(e->pool);
	free(e);
	free(dev);
	errno = ret < 0 ? -ret : EIO;
	return NULL;
}
