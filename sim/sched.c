/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 4-ary min-heap on (at_ps, seq). Half the depth of a binary heap, and the
 * four children of a node share one 128-byte, 64-byte-aligned block (the
 * array starts three events into a cache-aligned allocation, so children
 * 4i+1..4i+4 sit at offsets 4(i+1)..4(i+1)+3), so a level costs two cache
 * lines that the hardware fetches together. Push sifts up; pop takes the
 * hole at the root down to a leaf along the smallest children (three
 * comparisons a level, none against the moved element) and sifts the last
 * element up from there, which is short: it came from the bottom. The
 * order is the same total order as before, so runs do not change.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define SCHED_INITIAL_CAP 4096
#define SCHED_PAD         3 /* events before heap[0] in the allocation */

_Static_assert(sizeof(struct sx_sim_event) == 32, "4 events per 128 bytes");

static inline bool
before(const struct sx_sim_event *a, const struct sx_sim_event *b)
{
	return a->at_ps < b->at_ps || (a->at_ps == b->at_ps && a->seq < b->seq);
}

static int
heap_alloc(struct sx_sched *s, size_t cap)
{
	void *mem = aligned_alloc(64, (cap + SCHED_PAD + 1) * sizeof(struct sx_sim_event));

	if (mem == NULL)
		return -ENOMEM;
	if (s->heap != NULL)
		memcpy((struct sx_sim_event *)mem + SCHED_PAD, s->heap, s->n * sizeof(*s->heap));
	free(s->mem);
	s->mem = mem;
	s->heap = (struct sx_sim_event *)mem + SCHED_PAD;
	s->cap = cap;
	return 0;
}

int
sx_sched_init(struct sx_sched *s, uint64_t start_ps)
{
	memset(s, 0, sizeof(*s));
	if (heap_alloc(s, SCHED_INITIAL_CAP) < 0)
		return -ENOMEM;
	s->now_ps = start_ps;
	return 0;
}

void
sx_sched_fini(struct sx_sched *s)
{
	free(s->mem);
	s->mem = NULL;
	s->heap = NULL;
	s->n = s->cap = 0;
}

int
sx_sched_push(struct sx_sched *s, uint64_t at_ps, uint32_t type, uint32_t idx, void *ptr)
{
	struct sx_sim_event ev = {
		.at_ps = at_ps < s->now_ps ? s->now_ps : at_ps,
		.seq = s->seq++,
		.type = type,
		.idx = idx,
		.ptr = ptr,
	};
	struct sx_sim_event *h;
	size_t i;

	if (s->n == s->cap && heap_alloc(s, 2 * s->cap) < 0) {
		s->seq--;
		return -ENOMEM;
	}
	h = s->heap;
	i = s->n++;
	/* seq is the largest yet: only the time can put it before a parent */
	while (i > 0) {
		size_t parent = (i - 1) / 4;

		if (h[parent].at_ps <= ev.at_ps)
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = ev;
	s->pushed++;
	if (s->n > s->peak)
		s->peak = s->n;
	return 0;
}

bool
sx_sched_pop(struct sx_sched *s, struct sx_sim_event *ev)
{
	struct sx_sim_event *h = s->heap;
	struct sx_sim_event last;
	size_t i = 0, n, c;

	if (s->n == 0)
		return false;
	*ev = h[0];
	n = --s->n;
	s->now_ps = ev->at_ps;
	s->popped++;
	if (n == 0)
		return true;
	last = h[n];
	/* the hole goes down along the smallest child to a leaf */
	while ((c = 4 * i + 1) + 3 < n) {
		size_t a = c + before(&h[c + 1], &h[c]);
		size_t b = c + 2 + before(&h[c + 3], &h[c + 2]);

		c = before(&h[b], &h[a]) ? b : a;
		h[i] = h[c];
		i = c;
	}
	if (c < n) {
		/* a last node with fewer than four children */
		size_t m = c, k;

		for (k = c + 1; k < n; k++) {
			if (before(&h[k], &h[m]))
				m = k;
		}
		h[i] = h[m];
		i = m;
	}
	/* then @p last up from there */
	while (i > 0) {
		size_t parent = (i - 1) / 4;

		if (!before(&last, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = last;
	/* the next event's object: usually cold, and needed next */
	if (h[0].ptr != NULL)
		__builtin_prefetch(h[0].ptr);
	return true;
}
