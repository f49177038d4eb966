/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "wheel.h"

#define MASK (SX_WHEEL_SLOTS - 1)

void
sx_wheel_init(struct sx_wheel *w, uint64_t gran_ns, uint64_t now_ns)
{
	memset(w, 0, sizeof(*w));
	w->gran_ns = gran_ns ? gran_ns : 1;
	w->tick = now_ns / w->gran_ns;
}

static void
file(struct sx_wheel *w, struct sx_wheel_entry *e)
{
	uint64_t t = e->at_ns / w->gran_ns;
	uint32_t s;

	if (t < w->tick)
		t = w->tick;
	/* Beyond the horizon: wait at the edge, one slot short of the cursor,
	 * so that an entry filed again from there (expire moves the cursor one
	 * past the slot it empties) never lands in the slot being emptied. */
	if (t - w->tick >= SX_WHEEL_SLOTS - 1)
		t = w->tick + SX_WHEEL_SLOTS - 2;
	s = (uint32_t)(t & MASK);
	e->slot = s;
	e->next = w->slot[s];
	if (e->next != NULL)
		e->next->pprev = &e->next;
	e->pprev = &w->slot[s];
	w->slot[s] = e;
	w->busy[s / 64] |= 1ull << (s % 64);
}

void
sx_wheel_add(struct sx_wheel *w, struct sx_wheel_entry *e, uint64_t at_ns)
{
	if (e->queued)
		sx_wheel_del(w, e);
	e->at_ns = at_ns;
	e->queued = true;
	w->count++;
	file(w, e);
}

void
sx_wheel_del(struct sx_wheel *w, struct sx_wheel_entry *e)
{
	if (!e->queued)
		return;
	*e->pprev = e->next;
	if (e->next != NULL)
		e->next->pprev = e->pprev;
	if (w->slot[e->slot] == NULL)
		w->busy[e->slot / 64] &= ~(1ull << (e->slot % 64));
	e->queued = false;
	w->count--;
}

/* Tick of the first busy slot at or after the cursor (count > 0). */
static uint64_t
next_busy_tick(const struct sx_wheel *w)
{
	uint32_t start = (uint32_t)(w->tick & MASK), i;

	for (i = 0; i < SX_WHEEL_SLOTS; i += 64) {
		uint32_t s = (start + i) & MASK, word = s / 64, bit = s % 64;
		uint64_t bits = w->busy[word] >> bit;

		/* Also the low part of the next word. */
		if (bit != 0)
			bits |= w->busy[(word + 1) % (SX_WHEEL_SLOTS / 64)] << (64 - bit);
		if (bits != 0)
			return w->tick + i + (uint64_t)__builtin_ctzll(bits);
	}
	return w->tick;
}

uint32_t
sx_wheel_expire(struct sx_wheel *w, uint64_t now_ns,
		void (*fn)(struct sx_wheel_entry *e, void *arg), void *arg)
{
	uint64_t now_tick = now_ns / w->gran_ns;
	uint32_t fired = 0;

	while (w->count > 0) {
		struct sx_wheel_entry *e, *next, *keep = NULL;
		uint64_t t = next_busy_tick(w);
		uint32_t s;

		if (t > now_tick)
			break;
		/* Every slot before t is empty: the cursor jumps there. */
		w->tick = t;
		s = (uint32_t)(t & MASK);
		e = w->slot[s];
		w->slot[s] = NULL;
		w->busy[s / 64] &= ~(1ull << (s % 64));
		for (; e != NULL; e = next) {
			next = e->next;
			if (e->at_ns <= now_ns) {
				e->queued = false;
				w->count--;
				fn(e, arg);
				fired++;
			} else if (e->at_ns / w->gran_ns <= t) {
				file(w, e); /* due later within this very slot: stays */
				keep = e;
			} else {
				w->tick = t + 1; /* parked at the horizon: file again */
				file(w, e);
				w->tick = t;
			}
		}
		/* The cursor never passes now: a late add still lands in a slot
		 * the next expire looks at. */
		if (keep != NULL || t >= now_tick)
			break;
		w->tick = t + 1;
	}
	if (w->tick < now_tick && (w->count == 0 || next_busy_tick(w) > now_tick))
		w->tick = now_tick;
	return fired;
}

uint64_t
sx_wheel_next(const struct sx_wheel *w)
{
	const struct sx_wheel_entry *e;
	uint64_t t, m = UINT64_MAX;

	if (w->count == 0)
		return UINT64_MAX;
	t = next_busy_tick(w);
	/* Exact time of the earliest entry, unless the slot holds one parked
	 * at the horizon: then the slot's start, when it must be filed again. */
	for (e = w->slot[t & MASK]; e != NULL; e = e->next) {
		if (e->at_ns / w->gran_ns > t)
			return t * w->gran_ns;
		if (e->at_ns < m)
			m = e->at_ns;
	}
	return m;
}
