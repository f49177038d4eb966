/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulator's port: frames go to a callback (the fabric model) on tx and
 * come from the fabric on rx. No device, no DPDK, no clock.
 *
 * Buffers come from a pool shared by every port of one simulation: a frame
 * sent by one host is freed by the receiving host's rx_done(), or by the
 * fabric when a switch drops it. Buffers are carved from slabs and recycled
 * through a LIFO stack of pointers (the most recently used buffer is the
 * warmest in cache, and taking one touches only the stack, not the buffer:
 * the engine asks for a burst of frames every round and returns most of
 * them unused), so the steady state allocates nothing.
 *
 * Each buffer is a header (free-list / rx-queue link, length, the fabric's
 * scratch area) followed by the frame bytes.
 *
 * Units: lengths in bytes, counts in frames.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"

/* Buffers carved per slab. */
#define SX_SIM_SLAB_BUFS 256

struct sx_sim_buf {
	struct sx_sim_buf *next; /* rx queue */
	uint32_t len;
	uint32_t pad;
	uint8_t meta[SX_SIM_META_BYTES];
	uint8_t data[];
};

struct sx_sim_slab {
	struct sx_sim_slab *next;
	uint8_t mem[];
};

struct sx_sim_pool {
	struct sx_sim_buf **stack; /* free buffers; the top is the warmest */
	uint64_t nfree;
	struct sx_sim_slab *slabs;
	uint32_t buf_bytes; /* frame bytes per buffer */
	size_t stride;      /* header + frame, cache-line rounded */
	uint64_t allocated;
	uint64_t in_use;
};

struct sx_sim_port {
	struct sx_port port; /* first: the ops cast back to this */
	struct sx_sim_pool *pool;
	sx_port_sim_tx_fn tx;
	void *tx_arg;
	struct sx_sim_buf *rx_head;
	struct sx_sim_buf *rx_tail;
	uint32_t rx_count;
};

_Static_assert(offsetof(struct sx_sim_buf, meta) % 8 == 0, "meta must be 8-byte aligned");

static struct sx_sim_port *
sim_of(struct sx_port *port)
{
	return (struct sx_sim_port *)port;
}

struct sx_sim_pool *
sx_sim_pool_create(uint32_t buf_bytes)
{
	struct sx_sim_pool *pool;

	if (buf_bytes == 0) {
		errno = EINVAL;
		return NULL;
	}
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	pool->buf_bytes = buf_bytes;
	pool->stride = (sizeof(struct sx_sim_buf) + buf_bytes + 63) & ~(size_t)63;
	return pool;
}

void
sx_sim_pool_destroy(struct sx_sim_pool *pool)
{
	if (pool == NULL)
		return;
	while (pool->slabs != NULL) {
		struct sx_sim_slab *s = pool->slabs;

		pool->slabs = s->next;
		free(s);
	}
	free(pool->stack);
	free(pool);
}

uint64_t
sx_sim_pool_in_use(const struct sx_sim_pool *pool)
{
	return pool->in_use;
}

uint64_t
sx_sim_pool_allocated(const struct sx_sim_pool *pool)
{
	return pool->allocated;
}

/* Carve a new slab into the free list. */
static int
pool_grow(struct sx_sim_pool *pool)
{
	struct sx_sim_buf **stack;
	struct sx_sim_slab *s;
	uint32_t i;

	stack = realloc(pool->stack, (pool->allocated + SX_SIM_SLAB_BUFS) * sizeof(*stack));
	if (stack == NULL)
		return -ENOMEM;
	pool->stack = stack;
	s = aligned_alloc(64, (sizeof(*s) + 63 + SX_SIM_SLAB_BUFS * pool->stride + 63) & ~(size_t)63);
	if (s == NULL)
		return -ENOMEM;
	s->next = pool->slabs;
	pool->slabs = s;
	for (i = 0; i < SX_SIM_SLAB_BUFS; i++) {
		uintptr_t base = ((uintptr_t)s->mem + 63) & ~(uintptr_t)63;
		struct sx_sim_buf *b = (struct sx_sim_buf *)(base + i * pool->stride);

		pool->stack[pool->nfree++] = b;
	}
	pool->allocated += SX_SIM_SLAB_BUFS;
	return 0;
}

static struct sx_sim_buf *
buf_get(struct sx_sim_pool *pool)
{
	struct sx_sim_buf *b;

	if (pool->nfree == 0 && pool_grow(pool) < 0)
		return NULL;
	b = pool->stack[--pool->nfree];
	pool->in_use++;
	return b;
}

static void
buf_put(struct sx_sim_pool *pool, struct sx_sim_buf *b)
{
	pool->stack[pool->nfree++] = b;
	pool->in_use--;
}

static void
frame_set(struct sx_frame *f, struct sx_sim_buf *b, uint32_t len, uint32_t cap)
{
	f->data = b->data;
	f->len = len;
	f->cap = cap;
	f->priv = b;
}

int
sx_sim_frame_alloc(struct sx_sim_pool *pool, struct sx_frame *f)
{
	struct sx_sim_buf *b = buf_get(pool);

	if (b == NULL)
		return -ENOMEM;
	frame_set(f, b, 0, pool->buf_bytes);
	return 0;
}

void
sx_sim_frame_free(struct sx_sim_pool *pool, struct sx_frame *f)
{
	buf_put(pool, f->priv);
}

void *
sx_sim_frame_meta(const struct sx_frame *f)
{
	return ((struct sx_sim_buf *)f->priv)->meta;
}

void
sx_sim_frame_from_meta(void *meta, struct sx_frame *f)
{
	struct sx_sim_buf *b =
		(struct sx_sim_buf *)((uint8_t *)meta - offsetof(struct sx_sim_buf, meta));

	/* cap is the pool's; the fabric never writes past len */
	frame_set(f, b, b->len, b->len);
}

static uint16_t
sim_rx_burst(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_sim_port *p = sim_of(port);
	uint16_t i;

	for (i = 0; i < n && p->rx_head != NULL; i++) {
		struct sx_sim_buf *b = p->rx_head;

		p->rx_head = b->next;
		p->rx_count--;
		frame_set(&f[i], b, b->len, p->pool->buf_bytes);
		port->stats.rx_frames++;
		port->stats.rx_bytes += b->len;
	}
	if (p->rx_head == NULL)
		p->rx_tail = NULL;
	return i;
}

static void
sim_release(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_sim_pool *pool = sim_of(port)->pool;
	uint16_t i;

	for (i = 0; i < n; i++)
		buf_put(pool, f[i].priv);
}

static uint16_t
sim_tx_alloc(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_sim_pool *pool = sim_of(port)->pool;
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct sx_sim_buf *b = buf_get(pool);

		if (b == NULL) {
			port->stats.alloc_fail += n - i;
			break;
		}
		frame_set(&f[i], b, 0, port->max_frame);
	}
	return i;
}

static uint16_t
sim_tx_burst(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_sim_port *p = sim_of(port);
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct sx_sim_buf *b = f[i].priv;
		uint32_t len = f[i].len;

		if (len > port->max_frame) {
			buf_put(p->pool, b);
			port->stats.tx_drop++;
			continue;
		}
		b->len = len;
		if (!p->tx(p->tx_arg, port, &f[i]))
			break;
		port->stats.tx_frames++;
		port->stats.tx_bytes += len;
	}
	port->stats.tx_full += n - i;
	return i;
}

static void
sim_close(struct sx_port *port)
{
	struct sx_sim_port *p = sim_of(port);

	while (p->rx_head != NULL) {
		struct sx_sim_buf *b = p->rx_head;

		p->rx_head = b->next;
		buf_put(p->pool, b);
	}
	free(p);
}

static const struct sx_port_ops sx_sim_ops = {
	.name = "sim",
	.rx_burst = sim_rx_burst,
	.rx_done = sim_release,
	.tx_alloc = sim_tx_alloc,
	.tx_burst = sim_tx_burst,
	.tx_free = sim_release,
	.close = sim_close,
};

struct sx_port *
sx_port_sim_open(struct sx_sim_pool *pool, uint32_t max_frame, sx_port_sim_tx_fn tx,
		 void *tx_arg)
{
	struct sx_sim_port *p;

	if (pool == NULL || tx == NULL || max_frame == 0 || max_frame > pool->buf_bytes) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	p->port.ops = &sx_sim_ops;
	p->port.mac[0] = 0x02; /* locally administered; the caller sets the rest */
	p->port.max_frame = max_frame;
	p->pool = pool;
	p->tx = tx;
	p->tx_arg = tx_arg;
	return &p->port;
}

void
sx_port_sim_deliver(struct sx_port *port, const struct sx_frame *f)
{
	struct sx_sim_port *p = sim_of(port);
	struct sx_sim_buf *b = f->priv;

	b->len = f->len;
	b->next = NULL;
	if (p->rx_tail != NULL)
		p->rx_tail->next = b;
	else
		p->rx_head = b;
	p->rx_tail = b;
	p->rx_count++;
}

uint32_t
sx_port_sim_rx_pending(const struct sx_port *port)
{
	return ((const struct sx_sim_port *)port)->rx_count;
}
