/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The transmit ring bound (txring.h): counting, asking the device, and the
 * port spec's tx_ring_frames option.
 *
 * Units: frames, descriptors, nanoseconds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "txring.h"

/* rte_eth_tx_descriptor_status()'s answers (rte_ethdev.h), restated so that
 * this file needs no DPDK header. */
#define TXRING_DESC_FULL 0

static void
unbound(struct sx_txring *r, int err)
{
	r->limit_frames = 0;
	r->inflight_frames = 0;
	r->err = err;
}

int
sx_txring_init(struct sx_txring *r, uint32_t limit_frames, uint32_t ring_desc,
	       sx_txring_status_fn status, void *arg)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->ring_desc = ring_desc;
	r->status = status;
	r->arg = arg;
	if (limit_frames == 0)
		return 0;
	if (status == NULL || ring_desc == 0 || ring_desc > UINT16_MAX + 1u) {
		r->err = -EINVAL;
		return -EINVAL;
	}
	/* The ring itself holds no more than ring_desc - 1 frames. */
	if (limit_frames >= ring_desc) {
		r->err = -ERANGE;
		return -ERANGE;
	}
	r->probes++;
	ret = status(arg, 0);
	if (ret < 0) {
		r->err = ret;
		return ret;
	}
	r->limit_frames = limit_frames;
	return 0;
}

/* Is the frame sent @p j frames before the most recent one still waiting?
 * 1 yes, 0 no, -errno. An UNAVAIL descriptor holds no frame that waits for
 * the wire (reserved by the driver), so only FULL counts as waiting. */
static int
waiting(struct sx_txring *r, uint32_t j)
{
	int ret;

	r->probes++;
	ret = r->status(r->arg, (uint16_t)(r->ring_desc - 1 - j));
	if (ret < 0)
		return ret;
	return ret == TXRING_DESC_FULL;
}

/* Lower the count to what the device says; 0 or -errno. */
static int
refresh(struct sx_txring *r, uint64_t now_ns)
{
	uint32_t lo = 0, hi = r->inflight_frames, mid;
	int w;

	if (hi == 0)
		return 0;
	/* The oldest first: while it waits, nothing newer is done. */
	w = waiting(r, hi - 1);
	if (w != 0)
		return w < 0 ? w : 0;
	hi--;
	/* Frames 0..hi-1 may wait, hi and older are done: find the oldest
	 * waiting one, i.e. the smallest done index, in [lo, hi]. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		w = waiting(r, mid);
		if (w < 0)
			return w;
		if (w)
			lo = mid + 1;
		else
			hi = mid;
	}
	r->inflight_frames = hi;
	r->progress_ns = now_ns;
	return 0;
}

uint16_t
sx_txring_room(struct sx_txring *r, uint16_t want, uint64_t now_ns)
{
	uint32_t room;
	int ret;

	if (r->limit_frames == 0)
		return want;
	if (r->limit_frames - r->inflight_frames >= want)
		return want;
	ret = refresh(r, now_ns);
	if (ret < 0) {
		unbound(r, ret);
		return want;
	}
	room = r->limit_frames - r->inflight_frames;
	if (room == 0 && now_ns - r->progress_ns >= SX_TXRING_STALL_NS) {
		unbound(r, -ETIMEDOUT);
		return want;
	}
	return room < want ? (uint16_t)room : want;
}

void
sx_txring_sent(struct sx_txring *r, uint16_t n, uint64_t now_ns)
{
	if (r->limit_frames == 0 || n == 0)
		return;
	if (r->inflight_frames == 0)
		r->progress_ns = now_ns; /* a busy period starts */
	r->inflight_frames += n;
}

#define TXRING_KEY "tx_ring_frames="

/* "N" with N in 0..SX_TXRING_MAX_FRAMES, decimal, nothing else. */
static int
parse_frames(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	if (len == 0 || len > 6)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > SX_TXRING_MAX_FRAMES)
		return -EINVAL;
	*out = v;
	return 0;
}

int
sx_txring_parse_spec(const char *spec, char *out, size_t size, uint32_t *limit_frames)
{
	size_t klen = strlen(TXRING_KEY), n = 0;
	const char *p = spec;
	bool seen = false;
	int ret;

	*limit_frames = SX_TXRING_DEFAULT_FRAMES;
	/* The first item is the device ("net_memif0", "port=N"); every
	 * later one is "key=value". */
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (p != spec && len >= klen && strncmp(p, TXRING_KEY, klen) == 0) {
			if (seen)
				return -EINVAL;
			seen = true;
			ret = parse_frames(p + klen, len - klen, limit_frames);
			if (ret != 0)
				return ret;
		} else {
			if (n + (p != spec) + len >= size)
				return -ENAMETOOLONG;
			if (p != spec)
				out[n++] = ',';
			memcpy(out + n, p, len);
			n += len;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	if (n >= size)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}
