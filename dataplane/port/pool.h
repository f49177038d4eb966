/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame buffers of the ports that own their memory, without DPDK: the
 * in-process pair (pair.c) and the simulator's port (sim.c). A frame sent
 * on one port is released by another port's rx_done(), so a pool is shared
 * by every port that exchanges frames and is owned by whoever created it.
 *
 * Buffers are carved from slabs and recycled through a LIFO stack of
 * pointers: the most recently used buffer is the warmest in cache, and
 * taking one touches only the stack, not the buffer (the engine asks for a
 * burst every round and returns most of it unused), so the steady state
 * allocates nothing. A pool may be capped, so that a caller leaking frames
 * hits alloc_fail instead of eating memory.
 *
 * Single-threaded: one loop drives every port of a pool.
 *
 * Units: lengths in bytes, counts in buffers.
 */
#ifndef SX_PORT_POOL_H
#define SX_PORT_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "port.h"

/*
 * A buffer: a header the owning port may use while it holds the buffer,
 * then the frame. The owner's scratch area (meta_bytes; the simulator's
 * fabric keeps its queue links there) lies right before the header, so that
 * the frame and the scratch are found from the buffer alone, and taking a
 * buffer from the pool does not touch it.
 */
struct sx_pool_buf {
	struct sx_pool_buf *next; /* the owner's queue link (rx queues) */
	uint32_t len;             /* frame bytes, while the owner queues it */
	uint32_t pad;             /* the frame starts 8-byte aligned */
	uint8_t data[];
};

_Static_assert(offsetof(struct sx_pool_buf, data) % 8 == 0,
	       "frames must be 8-byte aligned");

struct sx_pool_slab;

/* Embedded in its owner (a pair's shared state, a simulation's pool). */
struct sx_pool {
	struct sx_pool_buf **stack; /* free buffers; the top is the warmest */
	uint64_t nfree;
	struct sx_pool_slab *slabs;
	uint32_t buf_bytes;  /* frame bytes per buffer */
	uint32_t meta_bytes; /* scratch bytes before each buffer */
	size_t stride;       /* scratch + header + frame, cache-line rounded */
	uint64_t max_bufs;   /* buffers allocated at most; 0: no limit */
	uint64_t allocated;  /* the high-water mark: slabs are never given back */
	uint64_t in_use;     /* handed out and not yet returned */
};

/**
 * An empty pool of buffers of @p buf_bytes frame bytes (not 0), each after
 * @p meta_bytes of scratch (a multiple of 8, so that the header and frame
 * stay 8-byte aligned), at most @p max_bufs of them (0: no limit). Memory
 * comes on the first sx_pool_get().
 */
void sx_pool_init(struct sx_pool *pool, uint32_t buf_bytes, uint32_t meta_bytes,
		  uint64_t max_bufs);

/** Free every buffer, including any still handed out. */
void sx_pool_fini(struct sx_pool *pool);

/** Carve one more slab onto the free stack: 0, -ENOBUFS at the cap, -ENOMEM. */
int sx_pool_grow(struct sx_pool *pool);

/*
 * get and put are inline: the simulator's fabric calls them per frame, and
 * were they behind a call they would cost more than they do.
 */

/** A buffer, or NULL (the pool is at its cap, or out of memory). */
static inline struct sx_pool_buf *
sx_pool_get(struct sx_pool *pool)
{
	if (pool->nfree == 0 && sx_pool_grow(pool) < 0)
		return NULL;
	pool->in_use++;
	return pool->stack[--pool->nfree];
}

static inline void
sx_pool_put(struct sx_pool *pool, struct sx_pool_buf *b)
{
	pool->stack[pool->nfree++] = b;
	pool->in_use--;
}

/** Point @p f at @p b's frame, holding @p len bytes of a writable @p cap. */
static inline void
sx_pool_frame_set(struct sx_frame *f, struct sx_pool_buf *b, uint32_t len, uint32_t cap)
{
	f->data = b->data;
	f->len = len;
	f->cap = cap;
	f->priv = b;
}

/** The buffer behind a frame that sx_pool_frame_set() made. */
static inline struct sx_pool_buf *
sx_pool_buf_of(const struct sx_frame *f)
{
	return f->priv;
}

/** The scratch area of @p b, in a pool of @p meta_bytes of scratch. */
static inline void *
sx_pool_meta(struct sx_pool_buf *b, uint32_t meta_bytes)
{
	return (uint8_t *)b - meta_bytes;
}

/** The inverse of sx_pool_meta(). */
static inline struct sx_pool_buf *
sx_pool_buf_of_meta(void *meta, uint32_t meta_bytes)
{
	return (struct sx_pool_buf *)((uint8_t *)meta + meta_bytes);
}

/**
 * A port's tx_alloc: fill @p f with up to @p n empty frames of @p cap
 * bytes; those the pool cannot give are counted in the port's alloc_fail.
 * @return how many were filled.
 */
uint16_t sx_pool_tx_alloc(struct sx_pool *pool, struct sx_port *port, struct sx_frame *f,
			  uint16_t n, uint32_t cap);

/** A port's rx_done and tx_free: return the buffers of @p n frames. */
void sx_pool_release(struct sx_pool *pool, struct sx_frame *f, uint16_t n);

#endif
