/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>

#include "txsched.h"

int
sx_drr_init(struct sx_drr *d, uint32_t cap, uint32_t quantum)
{
	uint32_t i;

	d->next = d->prev = NULL;
	d->deficit = NULL;
	if (cap == 0 || quantum == 0 || quantum > INT32_MAX / 2)
		return -EINVAL;
	d->next = malloc(cap * sizeof(*d->next));
	d->prev = malloc(cap * sizeof(*d->prev));
	d->deficit = calloc(cap, sizeof(*d->deficit));
	if (d->next == NULL || d->prev == NULL || d->deficit == NULL) {
		sx_drr_fini(d);
		return -ENOMEM;
	}
	for (i = 0; i < cap; i++)
		d->next[i] = d->prev[i] = SX_DRR_NONE;
	d->cap = cap;
	d->count = 0;
	d->cur = SX_DRR_NONE;
	d->quantum = quantum;
	d->fresh = true;
	return 0;
}

void
sx_drr_fini(struct sx_drr *d)
{
	free(d->next);
	free(d->prev);
	free(d->deficit);
	d->next = d->prev = NULL;
	d->deficit = NULL;
	d->cap = d->count = 0;
	d->cur = SX_DRR_NONE;
}

void
sx_drr_add(struct sx_drr *d, uint32_t id)
{
	uint32_t last;

	if (id >= d->cap || sx_drr_member(d, id))
		return;
	d->deficit[id] = 0;
	d->count++;
	if (d->cur == SX_DRR_NONE) {
		d->next[id] = d->prev[id] = id;
		d->cur = id;
		d->fresh = true;
		return;
	}
	/* last in the round: just before whoever has the turn now */
	last = d->prev[d->cur];
	d->next[last] = id;
	d->prev[id] = last;
	d->next[id] = d->cur;
	d->prev[d->cur] = id;
}

void
sx_drr_remove(struct sx_drr *d, uint32_t id)
{
	if (!sx_drr_member(d, id))
		return;
	if (--d->count == 0) {
		d->cur = SX_DRR_NONE;
	} else {
		if (d->cur == id) {
			d->cur = d->next[id];
			d->fresh = true;
		}
		d->next[d->prev[id]] = d->next[id];
		d->prev[d->next[id]] = d->prev[id];
	}
	d->next[id] = d->prev[id] = SX_DRR_NONE;
	d->deficit[id] = 0;
}

uint32_t
sx_drr_current(struct sx_drr *d)
{
	if (d->cur != SX_DRR_NONE && d->fresh) {
		d->deficit[d->cur] += (int32_t)d->quantum;
		d->fresh = false;
	}
	return d->cur;
}

void
sx_drr_charge(struct sx_drr *d, uint32_t id, uint32_t bytes)
{
	if (!sx_drr_member(d, id))
		return;
	/* frames are at most a quantum: the deficit stays above -quantum */
	if (bytes > d->quantum)
		bytes = d->quantum;
	d->deficit[id] -= (int32_t)bytes;
	if (id == d->cur && d->deficit[id] <= 0) {
		d->cur = d->next[id];
		d->fresh = true;
	}
}

uint64_t
sx_pace_next(uint64_t next_ns, uint64_t now_ns, uint32_t frame_bytes, uint64_t rate_bps,
	     uint32_t burst_bytes, bool backlogged)
{
	uint64_t floor = now_ns, base;

	if (backlogged) {
		uint64_t burst_ns = (uint64_t)burst_bytes * 8 * 1000000000ull / rate_bps;

		if (burst_ns > SX_PACE_BURST_NS)
			burst_ns = SX_PACE_BURST_NS;

		floor = now_ns > burst_ns ? now_ns - burst_ns : 0;
	}
	base = next_ns > floor ? next_ns : floor;
	return base + (uint64_t)frame_bytes * 8 * 1000000000ull / rate_bps;
}
