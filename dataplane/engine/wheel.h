/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Timing wheel (Carousel, SIGCOMM'17): QPs waiting for their next send time
 * sit in the slot of that time, so a waiting QP costs nothing per poll.
 * One level of SX_WHEEL_SLOTS slots of gran_ns each; an entry beyond the
 * horizon waits in the farthest slot and is filed again when reached.
 * Intrusive: entries are embedded in their owners. No clock: time is given.
 */
#ifndef SX_WHEEL_H
#define SX_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define SX_WHEEL_SLOTS 4096 /* power of two */

struct sx_wheel_entry {
	struct sx_wheel_entry *next;
	struct sx_wheel_entry **pprev; /* the pointer that points at us: O(1) delete */
	uint64_t at_ns;
	uint32_t slot;
	bool queued;
};

struct sx_wheel {
	uint64_t gran_ns;
	uint64_t tick;     /* slot time of cursor: every slot before it is empty */
	uint32_t count;
	struct sx_wheel_entry *slot[SX_WHEEL_SLOTS];
	uint64_t busy[SX_WHEEL_SLOTS / 64]; /* which slots hold entries */
};

void sx_wheel_init(struct sx_wheel *w, uint64_t gran_ns, uint64_t now_ns);
/* File @p e to fire at @p at_ns (not before; a past time fires on the next expire). */
void sx_wheel_add(struct sx_wheel *w, struct sx_wheel_entry *e, uint64_t at_ns);
void sx_wheel_del(struct sx_wheel *w, struct sx_wheel_entry *e);
/* Take every entry due at @p now_ns; calls @p fn(e, arg) for each. Returns the count. */
uint32_t sx_wheel_expire(struct sx_wheel *w, uint64_t now_ns,
			 void (*fn)(struct sx_wheel_entry *e, void *arg), void *arg);
/* When to call expire next: the earliest entry's time (or an earlier slot
 * boundary), UINT64_MAX if empty. */
uint64_t sx_wheel_next(const struct sx_wheel *w);

#endif
