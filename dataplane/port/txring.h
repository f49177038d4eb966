/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A bound on the frames waiting in a device's transmit ring, in the style
 * of Linux byte queue limits (include/linux/dynamic_queue_limits.h) but
 * fixed rather than adaptive, and counted in frames: the device reports
 * completions per descriptor, and each frame the port sends is one
 * descriptor.
 *
 * Why: the engine builds a frame only when the port hands out a buffer, and
 * its deficit round-robin decides which QP gets it. Frames already in the
 * device's ring are out of its hands, so a ring of 1024 descriptors of 4 KB
 * frames is ~330 us at 100 Gb/s that a new short flow waits behind. With
 * this bound the port hands out buffers only while fewer than limit frames
 * wait in the ring, and the DRR decides who goes next.
 *
 * The device is asked through a callback in the terms of DPDK's
 * rte_eth_tx_descriptor_status(): the descriptor at @c offset from the
 * ring's tail (0 is where the next frame will be written), so the frame
 * sent j frames before the most recent one sits at offset ring_desc - 1 - j.
 * A device completes its ring in order, so if that frame is done every
 * older one is too, and the frames in flight are at most j. Where a driver
 * reports completion per group of descriptors (the RS bit of Intel NICs,
 * tx_rs_thresh), a frame in the newest, unfinished group may read done
 * from the ring's previous lap: the count is then low by less than one
 * group, so the ring holds at most limit + tx_rs_thresh - 1 frames.
 *
 * Pure: no DPDK, no clock (now_ns is passed in).
 *
 * Units: frames, descriptors, nanoseconds.
 */
#ifndef SX_TXRING_H
#define SX_TXRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default bound (the port spec's tx_ring_frames): 128 frames of 4 KB are
 * ~42 us at 100 Gb/s, 1 KB frames ~10 us: room for a few engine rounds of
 * 32 frames, so the ring does not run dry between polls. */
#define SX_TXRING_DEFAULT_FRAMES 128
/* Largest tx_ring_frames accepted (DPDK's ring sizes are 16-bit). */
#define SX_TXRING_MAX_FRAMES 32768
/* A device that reports no completion for this long while the bound holds
 * frames back is taken to report wrongly (a driver whose status lags its
 * ring), and the bound turns off: one hiccup of this length rather than a
 * stalled engine. A PFC pause is far shorter; a PFC storm that lasts this
 * long also turns it off, which leaves the ring as it was without it. */
#define SX_TXRING_STALL_NS 50000000ull

/* The device's answer for the descriptor at @p offset from the tail:
 * RTE_ETH_TX_DESC_{FULL,DONE,UNAVAIL} (0, 1, 2) or -errno. */
typedef int (*sx_txring_status_fn)(void *arg, uint16_t offset);

struct sx_txring {
	uint32_t limit_frames;    /* 0: unbounded */
	uint32_t ring_desc;       /* descriptors in the device's ring */
	uint32_t inflight_frames; /* sent, not known done: an upper bound */
	uint64_t progress_ns;     /* when the count last fell (or left 0) */
	sx_txring_status_fn status;
	void *arg;
	int err;                  /* why the bound turned off; 0 while bounded */
	uint64_t probes;          /* status calls made */
};

/**
 * Set up @p r for a ring of @p ring_desc descriptors holding at most
 * @p limit_frames (0: no bound). The device is asked once (offset 0).
 *
 * @return 0 (bounded, or unbounded by request), -ERANGE (the limit is not
 * below the ring: the ring is the bound; @p r is unbounded), -ENOTSUP or
 * another -errno from the device (it cannot report descriptor status;
 * @p r is unbounded), -EINVAL (bad arguments; @p r is unbounded).
 */
int sx_txring_init(struct sx_txring *r, uint32_t limit_frames, uint32_t ring_desc,
		   sx_txring_status_fn status, void *arg);

static inline bool
sx_txring_bounded(const struct sx_txring *r)
{
	return r->limit_frames != 0;
}

/**
 * How many of @p want frames may go to the device now. Asks the device
 * only when the count kept does not allow all of @p want: first about the
 * oldest frame in flight (one call while the device is stalled), then a
 * binary search for the oldest one still waiting. A device that reports
 * an error, or no progress for SX_TXRING_STALL_NS, turns the bound off
 * (r->err says why: -errno, or -ETIMEDOUT).
 */
uint16_t sx_txring_room(struct sx_txring *r, uint16_t want, uint64_t now_ns);

/** @p n frames went to the device at @p now_ns. */
void sx_txring_sent(struct sx_txring *r, uint16_t n, uint64_t now_ns);

/**
 * Parse the scalex option tx_ring_frames=N out of a port spec: @p out gets
 * @p spec without it (for DPDK), *limit_frames its value, or
 * SX_TXRING_DEFAULT_FRAMES where the spec has none.
 *
 * @return 0, -EINVAL (not an integer in 0..SX_TXRING_MAX_FRAMES, or given
 * twice), -ENAMETOOLONG (@p out too small).
 */
int sx_txring_parse_spec(const char *spec, char *out, size_t size, uint32_t *limit_frames);

#endif
