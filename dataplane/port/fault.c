/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection around any port: drop, corrupt, duplicate and reorder
 * frames on tx and/or rx with given probabilities, so that loss recovery is
 * exercised over memif and in unit tests exactly as over a lossy fabric.
 *
 * Every decision comes from a PRNG (xoshiro256**, seeded through
 * splitmix64) kept in the wrapper, so a run is a pure function of the seed
 * and the frame sequence. Draws happen in a fixed order per frame (drop,
 * corrupt, duplicate, reorder; a zero probability draws nothing).
 *
 * Reordering holds a frame back until 1-3 later frames of the same
 * direction have passed it, or at the latest until the end of a later call
 * (rx_burst or tx_burst for tx frames, rx_burst for rx frames; a call with
 * n = 0 counts), so no frame is held for ever while the port is polled.
 * Held frames are sent on close; held rx frames are released to the inner
 * port, as they can no longer be delivered.
 *
 * Frames the wrapper has taken but the inner port refused wait in a
 * per-direction queue: the tx queue is retried before any new frame is
 * taken (tx_burst takes nothing while it is not empty, which passes the
 * inner port's back-pressure on to the caller); the rx queue holds frames
 * ready for delivery, e.g. duplicates, when the caller's burst is full.
 *
 * An rx duplicate is a malloc'd copy; rx_done() recognises it by its priv
 * pointer among the few copies outstanding and frees it.
 *
 * Delay (tx only): frames leaving the tx queue enter a FIFO delay line
 * instead of the inner port, each due at depart + delay + U[0, jitter],
 * where depart advances by the frame's serialization time at rate_bps (a
 * rate-limited link); a due time never precedes the one before it, so the
 * line never reorders (reordering is the reorder fault's). Every call sends
 * what is due by the wrapper's clock (CLOCK_MONOTONIC, or a test's). The
 * line is bounded (SX_FAULT_DELAY_MAX frames): when it is full the tx queue
 * waits and tx_burst takes nothing, as for a full inner port.
 *
 * Units: probabilities in [0, 1], lengths in bytes, queues in frames,
 * times in ns, rates in b/s.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scalex/wire.h>

#include "../util/rng.h"
#include "port.h"

enum sx_fault_side {
	SX_FAULT_TX = 0,
	SX_FAULT_RX = 1,
};

/* Input frames processed per call; tx_burst may take fewer than asked. */
#define SX_FAULT_CHUNK 256
/* Frames held back for reordering, per direction. */
#define SX_FAULT_HOLD_MAX 64
/* Outputs of one call at most: every input frame and a duplicate, plus all
 * held frames released (twice: released by the call and again on close). */
#define SX_FAULT_QUEUE (2 * SX_FAULT_CHUNK + 2 * SX_FAULT_HOLD_MAX)
/* rx duplicates handed to the caller and not yet back through rx_done. */
#define SX_FAULT_COPIES_MAX 256
/* Most frames a reordered frame is held behind. */
#define SX_FAULT_REORDER_SPAN 3
/* Ethernet header: left intact by corruption so the frame still reaches
 * the protocol, where ICRC and checksums must catch the flipped bit. */
#define SX_FAULT_ETH_HLEN 14
/* Longest delay (and jitter) a wrapper adds. */
#define SX_FAULT_DELAY_MAX_NS 10000000000ull
/* tx_burst attempts on close for frames still held or queued. */
#define SX_FAULT_CLOSE_TRIES 64

struct sx_fault_held {
	struct sx_frame f;
	uint64_t call;  /* call in which it was held */
	uint8_t after;  /* frames still to pass it */
};

struct sx_fault_dirstate {
	struct sx_fault_dir p;
	bool active; /* some probability is not zero */
	struct sx_fault_held held[SX_FAULT_HOLD_MAX]; /* in hold order */
	uint32_t nheld;
	struct sx_frame q[SX_FAULT_QUEUE]; /* taken, not yet sent / delivered */
	uint32_t qhead;
	uint32_t qcount;
};

/* A frame in the tx delay line and when it may leave. */
struct sx_fault_delayed {
	struct sx_frame f;
	uint64_t due_ns;
};

/* A malloc'd rx duplicate: the frame's priv points here. */
struct sx_fault_copy {
	uint32_t len;
	uint8_t data[];
};

struct sx_port_fault {
	struct sx_port port; /* first: the ops cast back to this */
	struct sx_port *inner;
	struct sx_rng rng;
	uint64_t calls; /* rx_burst and tx_burst calls so far */
	struct sx_fault_dirstate dir[2];
	struct sx_fault_copy *copies[SX_FAULT_COPIES_MAX];
	uint32_t ncopies;
	/* tx delay line (NULL: no delay or rate) */
	struct sx_fault_delayed *dl;
	uint32_t dl_head;
	uint32_t dl_count;
	uint64_t dl_depart_ns; /* when the rate-limited link is free again */
	uint64_t dl_last_due_ns;
	uint64_t (*clock)(void *arg);
	void *clock_arg;
};

/* The port layer may read clocks; the pure core may not. */
static uint64_t
monotonic_ns(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct sx_port_fault *
fault_of(struct sx_port *port)
{
	return (struct sx_port_fault *)port;
}

/* ------------------------------------------------------------------------ */
/* Shared by both directions.                                                */

static bool
corrupt(struct sx_port_fault *w, struct sx_frame *f)
{
	uint32_t off;

	if (f->len <= SX_FAULT_ETH_HLEN)
		return false;
	off = SX_FAULT_ETH_HLEN + sx_rng_below(&w->rng, f->len - SX_FAULT_ETH_HLEN);
	f->data[off] ^= (uint8_t)(1u << sx_rng_below(&w->rng, 8));
	return true;
}

/* Mark CE on an ECN-capable IPv4/IPv6 packet (RFC 3168: never on Not-ECT),
 * fixing the IPv4 checksum as a switch does; the ICRC masks the ECN bits. */
static bool
mark_ce(struct sx_frame *f)
{
	uint32_t l3 = SX_ETH_HLEN;
	uint16_t type;
	uint8_t ecn;

	if (f->len < SX_ETH_HLEN + SX_VLAN_HLEN + SX_IPV6_HLEN)
		return false;
	type = (uint16_t)(f->data[12] << 8 | f->data[13]);
	if (type == SX_ETHERTYPE_VLAN) {
		type = (uint16_t)(f->data[16] << 8 | f->data[17]);
		l3 += SX_VLAN_HLEN;
	}
	if (type == SX_ETHERTYPE_IPV4 && f->data[l3] >> 4 == 4)
		ecn = f->data[l3 + 1] & 3;
	else if (type == SX_ETHERTYPE_IPV6 && f->data[l3] >> 4 == 6)
		ecn = (f->data[l3 + 1] >> 4) & 3;
	else
		return false;
	if (ecn == SX_ECN_NOT_ECT || ecn == SX_ECN_CE)
		return false;
	sx_ip_set_ecn(f->data + l3, SX_ECN_CE);
	return true;
}

static void
enqueue(struct sx_fault_dirstate *d, const struct sx_frame *f)
{
	d->q[(d->qhead + d->qcount) % SX_FAULT_QUEUE] = *f;
	d->qcount++;
}

/* A fresh frame goes out: it passes every held frame, and those it was the
 * last to pass follow it, in the order they were held. */
static void
emit(struct sx_fault_dirstate *d, const struct sx_frame *f)
{
	uint32_t i, kept = 0;

	enqueue(d, f);
	for (i = 0; i < d->nheld; i++) {
		if (--d->held[i].after == 0)
			enqueue(d, &d->held[i].f);
		else
			d->held[kept++] = d->held[i];
	}
	d->nheld = kept;
}

/* Frames held by an earlier call than @p call are due. */
static void
release_stale(struct sx_fault_dirstate *d, uint64_t call)
{
	uint32_t i, kept = 0;

	for (i = 0; i < d->nheld; i++) {
		if (d->held[i].call < call)
			enqueue(d, &d->held[i].f);
		else
			d->held[kept++] = d->held[i];
	}
	d->nheld = kept;
}

static void
release_all(struct sx_fault_dirstate *d)
{
	release_stale(d, UINT64_MAX);
}

/* Hold @p f back if the dice say so and there is room; true if held. */
static bool
maybe_hold(struct sx_port_fault *w, enum sx_fault_side side, const struct sx_frame *f)
{
	struct sx_fault_dirstate *d = &w->dir[side];
	struct sx_fault_held *h;

	if (!sx_rng_chance(&w->rng, d->p.reorder) || d->nheld == SX_FAULT_HOLD_MAX)
		return false;
	h = &d->held[d->nheld++];
	h->f = *f;
	h->call = w->calls;
	h->after = (uint8_t)(1 + sx_rng_below(&w->rng, SX_FAULT_REORDER_SPAN));
	w->port.stats.fault_reorder[side]++;
	return true;
}

/* ------------------------------------------------------------------------ */
/* tx                                                                        */

/* Send the delayed frames that are due, oldest first; true when none is
 * left waiting on the inner port. */
static bool
delay_out(struct sx_port_fault *w)
{
	uint64_t now;

	if (w->dl_count == 0)
		return true;
	now = w->clock(w->clock_arg);
	while (w->dl_count > 0) {
		struct sx_fault_delayed *e = &w->dl[w->dl_head];

		if (e->due_ns > now)
			return true;
		if (sx_port_tx(w->inner, &e->f, 1) != 1)
			return false;
		w->dl_head = (w->dl_head + 1) % SX_FAULT_DELAY_MAX;
		w->dl_count--;
	}
	return true;
}

/* Frames from the tx queue into the delay line; how many fit. */
static uint16_t
delay_in(struct sx_port_fault *w, const struct sx_frame *f, uint16_t n)
{
	const struct sx_fault_dir *p = &w->dir[SX_FAULT_TX].p;
	uint64_t now = w->clock(w->clock_arg);
	uint16_t i;

	for (i = 0; i < n && w->dl_count < SX_FAULT_DELAY_MAX; i++) {
		struct sx_fault_delayed *e =
			&w->dl[(w->dl_head + w->dl_count) % SX_FAULT_DELAY_MAX];
		uint64_t due;

		if (w->dl_depart_ns < now)
			w->dl_depart_ns = now;
		if (p->rate_bps != 0)
			w->dl_depart_ns += (uint64_t)f[i].len * 8 * 1000000000ull / p->rate_bps;
		due = w->dl_depart_ns + p->delay_ns;
		if (p->jitter_ns != 0)
			due += (uint64_t)(((unsigned __int128)sx_rng_next(&w->rng) *
					   (p->jitter_ns + 1)) >> 64);
		if (due < w->dl_last_due_ns)
			due = w->dl_last_due_ns; /* FIFO: jitter never reorders */
		w->dl_last_due_ns = due;
		e->f = f[i];
		e->due_ns = due;
		w->dl_count++;
	}
	return i;
}

/* The tx queue goes to the delay line when there is one, else the inner port. */
static uint16_t
tx_out(struct sx_port_fault *w, struct sx_frame *f, uint16_t n)
{
	if (w->dl == NULL)
		return sx_port_tx(w->inner, f, n);
	return delay_in(w, f, n);
}

/* Offer the tx queue to the inner port; true when it is empty. */
static bool
tx_push(struct sx_port_fault *w)
{
	struct sx_fault_dirstate *d = &w->dir[SX_FAULT_TX];

	while (d->qcount > 0) {
		/* The queue is a ring: send up to its wrap point at a time. */
		uint32_t run = SX_FAULT_QUEUE - d->qhead;
		uint16_t want, sent;

		if (run > d->qcount)
			run = d->qcount;
		want = run > UINT16_MAX ? UINT16_MAX : (uint16_t)run;
		sent = tx_out(w, &d->q[d->qhead], want);
		d->qhead = (d->qhead + sent) % SX_FAULT_QUEUE;
		d->qcount -= sent;
		if (sent < want)
			return false;
	}
	d->qhead = 0;
	return true;
}

/* Send what an earlier call held or could not send; runs on every call, so
 * a tx frame held back is out by the end of the next call of either kind. */
static void
tx_service(struct sx_port_fault *w)
{
	struct sx_fault_dirstate *d = &w->dir[SX_FAULT_TX];

	delay_out(w);
	if (d->qcount == 0 && d->nheld == 0)
		return;
	if (!tx_push(w))
		return;
	release_stale(d, w->calls);
	tx_push(w);
}

static void
tx_one(struct sx_port_fault *w, struct sx_frame *f)
{
	struct sx_fault_dirstate *d = &w->dir[SX_FAULT_TX];
	struct sx_port_stats *st = &w->port.stats;
	struct sx_frame dup;
	bool have_dup = false;

	if (sx_rng_chance(&w->rng, d->p.drop)) {
		sx_port_tx_free(w->inner, f, 1);
		st->fault_drop[SX_FAULT_TX]++;
		return;
	}
	if (sx_rng_chance(&w->rng, d->p.corrupt) && corrupt(w, f))
		st->fault_corrupt[SX_FAULT_TX]++;
	if (sx_rng_chance(&w->rng, d->p.ecn) && mark_ce(f))
		st->fault_ecn[SX_FAULT_TX]++;
	if (sx_rng_chance(&w->rng, d->p.duplicate) && sx_port_tx_alloc(w->inner, &dup, 1) == 1) {
		if (dup.cap >= f->len) {
			memcpy(dup.data, f->data, f->len);
			dup.len = f->len;
			have_dup = true;
			st->fault_duplicate[SX_FAULT_TX]++;
		} else {
			sx_port_tx_free(w->inner, &dup, 1);
		}
	}
	if (!maybe_hold(w, SX_FAULT_TX, f))
		emit(d, f);
	if (have_dup)
		emit(d, &dup);
}

static uint16_t
fault_tx_burst(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_port_fault *w = fault_of(port);
	struct sx_fault_dirstate *d = &w->dir[SX_FAULT_TX];
	uint16_t take, i;

	w->calls++;
	delay_out(w);
	if (!d->active && d->qcount == 0 && d->nheld == 0) {
		take = sx_port_tx(w->inner, f, n);
		for (i = 0; i < take; i++)
			port->stats.tx_bytes += f[i].len;
	} else if (!tx_push(w)) {
		/* Still backed up from an earlier call: take nothing new. */
		take = 0;
	} else {
		take = n < SX_FAULT_CHUNK ? n : SX_FAULT_CHUNK;
		for (i = 0; i < take; i++) {
			port->stats.tx_bytes += f[i].len;
			tx_one(w, &f[i]);
		}
		release_stale(d, w->calls);
		tx_push(w);
	}
	port->stats.tx_frames += take;
	port->stats.tx_full += n - take;
	return take;
}

static uint16_t
fault_tx_alloc(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_port_fault *w = fault_of(port);
	uint64_t held = w->inner->stats.tx_ring_held;
	uint16_t got = sx_port_tx_alloc(w->inner, f, n);

	/* Fewer frames than asked: the inner port's ring bound said so (one
	 * held call) or its buffers ran out. */
	if (w->inner->stats.tx_ring_held != held)
		port->stats.tx_ring_held++;
	else
		port->stats.alloc_fail += n - got;
	return got;
}

static void
fault_tx_free(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	sx_port_tx_free(fault_of(port)->inner, f, n);
}

/* ------------------------------------------------------------------------ */
/* rx                                                                        */

static bool
rx_dup(struct sx_port_fault *w, const struct sx_frame *f, struct sx_frame *dup)
{
	struct sx_fault_copy *c;

	if (w->ncopies == SX_FAULT_COPIES_MAX)
		return false;
	c = malloc(sizeof(*c) + f->len);
	if (c == NULL)
		return false;
	c->len = f->len;
	memcpy(c->data, f->data, f->len);
	w->copies[w->ncopies++] = c;
	dup->data = c->data;
	dup->len = f->len;
	dup->cap = f->len;
	dup->priv = c;
	return true;
}

/* Frees @p priv if it is one of our rx copies; false if it is not ours. */
static bool
rx_copy_free(struct sx_port_fault *w, void *priv)
{
	uint32_t i;

	for (i = 0; i < w->ncopies; i++) {
		if (w->copies[i] == priv) {
			free(w->copies[i]);
			w->copies[i] = w->copies[--w->ncopies];
			return true;
		}
	}
	return false;
}

/* Returns frames to where they came from: our copies to free(), the rest
 * to the inner port in batches. */
static void
rx_release(struct sx_port_fault *w, struct sx_frame *f, uint32_t n)
{
	struct sx_frame batch[64];
	uint32_t i, nb = 0;

	if (w->ncopies == 0) {
		while (n > 0) {
			uint16_t k = n > UINT16_MAX ? UINT16_MAX : (uint16_t)n;

			sx_port_rx_done(w->inner, f, k);
			f += k;
			n -= k;
		}
		return;
	}
	for (i = 0; i < n; i++) {
		if (rx_copy_free(w, f[i].priv))
			continue;
		batch[nb++] = f[i];
		if (nb == 64) {
			sx_port_rx_done(w->inner, batch, (uint16_t)nb);
			nb = 0;
		}
	}
	if (nb > 0)
		sx_port_rx_done(w->inner, batch, (uint16_t)nb);
}

static void
rx_one(struct sx_port_fault *w, struct sx_frame *f)
{
	struct sx_fault_dirstate *d = &w->dir[SX_FAULT_RX];
	struct sx_port_stats *st = &w->port.stats;
	struct sx_frame dup;
	bool have_dup = false;

	if (sx_rng_chance(&w->rng, d->p.drop)) {
		rx_release(w, f, 1);
		st->fault_drop[SX_FAULT_RX]++;
		return;
	}
	if (sx_rng_chance(&w->rng, d->p.corrupt) && corrupt(w, f))
		st->fault_corrupt[SX_FAULT_RX]++;
	if (sx_rng_chance(&w->rng, d->p.ecn) && mark_ce(f))
		st->fault_ecn[SX_FAULT_RX]++;
	if (sx_rng_chance(&w->rng, d->p.duplicate) && rx_dup(w, f, &dup)) {
		have_dup = true;
		st->fault_duplicate[SX_FAULT_RX]++;
	}
	if (!maybe_hold(w, SX_FAULT_RX, f))
		emit(d, f);
	if (have_dup)
		emit(d, &dup);
}

/* Moves up to @p n frames from the rx queue to @p f. */
static uint16_t
rx_deliver(struct sx_port_fault *w, struct sx_frame *f, uint16_t n)
{
	struct sx_fault_dirstate *d = &w->dir[SX_FAULT_RX];
	uint16_t i;

	for (i = 0; i < n && d->qcount > 0; i++) {
		f[i] = d->q[d->qhead];
		d->qhead = (d->qhead + 1) % SX_FAULT_QUEUE;
		d->qcount--;
		w->port.stats.rx_frames++;
		w->port.stats.rx_bytes += f[i].len;
	}
	if (d->qcount == 0)
		d->qhead = 0;
	return i;
}

static uint16_t
fault_rx_burst(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	struct sx_port_fault *w = fault_of(port);
	struct sx_fault_dirstate *d = &w->dir[SX_FAULT_RX];
	struct sx_frame in[SX_FAULT_CHUNK];
	uint16_t got, want, nin, i;

	w->calls++;
	tx_service(w);
	if (!d->active && d->qcount == 0 && d->nheld == 0) {
		got = sx_port_rx(w->inner, f, n);
		for (i = 0; i < got; i++)
			port->stats.rx_bytes += f[i].len;
		port->stats.rx_frames += got;
		return got;
	}
	got = rx_deliver(w, f, n);
	if (d->qcount > 0)
		return got;
	/* The queue is empty: it has room for a chunk, its duplicates and
	 * every held frame. */
	want = n - got < SX_FAULT_CHUNK ? n - got : SX_FAULT_CHUNK;
	nin = want > 0 ? sx_port_rx(w->inner, in, want) : 0;
	for (i = 0; i < nin; i++)
		rx_one(w, &in[i]);
	release_stale(d, w->calls);
	return got + rx_deliver(w, f + got, n - got);
}

static void
fault_rx_done(struct sx_port *port, struct sx_frame *f, uint16_t n)
{
	rx_release(fault_of(port), f, n);
}

/* ------------------------------------------------------------------------ */

static void
fault_close(struct sx_port *port)
{
	struct sx_port_fault *w = fault_of(port);
	struct sx_fault_dirstate *tx = &w->dir[SX_FAULT_TX];
	struct sx_fault_dirstate *rx = &w->dir[SX_FAULT_RX];
	int tries;

	/* Held tx frames were taken from the caller: send them. The inner port
	 * may be full (a peer that stopped polling); after a bounded number of
	 * attempts what is left is freed and counted. */
	release_all(tx);
	for (tries = 0; tries < SX_FAULT_CLOSE_TRIES && !tx_push(w); tries++)
		;
	/* Delayed frames go now, not at their time: the port is closing. */
	for (tries = 0; tries < SX_FAULT_CLOSE_TRIES && w->dl_count > 0; tries++) {
		while (w->dl_count > 0 && sx_port_tx(w->inner, &w->dl[w->dl_head].f, 1) == 1) {
			w->dl_head = (w->dl_head + 1) % SX_FAULT_DELAY_MAX;
			w->dl_count--;
		}
	}
	while (w->dl_count > 0) {
		sx_port_tx_free(w->inner, &w->dl[w->dl_head].f, 1);
		w->dl_head = (w->dl_head + 1) % SX_FAULT_DELAY_MAX;
		w->dl_count--;
		port->stats.tx_drop++;
	}
	free(w->dl);
	while (tx->qcount > 0) {
		sx_port_tx_free(w->inner, &tx->q[tx->qhead], 1);
		tx->qhead = (tx->qhead + 1) % SX_FAULT_QUEUE;
		tx->qcount--;
		port->stats.tx_drop++;
	}
	/* Held rx frames can no longer be delivered. */
	release_all(rx);
	while (rx->qcount > 0) {
		rx_release(w, &rx->q[rx->qhead], 1);
		rx->qhead = (rx->qhead + 1) % SX_FAULT_QUEUE;
		rx->qcount--;
		port->stats.rx_drop++;
	}
	/* Copies the caller never returned: theirs was the bug, ours the leak. */
	while (w->ncopies > 0)
		free(w->copies[--w->ncopies]);
	sx_port_close(w->inner);
	free(w);
}

/* Capture is the inner port's: frames as the device carries them. */
static int
fault_capture(struct sx_port *port, const char *path)
{
	return sx_port_capture(fault_of(port)->inner, path);
}

static const struct sx_port_ops sx_fault_ops = {
	.name = "fault",
	.rx_burst = fault_rx_burst,
	.rx_done = fault_rx_done,
	.tx_alloc = fault_tx_alloc,
	.tx_burst = fault_tx_burst,
	.tx_free = fault_tx_free,
	.close = fault_close,
	.capture = fault_capture,
};

static bool
fault_dir_valid(const struct sx_fault_dir *d)
{
	const double p[] = {d->drop, d->reorder, d->duplicate, d->corrupt, d->ecn};
	size_t i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if (!(p[i] >= 0.0 && p[i] <= 1.0)) /* also rejects NaN */
			return false;
	return d->delay_ns <= SX_FAULT_DELAY_MAX_NS && d->jitter_ns <= d->delay_ns;
}

static bool
fault_dir_delays(const struct sx_fault_dir *d)
{
	return d->delay_ns != 0 || d->jitter_ns != 0 || d->rate_bps != 0;
}

static bool
fault_dir_active(const struct sx_fault_dir *d)
{
	return d->drop > 0 || d->reorder > 0 || d->duplicate > 0 || d->corrupt > 0 ||
	       d->ecn > 0 || fault_dir_delays(d);
}

struct sx_port *
sx_port_fault_wrap(struct sx_port *inner, const struct sx_fault_dir *tx,
		   const struct sx_fault_dir *rx, uint64_t seed)
{
	static const struct sx_fault_dir none;
	struct sx_port_fault *w;

	if (inner == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (tx == NULL)
		tx = &none;
	if (rx == NULL)
		rx = &none;
	if (!fault_dir_valid(tx) || !fault_dir_valid(rx) || fault_dir_delays(rx)) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (fault_dir_delays(tx)) {
		w->dl = calloc(SX_FAULT_DELAY_MAX, sizeof(*w->dl));
		if (w->dl == NULL) {
			free(w);
			errno = ENOMEM;
			return NULL;
		}
	}
	w->clock = monotonic_ns;
	w->port.ops = &sx_fault_ops;
	memcpy(w->port.mac, inner->mac, sizeof(w->port.mac));
	w->port.max_frame = inner->max_frame;
	w->inner = inner;
	w->dir[SX_FAULT_TX].p = *tx;
	w->dir[SX_FAULT_TX].active = fault_dir_active(tx);
	w->dir[SX_FAULT_RX].p = *rx;
	w->dir[SX_FAULT_RX].active = fault_dir_active(rx);
	/* xoshiro must not start from all zeros; splitmix64 never yields four
	 * zero words in a row, whatever the seed. */
	sx_rng_seed(&w->rng, seed);
	return &w->port;
}

void
sx_port_fault_set_clock(struct sx_port *port, uint64_t (*now_ns)(void *), void *arg)
{
	struct sx_port_fault *w = fault_of(port);

	w->clock = now_ns != NULL ? now_ns : monotonic_ns;
	w->clock_arg = arg;
}

/* ------------------------------------------------------------------------ */
/* "drop=P,reorder=P,duplicate=P,corrupt=P,ecn=P,delay=T,jitter=T,rate=R"    */

/* A number with one of its units (the whole unit, then the end or a ','). */
struct unit {
	const char *name;
	double scale;
};

/* "<number><unit>" -> *out in the base unit, within [min, max]; -EINVAL
 * without a known unit or out of range. */
static int
parse_with_unit(const char *s, const char **end, const struct unit *units, size_t nunits,
		double min, double max, uint64_t *out)
{
	char *e;
	double v;
	size_t u;

	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &e);
	if (e == s || errno != 0)
		return -EINVAL;
	for (u = 0; u < nunits; u++) {
		size_t n = strlen(units[u].name);

		if (strncmp(e, units[u].name, n) == 0 && (e[n] == '\0' || e[n] == ',')) {
			v *= units[u].scale;
			if (!(v >= min && v <= max))
				return -EINVAL;
			*out = (uint64_t)v;
			*end = e + n;
			return 0;
		}
	}
	return -EINVAL;
}

/* "10ms", "250us", "1.5s", "800ns" -> ns; -EINVAL without a unit. */
static int
parse_time_ns(const char *s, const char **end, uint64_t *out)
{
	static const struct unit units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};

	return parse_with_unit(s, end, units, sizeof(units) / sizeof(units[0]), 0,
			       (double)SX_FAULT_DELAY_MAX_NS, out);
}

/* "10Gbps", "500Mbps", "1e9bps" -> b/s, 1 kb/s .. 10 Tb/s; -EINVAL without a unit. */
static int
parse_rate_bps(const char *s, const char **end, uint64_t *out)
{
	static const struct unit units[] = {
	    {"bps", 1}, {"Kbps", 1e3}, {"Mbps", 1e6}, {"Gbps", 1e9}};

	return parse_with_unit(s, end, units, sizeof(units) / sizeof(units[0]), 1e3, 1e13, out);
}

int
sx_fault_parse(const char *spec, struct sx_fault_dir *dir)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"drop", offsetof(struct sx_fault_dir, drop)},
		{"reorder", offsetof(struct sx_fault_dir, reorder)},
		{"duplicate", offsetof(struct sx_fault_dir, duplicate)},
		{"corrupt", offsetof(struct sx_fault_dir, corrupt)},
		{"ecn", offsetof(struct sx_fault_dir, ecn)},
		{"delay", offsetof(struct sx_fault_dir, delay_ns)},
		{"jitter", offsetof(struct sx_fault_dir, jitter_ns)},
		{"rate", offsetof(struct sx_fault_dir, rate_bps)},
	};
	struct sx_fault_dir out = {0};
	unsigned int seen = 0;
	const char *s = spec;

	if (dir == NULL)
		return -EINVAL;
	if (s == NULL || *s == '\0') {
		*dir = out;
		return 0;
	}
	for (;;) {
		const char *eq = strchr(s, '=');
		size_t klen, k;
		char *end;
		double v;

		if (eq == NULL)
			return -EINVAL;
		klen = (size_t)(eq - s);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strlen(keys[k].key) == klen && memcmp(keys[k].key, s, klen) == 0)
				break;
		/* Unknown or repeated keys are mistakes, not overrides. */
		if (k == sizeof(keys) / sizeof(keys[0]) || (seen & (1u << k)))
			return -EINVAL;
		seen |= 1u << k;
		if (keys[k].off >= offsetof(struct sx_fault_dir, delay_ns)) {
			const char *e;
			uint64_t *dst = (uint64_t *)((char *)&out + keys[k].off);
			int rc = keys[k].off == offsetof(struct sx_fault_dir, rate_bps)
					 ? parse_rate_bps(eq + 1, &e, dst)
					 : parse_time_ns(eq + 1, &e, dst);

			if (rc < 0)
				return rc;
			if (*e == '\0')
				break;
			s = e + 1;
			continue;
		}
		/* A plain decimal: strtod alone would also take " 1", "+1",
		 * "nan" and "inf". */
		if (!((eq[1] >= '0' && eq[1] <= '9') || eq[1] == '.'))
			return -EINVAL;
		errno = 0;
		v = strtod(eq + 1, &end);
		if (end == eq + 1 || errno != 0 || !(v >= 0.0 && v <= 1.0))
			return -EINVAL;
		*(double *)((char *)&out + keys[k].off) = v;
		if (*end == '\0')
			break;
		if (*end != ',')
			return -EINVAL;
		s = end + 1;
	}
	if (out.jitter_ns > out.delay_ns)
		return -EINVAL;
	*dir = out;
	return 0;
}
