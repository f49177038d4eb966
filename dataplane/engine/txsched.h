/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host transmit scheduling, pure logic (no clock, no port, no QP): the
 * engine asks it which QP sends next and when a paced QP may send again.
 *
 * - Deficit round-robin over the active QPs (Shreedhar and Varghese,
 *   SIGCOMM'95), by bytes: each turn credits a QP one quantum, it sends
 *   while its deficit is positive and each frame is charged its length. A
 *   frame is built before its length is known, so a turn may overdraw by
 *   less than one frame; the overdraft is repaid in the next turn (as Linux
 *   fq's credit does). With a quantum of at least the largest frame every
 *   turn sends at least one frame, and a QP's bytes over any n rounds are
 *   n quanta within one frame, whatever its frame sizes (ACK-only QPs do
 *   not get a full MTU per small frame as a per-frame round-robin gives).
 *   A QP that runs dry leaves the round and loses its deficit; a QP that
 *   joins goes last in the current round, so a new short flow waits for at
 *   most one turn of each other active QP.
 *
 * - Token-bucket pacing: a rate-limited QP's next send time advances by
 *   each data frame's serialization time at its rate. Time the QP spent
 *   backlogged past its send time (the process woke late, the NIC ring was
 *   full) is credit, capped at a burst of burst_bytes: after an oversleep
 *   the QP catches up with at most burst_bytes (plus the frame that found
 *   the bucket non-empty) back to back instead of losing the time for good.
 *   A QP that went idle gets no credit for the idle time.
 */
#ifndef SX_TXSCHED_H
#define SX_TXSCHED_H

#include <stdbool.h>
#include <stdint.h>

#define SX_DRR_NONE UINT32_MAX

struct sx_drr {
	uint32_t *next;    /* ring of members by id; SX_DRR_NONE: not a member */
	uint32_t *prev;
	int32_t *deficit;  /* bytes the id may still send this turn */
	uint32_t cap;      /* ids are 0 .. cap - 1 */
	uint32_t count;
	uint32_t cur;      /* whose turn; SX_DRR_NONE when empty */
	uint32_t quantum;  /* bytes credited per turn: at least the largest frame */
	bool fresh;        /* cur's turn has not been credited yet */
};

/* 0, -EINVAL (cap or quantum 0, quantum above INT32_MAX / 2), -ENOMEM. */
int sx_drr_init(struct sx_drr *d, uint32_t cap, uint32_t quantum);
void sx_drr_fini(struct sx_drr *d);
static inline bool
sx_drr_member(const struct sx_drr *d, uint32_t id)
{
	return id < d->cap && d->next[id] != SX_DRR_NONE;
}
/* Join the round (last in it); nothing if already a member. */
void sx_drr_add(struct sx_drr *d, uint32_t id);
/* Leave the round; the deficit is lost. Nothing if not a member. */
void sx_drr_remove(struct sx_drr *d, uint32_t id);
/* Whose turn it is (crediting the quantum when a turn begins); SX_DRR_NONE if empty. */
uint32_t sx_drr_current(struct sx_drr *d);
/* @p id sent @p bytes; its turn ends when its deficit is spent. */
void sx_drr_charge(struct sx_drr *d, uint32_t id, uint32_t bytes);

/* Catch-up cap of the engine's pacer: 64 KiB, what a 10 Gb/s QP is owed
 * after a 50 us oversleep (one scheduler tick of a loaded host), 3% of a
 * 2 MB switch buffer, 16 frames at MTU 4096; and never more than 100 us at
 * the QP's rate, so that a QP cut to a low rate (200 Mb/s: 2.5 KB) does not
 * dump milliseconds of its rate into a queue its CC is draining. */
#define SX_PACE_BURST_BYTES 65536u
#define SX_PACE_BURST_NS 100000u

/*
 * The next send time of a QP at @p rate_bps (> 0) after it sends a data
 * frame of @p frame_bytes at @p now_ns, its previous next send time being
 * @p next_ns (<= now_ns: the QP may send). @p backlogged: the QP had data
 * waiting since @p next_ns (it did not go idle), so the time since then is
 * credit, at most @p burst_bytes and at most SX_PACE_BURST_NS.
 */
uint64_t sx_pace_next(uint64_t next_ns, uint64_t now_ns, uint32_t frame_bytes,
		      uint64_t rate_bps, uint32_t burst_bytes, bool backlogged);

#endif
