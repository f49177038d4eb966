/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the DPDK-free ports: the back-to-back pair and the fault
 * wrapper around it, and the fault spec parser.
 *
 * Every test frame carries a sequence number after a 14-byte Ethernet
 * header and a payload derived from it, so order, loss, duplicates and
 * corruption are all visible on the receiving side.
 *
 * Units: lengths in bytes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../dataplane/port/port.h"

#define MAX_FRAME 512
#define ETH_HLEN  14
#define SEQ_OFF   ETH_HLEN
#define BURST     32
/* The pair's queue depth (pair.c), which a sender can fill. */
#define PAIR_QUEUE 4096

/* ------------------------------------------------------------------------ */
/* Frames                                                                    */

static uint32_t
frame_len(uint64_t seq)
{
	return 64 + (uint32_t)(seq % 300);
}

static uint8_t
payload_byte(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31 + i * 7);
}

static void
frame_fill(struct sx_frame *f, uint64_t seq)
{
	uint32_t i, len = frame_len(seq);

	assert_true(f->cap >= len);
	memset(f->data, 0xff, 6);           /* dst */
	memset(f->data + 6, 0x02, 6);       /* src */
	f->data[12] = 0x88;                 /* local experimental ethertype */
	f->data[13] = 0xb5;
	memcpy(f->data + SEQ_OFF, &seq, sizeof(seq));
	for (i = SEQ_OFF + 8; i < len; i++)
		f->data[i] = payload_byte(seq, i);
	f->len = len;
}

/* Bits that differ from what frame @p seq should hold (seq field included). */
static uint32_t
frame_bit_errors(const struct sx_frame *f, uint64_t seq, uint32_t *first_bad)
{
	struct sx_frame ref;
	uint8_t buf[MAX_FRAME];
	uint32_t i, bits = 0;

	ref.data = buf;
	ref.cap = sizeof(buf);
	frame_fill(&ref, seq);
	assert_int_equal(f->len, ref.len);
	*first_bad = UINT32_MAX;
	for (i = 0; i < f->len; i++) {
		uint8_t d = f->data[i] ^ buf[i];

		if (d != 0 && *first_bad == UINT32_MAX)
			*first_bad = i;
		bits += (uint32_t)__builtin_popcount(d);
	}
	return bits;
}

static uint64_t
frame_seq(const struct sx_frame *f)
{
	uint64_t seq;

	memcpy(&seq, f->data + SEQ_OFF, sizeof(seq));
	return seq;
}

/* Sends frames *next, *next+1, ... (up to @p n); returns how many the port
 * took and advances *next by as many. */
static uint16_t
send_seq(struct sx_port *p, uint64_t *next, uint16_t n)
{
	struct sx_frame f[BURST];
	uint16_t got, sent, i;

	assert_true(n <= BURST);
	got = sx_port_tx_alloc(p, f, n);
	for (i = 0; i < got; i++)
		frame_fill(&f[i], *next + i);
	sent = sx_port_tx(p, f, got);
	if (sent < got)
		sx_port_tx_free(p, f + sent, got - sent);
	*next += sent;
	return sent;
}

/* Frames in the next burst of a stream of @p total frames. */
static uint16_t
burst_to(uint64_t next, uint64_t total)
{
	return total - next < BURST ? (uint16_t)(total - next) : BURST;
}

/* What a receiver saw. */
struct log {
	uint64_t *seq;
	size_t n, cap;
	uint32_t corrupted; /* frames with bit errors */
};

static void
log_init(struct log *l, size_t cap)
{
	l->seq = calloc(cap, sizeof(*l->seq));
	assert_non_null(l->seq);
	l->n = 0;
	l->cap = cap;
	l->corrupted = 0;
}

static void
log_fini(struct log *l)
{
	free(l->seq);
}

/* Receives until the port has nothing (two empty polls in a row), checking
 * every frame's content; corrupted frames are counted, and logged by the
 * sequence number they claim only if it is intact. */
static size_t
recv_all(struct sx_port *p, struct log *l, uint16_t burst)
{
	struct sx_frame f[BURST];
	size_t total = 0;
	int empty = 0;

	while (empty < 2) {
		uint16_t n = sx_port_rx(p, f, burst), i;

		empty = n == 0 ? empty + 1 : 0;
		for (i = 0; i < n; i++) {
			uint64_t seq = frame_seq(&f[i]);
			uint32_t bad;

			assert_true(f[i].len >= ETH_HLEN + 8 && f[i].len <= MAX_FRAME);
			if (seq > (1u << 24) || frame_len(seq) != f[i].len ||
			    frame_bit_errors(&f[i], seq, &bad) != 0) {
				l->corrupted++;
				continue;
			}
			assert_true(l->n < l->cap);
			l->seq[l->n++] = seq;
		}
		if (n > 0)
			sx_port_rx_done(p, f, n);
		total += n;
	}
	return total;
}

/* Each of 0..n-1 seen exactly once, in any order. */
static void
assert_exactly_once(const struct log *l, uint64_t n)
{
	uint8_t *seen = calloc(n, 1);
	size_t i;

	assert_non_null(seen);
	assert_int_equal(l->n, n);
	for (i = 0; i < l->n; i++) {
		assert_true(l->seq[i] < n);
		assert_int_equal(seen[l->seq[i]], 0);
		seen[l->seq[i]] = 1;
	}
	free(seen);
}

static void
open_pair(struct sx_port **a, struct sx_port **b)
{
	assert_int_equal(sx_port_pair_open(MAX_FRAME, a, b), 0);
	assert_non_null(*a);
	assert_non_null(*b);
}


static struct sx_port *
wrap(struct sx_port *inner, const char *tx, const char *rx, uint64_t seed)
{
	struct sx_fault_dir dtx, drx;
	struct sx_port *w;

	assert_int_equal(sx_fault_parse(tx, &dtx), 0);
	assert_int_equal(sx_fault_parse(rx, &drx), 0);
	w = sx_port_fault_wrap(inner, &dtx, &drx, seed);
	assert_non_null(w);
	return w;
}

/* Sends frames 0..n-1 from @p a, receiving on @p b after every burst (so the
 * pair never fills), then flushes both ends: a call on a wrapper releases
 * what an earlier call held back. */
static void
run_stream(struct sx_port *a, struct sx_port *b, uint64_t n, struct log *l)
{
	uint64_t next = 0;

	while (next < n) {
		send_seq(a, &next, burst_to(next, n));
		recv_all(b, l, BURST);
	}
	sx_port_tx(a, NULL, 0);
	recv_all(b, l, BURST);
}

/* ------------------------------------------------------------------------ */
/* Pair                                                                      */

static void
test_pair_in_order(void **state)
{
	struct sx_port *a, *b;
	struct log l;
	uint64_t next = 0, bytes = 0, i;

	(void)state;
	open_pair(&a, &b);
	assert_int_equal(a->max_frame, MAX_FRAME);
	assert_memory_not_equal(a->mac, b->mac, 6);
	log_init(&l, 1000);
	while (next < 1000) {
		uint16_t want = burst_to(next, 1000);

		assert_int_equal(send_seq(a, &next, want), want);
	}
	assert_int_equal(recv_all(b, &l, BURST), 1000);
	assert_int_equal(l.corrupted, 0);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(l.seq[i], i);
		bytes += frame_len(i);
	}
	assert_int_equal(a->stats.tx_frames, 1000);
	assert_int_equal(a->stats.tx_bytes, bytes);
	assert_int_equal(a->stats.tx_full, 0);
	assert_int_equal(b->stats.rx_frames, 1000);
	assert_int_equal(b->stats.rx_bytes, bytes);
	assert_int_equal(b->stats.tx_frames, 0);

	/* And the other way. */
	l.n = 0;
	next = 0;
	assert_int_equal(send_seq(b, &next, 10), 10);
	assert_int_equal(recv_all(a, &l, 4), 10);
	for (i = 0; i < 10; i++)
		assert_int_equal(l.seq[i], i);
	log_fini(&l);
	sx_port_close(a);
	sx_port_close(b);
}

static void
test_pair_backpressure(void **state)
{
	struct sx_port *a, *b;
	struct log l;
	uint64_t next = 0, i;

	(void)state;
	open_pair(&a, &b);
	log_init(&l, PAIR_QUEUE + 100);
	while (send_seq(a, &next, BURST) == BURST)
		;
	assert_int_equal(next, PAIR_QUEUE);
	assert_true(a->stats.tx_full > 0);
	assert_int_equal(send_seq(a, &next, 1), 0);
	assert_int_equal(recv_all(b, &l, BURST), PAIR_QUEUE);
	/* Room again once drained. */
	assert_int_equal(send_seq(a, &next, BURST), BURST);
	assert_int_equal(recv_all(b, &l, BURST), BURST);
	for (i = 0; i < l.n; i++)
		assert_int_equal(l.seq[i], i);
	log_fini(&l);
	sx_port_close(a);
	sx_port_close(b);
}

static void
test_pair_oversize_and_closed_peer(void **state)
{
	struct sx_port *a, *b;
	struct sx_frame f;
	struct log l;
	uint64_t next = 0;

	(void)state;
	open_pair(&a, &b);
	log_init(&l, 16);
	assert_int_equal(sx_port_tx_alloc(a, &f, 1), 1);
	assert_int_equal(f.cap, MAX_FRAME);
	f.len = MAX_FRAME + 1;
	assert_int_equal(sx_port_tx(a, &f, 1), 1); /* taken, and dropped */
	assert_int_equal(a->stats.tx_drop, 1);
	assert_int_equal(recv_all(b, &l, BURST), 0);

	/* Frames queued towards b when it closes are freed with it; a's later
	 * frames go nowhere. */
	assert_int_equal(send_seq(a, &next, 5), 5);
	sx_port_close(b);
	assert_int_equal(send_seq(a, &next, 3), 3);
	assert_int_equal(a->stats.tx_drop, 4);
	log_fini(&l);
	sx_port_close(a);
}

/* ------------------------------------------------------------------------ */
/* Fault wrapper                                                             */

static void
test_fault_passthrough(void **state)
{
	struct sx_port *a, *b;
	struct log l;
	uint64_t i;

	(void)state;
	open_pair(&a, &b);
	a = wrap(a, NULL, NULL, 1);
	b = wrap(b, "", "", 1);
	log_init(&l, 500);
	run_stream(a, b, 500, &l);
	assert_int_equal(l.n, 500);
	for (i = 0; i < 500; i++)
		assert_int_equal(l.seq[i], i);
	assert_int_equal(a->stats.tx_frames, 500);
	assert_int_equal(b->stats.rx_frames, 500);
	assert_int_equal(a->max_frame, MAX_FRAME);
	log_fini(&l);
	sx_port_close(a);
	sx_port_close(b);
}

static void
test_fault_drop_all(void **state)
{
	struct sx_port *a, *b;
	struct log l;

	(void)state;
	open_pair(&a, &b);
	a = wrap(a, "drop=1", NULL, 1);
	log_init(&l, 16);
	run_stream(a, b, 1000, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(a->stats.tx_frames, 1000); /* taken from the caller */
	assert_int_equal(a->stats.fault_drop[0], 1000);
	assert_int_equal(b->stats.rx_frames, 0);
	sx_port_close(a);
	sx_port_close(b);

	open_pair(&a, &b);
	b = wrap(b, NULL, "drop=1", 1);
	run_stream(a, b, 1000, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(b->stats.fault_drop[1], 1000);
	assert_int_equal(b->stats.rx_frames, 0);
	log_fini(&l);
	sx_port_close(a);
	sx_port_close(b);
}

/* drop=0.1 over 100k frames, each direction: the count is binomial
 * (sd ~ 95), so +-1000 never fails by chance; the survivors keep their
 * order. */
static void
test_fault_drop_rate(void **state)
{
	const uint64_t n = 100000;
	int side;

	(void)state;
	for (side = 0; side < 2; side++) {
		struct sx_port *a, *b;
		struct log l;
		uint64_t dropped, i;

		open_pair(&a, &b);
		if (side == 0)
			a = wrap(a, "drop=0.1", NULL, 42);
		else
			b = wrap(b, NULL, "drop=0.1", 42);
		log_init(&l, n);
		run_stream(a, b, n, &l);
		dropped = side == 0 ? a->stats.fault_drop[0] : b->stats.fault_drop[1];
		assert_int_equal(l.n + dropped, n);
		assert_in_range(dropped, 9000, 11000);
		for (i = 1; i < l.n; i++)
			assert_true(l.seq[i] > l.seq[i - 1]);
		assert_int_equal(l.corrupted, 0);
		log_fini(&l);
		sx_port_close(a);
		sx_port_close(b);
	}
}

/* duplicate=0.1: every frame arrives once or twice, a copy right behind its
 * original; the copies are counted. rx copies are the wrapper's malloc'd
 * buffers: with burst 1 they also wait in its queue between calls. */
static void
test_fault_duplicate(void **state)
{
	const uint64_t n = 10000;
	int side;

	(void)state;
	for (side = 0; side < 3; side++) {
		struct sx_port *a, *b;
		struct log l;
		uint64_t dups, twice = 0, i, next = 0;

		open_pair(&a, &b);
		if (side == 0)
			a = wrap(a, "duplicate=0.1", NULL, 7);
		else
			b = wrap(b, NULL, "duplicate=0.1", 7);
		log_init(&l, 2 * n);
		if (side < 2) {
			run_stream(a, b, n, &l);
		} else {
			while (next < n) {
				send_seq(a, &next, burst_to(next, n));
				recv_all(b, &l, 1);
			}
		}
		dups = side == 0 ? a->stats.fault_duplicate[0] : b->stats.fault_duplicate[1];
		assert_in_range(dups, 700, 1300);
		assert_int_equal(l.n, n + dups);
		for (i = 1; i < l.n; i++) {
			assert_true(l.seq[i] >= l.seq[i - 1]);
			assert_true(l.seq[i] <= l.seq[i - 1] + 1);
			twice += l.seq[i] == l.seq[i - 1];
		}
		assert_int_equal(twice, dups);
		assert_int_equal(l.seq[l.n - 1], n - 1);
		log_fini(&l);
		sx_port_close(a);
		sx_port_close(b);
	}
}

/* corrupt=1: every frame arrives with exactly one bit flipped, never in the
 * Ethernet header; corrupt=0.01 flips about 1%. Nothing is lost or
 * reordered, so the i-th frame received is frame i. */
static void
test_fault_corrupt(void **state)
{
	static const struct {
		const char *spec;
		uint32_t lo, hi; /* corrupted frames out of 10000 */
	} cases[] = {
		{"corrupt=1", 10000, 10000},
		{"corrupt=0.01", 50, 150},
		{"corrupt=0", 0, 0},
	};
	size_t c;
	int side;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (side = 0; side < 2; side++) {
			struct sx_port *a, *b;
			struct sx_frame f[BURST];
			uint64_t next = 0, expect = 0, counted;
			uint32_t flipped = 0;

			open_pair(&a, &b);
			if (side == 0)
				a = wrap(a, cases[c].spec, NULL, 3);
			else
				b = wrap(b, NULL, cases[c].spec, 3);
			while (next < 10000) {
				uint16_t n, i;

				send_seq(a, &next, burst_to(next, 10000));
				while ((n = sx_port_rx(b, f, BURST)) > 0) {
					for (i = 0; i < n; i++) {
						uint32_t first, bits;

						bits = frame_bit_errors(&f[i], expect++, &first);
						assert_true(bits <= 1);
						if (bits == 1) {
							assert_true(first >= ETH_HLEN);
							flipped++;
						}
					}
					sx_port_rx_done(b, f, n);
				}
			}
			assert_int_equal(expect, 10000);
			counted = side == 0 ? a->stats.fault_corrupt[0] : b->stats.fault_corrupt[1];
			assert_int_equal(flipped, counted);
			assert_in_range(flipped, cases[c].lo, cases[c].hi);
			sx_port_close(a);
			sx_port_close(b);
		}
	}
}

/* reorder=0.1: every frame arrives exactly once (after the flush), some
 * late, none by more than the frames of two calls plus the hold span. */
static void
test_fault_reorder(void **state)
{
	const uint64_t n = 10000;
	int side;

	(void)state;
	for (side = 0; side < 2; side++) {
		struct sx_port *a, *b;
		struct log l;
		uint64_t reordered, late = 0, i;

		open_pair(&a, &b);
		if (side == 0)
			a = wrap(a, "reorder=0.1", NULL, 11);
		else
			b = wrap(b, NULL, "reorder=0.1", 11);
		log_init(&l, n);
		run_stream(a, b, n, &l);
		assert_exactly_once(&l, n);
		reordered = side == 0 ? a->stats.fault_reorder[0] : b->stats.fault_reorder[1];
		assert_in_range(reordered, 700, 1300);
		for (i = 0; i < l.n; i++) {
			int64_t shift = (int64_t)i - (int64_t)l.seq[i];

			assert_true(shift <= 2 * BURST + 3 && shift >= -(2 * BURST + 3));
			late += i > 0 && l.seq[i] < l.seq[i - 1];
		}
		assert_true(late > 0);
		log_fini(&l);
		sx_port_close(a);
		sx_port_close(b);
	}
}

/* Frames held back by the last call before close are sent (tx) or returned
 * to the inner port (rx) on close, not leaked. reorder=1 holds every frame
 * until the next call. */
static void
test_fault_close_flushes(void **state)
{
	struct sx_port *a, *b;
	struct sx_frame f[BURST];
	struct log l;
	uint64_t next = 0;
	uint16_t n;

	(void)state;
	open_pair(&a, &b);
	a = wrap(a, "reorder=1", NULL, 5);
	log_init(&l, 16);
	assert_int_equal(send_seq(a, &next, 10), 10);
	assert_int_equal(sx_port_rx(b, f, BURST), 0); /* all held */
	sx_port_close(a);
	assert_int_equal(recv_all(b, &l, BURST), 10);
	assert_exactly_once(&l, 10);
	sx_port_close(b);

	open_pair(&a, &b);
	b = wrap(b, NULL, "reorder=1,duplicate=1", 5);
	next = 0;
	assert_int_equal(send_seq(a, &next, 10), 10);
	/* The copies are delivered, the originals held (some released again
	 * as later copies pass them). */
	n = sx_port_rx(b, f, BURST);
	assert_true(n >= 10);
	sx_port_rx_done(b, f, n);
	assert_int_equal(send_seq(a, &next, 10), 10);
	assert_int_equal(sx_port_rx(b, f, 5), 5);
	sx_port_rx_done(b, f, 5);
	sx_port_close(b); /* with frames held and queued */
	log_fini(&l);
	sx_port_close(a);
}

/* All faults at once with the pair full: the wrapper takes a burst, keeps
 * what the pair refused and takes nothing new until that is out. Every
 * frame taken arrives once, or twice if duplicated; none is lost. */
static void
test_fault_backpressure_loses_nothing(void **state)
{
	const uint64_t n = 20000;
	struct sx_port *a, *b;
	struct log l;
	uint64_t next = 0, twice = 0, i;
	uint8_t *count = calloc(n, 1);
	int stalls = 0;

	(void)state;
	assert_non_null(count);
	open_pair(&a, &b);
	a = wrap(a, "reorder=0.2,duplicate=0.1", NULL, 9);
	b = wrap(b, NULL, "reorder=0.2", 10);
	log_init(&l, 2 * n);
	while (next < n) {
		if (send_seq(a, &next, burst_to(next, n)) == 0) {
			/* Only drain when the sender is stuck. */
			stalls++;
			recv_all(b, &l, BURST);
		}
	}
	sx_port_tx(a, NULL, 0);
	recv_all(b, &l, BURST);
	sx_port_tx(a, NULL, 0);
	recv_all(b, &l, BURST);
	assert_true(stalls > 0);
	assert_true(a->stats.tx_full > 0);
	for (i = 0; i < l.n; i++) {
		assert_true(l.seq[i] < n);
		count[l.seq[i]]++;
	}
	for (i = 0; i < n; i++) {
		assert_in_range(count[i], 1, 2);
		twice += count[i] == 2;
	}
	assert_int_equal(twice, a->stats.fault_duplicate[0]);
	free(count);
	log_fini(&l);
	sx_port_close(a);
	sx_port_close(b);
}

/* FNV-1a over a frame: the received stream, corrupted frames included. */
static uint64_t
frame_hash(const struct sx_frame *f)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t i;

	for (i = 0; i < f->len; i++)
		h = (h ^ f->data[i]) * 0x100000001b3ull;
	return h;
}

static size_t
stream_trace(uint64_t seed, uint64_t *trace, size_t cap)
{
	const char *spec = "drop=0.05,reorder=0.05,duplicate=0.05,corrupt=0.05";
	struct sx_port *a, *b;
	struct sx_frame f[BURST];
	uint64_t next = 0;
	size_t len = 0;

	open_pair(&a, &b);
	a = wrap(a, spec, spec, seed);
	b = wrap(b, spec, spec, seed + 1);
	while (next < 5000) {
		uint16_t n, i;

		send_seq(a, &next, burst_to(next, 5000));
		do {
			n = sx_port_rx(b, f, 7);
			for (i = 0; i < n && len < cap; i++)
				trace[len++] = frame_hash(&f[i]);
			sx_port_rx_done(b, f, n);
		} while (n > 0);
	}
	sx_port_close(a);
	sx_port_close(b);
	return len;
}

static void
test_fault_deterministic(void **state)
{
	const size_t cap = 20000;
	uint64_t *t1 = calloc(cap, sizeof(*t1));
	uint64_t *t2 = calloc(cap, sizeof(*t2));
	uint64_t *t3 = calloc(cap, sizeof(*t3));
	size_t n1, n2, n3;

	(void)state;
	assert_true(t1 && t2 && t3);
	n1 = stream_trace(1234, t1, cap);
	n2 = stream_trace(1234, t2, cap);
	n3 = stream_trace(1235, t3, cap);
	assert_true(n1 > 4000);
	assert_int_equal(n1, n2);
	assert_memory_equal(t1, t2, n1 * sizeof(*t1));
	assert_true(n1 != n3 || memcmp(t1, t3, n1 * sizeof(*t1)) != 0);
	free(t1);
	free(t2);
	free(t3);
}

static void
test_fault_wrap_rejects(void **state)
{
	struct sx_fault_dir bad = {.drop = 1.5};
	struct sx_fault_dir nan_dir = {.corrupt = __builtin_nan("")};
	struct sx_port *a, *b;

	(void)state;
	open_pair(&a, &b);
	errno = 0;
	assert_null(sx_port_fault_wrap(a, &bad, NULL, 1));
	assert_int_equal(errno, EINVAL);
	assert_null(sx_port_fault_wrap(a, NULL, &nan_dir, 1));
	assert_null(sx_port_fault_wrap(NULL, NULL, NULL, 1));
	/* On failure the caller still owns the inner port. */
	sx_port_close(a);
	sx_port_close(b);
}

/* ------------------------------------------------------------------------ */
/* Delay line, on a clock the test moves                                     */

static uint64_t
fake_now(void *arg)
{
	return *(uint64_t *)arg;
}

/*
 * delay=D,jitter=J,rate=R on tx: frame k, sent at time t_k, may not arrive
 * before max(t_k + D, the time its bits clear the rate) and must have
 * arrived by then + J; frames stay in order; nothing is lost; the line
 * holds at most SX_FAULT_DELAY_MAX frames (tx_burst takes fewer).
 */
static void
delay_case(uint64_t delay_ns, uint64_t jitter_ns, uint64_t rate_bps)
{
	enum { N = 3000 };
	struct sx_fault_dir tx = {.delay_ns = delay_ns, .jitter_ns = jitter_ns,
				  .rate_bps = rate_bps};
	struct sx_port *a, *b, *w;
	uint64_t now = 1000000000ull, next = 0, expect = 0;
	uint64_t *sent_at = calloc(N, sizeof(*sent_at));
	double link_free = 0; /* reference: when the rate-limited link is free */
	double *earliest = calloc(N, sizeof(*earliest));

	assert_true(sent_at && earliest);
	open_pair(&a, &b);
	w = sx_port_fault_wrap(a, &tx, NULL, 7);
	assert_non_null(w);
	sx_port_fault_set_clock(w, fake_now, &now);
	while (expect < N) {
		struct sx_frame f[BURST];
		uint16_t n, i;

		/* a burst of 8 every 10 us */
		if (next < N) {
			uint64_t first = next;

			send_seq(w, &next, next + 8 <= N ? 8 : (uint16_t)(N - next));
			for (uint64_t k = first; k < next; k++) {
				double start = link_free > (double)now ? link_free : (double)now;

				link_free = start + (rate_bps ? frame_len(k) * 8 * 1e9 / rate_bps : 0);
				sent_at[k] = now;
				earliest[k] = link_free + (double)delay_ns;
			}
		}
		sx_port_tx(w, NULL, 0); /* a call: the line sends what is due */
		n = sx_port_rx(b, f, BURST);
		for (i = 0; i < n; i++) {
			uint64_t seq = frame_seq(&f[i]);

			assert_int_equal(seq, expect); /* in order, none lost */
			/* not early; late by at most the jitter, the ns the
			 * integer serialization times truncate, and our step */
			assert_true((double)now >= earliest[seq] - 2.0 * (double)(seq + 1));
			if ((double)now > earliest[seq] + (double)jitter_ns + 10000.0)
				fail_msg("frame %lu at %lu, earliest %.0f (delay %lu jitter %lu rate %lu)", (unsigned long)seq, (unsigned long)now, earliest[seq], (unsigned long)delay_ns, (unsigned long)jitter_ns, (unsigned long)rate_bps);
			expect++;
		}
		if (n > 0)
			sx_port_rx_done(b, f, n);
		now += 10000;
	}
	/* nothing more */
	{
		struct sx_frame f[BURST];

		now += 20000000000ull;
		sx_port_tx(w, NULL, 0);
		assert_int_equal(sx_port_rx(b, f, BURST), 0);
	}
	sx_port_close(w);
	sx_port_close(b);
	free(sent_at);
	free(earliest);
}

static void
test_fault_delay(void **state)
{
	(void)state;
	delay_case(5000000, 0, 0);             /* 5 ms */
	delay_case(10000000, 1000000, 0);      /* 10 ms +- 1 ms: still in order */
	delay_case(2000000, 0, 1000000000ull); /* 2 ms at 1 Gb/s: the rate paces */
}

/* The line is bounded: with time stopped, tx_burst stops taking frames at
 * SX_FAULT_DELAY_MAX, and every frame taken arrives once time moves. */
static void
test_fault_delay_bounded(void **state)
{
	struct sx_fault_dir tx = {.delay_ns = 1000000};
	struct sx_fault_dir rxd = {.delay_ns = 1000000};
	struct sx_port *a, *b, *w;
	uint64_t now = 5, next = 0;
	struct log l;
	int stalls = 0;

	(void)state;
	open_pair(&a, &b);
	assert_null(sx_port_fault_wrap(a, NULL, &rxd, 1)); /* delay is tx only */
	assert_int_equal(errno, EINVAL);
	w = sx_port_fault_wrap(a, &tx, NULL, 1);
	assert_non_null(w);
	sx_port_fault_set_clock(w, fake_now, &now);
	while (stalls < 3) {
		if (send_seq(w, &next, BURST) < BURST)
			stalls++;
	}
	/* the line, plus what the wrapper's own tx queue took before it */
	assert_true(next >= SX_FAULT_DELAY_MAX);
	assert_true(next <= SX_FAULT_DELAY_MAX + 1024);
	log_init(&l, next);
	while (l.n < next) {
		size_t before = l.n;

		now += 1000000; /* what the line holds is due; what waited enters it */
		sx_port_tx(w, NULL, 0);
		sx_port_tx(w, NULL, 0);
		recv_all(b, &l, BURST);
		assert_true(l.n > before || l.n == next);
	}
	for (size_t i = 0; i < l.n; i++)
		assert_int_equal(l.seq[i], i);
	log_fini(&l);
	sx_port_close(w);
	sx_port_close(b);
}

/* ------------------------------------------------------------------------ */
/* sx_fault_parse                                                            */

static void
test_fault_parse(void **state)
{
	static const struct {
		const char *spec;
		int ret;
		struct sx_fault_dir want; /* when ret == 0 */
	} cases[] = {
		{NULL, 0, {.drop = 0}},
		{"", 0, {.drop = 0}},
		{"drop=0.01", 0, {.drop = 0.01}},
		{"drop=0.01,reorder=0.01,duplicate=0,corrupt=0.001", 0,
		 {.drop = 0.01, .reorder = 0.01, .duplicate = 0, .corrupt = 0.001}},
		{"corrupt=1,drop=0", 0, {.corrupt = 1}},
		{"duplicate=.5", 0, {.duplicate = 0.5}},
		{"reorder=1e-3", 0, {.reorder = 0.001}},
		{"drop=1.0,duplicate=1", 0, {.drop = 1, .duplicate = 1}},
		{"drop", -EINVAL, {.drop = 0}},
		{"drop=", -EINVAL, {.drop = 0}},
		{"=0.1", -EINVAL, {.drop = 0}},
		{"drop=1.5", -EINVAL, {.drop = 0}},
		{"drop=-0.1", -EINVAL, {.drop = 0}},
		{"drop=+0.1", -EINVAL, {.drop = 0}},
		{"drop= 0.1", -EINVAL, {.drop = 0}},
		{" drop=0.1", -EINVAL, {.drop = 0}},
		{"drop=0.1x", -EINVAL, {.drop = 0}},
		{"drop=0.1 ", -EINVAL, {.drop = 0}},
		{"drop=0.1,", -EINVAL, {.drop = 0}},
		{",drop=0.1", -EINVAL, {.drop = 0}},
		{"drop=0.1,,corrupt=0.1", -EINVAL, {.drop = 0}},
		{"drop=0.1;corrupt=0.1", -EINVAL, {.drop = 0}},
		{"loss=0.1", -EINVAL, {.drop = 0}},
		{"Drop=0.1", -EINVAL, {.drop = 0}},
		{"dropp=0.1", -EINVAL, {.drop = 0}},
		{"drop=0.1,drop=0.2", -EINVAL, {.drop = 0}},
		{"drop=nan", -EINVAL, {.drop = 0}},
		{"drop=inf", -EINVAL, {.drop = 0}},
		{"drop=1e400", -EINVAL, {.drop = 0}},
		{"delay=10ms,jitter=1ms", 0, {.delay_ns = 10000000, .jitter_ns = 1000000}},
		{"delay=5ms", 0, {.delay_ns = 5000000}},
		{"drop=0.01,delay=250us,rate=10Gbps", 0,
		 {.drop = 0.01, .delay_ns = 250000, .rate_bps = 10000000000ull}},
		{"delay=1.5s,rate=500Mbps", 0, {.delay_ns = 1500000000ull, .rate_bps = 500000000}},
		{"delay=800ns", 0, {.delay_ns = 800}},
		{"delay=10", -EINVAL, {.drop = 0}},         /* a time needs its unit */
		{"delay=10min", -EINVAL, {.drop = 0}},
		{"delay=11s", -EINVAL, {.drop = 0}},        /* more than 10 s */
		{"delay=-1ms", -EINVAL, {.drop = 0}},
		{"delay=nanms", -EINVAL, {.drop = 0}},
		{"delay=1ms,jitter=2ms", -EINVAL, {.drop = 0}}, /* jitter above the delay */
		{"jitter=1ms", -EINVAL, {.drop = 0}},
		{"rate=10", -EINVAL, {.drop = 0}},
		{"rate=10Tbps", -EINVAL, {.drop = 0}},
		{"rate=0Gbps", -EINVAL, {.drop = 0}},
		{"delay=1ms,delay=2ms", -EINVAL, {.drop = 0}},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sx_fault_dir d = {.drop = 0.5, .reorder = 0.5, .duplicate = 0.5,
					 .corrupt = 0.5};
		struct sx_fault_dir before = d;
		int ret = sx_fault_parse(cases[i].spec, &d);

		if (ret != cases[i].ret)
			fail_msg("\"%s\": %d, want %d", cases[i].spec ? cases[i].spec : "(null)",
				 ret, cases[i].ret);
		if (ret == 0) {
			assert_true(d.drop == cases[i].want.drop);
			assert_true(d.reorder == cases[i].want.reorder);
			assert_true(d.duplicate == cases[i].want.duplicate);
			assert_true(d.corrupt == cases[i].want.corrupt);
			assert_true(d.delay_ns == cases[i].want.delay_ns);
			assert_true(d.jitter_ns == cases[i].want.jitter_ns);
			assert_true(d.rate_bps == cases[i].want.rate_bps);
		} else {
			/* A rejected spec leaves the output alone. */
			assert_memory_equal(&d, &before, sizeof(d));
		}
	}
	assert_int_equal(sx_fault_parse("drop=0", NULL), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_in_order),
		cmocka_unit_test(test_pair_backpressure),
		cmocka_unit_test(test_pair_oversize_and_closed_peer),
		cmocka_unit_test(test_fault_passthrough),
		cmocka_unit_test(test_fault_drop_all),
		cmocka_unit_test(test_fault_drop_rate),
		cmocka_unit_test(test_fault_duplicate),
		cmocka_unit_test(test_fault_corrupt),
		cmocka_unit_test(test_fault_reorder),
		cmocka_unit_test(test_fault_close_flushes),
		cmocka_unit_test(test_fault_backpressure_loses_nothing),
		cmocka_unit_test(test_fault_deterministic),
		cmocka_unit_test(test_fault_wrap_rejects),
		cmocka_unit_test(test_fault_parse),
		cmocka_unit_test(test_fault_delay),
		cmocka_unit_test(test_fault_delay_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
