/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulator's port: frames go to a callback (the fabric model) on tx and
 * come from the fabric on rx. No device, no DPDK, no clock.
 *
 * Buffers come from a pool (pool.c) shared by every port of one
 * simulation: a frame sent by one host is freed by the receiving host's
 * rx_done(), or by the fabric when a switch drops it. The pool has no cap
 * (a simulation's peak is what its fabric queues) and gives each buffer
 * SX_SIM_META_BYTES of scratch for the fabric, before the frame bytes.
 *
 * Units: lengths in bytes, counts in frames.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "port.h"

/* The public handle of a simulation's pool. */
struct sx_sim_pool {
	struct sx_pool base;
};

_Static_assert(SX_SIM_META_BYTES % 8 == 0, "the pool keeps buffers 8-byte aligned");

struct sx_sim_port {
	struct sx_port port; /* first: the ops cast back to this */
	struct sx_pool *pool;
	sx_port_sim_tx_fn tx;
	sx_port_sim_room_fn room;
	void *tx_arg;
	struct sx_pool_buf *rx_head; /* linked through the buffers' next */
	struct sx_pool_buf *rx_tail;
	uint32_t rx_count;
};

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
	sx_pool_init(&pool->base, buf_bytes, SX_SIM_META_BYTES, 0);
	return pool;
}

void
sx_sim_pool_destroy(struct sx_sim_pool *pool)
{
	if (pool == NULL)
		return;
	sx_pool_fini(&pool->base);
	free(pool);
}

uint64_t
sx_sim_pool_in_use(const struct sx_sim_pool *pool)
{
	return pool->base.in_use;
}

uint64_t
sx_sim_pool_allocated(const struct sx_sim_pool *pool)
{
	return pool->base.allocated;
}

int
sx_sim_frame_alloc(struct sx_sim_pool *pool, struct sx_frame *f)
{
	struct sx_pool_buf *b = sx_pool_get(&pool->base);

	if (b == NULL)
		return -ENOMEM;
	sx_pool_frame_set(f, b, 0, pool->base.buf_bytes);
	return 0;
}

void
sx_sim_frame_free(struct sx_sim_pool *pool, struct sx_frame *f)
{
	sx_pool_put(&pool->base, sx_pool_buf_of(f));
}

void *
sx_sim_frame_meta(const struct sx_frame *f)
{
	return sx_pool_meta(sx_pool_buf_of(f), SX_SIM_META_BYTES);
}

void
sx_sim_frame_from_meta(void *meta, struct sx_frame *f)
{
	struct sx_pool_buf *b = sx_pool_buf_of_meta(meta, SX_SIM_META_BYTES);

	/* cap is the pool's; the fabric never writes past len */
	sx_pool_frame_set(f, b, b->len, b->len);
}

static uint16_t
sim_rx_burst(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_sim_port *p = sim_of(port);
	uint16_t i;

	for (i = 0; i < n && p->rx_head != NULL; i++) {
		struct sx_pool_buf *b = p->rx_head;

		p->rx_head = b->next;
		p->rx_count--;
		sx_pool_frame_set(&f[i], b, b->len, p->pool->buf_bytes);
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
	sx_pool_release(sim_of(port)->pool, f, n);
}

static uint16_t
sim_tx_alloc(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_sim_port *p = sim_of(port);

	if (p->room != NULL) {
		uint32_t room = p->room(p->tx_arg, port);

		if (room < n)
			n = (uint16_t)room;
		if (n == 0)
			return 0;
	}
	return sx_pool_tx_alloc(sim_of(port)->pool, port, f, n, port->max_frame);
}

static uint16_t
sim_tx_burst(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_sim_port *p = sim_of(port);
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct sx_pool_buf *b = sx_pool_buf_of(&f[i]);
		uint32_t len = f[i].len;

		if (len > port->max_frame) {
			sx_pool_put(p->pool, b);
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
		struct sx_pool_buf *b = p->rx_head;

		p->rx_head = b->next;
		sx_pool_put(p->pool, b);
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

	if (pool == NULL || tx == NULL || max_frame == 0 ||
	    max_frame > pool->base.buf_bytes) {
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
	p->pool = &pool->base;
	p->tx = tx;
	p->tx_arg = tx_arg;
	return &p->port;
}

void
sx_port_sim_set_room(struct sx_port *port, sx_port_sim_room_fn room)
{
	sim_of(port)->room = room;
}

void
sx_port_sim_deliver(struct sx_port *port, const struct sx_frame *f)
{
	struct sx_sim_port *p = sim_of(port);
	struct sx_pool_buf *b = sx_pool_buf_of(f);

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
