/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scalex-perf: perftest for scalex (ib_write_bw, ib_read_bw, ib_send_bw,
 * ib_write_lat, ib_send_lat, ib_atomic_lat in one binary), two processes
 * joined by a DPDK device and a TCP bootstrap connection.
 *
 *   server: scalex-perf write_bw --server [options] [-- EAL args]
 *   client: scalex-perf write_bw --connect HOST [options] [-- EAL args]
 *
 * Bandwidth is measured on the client, the requester: from its first post
 * to its last completion, payload bytes only (as perftest). Latency is a
 * ping-pong (both sides send, each waits for the other's message) reported
 * as half the round trip, like ib_send_lat and ib_write_lat; atomic_lat
 * reports whole fetch-and-add round trips, like ib_atomic_lat. The server
 * prints the client's numbers, received over the bootstrap connection.
 *
 * Buffers: one registered buffer per process, two halves: targets (what the
 * peer writes, or what READs fill) and sources, one region per QP in each.
 * Messages cycle through the slots of a region so that --verify checks more
 * than one copy of one message; targets are zeroed before every size.
 *
 * Shutdown is orderly, because a memif peer that is still polling when the
 * other side closes can crash: each side finishes its part, then keeps the
 * port moving until the peer has said it is finished too ("fin"); then
 * neither polls, they agree on "done", the client closes its device and
 * says "closed", and only then the server closes its own.
 *
 * Every wait on the peer is bounded by --peer-timeout: connecting, each
 * bootstrap line, and silence (no frame, no line) while the peer should be
 * sending; a side that gives up says what it waited for and fails.
 *
 * Exit status: 0 pass, 1 completion error / failed verification / peer
 * failure or timeout / setup error, 2 usage, 128+N stopped by signal N.
 *
 * Units: sizes in bytes, times in ns unless named _us, _ms or _s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <isa-l/crc64.h>
#include <rte_eal.h>
#include <rte_ethdev.h>

#include <scalex/bootstrap.h>
#include <scalex/control.h>
#include <scalex/scalex.h>
#include <scalex/stats.h>

#include "common/tool.h"

#define PROG "scalex-perf"

enum perf_mode {
	MODE_WRITE_BW,
	MODE_READ_BW,
	MODE_SEND_BW,
	MODE_WRITE_LAT,
	MODE_SEND_LAT,
	MODE_ATOMIC_LAT,
	MODE_MAX,
};

static const struct sx_tool_mode perf_modes[MODE_MAX] = {
    [MODE_WRITE_BW] = {"write_bw", SX_TOOL_BW, 65536, 5000, false, false,
                       "RDMA WRITE bandwidth, client to server (ib_write_bw)"},
    [MODE_READ_BW] = {"read_bw", SX_TOOL_BW, 65536, 5000, false, false,
                      "RDMA READ bandwidth, client reads the server (ib_read_bw)"},
    [MODE_SEND_BW] = {"send_bw", SX_TOOL_BW, 65536, 5000, false, false,
                      "SEND bandwidth, the server posts receives (ib_send_bw)"},
    [MODE_WRITE_LAT] = {"write_lat", SX_TOOL_LAT, 2, 1000, false, true,
                        "RDMA WRITE ping-pong polling the last byte (ib_write_lat)"},
    [MODE_SEND_LAT] = {"send_lat", SX_TOOL_LAT, 2, 1000, false, true,
                       "SEND ping-pong (ib_send_lat)"},
    [MODE_ATOMIC_LAT] = {"atomic_lat", SX_TOOL_LAT, 8, 1000, true, true,
                         "fetch-and-add round trips (ib_atomic_lat)"},
};

static const char *const perf_titles[MODE_MAX] = {
    [MODE_WRITE_BW] = "RDMA_Write BW Test",
    [MODE_READ_BW] = "RDMA_Read BW Test",
    [MODE_SEND_BW] = "Send BW Test",
    [MODE_WRITE_LAT] = "RDMA_Write Latency Test",
    [MODE_SEND_LAT] = "Send Latency Test",
    [MODE_ATOMIC_LAT] = "Atomic FETCH_AND_ADD Latency Test",
};

static const struct sx_tool_spec perf_spec = {
    .prog = PROG,
    .summary = "perftest-style benchmark of scalex RC transport over a DPDK device",
    .modes = perf_modes,
    .nmodes = MODE_MAX,
};

#define LINK_WAIT_MS   10000
/* What the open agreement allows the peer, beyond --peer-timeout, to start
 * its device (hot-plug, mempools, EAL memory under --no-huge: seconds on a
 * loaded machine, more under a sanitizer). */
#define DEVICE_OPEN_MS 20000
/* Receives kept posted beyond the send queue depth (send_bw server). */
#define RQ_EXTRA 64
/* Receives kept posted by each side of a ping-pong. */
#define PINGPONG_RQ 16
#define POST_BATCH  32
#define POLL_BATCH  64
/* Loop turns between looks at the bootstrap socket (a poll() call). */
#define PEER_CHECK_MASK 1023u
/* How long a side waits for messages after the peer said it finished. */
#define FIN_GRACE_NS 30000000000ull
/* A QP's region (in each half of the buffer) holds tx-depth messages, but
 * all QPs' regions together at most this many bytes (or one message). */
#define REGION_CAP_BYTES (16u << 20)
/* -a without -n: at most this many bytes per size. */
#define ALL_SIZES_BYTES     (256ull << 20)
#define ALL_SIZES_MIN_ITERS 16
#define PAGE_BYTES          4096
/* wr_id: QP index above, sequence below; receives flagged. */
#define WRID_QP_SHIFT 40
#define WRID_RECV     (1ull << 63)

enum fin_status {
	FIN_OK = 0,
	FIN_FAILED = 1,
};

struct perf {
	struct sx_tool_opts *o;
	enum perf_mode mode;
	struct sx_context *ctx;
	struct sx_ctl *ctl; /* control socket, telemetry, --prom-port */
	struct sx_pd *pd;
	struct sx_cq *cq;
	struct sx_qp *qp[SX_TOOL_MAX_QPS];
	struct sx_mr *mr;
	uint8_t *buf;
	size_t region; /* bytes per QP in each half of buf */
	size_t buf_len;
	struct sx_boot_qp local[SX_TOOL_MAX_QPS];
	struct sx_boot_qp remote[SX_TOOL_MAX_QPS];
	int fd;
	bool eal_up;
	bool failed;          /* this side saw an error: the test stops */
	bool late_failed;     /* an error while draining after "fin": reported at exit */
	uint32_t verified;    /* sizes whose checksums matched */
	bool peer_fin;        /* the peer's "fin" of this phase has been read */
	uint64_t peer_status; /* ... and what it said (enum fin_status) */
	uint64_t peer_fin_ns;
	bool boot_broken;      /* the bootstrap connection failed or timed out */
	bool link_seen;        /* the link came up: no memif handshake in progress */
	bool peer_opened;      /* the peer said it opened its device */
	uint64_t heard_ns;     /* when the peer was last heard from */
	uint64_t heard_frames; /* frames received by then */
	uint32_t spin;
	struct sx_tool_report rep;

	/* the size being run */
	uint32_t size;
	uint64_t iters; /* per QP; 0: duration */
	uint32_t slots; /* messages per region before reuse */
	bool write_imm; /* write_lat with SR: completion instead of last byte */
	uint64_t sent[SX_TOOL_MAX_QPS];    /* messages this side sent (or READs issued) */
	uint64_t done[SX_TOOL_MAX_QPS];    /* ... and completed */
	uint64_t rposted[SX_TOOL_MAX_QPS]; /* receives posted for this size */
	uint64_t rdone[SX_TOOL_MAX_QPS];
	bool atomic_bad; /* a fetch-and-add returned an unexpected value */
	struct sx_tool_bw bw;
	struct sx_tool_lat lat;
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static bool
is_client(const struct perf *p)
{
	return !p->o->server;
}

static uint8_t *
tgt(const struct perf *p, uint32_t q)
{
	return p->buf + (size_t)q * p->region;
}

static uint8_t *
src(const struct perf *p, uint32_t q)
{
	return p->buf + ((size_t)p->o->qps + q) * p->region;
}

static uint64_t
remote_tgt(const struct perf *p, uint32_t q)
{
	return p->remote[q].addr + (uint64_t)q * p->region;
}

static uint64_t
remote_src(const struct perf *p, uint32_t q)
{
	return p->remote[q].addr + ((uint64_t)p->o->qps + q) * p->region;
}

/* A failed bootstrap step: what it waited for, and why it stopped. Further
 * bootstrap waits are skipped (each would wait the whole timeout again). */
static void
boot_error(struct perf *p, const char *what, int rc)
{
	if (rc == -ETIMEDOUT)
		fprintf(stderr,
		        PROG ": bootstrap: no answer from the peer within %.3g s "
		             "(waiting for %s)\n",
		        p->o->peer_timeout_ms / 1000.0, what);
	else if (rc == -EINTR)
		fprintf(stderr, PROG ": bootstrap (%s): interrupted\n", what);
	else
		fprintf(stderr, PROG ": bootstrap (%s): %s\n", what, strerror(-rc));
	p->boot_broken = true;
	p->failed = true;
}

static int
boot_ms(const struct perf *p)
{
	return (int)p->o->peer_timeout_ms;
}

/* Frames this side has received: the peer's sign of life on the link. */
static uint64_t
rx_frames(const struct perf *p)
{
	uint64_t v = 0;

	if (p->ctx != NULL)
		sx_stats_get(p->ctx, SX_STATS_ENGINE, 0, "rx_frames", &v);
	return v;
}

static void
heard_now(struct perf *p)
{
	p->heard_ns = sx_tool_now_ns();
	p->heard_frames = rx_frames(p);
}

/*
 * A peer that is frozen (SIGSTOP, a hung host) neither sends frames nor
 * closes its socket. Silence for longer than --peer-timeout while this side
 * waits for @p what counts as the peer's failure: says so and marks its
 * "fin" as a failure, so that every loop that waits for the peer stops.
 */
static bool
peer_silent(struct perf *p, const char *what)
{
	uint64_t now = sx_tool_now_ns(), rx = rx_frames(p);

	if (rx != p->heard_frames) {
		p->heard_frames = rx;
		p->heard_ns = now;
		return false;
	}
	if (now - p->heard_ns <= (uint64_t)p->o->peer_timeout_ms * 1000000ull)
		return false;
	fprintf(stderr,
	        PROG ": the peer sent nothing for %.3g s (waiting for %s): "
	             "giving up on it\n",
	        p->o->peer_timeout_ms / 1000.0, what);
	p->peer_status = FIN_FAILED;
	p->peer_fin = true;
	p->peer_fin_ns = now;
	p->boot_broken = true;
	p->failed = true;
	return true;
}

/*
 * Has the peer said "fin" (or gone away)? Reads the fin when the socket
 * has something, looking only every PEER_CHECK_MASK + 1 turns unless
 * @p now: a poll() is a system call.
 */
static bool
peer_fin(struct perf *p, bool now, const char *what)
{
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	int rc;

	if (p->peer_fin)
		return true;
	if (!now && (++p->spin & PEER_CHECK_MASK) != 0)
		return false;
	if (poll(&pfd, 1, 0) <= 0)
		return peer_silent(p, what);
	rc = sx_boot_recv_u64(p->fd, "fin", &p->peer_status, boot_ms(p));
	if (rc < 0) {
		boot_error(p, "the peer's fin", rc);
		p->peer_status = FIN_FAILED;
	}
	p->peer_fin = true;
	p->peer_fin_ns = sx_tool_now_ns();
	return true;
}

/*
 * SIGINT / SIGTERM: the run stops as a failure, through the orderly
 * shutdown (a memif peer must not see this side vanish while it polls).
 * A second signal kills (SA_RESETHAND). A signal flag cannot live in a
 * context: it is the one global.
 */
static volatile sig_atomic_t perf_signalled; /* the signal's number */

static void
on_signal(int sig)
{
	perf_signalled = sig;
}

static bool
interrupted(struct perf *p)
{
	if (!perf_signalled)
		return false;
	if (!p->failed)
		fprintf(stderr, PROG ": interrupted\n");
	p->failed = true;
	return true;
}

/*
 * Should a side that still expects traffic give up? Yes if the peer
 * failed. A peer that finished well may have its last messages still in
 * flight (a 4 MiB pong is slower than a TCP line): wait for them, but not
 * for ever. Sets p->failed when giving up.
 */
static bool
peer_abort(struct perf *p)
{
	if (interrupted(p))
		return true;
	if (!peer_fin(p, false, "the peer's messages"))
		return false;
	if (p->peer_status != FIN_OK) {
		if (!p->boot_broken)
			fprintf(stderr, PROG ": the peer failed\n");
		p->failed = true;
		return true;
	}
	if (sx_tool_now_ns() - p->peer_fin_ns > FIN_GRACE_NS) {
		fprintf(stderr,
		        PROG ": the peer finished %llu s ago and its last messages "
		             "have not arrived\n",
		        FIN_GRACE_NS / 1000000000ull);
		p->failed = true;
		return true;
	}
	return false;
}

static void
wc_error(struct perf *p, const struct sx_wc *wc)
{
	fprintf(stderr,
	        PROG ": QP 0x%x: work completion error: %s (status %d, vendor_err 0x%x, "
	             "opcode %d, wr_id 0x%" PRIx64 ")\n",
	        wc->qp_num, sx_wc_status_str(wc->status), (int)wc->status, wc->vendor_err,
	        (int)wc->opcode, wc->wr_id);
	p->failed = true;
}

static uint32_t
wrid_qp(uint64_t wr_id)
{
	return (uint32_t)((wr_id & ~WRID_RECV) >> WRID_QP_SHIFT);
}

/* ------------------------------------------------------------------------ */
/* Posting                                                                   */

/* Post @p wr, waiting (and polling) while the send queue is full. */
static int
post_send(struct perf *p, uint32_t q, struct sx_send_wr *wr)
{
	struct sx_send_wr *bad;
	int rc;

	while ((rc = sx_post_send(p->qp[q], wr, &bad)) == -ENOMEM && !p->failed &&
	       !peer_abort(p))
		sx_progress(p->ctx);
	if (rc < 0 && !p->failed)
		fprintf(stderr, PROG ": QP 0x%x: post send: %s\n", sx_qp_num(p->qp[q]),
		        strerror(-rc));
	if (rc < 0)
		p->failed = true;
	return rc;
}

/*
 * One receive on QP @p q into slot @p slot of its target region (no
 * scatter entry for a WRITE with immediate). A size posts exactly the
 * receives it consumes (with -n): one left over would take the next size's
 * first message at this size's slot layout, or be too short for it.
 */
static int
post_recv(struct perf *p, uint32_t q, uint32_t slot, bool empty)
{
	if (p->iters != 0 && p->rposted[q] >= p->iters)
		return 0;

	struct sx_sge sge = {
	    .addr = (uintptr_t)(tgt(p, q) + (size_t)slot * p->size),
	    .length = p->size,
	    .lkey = p->mr->lkey,
	};
	struct sx_recv_wr wr = {
	    .wr_id = WRID_RECV | (uint64_t)q << WRID_QP_SHIFT | p->rposted[q],
	    .sg_list = &sge,
	    .num_sge = empty ? 0 : 1,
	};
	struct sx_recv_wr *bad;
	int rc = sx_post_recv(p->qp[q], &wr, &bad);

	if (rc < 0) {
		fprintf(stderr, PROG ": QP 0x%x: post receive: %s\n", sx_qp_num(p->qp[q]),
		        strerror(-rc));
		p->failed = true;
		return rc;
	}
	p->rposted[q]++;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Bandwidth                                                                 */

/* The client: keep tx_depth messages in flight on every QP. */
static void
bw_client(struct perf *p)
{
	const struct sx_tool_opts *o = p->o;
	struct sx_send_wr wr[POST_BATCH];
	struct sx_sge sge[POST_BATCH];
	struct sx_wc wc[POLL_BATCH];
	uint64_t start = sx_tool_now_ns(), now = start;
	uint64_t deadline = start + (uint64_t)(o->duration_s * 1e9);
	bool posting = true;
	uint32_t q;
	int n, i;

	sx_tool_bw_start(&p->bw, start);
	for (;;) {

		if (p->iters == 0 && now >= deadline)
			posting = false;
		for (q = 0; posting && q < o->qps; q++) {
			uint32_t k = 0;

			while (k < POST_BATCH &&
			       p->sent[q] + k - p->done[q] < o->tx_depth &&
			       (p->iters == 0 || p->sent[q] + k < p->iters)) {
				uint64_t seq = p->sent[q] + k;
				size_t off = (size_t)(seq % p->slots) * p->size;

				memset(&wr[k], 0, sizeof(wr[k]));
				wr[k].wr_id = (uint64_t)q << WRID_QP_SHIFT | seq;
				wr[k].sg_list = &sge[k];
				wr[k].num_sge = 1;
				wr[k].send_flags = SX_SEND_SIGNALED;
				sge[k].length = p->size;
				sge[k].lkey = p->mr->lkey;
				switch (p->mode) {
				case MODE_READ_BW:
					wr[k].opcode = SX_WR_RDMA_READ;
					sge[k].addr = (uintptr_t)(tgt(p, q) + off);
					wr[k].wr.rdma.remote_addr =
					    remote_src(p, q) + off;
					wr[k].wr.rdma.rkey = p->remote[q].rkey;
					break;
				case MODE_SEND_BW:
					wr[k].opcode = SX_WR_SEND;
					sge[k].addr = (uintptr_t)(src(p, q) + off);
					break;
				default:
					wr[k].opcode = SX_WR_RDMA_WRITE;
					sge[k].addr = (uintptr_t)(src(p, q) + off);
					wr[k].wr.rdma.remote_addr =
					    remote_tgt(p, q) + off;
					wr[k].wr.rdma.rkey = p->remote[q].rkey;
					break;
				}
				if (k > 0)
					wr[k - 1].next = &wr[k];
				k++;
			}
			if (k == 0)
				continue;
			if (post_send(p, q, wr) < 0)
				return;
			p->sent[q] += k;
		}
		n = sx_poll_cq(p->cq, POLL_BATCH, wc);
		now = sx_tool_now_ns();
		for (i = 0; i < n; i++) {
			if (wc[i].status != SX_WC_SUCCESS) {
				wc_error(p, &wc[i]);
				return;
			}
			q = wrid_qp(wc[i].wr_id);
			if (q >= o->qps)
				continue;
			p->done[q]++;
			if (sx_tool_bw_add(&p->bw, now, p->size, 1) < 0) {
				fprintf(stderr, PROG ": out of memory\n");
				p->failed = true;
				return;
			}
		}
		for (q = 0; q < o->qps; q++)
			if (p->done[q] != p->sent[q] ||
			    (p->iters == 0 ? posting : p->sent[q] != p->iters))
				break;
		if (q == o->qps || peer_abort(p))
			return;
	}
}

/* The server: respond until the client is finished; for send_bw keep every
 * QP's receive queue full. */
static void
bw_server(struct perf *p)
{
	const struct sx_tool_opts *o = p->o;
	struct sx_wc wc[POLL_BATCH];
	uint32_t q;
	int n, i;

	for (;;) {
		n = sx_poll_cq(p->cq, POLL_BATCH, wc);
		for (i = 0; i < n; i++) {
			if (wc[i].status != SX_WC_SUCCESS) {
				wc_error(p, &wc[i]);
				return;
			}
			q = wrid_qp(wc[i].wr_id);
			if (!(wc[i].wr_id & WRID_RECV) || q >= o->qps)
				continue;
			p->rdone[q]++;
			if (post_recv(p, q, (uint32_t)(p->rposted[q] % p->slots), false) <
			    0)
				return;
		}
		if (interrupted(p) || peer_fin(p, false, "the client's messages or fin"))
			return;
	}
}

/* ------------------------------------------------------------------------ */
/* Latency                                                                   */

/* The value the last byte of ping-pong message @p i carries: never 0 (the
 * zeroed buffer), never the previous message's. */
static uint8_t
pingpong_mark(uint64_t i)
{
	return (uint8_t)(i % 255 + 1);
}

/* Wait for the peer's message @p i: a receive completion, or (write_lat
 * over go-back-N) the last byte of the target. false: stop. */
static bool
wait_message(struct perf *p, uint64_t i)
{
	volatile const uint8_t *last = tgt(p, 0) + p->size - 1;
	bool by_byte = p->mode == MODE_WRITE_LAT && !p->write_imm;
	struct sx_wc wc[1];
	int n, k;

	for (;;) {
		if (by_byte && *last == pingpong_mark(i))
			return true;
		/* Progress; unsignaled sends complete here only when they fail.
		 * One at a time: this returns at the first receive. */
		n = sx_poll_cq(p->cq, 1, wc);
		for (k = 0; k < n; k++) {
			if (wc[k].status != SX_WC_SUCCESS) {
				wc_error(p, &wc[k]);
				return false;
			}
			if (wc[k].wr_id & WRID_RECV) {
				p->rdone[0]++;
				if (post_recv(p, 0, 0, p->write_imm) < 0)
					return false;
				if (!by_byte)
					return true;
			}
		}
		/* A server running for a duration stops at the client's fin. */
		if (p->o->server && p->iters == 0
		        ? interrupted(p) ||
		              peer_fin(p, false, "the client's messages or fin")
		        : peer_abort(p))
			return false;
	}
}

static bool
send_message(struct perf *p, uint64_t i)
{
	struct sx_sge sge = {
	    .addr = (uintptr_t)src(p, 0),
	    .length = p->size,
	    .lkey = p->mr->lkey,
	};
	struct sx_send_wr wr = {
	    .wr_id = i,
	    .sg_list = &sge,
	    .num_sge = 1,
	};

	/* The mark travels in the last byte, so the source holds it too. */
	src(p, 0)[p->size - 1] = pingpong_mark(i);
	if (p->mode == MODE_SEND_LAT) {
		wr.opcode = SX_WR_SEND;
	} else {
		wr.opcode = p->write_imm ? SX_WR_RDMA_WRITE_WITH_IMM : SX_WR_RDMA_WRITE;
		wr.wr.rdma.remote_addr = remote_tgt(p, 0);
		wr.wr.rdma.rkey = p->remote[0].rkey;
	}
	if (post_send(p, 0, &wr) < 0)
		return false;
	p->sent[0]++;
	return true;
}

/* send_lat and write_lat: the client sends first and times round trips. */
static void
pingpong(struct perf *p)
{
	uint64_t deadline = sx_tool_now_ns() + (uint64_t)(p->o->duration_s * 1e9);
	uint64_t i;

	for (i = 0; p->iters == 0 || i < p->iters; i++) {
		uint64_t t0 = sx_tool_now_ns();

		if (is_client(p)) {
			if (p->iters == 0 && t0 >= deadline)
				return;
			if (!send_message(p, i) || !wait_message(p, i))
				goto early;
			if (sx_tool_lat_add(&p->lat, sx_tool_now_ns() - t0) < 0) {
				fprintf(stderr, PROG ": out of memory\n");
				p->failed = true;
				return;
			}
		} else {
			if (!wait_message(p, i)) {
				/* A server running for a duration stops at the
				 * client's "fin". */
				if (p->iters == 0 && !p->failed)
					return;
				goto early;
			}
			if (!send_message(p, i))
				goto early;
		}
		p->done[0]++;
	}
	return;
early:
	p->failed = true;
}

/* atomic_lat client: fetch-and-add 1 on the server's counter, one at a
 * time; each answer must be the number of adds before it. */
static void
atomic_client(struct perf *p)
{
	uint64_t deadline = sx_tool_now_ns() + (uint64_t)(p->o->duration_s * 1e9);
	volatile uint64_t *result = (volatile uint64_t *)src(p, 0);
	struct sx_sge sge = {
	    .addr = (uintptr_t)src(p, 0),
	    .length = 8,
	    .lkey = p->mr->lkey,
	};
	struct sx_wc wc[POLL_BATCH];
	uint64_t i;
	int n, k;

	for (i = 0; p->iters == 0 || i < p->iters; i++) {
		struct sx_send_wr wr = {
		    .wr_id = i,
		    .sg_list = &sge,
		    .num_sge = 1,
		    .opcode = SX_WR_ATOMIC_FETCH_AND_ADD,
		    .send_flags = SX_SEND_SIGNALED,
		    .wr.atomic = {.remote_addr = remote_tgt(p, 0),
		                  .compare_add = 1,
		                  .rkey = p->remote[0].rkey},
		};
		uint64_t t0 = sx_tool_now_ns();
		bool got = false;

		if (p->iters == 0 && t0 >= deadline)
			return;
		*result = UINT64_MAX;
		if (post_send(p, 0, &wr) < 0)
			return;
		p->sent[0]++;
		while (!got) {
			n = sx_poll_cq(p->cq, POLL_BATCH, wc);
			for (k = 0; k < n; k++) {
				if (wc[k].status != SX_WC_SUCCESS) {
					wc_error(p, &wc[k]);
					return;
				}
				got = true;
			}
			if (!got && peer_abort(p))
				return;
		}
		if (sx_tool_lat_add(&p->lat, sx_tool_now_ns() - t0) < 0) {
			p->failed = true;
			return;
		}
		if (*result != i && !p->atomic_bad) {
			fprintf(stderr,
			        PROG ": fetch-and-add %" PRIu64 " returned %" PRIu64 "\n",
			        i, *result);
			p->atomic_bad = true;
		}
		p->done[0]++;
	}
}

/* ------------------------------------------------------------------------ */
/* One size: prepare, run, finish, verify, report                            */

static uint64_t
iters_for(const struct perf *p, uint32_t size)
{
	const struct sx_tool_opts *o = p->o;
	uint64_t n;

	if (o->duration_s > 0)
		return 0;
	if (o->iters_given || !o->all_sizes)
		return o->iters;
	/* -a without -n: large sizes would run for minutes. */
	n = ALL_SIZES_BYTES / size;
	if (n < ALL_SIZES_MIN_ITERS)
		n = ALL_SIZES_MIN_ITERS;
	return n < o->iters ? n : o->iters;
}

static int
prepare(struct perf *p, uint32_t size, uint64_t iters)
{
	const struct sx_tool_opts *o = p->o;
	uint64_t s = p->region / size;
	uint32_t q, i;

	p->size = size;
	p->iters = iters;
	p->slots = (uint32_t)(s < o->tx_depth ? s : o->tx_depth);
	if (p->slots == 0)
		p->slots = 1;
	p->write_imm = p->mode == MODE_WRITE_LAT && o->rel == SX_REL_SR && size > o->mtu;
	memset(p->sent, 0, sizeof(p->sent));
	memset(p->done, 0, sizeof(p->done));
	memset(p->rposted, 0, sizeof(p->rposted));
	memset(p->rdone, 0, sizeof(p->rdone));
	p->atomic_bad = false;
	sx_tool_lat_fini(&p->lat);
	for (q = 0; q < o->qps; q++)
		memset(tgt(p, q), 0, p->region);

	/* Receives: a queue's worth for a send_bw server, a few for each
	 * side of a ping-pong; reposted as they complete. */
	for (q = 0; q < o->qps; q++) {
		uint64_t want = 0;

		if (p->mode == MODE_SEND_BW && !is_client(p))
			want = o->tx_depth + RQ_EXTRA;
		else if (p->mode == MODE_SEND_LAT || p->write_imm)
			want = PINGPONG_RQ;
		for (i = 0; i < want; i++)
			if (post_recv(p, q,
			              p->mode == MODE_SEND_BW
			                  ? (uint32_t)(p->rposted[q] % p->slots)
			                  : 0,
			              p->write_imm) < 0)
				return -1;
	}
	return 0;
}

/* Tell the peer this side is finished and keep the port moving until the
 * peer is too: its last packets may still need our ACKs or responses. */
static int
finish(struct perf *p, uint64_t *peer_status)
{
	struct sx_wc wc[POLL_BATCH];
	int rc, n, k;

	if (p->boot_broken)
		return -EPIPE;
	rc = sx_boot_send_u64(p->fd, "fin", p->failed ? FIN_FAILED : FIN_OK, boot_ms(p));
	if (rc < 0) {
		boot_error(p, "sending our fin", rc);
		return rc;
	}
	/* The peer answers within the timeout: its fin, or frames. */
	heard_now(p);
	while (!peer_fin(p, true, "the peer's fin")) {
		n = sx_poll_cq(p->cq, POLL_BATCH, wc);
		/* The peer has been told how this side did: an error now
		 * fails the run, but the exchange goes on as agreed. */
		for (k = 0; k < n; k++) {
			if (wc[k].status != SX_WC_SUCCESS && !p->failed) {
				wc_error(p, &wc[k]);
				p->failed = false;
				p->late_failed = true;
			}
		}
	}
	*peer_status = p->peer_status;
	p->peer_fin = false;
	return p->boot_broken ? -EPIPE : 0;
}

/* CRC-64 of @p len zero bytes after @p crc. */
static uint64_t
crc_zeros(uint64_t crc, size_t len)
{
	static const uint8_t zeros[PAGE_BYTES];

	while (len > 0) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);

		crc = crc64_ecma_refl(crc, zeros, n);
		len -= n;
	}
	return crc;
}

/* Does this side source data in this mode / receive it? */
static bool
sends_data(const struct perf *p)
{
	switch (p->mode) {
	case MODE_WRITE_BW:
	case MODE_SEND_BW:
	case MODE_ATOMIC_LAT:
		return is_client(p);
	case MODE_READ_BW:
		return !is_client(p);
	default:
		return true;
	}
}

static bool
receives_data(const struct perf *p)
{
	switch (p->mode) {
	case MODE_WRITE_BW:
	case MODE_SEND_BW:
	case MODE_ATOMIC_LAT:
		return !is_client(p);
	case MODE_READ_BW:
		return is_client(p);
	default:
		return true;
	}
}

/*
 * What the peer's target must hold if everything this side sent landed
 * where it should and nothing else did: for each QP region, the first
 * min(messages, slots) slots of the source, zeros after. atomic_lat: the
 * counter, i.e. the number of adds.
 */
static uint64_t
expected_crc(const struct perf *p, const uint64_t *count)
{
	uint64_t crc = 0;
	uint32_t q;

	if (p->mode == MODE_ATOMIC_LAT)
		return count[0];
	for (q = 0; q < p->o->qps; q++) {
		uint64_t used = count[q] < p->slots ? count[q] : p->slots;
		size_t len = (size_t)used * p->size;

		if (p->mode == MODE_WRITE_LAT || p->mode == MODE_SEND_LAT)
			len = count[q] ? p->size : 0; /* one slot, rewritten */
		crc = crc64_ecma_refl(crc, src(p, q), len);
		crc = crc_zeros(crc, p->region - len);
	}
	return crc;
}

/* The whole target half of the buffer, every byte. atomic_lat: the counter. */
static uint64_t
actual_crc(const struct perf *p)
{
	if (p->mode == MODE_ATOMIC_LAT)
		return *(const uint64_t *)tgt(p, 0);
	return crc64_ecma_refl(0, tgt(p, 0), p->region * p->o->qps);
}

/*
 * Exchange message counts, then (with --verify) checksums. The counts are
 * the client's: it issues every READ, and it decides when a -D run ends.
 * Returns 0, 1 for a failed verification, -1 for a bootstrap error.
 */
static int
settle(struct perf *p)
{
	const struct sx_tool_opts *o = p->o;
	uint64_t count[SX_TOOL_MAX_QPS], exp = 0, act = 0, peer_exp, peer_act;
	bool bad = false;
	uint32_t q;
	int rc = 0;

	for (q = 0; q < o->qps && rc == 0; q++) {
		if (is_client(p)) {
			count[q] = p->done[q];
			rc = sx_boot_send_u64(p->fd, "count", count[q], boot_ms(p));
		} else {
			rc = sx_boot_recv_u64(p->fd, "count", &count[q], boot_ms(p));
		}
	}
	if (rc < 0) {
		boot_error(p, "the message counts", rc);
		return -1;
	}
	/* In a ping-pong each side counts what it sent itself. */
	if (p->mode == MODE_WRITE_LAT || p->mode == MODE_SEND_LAT)
		count[0] = p->sent[0];
	if (!o->verify)
		return 0;
	if (sends_data(p))
		exp = expected_crc(p, count);
	if (receives_data(p))
		act = actual_crc(p);
	rc = sx_boot_send_u64(p->fd, "exp", exp, boot_ms(p));
	if (rc == 0)
		rc = sx_boot_send_u64(p->fd, "act", act, boot_ms(p));
	if (rc == 0)
		rc = sx_boot_recv_u64(p->fd, "exp", &peer_exp, boot_ms(p));
	if (rc == 0)
		rc = sx_boot_recv_u64(p->fd, "act", &peer_act, boot_ms(p));
	if (rc < 0) {
		boot_error(p, "the checksums", rc);
		return -1;
	}
	if (receives_data(p) && act != peer_exp) {
		sx_tool_report_note(&p->rep,
		                    "verify %u B: FAILED: our target 0x%016" PRIx64
		                    ", expected 0x%016" PRIx64,
		                    p->size, act, peer_exp);
		bad = true;
	}
	if (sends_data(p) && peer_act != exp) {
		sx_tool_report_note(&p->rep,
		                    "verify %u B: FAILED: peer's target 0x%016" PRIx64
		                    ", expected 0x%016" PRIx64,
		                    p->size, peer_act, exp);
		bad = true;
	}
	if (p->atomic_bad) {
		sx_tool_report_note(&p->rep,
		                    "verify: FAILED: fetch-and-add results out of order");
		bad = true;
	}
	if (!bad)
		p->verified++;
	return bad ? 1 : 0;
}

/* The client's row, sent to the server so both print the same table. */
static int
share_row(struct perf *p, struct sx_tool_row *row)
{
	double *v = (double *)&row->bw;
	unsigned int i, nv = p->rep.kind == SX_TOOL_BW ? 3 : 6;
	uint64_t bits;
	int rc = 0;

	if (is_client(p)) {
		uint64_t total = 0;
		uint32_t q;

		for (q = 0; q < p->o->qps; q++)
			total += p->done[q];
		row->bytes = p->size;
		/* Per QP, as perftest; a -D run: the mean over the QPs. */
		row->iters = p->iters ? p->iters : total / p->o->qps;
		if (p->rep.kind == SX_TOOL_BW)
			sx_tool_row_bw(row, &p->bw);
		else
			sx_tool_row_lat(row, &p->lat,
			                p->mode == MODE_ATOMIC_LAT ? 1.0 : 0.5);
		rc = sx_boot_send_u64(p->fd, "iters", row->iters, boot_ms(p));
		for (i = 0; i < nv && rc == 0; i++) {
			memcpy(&bits, &v[i], sizeof(bits));
			rc = sx_boot_send_u64(p->fd, "v", bits, boot_ms(p));
		}
	} else {
		row->bytes = p->size;
		rc = sx_boot_recv_u64(p->fd, "iters", &row->iters, boot_ms(p));
		for (i = 0; i < nv && rc == 0; i++) {
			rc = sx_boot_recv_u64(p->fd, "v", &bits, boot_ms(p));
			memcpy(&v[i], &bits, sizeof(bits));
		}
	}
	if (rc < 0)
		boot_error(p, "the results", rc);
	return rc;
}

/* One run of @p iters messages per QP (0: the duration), measured or not.
 * 0: go on; 1: stop, a failure was reported. */
static int
run_phase(struct perf *p, uint32_t size, uint64_t iters, bool measured)
{
	struct sx_tool_row row;
	uint64_t peer_status = FIN_OK;
	int rc;

	if (prepare(p, size, iters) < 0)
		p->failed = true;
	/* Receives are posted and targets zeroed on both sides: go. */
	rc = sx_boot_barrier(p->fd, "go", boot_ms(p));
	if (rc < 0) {
		boot_error(p, "the go barrier", rc);
		return 1;
	}
	heard_now(p);
	if (!p->failed) {
		switch (p->mode) {
		case MODE_WRITE_BW:
		case MODE_READ_BW:
		case MODE_SEND_BW:
			if (is_client(p))
				bw_client(p);
			else
				bw_server(p);
			break;
		case MODE_WRITE_LAT:
		case MODE_SEND_LAT:
			pingpong(p);
			break;
		case MODE_ATOMIC_LAT:
			if (is_client(p))
				atomic_client(p);
			else
				bw_server(p); /* just respond */
			break;
		default:
			break;
		}
	}
	/* A lost bootstrap connection (the peer killed) or a silent peer is
	 * the run's failure, whatever this side's part did. */
	if (finish(p, &peer_status) < 0) {
		p->failed = true;
		return 1;
	}
	if (peer_status != FIN_OK) {
		fprintf(stderr, PROG ": the peer reported a failure\n");
		p->failed = true;
	}
	if (p->failed)
		return 1;
	if (!measured)
		return 0;
	memset(&row, 0, sizeof(row));
	if (share_row(p, &row) < 0)
		return 1;
	sx_tool_report_row(&p->rep, &row);
	rc = settle(p);
	if (rc != 0) {
		p->failed = true;
		return 1;
	}
	return 0;
}

/* One size: the warm-up (perftest's --perform_warm_up), then the test. */
static int
run_size(struct perf *p, uint32_t size)
{
	if (p->o->warmup > 0 && run_phase(p, size, p->o->warmup, false) != 0)
		return 1;
	return run_phase(p, size, iters_for(p, size), true);
}

/* ------------------------------------------------------------------------ */
/* Setup and teardown                                                        */

static size_t
region_bytes(const struct sx_tool_opts *o, enum perf_mode mode)
{
	uint64_t max = o->all_sizes ? SX_TOOL_MAX_SIZE : o->size;
	uint64_t r = max;

	if (perf_modes[mode].kind == SX_TOOL_BW) {
		r = max * o->tx_depth;
		if (r > REGION_CAP_BYTES / o->qps)
			r = REGION_CAP_BYTES / o->qps;
		if (r < max)
			r = max;
	}
	return (size_t)((r + PAGE_BYTES - 1) / PAGE_BYTES * PAGE_BYTES);
}

/* A fixed pattern per side, so that the two sources differ. */
static void
fill_sources(struct perf *p)
{
	uint64_t x = 0x9e3779b97f4a7c15ull ^ (p->o->server ? 0x5e : 0xc1);
	uint8_t *s = src(p, 0);
	size_t i, len = p->region * p->o->qps;

	for (i = 0; i + 8 <= len; i += 8) {
		/* xorshift64 */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(s + i, &x, 8);
	}
}

static int
open_resources(struct perf *p)
{
	const struct sx_tool_opts *o = p->o;
	struct sx_context_attr attr;
	struct sx_qp_init_attr qa;
	uint32_t q, rq = o->tx_depth + RQ_EXTRA;
	bool ctl_failed;

	sx_context_attr_init(&attr);
	attr.port = o->dev;
	attr.ip_version = o->ip_version;
	memcpy(attr.ip, o->ip, sizeof(attr.ip));
	attr.mtu = o->mtu;
	attr.fault_tx = o->fault_tx;
	attr.fault_rx = o->fault_rx;
	attr.fault_seed = o->seed;
	attr.pcap_path = o->pcap;
	attr.cc = o->cc;
	attr.line_rate_bps = o->line_rate_bps;
	attr.path = o->path;
	p->ctx = sx_open_device(&attr);
	if (p->ctx == NULL) {
		fprintf(stderr, PROG ": open %s: %s\n", o->dev,
		        errno == ENOENT && o->cc ? "no such congestion control"
		                                 : strerror(errno));
		return -1;
	}
	if (sx_tool_apply_cc(o, p->ctx) < 0 || sx_tool_apply_path(o, p->ctx) < 0)
		return -1;
	p->ctl = sx_tool_open_ctl(o, p->ctx, &ctl_failed); /* scalex-ctl, --prom-port */
	if (ctl_failed)
		return -1;
	p->pd = sx_alloc_pd(p->ctx);
	p->cq =
	    p->pd ? sx_create_cq(p->ctx, o->qps * (o->tx_depth + rq) + POLL_BATCH) : NULL;
	if (p->cq == NULL) {
		fprintf(stderr, PROG ": PD/CQ: %s\n", strerror(errno));
		return -1;
	}
	p->region = region_bytes(o, p->mode);
	p->buf_len = p->region * 2 * o->qps;
	p->buf = aligned_alloc(PAGE_BYTES, p->buf_len);
	if (p->buf == NULL) {
		fprintf(stderr, PROG ": %zu-byte buffer: %s\n", p->buf_len,
		        strerror(errno));
		return -1;
	}
	memset(p->buf, 0, p->buf_len);
	fill_sources(p);
	p->mr = sx_reg_mr(p->pd, p->buf, p->buf_len,
	                  SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE |
	                      SX_ACCESS_REMOTE_READ | SX_ACCESS_REMOTE_ATOMIC);
	if (p->mr == NULL) {
		fprintf(stderr, PROG ": register memory: %s\n", strerror(errno));
		return -1;
	}
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = p->cq;
	qa.recv_cq = p->cq;
	qa.max_send_wr = o->tx_depth;
	qa.max_recv_wr = rq;
	qa.reliability = o->rel;
	qa.mtu = o->mtu;
	qa.timeout_us = o->qp_timeout_us;
	qa.min_rto_us = o->qp_min_rto_us;
	qa.max_inflight_pkts = o->window_pkts;
	qa.retry_cnt = 7;
	qa.rnr_retry = 7; /* receivers are reposted as fast as they complete */
	for (q = 0; q < o->qps; q++) {
		p->qp[q] = sx_create_qp(p->pd, &qa);
		if (p->qp[q] == NULL) {
			fprintf(stderr, PROG ": create QP %u: %s\n", q, strerror(errno));
			return -1;
		}
		sx_qp_local(p->qp[q], &p->local[q].ep);
		p->local[q].addr = (uintptr_t)p->buf;
		p->local[q].rkey = p->mr->rkey;
		p->local[q].len = p->buf_len;
	}
	return 0;
}

static bool link_wait(const char *dev);

static void
close_resources(struct perf *p)
{
	uint32_t q;

	/* A setup step failed after the device started: let a memif
	 * handshake in progress finish before the port goes (torn down in the
	 * middle, DPDK 22.11's server panics in its interrupt thread). */
	if (p->ctx != NULL && p->peer_opened && !p->link_seen)
		link_wait(p->o->dev);

	for (q = 0; q < SX_TOOL_MAX_QPS; q++) {
		if (p->qp[q] != NULL)
			sx_destroy_qp(p->qp[q]);
		p->qp[q] = NULL;
	}
	if (p->mr != NULL)
		sx_dereg_mr(p->mr);
	if (p->cq != NULL)
		sx_destroy_cq(p->cq);
	if (p->pd != NULL)
		sx_dealloc_pd(p->pd);
	sx_ctl_close(p->ctl);
	p->ctl = NULL;
	if (p->ctx != NULL) {
		sx_cc_trace(p->ctx, NULL);
		sx_close_device(p->ctx);
	}
	if (p->o->trace_fp != NULL) {
		FILE *f = p->o->trace_fp;
		int err;

		errno = 0;
		err = fflush(f) != 0 || ferror(f) ? (errno != 0 ? errno : EIO) : 0;
		if (fclose(f) != 0 && err == 0)
			err = errno;
		p->o->trace_fp = NULL;
		if (err != 0) {
			fprintf(stderr, PROG ": write %s: %s\n", p->o->trace,
			        strerror(err));
			p->late_failed = true;
		}
	}
	p->mr = NULL;
	p->cq = NULL;
	p->pd = NULL;
	p->ctx = NULL;
	free(p->buf);
	p->buf = NULL;
}

/* The ethdev behind the context: for the link state (a memif link comes up
 * only once both ends have opened it). */
static int
port_id_of(const char *dev, uint16_t *port_id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t n = strcspn(dev, ",");
	char *end;
	unsigned long v;

	if (strncmp(dev, "port=", 5) == 0) {
		v = strtoul(dev + 5, &end, 10);
		if (*end != '\0' || v >= RTE_MAX_ETHPORTS)
			return -EINVAL;
		*port_id = (uint16_t)v;
		return 0;
	}
	if (n >= sizeof(name))
		return -EINVAL;
	memcpy(name, dev, n);
	name[n] = '\0';
	return rte_eth_dev_get_port_by_name(name, port_id);
}

static bool
link_wait(const char *dev)
{
	/* A signal ends the wait as a failure (main says why). */
	struct rte_eth_link link;
	uint16_t port_id;
	uint64_t deadline = sx_tool_now_ns() + LINK_WAIT_MS * 1000000ull;

	if (port_id_of(dev, &port_id) != 0)
		return true; /* not an ethdev we can ask: assume up */
	do {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(port_id, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			return true;
		usleep(1000);
	} while (sx_tool_now_ns() < deadline && !perf_signalled);
	return false;
}

static void
format_ep(char *out, size_t cap, const char *who, const struct sx_boot_qp *b)
{
	char ip[64];

	if (inet_ntop(b->ep.ip_version == 6 ? AF_INET6 : AF_INET, b->ep.ip, ip,
	              sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	snprintf(out, cap,
	         " %s address: QPN 0x%06x PSN 0x%06x RKey 0x%08x VAddr 0x%016" PRIx64
	         " IP %s MAC %02x:%02x:%02x:%02x:%02x:%02x\n",
	         who, b->ep.qpn, b->ep.psn, b->rkey, b->addr, ip, b->ep.mac[0],
	         b->ep.mac[1], b->ep.mac[2], b->ep.mac[3], b->ep.mac[4], b->ep.mac[5]);
}

static void
print_header(struct perf *p)
{
	const struct sx_tool_opts *o = p->o;
	struct sx_tool_report *r = &p->rep;
	char *lines;
	size_t cap = (size_t)o->qps * 2 * 160 + 1, len = 0;
	uint32_t q;

	sx_tool_report_set(r, "Role", "%s", o->server ? "server" : "client");
	sx_tool_report_set(r, "Device", "%s", o->dev);
	if (o->cpu >= 0)
		sx_tool_report_set(r, "CPU", "%d", o->cpu);
	else
		sx_tool_report_set(r, "CPU", "as the EAL arguments pin it");
	sx_tool_report_set(r, "Number of qps", "%u", o->qps);
	sx_tool_report_set(r, "Transport type", "RoCEv2 (scalex, userspace over DPDK)");
	sx_tool_report_set(r, "Connection type", "RC");
	sx_tool_report_set(r, "Reliability", "%s",
	                   o->rel == SX_REL_SR ? "sr (selective repeat)"
	                                       : "gbn (go-back-N)");
	sx_tool_report_set(r, "Path policy", "%s", o->path != NULL ? o->path : "flow");
	sx_tool_report_set(r, "TX depth", "%u", o->tx_depth);
	sx_tool_report_set(r, "Mtu", "%u[B]", o->mtu);
	if (o->qp_timeout_us)
		sx_tool_report_set(r, "QP timeout", "%u[usec]", o->qp_timeout_us);
	if (o->qp_min_rto_us)
		sx_tool_report_set(r, "QP min RTO", "%u[usec]", o->qp_min_rto_us);
	if (o->window_pkts)
		sx_tool_report_set(r, "QP window", "%u[pkts]", o->window_pkts);
	else
		sx_tool_report_set(r, "QP timeout", "library default");
	sx_tool_report_set(r, "Link type", "Ethernet");
	if (o->all_sizes)
		sx_tool_report_set(r, "Message size", "%u..%u[B] (all powers of two)",
		                   SX_TOOL_ALL_MIN_SIZE, SX_TOOL_MAX_SIZE);
	else
		sx_tool_report_set(r, "Message size", "%u[B]", o->size);
	if (o->warmup)
		sx_tool_report_set(r, "Warm-up", "%" PRIu64 " untimed messages per QP",
		                   o->warmup);
	else
		sx_tool_report_set(r, "Warm-up", "none");
	if (o->duration_s > 0)
		sx_tool_report_set(r, "Duration", "%g[sec]", o->duration_s);
	else if (o->all_sizes && !o->iters_given)
		sx_tool_report_set(r, "Iterations",
		                   "%" PRIu64 " per QP (at most %llu MiB per size)",
		                   o->iters, ALL_SIZES_BYTES >> 20);
	else
		sx_tool_report_set(r, "Iterations", "%" PRIu64 " per QP", o->iters);
	if (o->mode->kind == SX_TOOL_LAT)
		sx_tool_report_set(r, "Latency", "%s",
		                   p->mode == MODE_ATOMIC_LAT
		                       ? "round trip"
		                       : "half round trip (ping-pong)");
	if (p->mode == MODE_WRITE_LAT)
		sx_tool_report_set(r, "Completion", "%s",
		                   o->rel == SX_REL_SR
		                       ? "last byte; WRITE with immediate above the MTU "
		                         "(SR places out of order)"
		                       : "polling the last byte");
	sx_tool_report_set(r, "Measured by", "client (requester)");
	sx_tool_report_set(r, "Congestion ctrl", "%s%s%s", o->cc ? o->cc : "none",
	                   o->cc_preset ? " preset " : "", o->cc_preset ? o->cc_preset : "");
	sx_tool_report_set(r, "Fault tx", "%s",
	                   o->fault_tx_spec ? o->fault_tx_spec : "none");
	sx_tool_report_set(r, "Fault rx", "%s",
	                   o->fault_rx_spec ? o->fault_rx_spec : "none");
	if (o->fault_tx_spec || o->fault_rx_spec)
		sx_tool_report_set(r, "Fault seed", "%" PRIu64, o->seed);
	sx_tool_report_set(r, "Data ex. method", "TCP bootstrap %s:%u",
	                   o->host ? o->host : "*", o->boot_port);
	sx_tool_report_set(r, "Verify", "%s",
	                   o->verify ? "on (crc64 of every target byte)" : "off");
	if (o->pcap)
		sx_tool_report_set(r, "Capture", "%s", o->pcap);
	for (q = 0; q < o->nneighbors; q++)
		sx_tool_report_set(r, "Neighbor", "%s (static)", o->neighbor[q].spec);

	lines = malloc(cap);
	if (lines != NULL) {
		lines[0] = '\0';
		for (q = 0; q < o->qps; q++) {
			format_ep(lines + len, cap - len, "local", &p->local[q]);
			len += strlen(lines + len);
			format_ep(lines + len, cap - len, "remote", &p->remote[q]);
			len += strlen(lines + len);
		}
	}
	sx_tool_report_header(r, lines);
	free(lines);
}

/* Transport counters of this side (counters API): QPs summed, engine, port. */
static void
print_counters(struct perf *p)
{
	if (p->ctx == NULL)
		return;
	sx_tool_report_stats(&p->rep, p->ctx, p->cq ? sx_cq_overflows(p->cq) : 0);
}

/* The bootstrap connection, and a check that both sides run one test. */
static int
boot_connect(struct perf *p)
{
	const struct sx_tool_opts *o = p->o;
	char params[256];
	uint64_t h = 0xcbf29ce484222325ull, peer_h;
	size_t i;
	int rc;

	if (o->server) {
		fprintf(p->rep.out, "************************************\n"
		                    "* Waiting for client to connect... *\n"
		                    "************************************\n");
		fflush(p->rep.out);
		p->fd = sx_boot_accept(o->host, o->boot_port,
		                       boot_ms(p) * SX_TOOL_ACCEPT_FACTOR);
	} else {
		p->fd = sx_boot_connect(o->host, o->boot_port, boot_ms(p));
	}
	if (p->fd < 0) {
		rc = p->fd;
		p->fd = -1;
		if (rc == -ETIMEDOUT && o->server)
			fprintf(stderr,
			        PROG ": bootstrap: no client connected within %.3g s\n",
			        boot_ms(p) * SX_TOOL_ACCEPT_FACTOR / 1000.0);
		else if (rc == -ETIMEDOUT || rc == -ECONNREFUSED)
			fprintf(
			    stderr,
			    PROG ": bootstrap: could not connect to %s:%u within %.3g s: "
			         "%s\n",
			    o->host, o->boot_port, boot_ms(p) / 1000.0, strerror(-rc));
		else
			boot_error(p, o->server ? "accept" : "connect", rc);
		return -1;
	}
	/* Both sides must run the same test: compare a hash of the parameters
	 * that shape the traffic (FNV-1a). */
	snprintf(params, sizeof(params),
	         "%s s=%u a=%d n=%" PRIu64 " D=%g q=%u mtu=%u rel=%d "
	         "depth=%u verify=%d warmup=%" PRIu64,
	         o->mode->name, o->size, o->all_sizes, o->iters, o->duration_s, o->qps,
	         o->mtu, (int)o->rel, o->tx_depth, o->verify, o->warmup);
	for (i = 0; params[i] != '\0'; i++)
		h = (h ^ (uint8_t)params[i]) * 0x100000001b3ull;
	rc = sx_boot_send_u64(p->fd, "params", h, boot_ms(p));
	if (rc == 0)
		rc = sx_boot_recv_u64(p->fd, "params", &peer_h, boot_ms(p));
	if (rc < 0) {
		boot_error(p, "the parameter hash", rc);
		return -1;
	}
	if (peer_h != h) {
		fprintf(
		    stderr,
		    PROG
		    ": the peer runs a different test; both sides need the same mode,\n"
		    "-s/-a, -n/-D, -q, --mtu, --rel, --tx-depth, --verify and --warmup\n"
		    "(ours: %s)\n",
		    params);
		return -1;
	}
	return 0;
}

/* Both sides say whether they could open their device (or see the link);
 * true if both did. The peer may first need @p work_ms of its own work. */
static bool
agree(struct perf *p, const char *tag, bool ok, int work_ms)
{
	uint64_t peer_ok = 0;
	int rc = sx_boot_send_u64(p->fd, tag, ok, boot_ms(p));

	if (rc == 0)
		rc = sx_boot_recv_u64(p->fd, tag, &peer_ok, boot_ms(p) + work_ms);
	if (rc < 0) {
		boot_error(p, tag, rc);
		return false;
	}
	if (ok && !peer_ok)
		fprintf(stderr, PROG ": the peer failed (%s)\n", tag);
	if (strcmp(tag, "open") == 0)
		p->peer_opened = peer_ok != 0;
	return ok && peer_ok;
}

/* A static neighbor entry for the peer's IP replaces the MAC it announced:
 * frames to a peer behind a router go to the router. */
static void
use_neighbor(const struct sx_tool_opts *o, struct sx_qp_endpoint *ep)
{
	unsigned int i;

	for (i = 0; i < o->nneighbors; i++) {
		const struct sx_tool_neighbor *n = &o->neighbor[i];

		if (n->ip_version == ep->ip_version &&
		    memcmp(n->ip, ep->ip, n->ip_version == 4 ? 4 : 16) == 0) {
			memcpy(ep->mac, n->mac, sizeof(ep->mac));
			return;
		}
	}
}

/* Exchange endpoints, connect the QPs, wait for the link. */
static int
connect_qps(struct perf *p)
{
	const struct sx_tool_opts *o = p->o;
	uint32_t q;
	int rc;

	rc = sx_boot_exchange(p->fd, p->local, p->remote, o->qps, boot_ms(p));
	if (rc < 0) {
		boot_error(p, "the QP exchange", rc);
		return -1;
	}
	for (q = 0; q < o->qps; q++) {
		use_neighbor(o, &p->remote[q].ep);
		if (p->remote[q].len != p->buf_len) {
			fprintf(stderr,
			        PROG ": the peer's buffer is %" PRIu64
			             " bytes, ours %zu\n",
			        p->remote[q].len, p->buf_len);
			return -1;
		}
		rc = sx_qp_connect(p->qp[q], &p->remote[q].ep);
		if (rc < 0) {
			fprintf(stderr, PROG ": connect QP %u: %s\n", q, strerror(-rc));
			return -1;
		}
	}
	/* Both devices are open now; the link is up once memif has met. */
	rc = link_wait(o->dev) ? 0 : -1;
	p->link_seen = rc == 0;
	if (rc < 0)
		fprintf(stderr, PROG ": %s: link still down after %d ms\n", o->dev,
		        LINK_WAIT_MS);
	return agree(p, "link", rc == 0, LINK_WAIT_MS) ? 0 : -1;
}

/* Orderly close: nobody polls any more; the client closes first. */
static void
shutdown_peer(struct perf *p)
{
	int rc;

	/* A broken or timed-out bootstrap: no agreement is possible; close
	 * now (the munmap guard in the port keeps a memif peer that is still
	 * polling safe). */
	if (p->fd < 0 || p->boot_broken) {
		close_resources(p);
		sx_boot_close(p->fd);
		p->fd = -1;
		return;
	}
	rc = sx_boot_barrier(p->fd, "done", boot_ms(p));
	if (rc < 0)
		boot_error(p, "the done barrier", rc);
	if (is_client(p)) {
		close_resources(p);
		if (rc == 0) {
			rc = sx_boot_barrier(p->fd, "closed", boot_ms(p));
			if (rc < 0)
				boot_error(p, "the closed barrier", rc);
		}
	} else {
		if (rc == 0) {
			rc = sx_boot_barrier(p->fd, "closed", boot_ms(p));
			if (rc < 0)
				boot_error(p, "the closed barrier", rc);
		}
		close_resources(p);
	}
	sx_boot_close(p->fd);
	p->fd = -1;
}

int
main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
	struct sx_tool_opts o;
	struct perf p;
	int rc, status = SX_TOOL_EXIT_FAIL;
	bool connected = false;

	/* Every option and every output is checked before a device exists. */
	rc = sx_tool_parse(&perf_spec, argc, argv, &o);
	if (rc == 0)
		rc = sx_tool_open_outputs(&o);
	if (rc != 0) {
		sx_tool_opts_free(&o);
		return rc < 0 ? SX_TOOL_EXIT_OK : rc;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	memset(&p, 0, sizeof(p));
	p.o = &o;
	p.mode = (enum perf_mode)o.mode_idx;
	p.fd = -1;
	sx_tool_report_init(&p.rep, &o, perf_titles[p.mode]);
	p.rep.json_fp = o.json_fp;
	o.json_fp = NULL;

	/* What killed processes of this tool left behind. */
	if (o.eal_default)
		sx_tool_clean_runtime(PROG);
	if (o.server && sx_tool_clean_memif_socket(o.dev) < 0)
		fprintf(stderr,
		        PROG ": warning: cannot remove a stale memif socket: %s\n",
		        strerror(errno));

	rc = sx_tool_eal_init(&o);
	if (rc < 0) {
		fprintf(stderr, PROG ": EAL init failed: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	p.eal_up = true;
	if (interrupted(&p))
		goto out;
	/* A memif client needs the server's socket: the server opens its
	 * device before it listens, the client after it has connected. */
	if (o.server && open_resources(&p) < 0)
		goto out;
	if (interrupted(&p) || boot_connect(&p) < 0)
		goto out;
	if (!agree(&p, "open", o.server || open_resources(&p) == 0, DEVICE_OPEN_MS))
		goto out;
	if (interrupted(&p) || connect_qps(&p) < 0)
		goto out;
	connected = true;
	print_header(&p);

	if (o.all_sizes) {
		uint32_t s;

		for (s = SX_TOOL_ALL_MIN_SIZE; s <= SX_TOOL_MAX_SIZE; s *= 2)
			if (run_size(&p, s) != 0)
				break;
	} else {
		run_size(&p, o.size);
	}
	if (o.verify && !p.failed)
		sx_tool_report_note(&p.rep,
		                    "verify: ok, %u size%s (crc64 of every target byte)",
		                    p.verified, p.verified == 1 ? "" : "s");
	if (p.late_failed)
		sx_tool_report_note(&p.rep,
		                    "a completion error after the test: see stderr");
	status = p.failed || p.late_failed ? SX_TOOL_EXIT_FAIL : SX_TOOL_EXIT_OK;
	print_counters(&p);

out:
	if (connected || p.fd >= 0)
		shutdown_peer(&p);
	else
		close_resources(&p);
	if (p.late_failed && status == SX_TOOL_EXIT_OK)
		status = SX_TOOL_EXIT_FAIL;
	if (perf_signalled) {
		if (!p.failed)
			fprintf(stderr, PROG ": interrupted\n");
		status = SX_TOOL_EXIT_SIGNAL_BASE + perf_signalled;
	}
	if (connected) {
		rc = sx_tool_report_end(&p.rep, status);
		if (rc < 0) {
			fprintf(stderr, PROG ": write %s: %s\n", o.json, strerror(-rc));
			status = SX_TOOL_EXIT_FAIL;
		}
	}
	sx_tool_bw_fini(&p.bw);
	sx_tool_lat_fini(&p.lat);
	sx_tool_report_fini(&p.rep);
	if (p.eal_up)
		sx_eal_cleanup();
	sx_tool_opts_free(&o);
	return status;
}
