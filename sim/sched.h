/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Discrete-event scheduler: a 4-ary min-heap of events keyed by
 * (time, sequence number). The sequence number is the order in which events
 * were scheduled, so two events at the same time always run in the same
 * order: a run is a pure function of its inputs.
 *
 * Units: time in picoseconds (an 800 Gb/s link sends a byte in 10 ps, so
 * nanoseconds would round serialization times by several percent).
 */
#ifndef SX_SIM_SCHED_H
#define SX_SIM_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SX_PS_PER_NS 1000ull
#define SX_PS_PER_US 1000000ull

struct sx_sim_event {
	uint64_t at_ps;
	uint64_t seq;
	uint32_t type; /* the owner's event kind */
	uint32_t idx;  /* the owner's index (host, link, ...) */
	void *ptr;     /* the owner's object (a packet, ...) */
};

/* A 4-ary min-heap of events on (at_ps, seq). */
struct sx_sched_heap {
	struct sx_sim_event *h; /* h[0] is the root */
	void *mem;              /* the allocation h lives in */
	size_t n;
	size_t cap;
};

/* One slot of the wheel: the events of one future bucket, in push order. */
struct sx_sched_slot {
	struct sx_sim_event *ev;
	uint32_t n;
	uint32_t cap;
};

struct sx_sched {
	struct sx_sched_heap cur;   /* events of buckets up to cur_b */
	struct sx_sched_heap far;   /* events beyond the wheel's horizon */
	struct sx_sched_slot *slot; /* buckets cur_b + 1 .. cur_b + SLOTS - 1 */
	uint64_t *bits;             /* which slots hold events */
	uint64_t cur_b;             /* current bucket: at_ps >> SX_SCHED_SHIFT */
	struct sx_sim_event *run;   /* the current bucket's wheel events, sorted */
	uint32_t run_i;             /* next of them to take */
	uint32_t run_n;
	struct sx_sched_slot *run_slot; /* the slot run lives in, emptied when taken */
	size_t n;                   /* events held, everywhere */
	uint64_t seq;
	uint64_t now_ps;  /* time of the last event taken */
	uint64_t pushed;
	uint64_t popped;
	size_t peak;
};

int sx_sched_init(struct sx_sched *s, uint64_t start_ps);
void sx_sched_fini(struct sx_sched *s);
/* Schedule an event at @p at_ps (not before now); 0 or -ENOMEM. */
int sx_sched_push(struct sx_sched *s, uint64_t at_ps, uint32_t type, uint32_t idx, void *ptr);
/* Take the earliest event; false when none is left. Advances now_ps. */
bool sx_sched_pop(struct sx_sched *s, struct sx_sim_event *ev);
/* Move the next non-empty bucket's events into cur (cur is empty). */
void sx_sched_refill(struct sx_sched *s);
/* Time of the earliest event, UINT64_MAX if none. */
static inline uint64_t
sx_sched_peek(struct sx_sched *s)
{
	uint64_t t = UINT64_MAX;

	if (s->cur.n == 0 && s->run_i == s->run_n && s->n != 0)
		sx_sched_refill(s);
	if (s->run_i != s->run_n)
		t = s->run[s->run_i].at_ps;
	if (s->cur.n != 0 && s->cur.h[0].at_ps < t)
		t = s->cur.h[0].at_ps;
	return t;
}

#endif
