/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame buffer pool of the pair and sim ports (pool.h says how it works).
 *
 * Units: lengths in bytes, counts in buffers.
 */
#include <errno.h>
#include <stdlib.h>

#include "pool.h"

/* Buffers carved per slab. */
#define SX_POOL_SLAB_BUFS 256
#define SX_POOL_ALIGN     64 /* a cache line */
#define SX_POOL_ROUND(x)  (((x) + SX_POOL_ALIGN - 1) & ~(size_t)(SX_POOL_ALIGN - 1))

/*
 * Under AddressSanitizer every buffer gets a poisoned tail: in a slab, a
 * frame written past its buffer would otherwise land in the next buffer's
 * header unseen, where a malloc'd buffer would have been reported.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SX_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SX_POOL_ASAN 1
#endif
#endif

#ifdef SX_POOL_ASAN
#include <sanitizer/asan_interface.h>
#define SX_POOL_REDZONE          SX_POOL_ALIGN
#define SX_POOL_POISON(addr, sz) ASAN_POISON_MEMORY_REGION((addr), (sz))
#else
#define SX_POOL_REDZONE          0
#define SX_POOL_POISON(addr, sz) ((void)(addr), (void)(sz))
#endif

struct sx_pool_slab {
	struct sx_pool_slab *next;
	uint8_t mem[];
};

void
sx_pool_init(struct sx_pool *pool, uint32_t buf_bytes, uint32_t meta_bytes,
	     uint64_t max_bufs)
{
	size_t used;

	*pool = (struct sx_pool){
		.buf_bytes = buf_bytes,
		.meta_bytes = meta_bytes,
		.max_bufs = max_bufs,
	};
	used = pool->meta_bytes + sizeof(struct sx_pool_buf) + buf_bytes;
	pool->stride = SX_POOL_ROUND(used + SX_POOL_REDZONE);
}

void
sx_pool_fini(struct sx_pool *pool)
{
	while (pool->slabs != NULL) {
		struct sx_pool_slab *s = pool->slabs;

		pool->slabs = s->next;
		free(s);
	}
	free(pool->stack);
	pool->stack = NULL;
	pool->nfree = 0;
}

int
sx_pool_grow(struct sx_pool *pool)
{
	size_t used = pool->meta_bytes + sizeof(struct sx_pool_buf) + pool->buf_bytes;
	uint64_t n = SX_POOL_SLAB_BUFS, i;
	struct sx_pool_buf **stack;
	struct sx_pool_slab *s;
	uintptr_t base;

	if (pool->max_bufs != 0 && pool->max_bufs - pool->allocated < n)
		n = pool->max_bufs - pool->allocated;
	if (n == 0)
		return -ENOBUFS;
	/* Room for every buffer there will be, so that put never fails. */
	stack = realloc(pool->stack, (pool->allocated + n) * sizeof(*stack));
	if (stack == NULL)
		return -ENOMEM;
	pool->stack = stack;
	/* The first buffer starts at the first cache line boundary in mem. */
	s = aligned_alloc(SX_POOL_ALIGN,
			  SX_POOL_ROUND(sizeof(*s) + SX_POOL_ALIGN - 1 + n * pool->stride));
	if (s == NULL)
		return -ENOMEM;
	s->next = pool->slabs;
	pool->slabs = s;
	base = SX_POOL_ROUND((uintptr_t)s->mem);
	for (i = 0; i < n; i++) {
		uint8_t *start = (uint8_t *)(base + i * pool->stride);

		SX_POOL_POISON(start + used, pool->stride - used);
		pool->stack[pool->nfree++] = (struct sx_pool_buf *)(start + pool->meta_bytes);
	}
	pool->allocated += n;
	return 0;
}

uint16_t
sx_pool_tx_alloc(struct sx_pool *pool, struct sx_port *port, struct sx_frame *f,
		 uint16_t n, uint32_t cap)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct sx_pool_buf *b = sx_pool_get(pool);

		if (b == NULL) {
			port->stats.alloc_fail += n - i;
			break;
		}
		sx_pool_frame_set(&f[i], b, 0, cap);
	}
	return i;
}

void
sx_pool_release(struct sx_pool *pool, struct sx_frame *f, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		sx_pool_put(pool, sx_pool_buf_of(&f[i]));
}
