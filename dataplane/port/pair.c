/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An in-process pair of ports wired back to back, without DPDK: the unit
 * tests' and the simulator's cable.
 *
 * A frame is a buffer of max_frame bytes from a pool (pool.c) that both ends
 * share, since a buffer sent on one end is released by the other end's
 * rx_done(). Each end has a bounded FIFO of frames waiting to be received;
 * the peer's tx_burst() appends to it and takes fewer frames (counting
 * tx_full) when it is full, as a NIC whose tx ring is full would.
 *
 * Not thread-safe: both ends are driven from one thread (the tests and the
 * simulator step both hosts from one loop).
 *
 * Units: lengths in bytes, queue sizes in frames.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "port.h"

/* Frames in flight towards one end before tx_burst pushes back. */
#define SX_PAIR_QUEUE_FRAMES 4096
/* Buffers alive at once (queued, held by callers or free), both ends. A
 * caller that leaks frames hits alloc_fail instead of eating memory. */
#define SX_PAIR_MAX_BUFS (2 * SX_PAIR_QUEUE_FRAMES + 2048)

/* State both ends share; freed when the second end closes. */
struct sx_pair_shared {
	struct sx_pool pool; /* buffers of max_frame bytes, at most SX_PAIR_MAX_BUFS */
	int nopen;           /* ends not yet closed */
};

struct sx_pair_port {
	struct sx_port port; /* first: the ops cast back to this */
	struct sx_pair_port *peer; /* NULL once the peer closed */
	struct sx_pair_shared *shared;
	/* Frames waiting to be received here: a ring of SX_PAIR_QUEUE_FRAMES. */
	struct sx_pool_buf *rxq[SX_PAIR_QUEUE_FRAMES];
	uint32_t rx_head; /* next to receive */
	uint32_t rx_count;
};

static struct sx_pair_port *
pair_of(struct sx_port *port)
{
	return (struct sx_pair_port *)port;
}

static uint16_t
pair_rx_burst(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_pair_port *p = pair_of(port);
	uint16_t i;

	for (i = 0; i < n && p->rx_count > 0; i++) {
		struct sx_pool_buf *b = p->rxq[p->rx_head];

		p->rx_head = (p->rx_head + 1) % SX_PAIR_QUEUE_FRAMES;
		p->rx_count--;
		sx_pool_frame_set(&f[i], b, b->len, p->shared->pool.buf_bytes);
		port->stats.rx_frames++;
		port->stats.rx_bytes += b->len;
	}
	return i;
}

static void
pair_release(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	sx_pool_release(&pair_of(port)->shared->pool, f, n);
}

static uint16_t
pair_tx_alloc(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_pool *pool = &pair_of(port)->shared->pool;

	return sx_pool_tx_alloc(pool, port, f, n, pool->buf_bytes);
}

static uint16_t
pair_tx_burst(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_pair_port *p = pair_of(port);
	struct sx_pair_port *peer = p->peer;
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct sx_pool_buf *b = sx_pool_buf_of(&f[i]);
		uint32_t len = f[i].len;

		if (peer == NULL || len > port->max_frame) {
			/* An oversize frame, or a cable with nobody at the
			 * other end: taken and lost, as a NIC would. */
			sx_pool_put(&p->shared->pool, b);
			port->stats.tx_drop++;
			continue;
		}
		if (peer->rx_count == SX_PAIR_QUEUE_FRAMES)
			break;
		b->len = len;
		peer->rxq[(peer->rx_head + peer->rx_count) % SX_PAIR_QUEUE_FRAMES] = b;
		peer->rx_count++;
		port->stats.tx_frames++;
		port->stats.tx_bytes += len;
	}
	port->stats.tx_full += n - i;
	return i;
}

static void
pair_close(struct sx_port *port)
{
	struct sx_pair_port *p = pair_of(port);
	struct sx_pair_shared *sh = p->shared;

	/* Frames still queued towards this end are never received. */
	while (p->rx_count > 0) {
		sx_pool_put(&sh->pool, p->rxq[p->rx_head]);
		p->rx_head = (p->rx_head + 1) % SX_PAIR_QUEUE_FRAMES;
		p->rx_count--;
	}
	if (p->peer != NULL)
		p->peer->peer = NULL;
	if (--sh->nopen == 0) {
		sx_pool_fini(&sh->pool);
		free(sh);
	}
	free(p);
}

static const struct sx_port_ops sx_pair_ops = {
	.name = "pair",
	.rx_burst = pair_rx_burst,
	.rx_done = pair_release,
	.tx_alloc = pair_tx_alloc,
	.tx_burst = pair_tx_burst,
	.tx_free = pair_release,
	.close = pair_close,
};

static struct sx_pair_port *
pair_end(struct sx_pair_shared *sh, uint32_t max_frame, uint8_t id)
{
	struct sx_pair_port *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->port.ops = &sx_pair_ops;
	/* Locally administered unicast, distinct per end: 02:00:00:00:00:01/02. */
	p->port.mac[0] = 0x02;
	p->port.mac[5] = id;
	p->port.max_frame = max_frame;
	p->shared = sh;
	return p;
}

int
sx_port_pair_open(uint32_t max_frame, struct sx_port **a, struct sx_port **b)
{
	struct sx_pair_shared *sh;
	struct sx_pair_port *pa = NULL, *pb = NULL;
	int ret = -ENOMEM;

	if (a == NULL || b == NULL || max_frame == 0)
		return -EINVAL;
	sh = calloc(1, sizeof(*sh));
	if (sh == NULL)
		goto cleanup;
	sx_pool_init(&sh->pool, max_frame, 0, SX_PAIR_MAX_BUFS);
	pa = pair_end(sh, max_frame, 1);
	pb = pair_end(sh, max_frame, 2);
	if (pa == NULL || pb == NULL)
		goto cleanup;
	pa->peer = pb;
	pb->peer = pa;
	sh->nopen = 2;
	*a = &pa->port;
	*b = &pb->port;
	return 0;

cleanup:
	free(pa);
	free(pb);
	free(sh);
	return ret;
}
