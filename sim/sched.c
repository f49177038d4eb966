/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Events in three places, ordered by (at_ps, seq) as one heap would be:
 *
 *  - the current bucket (time >> SX_SCHED_SHIFT, about 8 ns): its wheel
 *    slot's events, sorted in place (run), merged on pop with cur, a 4-ary
 *    min-heap of the events pushed for this bucket or earlier after it
 *    became current, and of far's events of the bucket;
 *  - the wheel: SLOTS buckets after the current one (about 4.2 us: a hop's
 *    delay and serialization; small enough that the slots stay in cache),
 *    each an unsorted array appended to in push order;
 *  - far: a 4-ary min-heap of everything later (timeouts, flow starts).
 *
 * When the current bucket runs dry the next non-empty one (by the wheel's
 * bitmap, or far's root if that comes first) becomes current. Its slot's
 * events are in seq order, so a stable insertion sort on at_ps puts them
 * in (time, seq) order; they are nearly sorted already (pushes come in
 * time order), and a slot too far out of order goes through cur instead.
 * A wheel slot only ever holds one bucket's events: a push goes to the
 * wheel only within SLOTS buckets of the current one, and the current
 * bucket never passes a non-empty one.
 *
 * A 4-ary heap has half a binary heap's depth, and the four children of a
 * node share one 128-byte, 64-byte-aligned block (the array starts three
 * events into a cache-aligned allocation). Pop takes the hole at the root
 * down to a leaf along the smallest children and sifts the last element
 * up from there, which is short: it came from the bottom.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define SCHED_HEAP_CAP 256
#define SCHED_PAD      3 /* events before h[0] in the allocation */
#define SCHED_SHIFT    13 /* bucket: 8.192 ns */
#define SCHED_SLOTS    512u
#define SCHED_MASK     (SCHED_SLOTS - 1)

_Static_assert(sizeof(struct sx_sim_event) == 32, "4 events per 128 bytes");

static inline bool
before(const struct sx_sim_event *a, const struct sx_sim_event *b)
{
	return a->at_ps < b->at_ps || (a->at_ps == b->at_ps && a->seq < b->seq);
}

static int
heap_grow(struct sx_sched_heap *q, size_t cap)
{
	void *mem = aligned_alloc(64, (cap + SCHED_PAD + 1) * sizeof(struct sx_sim_event));

	if (mem == NULL)
		return -ENOMEM;
	if (q->h != NULL)
		memcpy((struct sx_sim_event *)mem + SCHED_PAD, q->h, q->n * sizeof(*q->h));
	free(q->mem);
	q->mem = mem;
	q->h = (struct sx_sim_event *)mem + SCHED_PAD;
	q->cap = cap;
	return 0;
}

static int
heap_push(struct sx_sched_heap *q, const struct sx_sim_event *ev)
{
	struct sx_sim_event *h;
	size_t i;

	if (q->n == q->cap && heap_grow(q, 2 * q->cap) < 0)
		return -ENOMEM;
	h = q->h;
	i = q->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 4;

		if (!before(ev, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = *ev;
	return 0;
}

/* Remove the root (q->n > 0). */
static void
heap_pop(struct sx_sched_heap *q)
{
	struct sx_sim_event *h = q->h;
	struct sx_sim_event last;
	size_t i = 0, n = --q->n, c;

	if (n == 0)
		return;
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
	/* then the last element up from there */
	while (i > 0) {
		size_t parent = (i - 1) / 4;

		if (!before(&last, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = last;
}

int
sx_sched_init(struct sx_sched *s, uint64_t start_ps)
{
	memset(s, 0, sizeof(*s));
	s->slot = calloc(SCHED_SLOTS, sizeof(*s->slot));
	s->bits = calloc(SCHED_SLOTS / 64, sizeof(*s->bits));
	if (s->slot == NULL || s->bits == NULL || heap_grow(&s->cur, SCHED_HEAP_CAP) < 0 ||
	    heap_grow(&s->far, SCHED_HEAP_CAP) < 0) {
		sx_sched_fini(s);
		return -ENOMEM;
	}
	s->now_ps = start_ps;
	s->cur_b = start_ps >> SCHED_SHIFT;
	return 0;
}

void
sx_sched_fini(struct sx_sched *s)
{
	uint32_t i;

	for (i = 0; s->slot != NULL && i < SCHED_SLOTS; i++)
		free(s->slot[i].ev);
	free(s->slot);
	free(s->bits);
	free(s->cur.mem);
	free(s->far.mem);
	memset(s, 0, sizeof(*s));
}

static int
slot_add(struct sx_sched *s, uint64_t b, const struct sx_sim_event *ev)
{
	uint32_t k = (uint32_t)(b & SCHED_MASK);
	struct sx_sched_slot *sl = &s->slot[k];

	if (sl->n == sl->cap) {
		uint32_t cap = sl->cap ? 2 * sl->cap : 16;
		struct sx_sim_event *e = realloc(sl->ev, cap * sizeof(*e));

		if (e == NULL)
			return -ENOMEM;
		sl->ev = e;
		sl->cap = cap;
	}
	sl->ev[sl->n++] = *ev;
	s->bits[k / 64] |= 1ull << (k % 64);
	return 0;
}

int
sx_sched_push(struct sx_sched *s, uint64_t at_ps, uint32_t type, uint32_t idx, void *ptr)
{
	struct sx_sim_event ev = {
		.at_ps = at_ps < s->now_ps ? s->now_ps : at_ps,
		.seq = s->seq,
		.type = type,
		.idx = idx,
		.ptr = ptr,
	};
	uint64_t b = ev.at_ps >> SCHED_SHIFT;
	int rc;

	if (b <= s->cur_b)
		rc = heap_push(&s->cur, &ev);
	else if (b - s->cur_b < SCHED_SLOTS)
		rc = slot_add(s, b, &ev);
	else
		rc = heap_push(&s->far, &ev);
	if (rc < 0)
		return rc;
	s->seq++;
	s->n++;
	s->pushed++;
	if (s->n > s->peak)
		s->peak = s->n;
	return 0;
}

/* The first non-empty wheel bucket after cur_b, UINT64_MAX if none. */
static uint64_t
wheel_next(const struct sx_sched *s)
{
	uint32_t start = (uint32_t)((s->cur_b + 1) & SCHED_MASK), k = start, d = 0;

	while (d < SCHED_SLOTS) {
		uint64_t w = s->bits[k / 64] >> (k % 64);

		if (w != 0) {
			uint32_t step = (uint32_t)__builtin_ctzll(w);

			d += step;
			return d < SCHED_SLOTS ? s->cur_b + 1 + d : UINT64_MAX;
		}
		d += 64 - k % 64;
		k = (k + (64 - k % 64)) & SCHED_MASK;
	}
	return UINT64_MAX;
}

/* Sort a slot's events by (at_ps, seq) in place: they were appended in
 * seq order, so a stable insertion sort on at_ps does, and pushes made in
 * time order leave them nearly sorted already. False (nothing moved) if
 * that would be slow: too many out of order. */
static bool
slot_sort(struct sx_sim_event *e, uint32_t n)
{
	uint32_t i, moves = 0;

	for (i = 1; i < n; i++) {
		struct sx_sim_event x;
		uint32_t j;

		if (e[i].at_ps >= e[i - 1].at_ps)
			continue;
		if (++moves > 64 && moves > n / 4)
			return false; /* the prefix stays sorted: finish in the heap */
		x = e[i];
		j = i;
		do {
			e[j] = e[j - 1];
			j--;
		} while (j > 0 && e[j - 1].at_ps > x.at_ps);
		e[j] = x;
	}
	return true;
}

void
sx_sched_refill(struct sx_sched *s)
{
	uint64_t b = wheel_next(s), fb;
	uint32_t k, i;

	if (s->run_slot != NULL) {
		s->run_slot->n = 0;
		s->run_slot = NULL;
		s->run = NULL;
		s->run_i = s->run_n = 0;
	}
	if (s->far.n != 0) {
		fb = s->far.h[0].at_ps >> SCHED_SHIFT;
		if (fb < b)
			b = fb;
	}
	if (b == UINT64_MAX)
		return;
	s->cur_b = b;
	/* A set slot holds bucket b's events: were it another bucket of
	 * the wheel (they are all between the old cur_b and SLOTS past it),
	 * it would be earlier than b, and found first. Sorted, they are taken
	 * from the slot in place, merged with cur by (time, seq). */
	k = (uint32_t)(b & SCHED_MASK);
	if (s->bits[k / 64] & (1ull << (k % 64))) {
		struct sx_sched_slot *sl = &s->slot[k];

		s->bits[k / 64] &= ~(1ull << (k % 64));
		if (slot_sort(sl->ev, sl->n)) {
			s->run = sl->ev;
			s->run_i = 0;
			s->run_n = sl->n;
			s->run_slot = sl;
		} else {
			for (i = 0; i < sl->n; i++) {
				if (heap_push(&s->cur, &sl->ev[i]) < 0)
					abort(); /* the event would be lost */
			}
			sl->n = 0;
		}
	}
	while (s->far.n != 0 && (s->far.h[0].at_ps >> SCHED_SHIFT) <= b) {
		if (heap_push(&s->cur, &s->far.h[0]) < 0)
			abort();
		heap_pop(&s->far);
	}
}

bool
sx_sched_pop(struct sx_sched *s, struct sx_sim_event *ev)
{
	const struct sx_sim_event *next;

	if (s->cur.n == 0 && s->run_i == s->run_n) {
		if (s->n == 0)
			return false;
		sx_sched_refill(s);
	}
	if (s->run_i != s->run_n && (s->cur.n == 0 || before(&s->run[s->run_i], &s->cur.h[0]))) {
		*ev = s->run[s->run_i++];
	} else {
		*ev = s->cur.h[0];
		heap_pop(&s->cur);
	}
	s->n--;
	s->now_ps = ev->at_ps;
	s->popped++;
	/* the next event's object: usually cold, and needed next */
	next = s->run_i != s->run_n ? &s->run[s->run_i] : s->cur.n != 0 ? &s->cur.h[0] : NULL;
	if (next != NULL && next->ptr != NULL)
		__builtin_prefetch(next->ptr);
	/* and the one after it, most likely the run's next */
	if (s->run_i + 1 < s->run_n && s->run[s->run_i + 1].ptr != NULL)
		__builtin_prefetch(s->run[s->run_i + 1].ptr);
	return true;
}
