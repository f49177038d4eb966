/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the transmit ring bound (dataplane/port/txring.c) against a
 * model device: a ring of descriptors with a tail, answering as
 * rte_eth_tx_descriptor_status() is specified (rte_ethdev.h: the offset
 * counts from the tail, 0 is where the next frame will be written; FULL
 * while the hardware has not sent it, DONE after), completing in order,
 * and optionally reporting per group of descriptors the way Intel drivers
 * do (ixgbe_dev_tx_descriptor_status: the offset is rounded up to the next
 * multiple of tx_rs_thresh).
 *
 * Units: frames, descriptors, nanoseconds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../dataplane/port/txring.h"

#define RING_MAX 1024

struct fake_dev {
	uint32_t ring;    /* descriptors */
	uint32_t rs;      /* reporting granularity; 1: every descriptor */
	uint32_t tail;    /* where the next frame goes */
	uint32_t head;    /* the oldest frame not yet sent */
	uint32_t pending; /* frames written, not yet sent */
	bool done[RING_MAX];
	int err;          /* nonzero: every answer is this */
	uint64_t calls;
};

static void
dev_init(struct fake_dev *d, uint32_t ring, uint32_t rs)
{
	uint32_t i;

	memset(d, 0, sizeof(*d));
	d->ring = ring;
	d->rs = rs;
	/* After reset every descriptor reads done (DD set). */
	for (i = 0; i < ring; i++)
		d->done[i] = true;
}

static int
dev_status(void *arg, uint16_t offset)
{
	struct fake_dev *d = arg;
	uint32_t idx;

	d->calls++;
	if (d->err != 0)
		return d->err;
	if (offset >= d->ring)
		return -EINVAL;
	idx = d->tail + offset;
	idx = (idx + d->rs - 1) / d->rs * d->rs;
	while (idx >= d->ring)
		idx -= d->ring;
	return d->done[idx] ? 1 /* DONE */ : 0 /* FULL */;
}

/* The device takes @p n frames (it always has room in these tests). */
static void
dev_write(struct fake_dev *d, uint32_t n)
{
	assert_true(d->pending + n < d->ring);
	while (n-- > 0) {
		d->done[d->tail] = false;
		d->tail = (d->tail + 1) % d->ring;
		d->pending++;
	}
}

/* The wire takes the @p n oldest frames. */
static void
dev_complete(struct fake_dev *d, uint32_t n)
{
	while (n-- > 0 && d->pending > 0) {
		d->done[d->head] = true;
		d->head = (d->head + 1) % d->ring;
		d->pending--;
	}
}

/* What the engine and port do: ask, send what is allowed. */
static uint16_t
offer(struct sx_txring *r, struct fake_dev *d, uint16_t want, uint64_t now_ns)
{
	uint16_t n = sx_txring_room(r, want, now_ns);

	dev_write(d, n);
	sx_txring_sent(r, n, now_ns);
	return n;
}

static void
test_stalled_device_holds(void **state)
{
	struct fake_dev d;
	struct sx_txring r;
	uint64_t calls;
	int i;

	(void)state;
	dev_init(&d, 64, 1);
	assert_int_equal(sx_txring_init(&r, 8, 64, dev_status, &d), 0);
	assert_true(sx_txring_bounded(&r));
	/* An empty ring: the limit is the room. */
	assert_int_equal(offer(&r, &d, 32, 1), 8);
	assert_int_equal(d.pending, 8);
	/* Nothing sent: every ask is one question (the oldest frame), no
	 * buffers. */
	for (i = 0; i < 100; i++) {
		calls = d.calls;
		assert_int_equal(offer(&r, &d, 32, 2 + (uint64_t)i), 0);
		assert_int_equal(d.calls, calls + 1);
	}
	assert_int_equal(d.pending, 8);
}

static void
test_completions_reopen(void **state)
{
	struct fake_dev d;
	struct sx_txring r;
	uint64_t calls;

	(void)state;
	dev_init(&d, 64, 1);
	assert_int_equal(sx_txring_init(&r, 8, 64, dev_status, &d), 0);
	assert_int_equal(offer(&r, &d, 8, 0), 8);
	assert_int_equal(offer(&r, &d, 1, 0), 0);
	/* 3 of 8 sent: 5 wait, room for 3. */
	dev_complete(&d, 3);
	assert_int_equal(sx_txring_room(&r, 32, 0), 3);
	assert_int_equal(r.inflight_frames, 5);
	/* Within what the count allows, the device is not asked. */
	calls = d.calls;
	assert_int_equal(sx_txring_room(&r, 2, 0), 2);
	assert_int_equal(d.calls, calls);
	/* All sent: the whole limit again. */
	dev_complete(&d, 5);
	assert_int_equal(offer(&r, &d, 32, 0), 8);
	assert_int_equal(d.pending, 8);
}

/* A seeded walk: random asks and random completions. */
static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static void
walk(uint32_t ring, uint32_t rs, uint32_t limit, uint32_t bound)
{
	struct fake_dev d;
	struct sx_txring r;
	uint32_t seed = 12345, step, sent = 0, completed = 0;

	dev_init(&d, ring, rs);
	assert_int_equal(sx_txring_init(&r, limit, ring, dev_status, &d), 0);
	for (step = 0; step < 20000; step++) {
		uint32_t c = lcg(&seed) % 12;

		sent += offer(&r, &d, (uint16_t)(1 + lcg(&seed) % 32), step);
		assert_true(d.pending <= bound);
		/* The count never forgets a frame that still waits (exact
		 * reporting only: grouped reporting may read a stale lap). */
		if (rs == 1)
			assert_true(r.inflight_frames >= d.pending);
		c = c < d.pending ? c : d.pending;
		dev_complete(&d, c);
		completed += c;
	}
	assert_int_equal(sent, completed + d.pending);
	/* It kept sending: with ~5.5 completions a step, nearly all of them
	 * reopened room. */
	assert_true(sent > 20000u * 4);
	/* Drained, the whole limit is there again (past any stale group). */
	dev_complete(&d, d.pending);
	offer(&r, &d, (uint16_t)limit, 20000);
	dev_complete(&d, d.pending);
	assert_int_equal(sx_txring_room(&r, (uint16_t)limit, 20001), limit);
	assert_true(sx_txring_bounded(&r));
}

static void
test_never_more_than_limit(void **state)
{
	(void)state;
	walk(64, 1, 8, 8);
	walk(1024, 1, 128, 128);
	walk(64, 1, 63, 63);
}

/* Reporting per group of 4: a frame of the newest, unfinished group may read
 * done from the previous lap, so the ring holds at most limit + 3. */
static void
test_grouped_reporting(void **state)
{
	struct fake_dev d;
	struct sx_txring r;

	(void)state;
	walk(64, 4, 16, 16 + 3);
	walk(512, 32, 128, 128 + 31);

	/* 16 in flight, 6 sent: descriptor 5 reports with its group (up to
	 * 8), which is not done, so only 5 count as sent: room 5, not 6. */
	dev_init(&d, 64, 4);
	assert_int_equal(sx_txring_init(&r, 16, 64, dev_status, &d), 0);
	assert_int_equal(offer(&r, &d, 16, 0), 16);
	dev_complete(&d, 6);
	assert_int_equal(sx_txring_room(&r, 16, 0), 5);
}

static void
test_not_supported_is_unbounded(void **state)
{
	struct fake_dev d;
	struct sx_txring r;
	int i;

	(void)state;
	dev_init(&d, 64, 1);
	d.err = -ENOTSUP;
	assert_int_equal(sx_txring_init(&r, 8, 64, dev_status, &d), -ENOTSUP);
	assert_false(sx_txring_bounded(&r));
	for (i = 0; i < 10; i++) {
		assert_int_equal(sx_txring_room(&r, 32, 0), 32);
		sx_txring_sent(&r, 32, 0);
	}
	assert_int_equal(d.calls, 1);
	assert_int_equal(r.inflight_frames, 0);
}

static void
test_limits(void **state)
{
	struct fake_dev d;
	struct sx_txring r;

	(void)state;
	dev_init(&d, 64, 1);
	/* 0: unbounded by request; the device is not asked. */
	assert_int_equal(sx_txring_init(&r, 0, 64, dev_status, &d), 0);
	assert_false(sx_txring_bounded(&r));
	assert_int_equal(d.calls, 0);
	assert_int_equal(sx_txring_room(&r, 500, 0), 500);
	/* Not below the ring: the ring is the bound. */
	assert_int_equal(sx_txring_init(&r, 64, 64, dev_status, &d), -ERANGE);
	assert_false(sx_txring_bounded(&r));
	assert_int_equal(sx_txring_init(&r, 63, 64, dev_status, &d), 0);
	assert_true(sx_txring_bounded(&r));
	assert_int_equal(sx_txring_init(&r, 8, 64, NULL, NULL), -EINVAL);
	assert_false(sx_txring_bounded(&r));
}

static void
test_device_errors_unbound(void **state)
{
	struct fake_dev d;
	struct sx_txring r;

	(void)state;
	/* An error later: the bound turns off and says why. */
	dev_init(&d, 64, 1);
	assert_int_equal(sx_txring_init(&r, 8, 64, dev_status, &d), 0);
	assert_int_equal(offer(&r, &d, 8, 0), 8);
	d.err = -EIO;
	assert_int_equal(sx_txring_room(&r, 4, 0), 4);
	assert_false(sx_txring_bounded(&r));
	assert_int_equal(r.err, -EIO);

	/* No progress for SX_TXRING_STALL_NS while holding frames back. */
	dev_init(&d, 64, 1);
	assert_int_equal(sx_txring_init(&r, 8, 64, dev_status, &d), 0);
	assert_int_equal(offer(&r, &d, 8, 1000), 8);
	assert_int_equal(sx_txring_room(&r, 4, 1000 + SX_TXRING_STALL_NS - 1), 0);
	assert_true(sx_txring_bounded(&r));
	assert_int_equal(sx_txring_room(&r, 4, 1000 + SX_TXRING_STALL_NS), 4);
	assert_false(sx_txring_bounded(&r));
	assert_int_equal(r.err, -ETIMEDOUT);
}

static void
test_parse_spec(void **state)
{
	static const struct {
		const char *spec;
		int ret;
		const char *out;
		uint32_t frames;
	} cases[] = {
		{"net_memif0,role=server,tx_ring_frames=64,socket=/tmp/x.sock", 0,
		 "net_memif0,role=server,socket=/tmp/x.sock", 64},
		{"port=0,tx_ring_frames=0", 0, "port=0", 0},
		{"net_ring0,tx_ring_frames=32768", 0, "net_ring0", 32768},
		{"net_ring0", 0, "net_ring0", SX_TXRING_DEFAULT_FRAMES},
		{"port=3", 0, "port=3", SX_TXRING_DEFAULT_FRAMES},
		/* Not the key: stays for DPDK. */
		{"net_tap0,tx_ring_framesx=4", 0, "net_tap0,tx_ring_framesx=4",
		 SX_TXRING_DEFAULT_FRAMES},
		/* The device name is never taken for the key. */
		{"tx_ring_frames=4", 0, "tx_ring_frames=4", SX_TXRING_DEFAULT_FRAMES},
		{"net_ring0,tx_ring_frames=", -EINVAL, NULL, 0},
		{"net_ring0,tx_ring_frames=abc", -EINVAL, NULL, 0},
		{"net_ring0,tx_ring_frames=-1", -EINVAL, NULL, 0},
		{"net_ring0,tx_ring_frames=+1", -EINVAL, NULL, 0},
		{"net_ring0,tx_ring_frames=32769", -EINVAL, NULL, 0},
		{"net_ring0,tx_ring_frames=1000000", -EINVAL, NULL, 0},
		{"net_ring0,tx_ring_frames=8x", -EINVAL, NULL, 0},
		{"net_ring0,tx_ring_frames=8,tx_ring_frames=8", -EINVAL, NULL, 0},
	};
	char out[128];
	uint32_t frames;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = sx_txring_parse_spec(cases[i].spec, out, sizeof(out), &frames);

		assert_int_equal(ret, cases[i].ret);
		if (ret == 0) {
			assert_string_equal(out, cases[i].out);
			assert_int_equal(frames, cases[i].frames);
		}
	}
	/* "net_ring0" needs 10 bytes with its terminator. */
	assert_int_equal(sx_txring_parse_spec("net_ring0", out, 9, &frames), -ENAMETOOLONG);
	assert_int_equal(sx_txring_parse_spec("net_ring0", out, 10, &frames), 0);
	assert_int_equal(sx_txring_parse_spec("a,bb", out, 4, &frames), -ENAMETOOLONG);
	assert_int_equal(sx_txring_parse_spec("a,bb", out, 5, &frames), 0);
	assert_string_equal(out, "a,bb");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stalled_device_holds),
		cmocka_unit_test(test_completions_reopen),
		cmocka_unit_test(test_never_more_than_limit),
		cmocka_unit_test(test_grouped_reporting),
		cmocka_unit_test(test_not_supported_is_unbounded),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_device_errors_unbound),
		cmocka_unit_test(test_parse_spec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
