/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Binary min-heap on (at_ps, seq). Push sifts up, pop moves the last
 * element to the root and sifts it down with the hole technique (one copy
 * per level, not a swap).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define SCHED_INITIAL_CAP 4096

static inline bool
before(const struct sx_sim_event *a, const struct sx_sim_event *b)
{
	return a->at_ps < b->at_ps || (a->at_ps == b->at_ps && a->seq < b->seq);
}

int
sx_sched_init(struct sx_sched *s, uint64_t start_ps)
{
	memset(s, 0, sizeof(*s));
	s->heap = malloc(SCHED_INITIAL_CAP * sizeof(*s->heap));
	if (s->heap == NULL)
		return -ENOMEM;
	s->cap = SCHED_INITIAL_CAP;
	s->now_ps = start_ps;
	return 0;
}

void
sx_sched_fini(struct sx_sched *s)
{
	free(s->heap);
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
	size_t i;

	if (s->n == s->cap) {
		struct sx_sim_event *h = realloc(s->heap, 2 * s->cap * sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		s->heap = h;
		s->cap *= 2;
	}
	i = s->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!before(&ev, &s->heap[parent]))
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = ev;
	s->pushed++;
	if (s->n > s->peak)
		s->peak = s->n;
	return 0;
}

bool
sx_sched_pop(struct sx_sched *s, struct sx_sim_event *ev)
{
	struct sx_sim_event last;
	size_t i = 0, n;

	if (s->n == 0)
		return false;
	*ev = s->heap[0];
	n = --s->n;
	s->now_ps = ev->at_ps;
	s->popped++;
	if (n == 0)
		return true;
	last = s->heap[n];
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && before(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!before(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	s->heap[i] = last;
	return true;
}
