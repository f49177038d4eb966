/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: where frames go. The engine sees only this interface, so the same
 * protocol code runs on a DPDK ethdev (memif, af_xdp, af_packet, tap, ring,
 * a PCI NIC) and on the simulator's virtual-time port.
 *
 * A frame is a contiguous buffer owned by the port (an rte_mbuf for ethdev).
 * Ownership: frames returned by rx_burst belong to the caller until
 * rx_done(); frames from tx_alloc belong to the caller until tx_burst takes
 * them (the ones it does not take stay the caller's, to retry or tx_free).
 */
#ifndef SX_PORT_H
#define SX_PORT_H

#include <errno.h>
#include <stdint.h>

#include <scalex/scalex.h>

struct sx_port;

struct sx_frame {
	uint8_t *data;
	uint32_t len; /**< bytes of frame */
	uint32_t cap; /**< writable bytes at data */
	void *priv;   /**< the port's handle */
};

struct sx_port_stats {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t tx_frames;
	uint64_t tx_bytes;
	uint64_t tx_full;       /**< frames the device did not take */
	uint64_t tx_drop;       /**< taken but not sent: longer than max_frame, no peer */
	uint64_t rx_drop;       /**< received but not delivered: too long, no buffer */
	uint64_t rx_linearized; /**< multi-segment frames copied into one buffer */
	uint64_t capture_drop;  /**< frames missing from the pcapng capture */
	uint64_t alloc_fail;
	uint64_t tx_ring_held;  /**< tx_alloc calls cut short by the tx ring bound */
	/* fault injection */
	uint64_t fault_drop[2]; /**< [0] tx, [1] rx */
	uint64_t fault_reorder[2];
	uint64_t fault_duplicate[2];
	uint64_t fault_corrupt[2];
	uint64_t fault_ecn[2];  /**< packets marked ECN-CE */
};

struct sx_port_ops {
	const char *name;
	uint16_t (*rx_burst)(struct sx_port *port, struct sx_frame *f, uint16_t n);
	void (*rx_done)(struct sx_port *port, struct sx_frame *f, uint16_t n);
	uint16_t (*tx_alloc)(struct sx_port *port, struct sx_frame *f, uint16_t n);
	uint16_t (*tx_burst)(struct sx_port *port, struct sx_frame *f, uint16_t n);
	void (*tx_free)(struct sx_port *port, struct sx_frame *f, uint16_t n);
	void (*close)(struct sx_port *port);
	/** Optional: start a pcapng capture into @p path, or stop it (NULL).
	 *  0, -EBUSY (already capturing), -ENOENT (nothing to stop), -errno. */
	int (*capture)(struct sx_port *port, const char *path);
};

struct sx_port {
	const struct sx_port_ops *ops;
	uint8_t mac[6];
	uint32_t max_frame; /**< largest frame the port carries, bytes */
	/** Frames carry headers and lengths only (the simulator, for speed):
	 *  the engine copies no payload and computes no ICRC, receivers check
	 *  placement by offsets and lengths but write nothing. */
	bool elide_payload;
	struct sx_port_stats stats;
};

/* Inline dispatch: the engine calls these, never ops directly. */
static inline uint16_t
sx_port_rx(struct sx_port *p, struct sx_frame *f, uint16_t n)
{
	return p->ops->rx_burst(p, f, n);
}

static inline void
sx_port_rx_done(struct sx_port *p, struct sx_frame *f, uint16_t n)
{
	p->ops->rx_done(p, f, n);
}

static inline uint16_t
sx_port_tx_alloc(struct sx_port *p, struct sx_frame *f, uint16_t n)
{
	return p->ops->tx_alloc(p, f, n);
}

static inline uint16_t
sx_port_tx(struct sx_port *p, struct sx_frame *f, uint16_t n)
{
	return p->ops->tx_burst(p, f, n);
}

static inline void
sx_port_tx_free(struct sx_port *p, struct sx_frame *f, uint16_t n)
{
	p->ops->tx_free(p, f, n);
}

/* Start (@p path) or stop (NULL) capturing; -ENOTSUP where the port cannot. */
static inline int
sx_port_capture(struct sx_port *p, const char *path)
{
	return p->ops->capture != NULL ? p->ops->capture(p, path) : -ENOTSUP;
}

static inline void
sx_port_close(struct sx_port *p)
{
	if (p != NULL)
		p->ops->close(p);
}

/**
 * Open a DPDK ethdev port. @p spec is a vdev string ("net_memif0,role=...")
 * hot-plugged with rte_dev_probe, or "port=N" for an already-probed port.
 * One rx and one tx queue; frames up to @p max_frame bytes in one segment
 * (a received chain is linearized; one longer than @p max_frame is dropped
 * and counted in rx_drop). With @p pcap_path, every frame sent and received
 * is written there (pcapng). EAL must be initialized.
 *
 * The spec may carry scalex's tx_ring_frames=N (0..32768, default 128; 0:
 * unbounded), taken out before DPDK sees it: tx_alloc hands out no buffer
 * while N frames wait in the device's tx ring, on drivers that report tx
 * descriptor status (dataplane/port/txring.h); others stay unbounded.
 *
 * memif: a spec without bsize gets one that holds @p max_frame, and one with
 * a smaller bsize is refused (DPDK 22.11 corrupts frames spread over several
 * memif buffers); the peer must use buffers as large. A stale socket file
 * of a dead server is removed before a server is created.
 *
 * Close stops and closes the port and unplugs a vdev this call plugged
 * (a "port=N" device stays plugged). It never polls: for memif, stop
 * polling on both sides before either closes.
 *
 * @return the port, or NULL with errno set (EINVAL bad spec or size,
 * EMSGSIZE frames larger than the device carries, ENODEV no such port).
 */
struct sx_port *sx_port_ethdev_open(const char *spec, uint32_t max_frame,
				    const char *pcap_path);

/**
 * An in-process pair of ports wired back to back (frames sent on one are
 * received on the other, in order). No DPDK: for tests and the simulator's
 * building blocks. Each direction queues up to 4096 frames; tx_burst then
 * takes fewer and counts tx_full. Both ends are driven from one thread.
 *
 * @return 0, -EINVAL or -ENOMEM.
 */
int sx_port_pair_open(uint32_t max_frame, struct sx_port **a, struct sx_port **b);

/**
 * Wrap @p inner with seeded fault injection (drop, reorder, duplicate,
 * corrupt, on tx and/or rx; NULL means none). The wrapper owns @p inner and
 * closes it. Deterministic for a given seed and frame sequence.
 *
 * A reordered frame is held until 1-3 later frames have passed it or, at
 * the latest, until the end of the next call (rx_burst or tx_burst for tx
 * frames, rx_burst for rx frames; n = 0 counts). Close sends held tx frames.
 * The wrapper's stats count what its caller sees, plus the fault counters.
 *
 * @return the wrapper, or NULL with errno set (EINVAL: no inner port or a
 * probability outside [0, 1]; ENOMEM). On failure @p inner stays the
 * caller's.
 */
struct sx_port *sx_port_fault_wrap(struct sx_port *inner, const struct sx_fault_dir *tx,
				   const struct sx_fault_dir *rx, uint64_t seed);
/* Frames the tx delay line holds at most (memory: 40 B each, 320 KiB, allocated
 * only when a delay or rate is set). */
#define SX_FAULT_DELAY_MAX 8192
/* The clock of a fault wrapper's delay line (default: CLOCK_MONOTONIC);
 * tests drive it by hand. */
void sx_port_fault_set_clock(struct sx_port *port, uint64_t (*now_ns)(void *), void *arg);

/*
 * The simulator's port (sim.c): no device, no DPDK. tx_burst hands each
 * frame to a callback (the fabric model), which takes it or refuses it
 * (a full NIC ring: the engine keeps it and retries); the fabric gives a
 * frame to a host with sx_port_sim_deliver() and rx_burst returns it.
 *
 * Frames come from a pool that every port of one simulation shares, since a
 * buffer sent by one host is released by another host's rx_done. Buffers
 * are allocated in slabs and recycled through a free list: no malloc per
 * frame once the pool has grown to the peak number in flight. Each buffer
 * has SX_SIM_META_BYTES of scratch space for the fabric (queue links,
 * timestamps), reached with sx_sim_frame_meta().
 *
 * Single-threaded: one simulation loop drives every port of a pool.
 */
#define SX_SIM_META_BYTES 64

struct sx_sim_pool;

/* Take @p f (return true) or refuse it (false: the port counts tx_full). */
typedef bool (*sx_port_sim_tx_fn)(void *arg, struct sx_port *port, struct sx_frame *f);

/* How many frames the port's ring takes now (the fabric's room in the
 * host's NIC ring). tx_alloc hands out no more, so the engine builds only
 * what goes on the wire soon and keeps no long backlog of built frames. */
typedef uint32_t (*sx_port_sim_room_fn)(void *arg, struct sx_port *port);

/** A pool of frame buffers of @p buf_bytes each; NULL with errno on failure. */
struct sx_sim_pool *sx_sim_pool_create(uint32_t buf_bytes);
/** Free the pool and every buffer (ports using it must be closed first). */
void sx_sim_pool_destroy(struct sx_sim_pool *pool);
/** Buffers handed out and not yet returned (a leak check). */
uint64_t sx_sim_pool_in_use(const struct sx_sim_pool *pool);
/** Buffers allocated so far (the pool's high-water mark). */
uint64_t sx_sim_pool_allocated(const struct sx_sim_pool *pool);
/** Take one buffer as a frame (len 0); 0 or -ENOMEM. */
int sx_sim_frame_alloc(struct sx_sim_pool *pool, struct sx_frame *f);
/** Return a frame's buffer to its pool (a frame the fabric dropped). */
void sx_sim_frame_free(struct sx_sim_pool *pool, struct sx_frame *f);
/** The fabric's scratch area of a frame taken from a pool. */
void *sx_sim_frame_meta(const struct sx_frame *f);
/** The frame whose scratch area is @p meta (the inverse of sx_sim_frame_meta). */
void sx_sim_frame_from_meta(void *meta, struct sx_frame *f);

/**
 * A simulated port on @p pool; frames up to @p max_frame bytes (at most the
 * pool's buffer size). @p tx gets every frame sent, with @p tx_arg.
 * @return the port, or NULL with errno (EINVAL, ENOMEM).
 */
struct sx_port *sx_port_sim_open(struct sx_sim_pool *pool, uint32_t max_frame,
				 sx_port_sim_tx_fn tx, void *tx_arg);
/** Queue @p f (a pool frame; the port takes it) for this port's rx_burst. */
void sx_port_sim_deliver(struct sx_port *port, const struct sx_frame *f);
/** Bound tx_alloc by @p room (called with the tx callback's argument); NULL: no bound. */
void sx_port_sim_set_room(struct sx_port *port, sx_port_sim_room_fn room);
/** Frames delivered and not yet returned by rx_burst. */
uint32_t sx_port_sim_rx_pending(const struct sx_port *port);

#endif
