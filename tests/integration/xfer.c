/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Integration: the RC transport between two processes over memif, through
 * the public API (scalex/scalex.h) and the TCP bootstrap (scalex/bootstrap.h).
 * One binary in three roles:
 *
 *   xfer --scenario NAME [options]     launcher: makes a temporary directory
 *       and a TCP port, starts itself as server and as client, reaps both
 *       within a deadline (killing what is left), checks the captures of
 *       the pcap scenario, and removes every file it made;
 *   xfer --role server|client ...      one side.
 *
 * Both sides run the same deterministic script, a list of batches of
 * operations, so each knows what the other posts. Every buffer is filled
 * from a counter-based pattern of its own seed, with guard bytes around the
 * bytes an operation may touch. After a batch, the side owning a buffer
 * that was written checksums the WHOLE buffer (sx_crc32) and compares it
 * with the checksum the peer sends over the bootstrap connection, which the
 * peer computes from its own source bytes and the seeds.
 *
 * Completions are matched by wr_id (batch << 32 | receive bit | index): each
 * must come exactly once, with the expected status, opcode, length,
 * immediate and QP; none may come for an unsignaled successful WR, after
 * its batch, or in the quiet period at the end.
 *
 * Shutdown is always orderly (the shared memif-disconnect note: a memif
 * process still polling when its peer unmaps can crash): both sides stop
 * polling at a barrier, the client closes its port, the server closes once
 * its link is down. Every side has a deadline; the launcher kills a side
 * that outlives its own by KILL_GRACE seconds.
 *
 * Each side's EAL main lcore gets its own CPU (--lcores 0@N): by default
 * EAL pins both processes to the first CPU.
 *
 * Scenarios: opcodes, faults, access, retry, psn-wrap, pcap, read-dereg
 * (see usage()). Library bugs found here have reproducers beside this
 * file (repro_*.c).
 *
 * Exit: 0 pass, 1 fail, 2 usage. Units: lengths in bytes, times in seconds
 * unless a name says _ms, _us or _ns.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <execinfo.h>

#include <rte_eal.h>
#include <rte_ethdev.h>

#include <scalex/bootstrap.h>
#include <scalex/scalex.h>
#include <scalex/wire.h>

/* Internal objects, for the counters a test must see (retransmits, NAKs,
 * injected faults, parser drops, CQ overflows, PSN cursors). */
#include "../../dataplane/engine/context.h"
#include "../common/proc.h"
#include "../port/testutil.h"

/* Under AddressSanitizer its own SIGSEGV report is the better one. */
#if defined(__SANITIZE_ADDRESS__)
#define XFER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XFER_ASAN 1
#endif
#endif

#define MAX_QP     8
#define MAX_OPS    128
#define GUARD      4096 /* pattern bytes around what an operation may write */
#define ATOMIC_BUF 64   /* atomic target / result buffers; the word is at 8 */
#define ATOMIC_OFF 8
#define RECV_BIT   (1ull << 31)
#define BOOT_MS    30000 /* one bootstrap call */
#define LINK_WAIT  10.0
#define QUIET      0.2 /* end: seconds in which no completion may come */
#define KILL_GRACE 20  /* launcher: seconds past --timeout before SIGKILL */
#define MEMIF_NAME "net_memif0"
#define SETTLE_MS  100 /* server: after the link went down, before closing */

enum side_id {
	CLIENT = 0,
	SERVER = 1,
};

static const char *const side_name[] = {"client", "server"};

enum rel_mode {
	REL_GBN,
	REL_SR,
	REL_MIXED, /* even QPs go-back-N, odd QPs selective repeat */
};

struct opts {
	const char *scenario;
	int role; /* -1: launcher */
	enum rel_mode rel;
	uint32_t mtu;
	unsigned int nqp;
	uint64_t max_size;
	const char *fault_tx;
	const char *fault_rx;
	uint64_t seed;
	unsigned int rounds;
	unsigned int timeout_s;
	uint16_t tcp_port;
	const char *dir;
	const char *tag;
	const char *scalex_pcap;
	const char *tshark;
	uint8_t retry_cnt; /* retry scenario */
	uint32_t timeout_us;
	const char *path; /* path policy (docs/multipath.md); NULL: flow */
};

/* A remote-access fault the access scenario provokes. */
enum bad {
	BAD_NONE,
	BAD_RKEY, /* an rkey no region has */
	BAD_OOB,  /* the range ends one byte (atomics: one word) past the region */
	BAD_RO,   /* the region grants remote read only */
};

static const char *const bad_name[] = {"none", "bad-rkey", "out-of-bounds",
                                       "read-only-mr"};

struct xop {
	/* script */
	uint8_t who; /* initiator */
	uint8_t qp;
	enum sx_wr_opcode opcode;
	uint32_t len;
	bool unsignaled;
	bool cas_miss; /* compare with a value that is not there */
	enum bad bad;
	enum sx_wc_status want; /* status of the initiator's completion */
	bool skip_landing;      /* SR: a flushed WRITE may have been placed */
	/* layout, the same on both sides */
	uint32_t soff;     /* data offset in the source buffer */
	uint32_t toff;     /* data offset in the destination buffer */
	size_t llen, rlen; /* initiator's and target's buffer */
	uint64_t lseed, rseed;
	/* run time */
	uint8_t *buf; /* mine: the initiator's or the target's */
	size_t buf_len;
	struct sx_mr *mr;
	uint64_t raddr; /* initiator: the target's buffer */
	uint32_t rkey;
	uint32_t crc_before; /* owner of a landing buffer: before the batch */
	bool seen_send;
	bool seen_recv;
};

struct batch {
	uint32_t id;
	unsigned int n;
	struct xop op[MAX_OPS];
	unsigned int fail; /* failures seen by this side */
	bool peer_fail;    /* failures reported by the peer */
	bool prepared;
	double t_wait; /* seconds from posting to both sides done */
	uint64_t retx; /* this side's retransmits and timeouts in the batch */
	uint64_t timeouts;
};

struct totals {
	uint64_t cnt[SX_QPC_MAX];
	uint64_t batches, ops, bytes, send_wc, recv_wc;
};

struct side {
	const struct opts *o;
	enum side_id me;
	int fd;
	struct sx_context *ctx;
	struct sx_pd *pd;
	struct sx_cq *scq, *rcq;
	struct sx_qp *qp[MAX_QP];
	uint32_t qp_start_psn[MAX_QP];
	unsigned int nqp;
	uint32_t next_batch;
	struct batch *cur; /* whose buffers are still registered */
	unsigned int failures;
	double deadline;
	struct totals tot;
	/* read-dereg: the responder stalls after one burst, and stops polling
	 * once it has sent hold_frames (the first answer stream) */
	unsigned int pause_ms;
	uint64_t hold_frames;
};

static void qps_destroy(struct side *s);

/* Test buffers are whole mappings, so that any access after they are
 * released faults at once instead of reading reused heap. */
static uint8_t *
buf_alloc(size_t len)
{
	void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
buf_free(uint8_t *p, size_t len)
{
	if (p != NULL)
		munmap(p, len ? len : 1);
}

/* ------------------------------------------------------------------------ */
/* Patterns and checksums                                                    */

static uint64_t
mix64(uint64_t z)
{
	/* splitmix64's finalizer: every input word gives an unrelated output. */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
pat_word(uint64_t seed, uint64_t w)
{
	return mix64(seed * 0x9e3779b97f4a7c15ull + w + 1);
}

/* Bytes [from, from + n) of the pattern of @p seed: byte i is byte i % 8
 * (little-endian) of word i / 8, so any range is cheap to make again. */
static void
pat_fill(uint8_t *p, uint64_t seed, uint64_t from, size_t n)
{
	while (n > 0 && (from & 7) != 0) {
		*p++ = (uint8_t)(pat_word(seed, from >> 3) >> (8 * (from & 7)));
		from++;
		n--;
	}
	for (; n >= 8; n -= 8, from += 8, p += 8) {
		uint64_t w = htole64(pat_word(seed, from >> 3));

		memcpy(p, &w, 8);
	}
	for (; n > 0; n--, from++)
		*p++ = (uint8_t)(pat_word(seed, from >> 3) >> (8 * (from & 7)));
}

static uint32_t
pat_crc(uint32_t crc, uint64_t seed, uint64_t from, size_t n)
{
	uint8_t chunk[16384];

	while (n > 0) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

		pat_fill(chunk, seed, from, k);
		crc = sx_crc32(crc, chunk, k);
		from += k;
		n -= k;
	}
	return crc;
}

/* The pattern's 64-bit word at byte @p off, as the host reads it. */
static uint64_t
pat_u64(uint64_t seed, uint64_t off)
{
	uint8_t b[8];
	uint64_t v;

	pat_fill(b, seed, off, 8);
	memcpy(&v, b, 8);
	return v;
}

/* ------------------------------------------------------------------------ */
/* Operations                                                                */

static bool
is_atomic(enum sx_wr_opcode op)
{
	return op == SX_WR_ATOMIC_CMP_AND_SWP || op == SX_WR_ATOMIC_FETCH_AND_ADD;
}

static bool
consumes_recv(enum sx_wr_opcode op)
{
	return op == SX_WR_SEND || op == SX_WR_SEND_WITH_IMM ||
	       op == SX_WR_RDMA_WRITE_WITH_IMM;
}

static bool
has_imm(enum sx_wr_opcode op)
{
	return op == SX_WR_SEND_WITH_IMM || op == SX_WR_RDMA_WRITE_WITH_IMM;
}

static const char *
op_name(enum sx_wr_opcode op)
{
	switch (op) {
	case SX_WR_RDMA_WRITE:
		return "WRITE";
	case SX_WR_RDMA_WRITE_WITH_IMM:
		return "WRITE_IMM";
	case SX_WR_SEND:
		return "SEND";
	case SX_WR_SEND_WITH_IMM:
		return "SEND_IMM";
	case SX_WR_RDMA_READ:
		return "READ";
	case SX_WR_ATOMIC_CMP_AND_SWP:
		return "CMP_SWP";
	case SX_WR_ATOMIC_FETCH_AND_ADD:
		return "FETCH_ADD";
	}
	return "?";
}

static enum sx_wc_opcode
wc_opcode_of(enum sx_wr_opcode op)
{
	switch (op) {
	case SX_WR_RDMA_WRITE:
	case SX_WR_RDMA_WRITE_WITH_IMM:
		return SX_WC_RDMA_WRITE;
	case SX_WR_RDMA_READ:
		return SX_WC_RDMA_READ;
	case SX_WR_ATOMIC_CMP_AND_SWP:
		return SX_WC_COMP_SWAP;
	case SX_WR_ATOMIC_FETCH_AND_ADD:
		return SX_WC_FETCH_ADD;
	default:
		return SX_WC_SEND;
	}
}

/* Does the initiator get a completion? Errors always complete. */
static bool
send_wc_expected(const struct xop *op)
{
	return !op->unsignaled || op->want != SX_WC_SUCCESS;
}

static bool
recv_wc_expected(const struct xop *op)
{
	return consumes_recv(op->opcode) && op->want == SX_WC_SUCCESS;
}

static uint32_t
imm_of(const struct batch *b, unsigned int i)
{
	return (b->id << 16) ^ (i * 0x9e37u) ^ 0x5ca1ab1eu;
}

static uint64_t
wr_id_of(const struct batch *b, unsigned int i, bool recv)
{
	return (uint64_t)b->id << 32 | (recv ? RECV_BIT : 0) | i;
}

/* Atomics: the target word before, the operands, the word after. */
static uint64_t
atomic_init(const struct xop *op)
{
	return pat_u64(op->rseed, ATOMIC_OFF);
}

static uint64_t
atomic_compare_add(const struct xop *op)
{
	if (op->opcode == SX_WR_ATOMIC_FETCH_AND_ADD)
		return (op->lseed & 0xffff) + 1;
	return op->cas_miss ? atomic_init(op) ^ 1 : atomic_init(op);
}

static uint64_t
atomic_swap(const struct xop *op)
{
	return mix64(op->lseed ^ 0x5a5a);
}

static uint64_t
atomic_after(const struct xop *op)
{
	uint64_t v = atomic_init(op);

	if (op->opcode == SX_WR_ATOMIC_FETCH_AND_ADD)
		return v + atomic_compare_add(op);
	return op->cas_miss ? v : atomic_swap(op);
}

/* ------------------------------------------------------------------------ */
/* Failures                                                                  */

__attribute__((format(printf, 4, 5))) static void
fail_op(struct side *s, struct batch *b, int i, const char *fmt, ...)
{
	va_list ap;

	printf("%s: FAIL batch %u", side_name[s->me], b != NULL ? b->id : 0);
	if (b != NULL && i >= 0)
		printf(" op %d (%s %s, %u B, qp %u, %s)", i, side_name[b->op[i].who],
		       op_name(b->op[i].opcode), b->op[i].len, b->op[i].qp,
		       bad_name[b->op[i].bad]);
	printf(": ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (b != NULL)
		b->fail++;
	s->failures++;
}

#define FAIL(s, ...) fail_op((s), NULL, -1, __VA_ARGS__)

/* ------------------------------------------------------------------------ */
/* Script building                                                           */

static struct xop *
add_op(struct batch *b, enum side_id who, unsigned int qp, enum sx_wr_opcode opcode,
       uint32_t len)
{
	struct xop *op;

	if (b->n == MAX_OPS) {
		fprintf(stderr, "script: more than %d operations in a batch\n", MAX_OPS);
		abort();
	}
	op = &b->op[b->n++];
	memset(op, 0, sizeof(*op));
	op->who = (uint8_t)who;
	op->qp = (uint8_t)qp;
	op->opcode = opcode;
	op->len = is_atomic(opcode) ? 8 : len;
	op->want = SX_WC_SUCCESS;
	return op;
}

static const enum sx_wr_opcode data_ops[] = {
    SX_WR_SEND,      SX_WR_SEND_WITH_IMM, SX_WR_RDMA_WRITE, SX_WR_RDMA_WRITE_WITH_IMM,
    SX_WR_RDMA_READ,
};
#define NDATA_OPS (sizeof(data_ops) / sizeof(data_ops[0]))

/* Every data opcode of @p len bytes from the client, spread over the QPs
 * from @p rot on; with @p both also from the server, shifted by two QPs. */
static void
script_data(struct batch *b, uint32_t len, bool both, unsigned int nqp, unsigned int rot)
{
	unsigned int k;

	for (k = 0; k < NDATA_OPS; k++) {
		add_op(b, CLIENT, (k + rot) % nqp, data_ops[k], len);
		if (both)
			add_op(b, SERVER, (k + rot + 2) % nqp, data_ops[k], len);
	}
}

/* A compare-and-swap that hits, one that misses (must not swap), and a
 * fetch-and-add, per QP and direction. */
static void
script_atomics(struct batch *b, unsigned int nqp)
{
	unsigned int q, who;

	for (q = 0; q < nqp; q++) {
		for (who = CLIENT; who <= SERVER; who++) {
			add_op(b, who, q, SX_WR_ATOMIC_CMP_AND_SWP, 8);
			add_op(b, who, q, SX_WR_ATOMIC_CMP_AND_SWP, 8)->cas_miss = true;
			add_op(b, who, q, SX_WR_ATOMIC_FETCH_AND_ADD, 8);
		}
	}
}

/* Make every @p every-th operation unsignaled, where a later signaled
 * operation of the same initiator and QP will show that it completed. */
static void
script_unsignal(struct batch *b, unsigned int every)
{
	unsigned int i, j;

	for (i = 0; i < b->n; i++) {
		if (i % every != every - 1)
			continue;
		for (j = i + 1; j < b->n; j++) {
			if (b->op[j].who == b->op[i].who && b->op[j].qp == b->op[i].qp &&
			    !b->op[j].unsignaled) {
				b->op[i].unsignaled = true;
				break;
			}
		}
	}
}

/* Offsets, sizes and seeds: a function of the run seed, batch and index,
 * so both sides compute the same. Offsets are odd on purpose. */
static void
layout(const struct side *s, struct batch *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++) {
		struct xop *op = &b->op[i];
		uint64_t base =
		    s->o->seed << 40 ^ (uint64_t)b->id << 16 ^ (uint64_t)i << 1;

		op->lseed = mix64(base);
		op->rseed = mix64(base | 1);
		if (is_atomic(op->opcode)) {
			op->soff = op->toff = ATOMIC_OFF;
			op->llen = op->rlen = ATOMIC_BUF;
			continue;
		}
		op->soff = (i * 3) % 8;
		op->toff = GUARD + (i * 5) % 8;
		if (op->opcode == SX_WR_RDMA_READ) {
			op->llen = (size_t)op->len + 2 * GUARD;
			op->rlen = op->soff + (size_t)op->len + 64;
		} else {
			op->llen = op->soff + (size_t)op->len + 64;
			op->rlen = (size_t)op->len + 2 * GUARD;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Progress and completions                                                  */

static bool
fd_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

static void
on_wc(struct side *s, struct batch *b, const struct sx_wc *wc, bool recv)
{
	uint32_t bid = (uint32_t)(wc->wr_id >> 32);
	uint32_t i = (uint32_t)(wc->wr_id & 0xffff);
	bool rbit = (wc->wr_id & RECV_BIT) != 0;
	struct xop *op;

	if (b == NULL || bid != b->id || i >= b->n || rbit != recv) {
		fail_op(
		    s, b, -1, "unexpected %s completion wr_id 0x%" PRIx64 " status %s",
		    recv ? "receive" : "send", wc->wr_id, sx_wc_status_str(wc->status));
		return;
	}
	op = &b->op[i];
	if (recv) {
		s->tot.recv_wc++;
		if (op->who == s->me || !consumes_recv(op->opcode)) {
			fail_op(s, b, (int)i,
			        "receive completion for a WR that posts none");
			return;
		}
		if (!recv_wc_expected(op) && wc->status == SX_WC_WR_FLUSH_ERR &&
		    (op->want == SX_WC_REM_ACCESS_ERR || op->want == SX_WC_REM_INV_REQ_ERR) &&
		    !op->seen_recv) {
			/* A class C error moved the responder QP to error,
			 * which flushes its receives (IBA 9.9.3.1.3, 10.3.1). */
			op->seen_recv = true;
			return;
		}
		if (!recv_wc_expected(op)) {
			fail_op(s, b, (int)i,
			        "receive completed (%s) though the request failed",
			        sx_wc_status_str(wc->status));
			return;
		}
		if (op->seen_recv) {
			fail_op(s, b, (int)i, "receive completed twice");
			return;
		}
		op->seen_recv = true;
		if (wc->status != SX_WC_SUCCESS)
			fail_op(s, b, (int)i, "receive status %s",
			        sx_wc_status_str(wc->status));
		if (wc->opcode != (op->opcode == SX_WR_RDMA_WRITE_WITH_IMM
		                       ? SX_WC_RECV_RDMA_WITH_IMM
		                       : SX_WC_RECV))
			fail_op(s, b, (int)i, "receive opcode %d", wc->opcode);
		if (wc->byte_len != op->len)
			fail_op(s, b, (int)i, "receive byte_len %u", wc->byte_len);
		if (has_imm(op->opcode) != ((wc->wc_flags & SX_WC_WITH_IMM) != 0) ||
		    (has_imm(op->opcode) && wc->imm_data != htobe32(imm_of(b, i))))
			fail_op(s, b, (int)i, "immediate flags 0x%x data 0x%08x",
			        wc->wc_flags, be32toh(wc->imm_data));
		if (wc->qp_num != sx_qp_num(s->qp[op->qp]))
			fail_op(s, b, (int)i, "receive on QP 0x%x", wc->qp_num);
		return;
	}
	s->tot.send_wc++;
	if (op->who != s->me) {
		fail_op(s, b, (int)i, "send completion for the peer's WR");
		return;
	}
	if (op->seen_send) {
		fail_op(s, b, (int)i, "completed twice (now %s)",
		        sx_wc_status_str(wc->status));
		return;
	}
	op->seen_send = true;
	if (!send_wc_expected(op))
		fail_op(s, b, (int)i, "completion (%s) for an unsignaled WR",
		        sx_wc_status_str(wc->status));
	if (wc->status != op->want) {
		fail_op(s, b, (int)i, "status %s (vendor_err 0x%x), want %s",
		        sx_wc_status_str(wc->status), wc->vendor_err,
		        sx_wc_status_str(op->want));
		return;
	}
	if (wc->qp_num != sx_qp_num(s->qp[op->qp]))
		fail_op(s, b, (int)i, "completion on QP 0x%x", wc->qp_num);
	if (wc->status != SX_WC_SUCCESS)
		return;
	if (wc->opcode != wc_opcode_of(op->opcode))
		fail_op(s, b, (int)i, "completion opcode %d", wc->opcode);
	if ((op->opcode == SX_WR_RDMA_READ || is_atomic(op->opcode)) &&
	    wc->byte_len != op->len)
		fail_op(s, b, (int)i, "byte_len %u", wc->byte_len);
}

/* One round of progress; completions go to on_wc. Returns completions seen. */
static int
drain(struct side *s, struct batch *b)
{
	struct sx_wc wc[32];
	int n, k, got = 0;

	n = sx_poll_cq(s->scq, 32, wc);
	for (k = 0; k < n; k++)
		on_wc(s, b, &wc[k], false);
	got += n > 0 ? n : 0;
	n = sx_poll_cq(s->rcq, 32, wc);
	for (k = 0; k < n; k++)
		on_wc(s, b, &wc[k], true);
	got += n > 0 ? n : 0;
	return got;
}

static bool
batch_complete(const struct side *s, const struct batch *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++) {
		const struct xop *op = &b->op[i];

		if (op->who == s->me && send_wc_expected(op) && !op->seen_send)
			return false;
		if (op->who != s->me && recv_wc_expected(op) && !op->seen_recv)
			return false;
	}
	return true;
}

static void
missing_report(struct side *s, struct batch *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++) {
		const struct xop *op = &b->op[i];

		if (op->who == s->me && send_wc_expected(op) && !op->seen_send)
			fail_op(s, b, (int)i, "no completion");
		if (op->who != s->me && recv_wc_expected(op) && !op->seen_recv)
			fail_op(s, b, (int)i, "no receive completion");
	}
}

/*
 * Poll until this side has every completion it expects and the peer says
 * the same, then stop. Each side tells the other once ("done" with its
 * failure count); a side that is done keeps polling, since the peer may
 * still need its responses. Returns 0, or -1 if the bootstrap broke.
 */
static int
wait_both(struct side *s, struct batch *b, double limit_s)
{
	double t0 = proc_now_s(), t_end = t0 + limit_s;
	uint64_t tx0 = s->ctx->port->stats.tx_frames;
	bool sent = false, peer = false, paused = s->pause_ms == 0, held = false;
	double hold_t = 0;
	unsigned int it = 0;
	uint64_t peer_fail = 0;
	int rc;

	if (t_end > s->deadline)
		t_end = s->deadline;
	while (!(sent && peer)) {
		if (!held)
			drain(s, b);
		else
			usleep(100);
		if (s->hold_frames && !held && !peer && hold_t == 0 &&
		    s->ctx->port->stats.tx_frames - tx0 >= s->hold_frames) {
			held = true;
			hold_t = proc_now_s();
		}
		/* The first stream does not complete the READ when the
		 * requester timed out before any answer came: its duplicate
		 * of the first request restarts the stream at the first PSN
		 * (IBA 9.7.5.1.1), so part of the held frames were stale to
		 * it. Answer again if it is not done 200 ms after the hold,
		 * well inside its retries (2 ms doubling over 7 tries). */
		if (held && !peer && proc_now_s() - hold_t > 0.2)
			held = false;
		if (!paused && s->ctx->port->stats.tx_frames - tx0 >= 32) {
			/* A slow responder: one burst of answers out, then
			 * nothing until the requester has timed out. */
			usleep(s->pause_ms * 1000);
			paused = true;
		}
		if (!sent &&
		    (batch_complete(s, b) || proc_now_s() > t_end || (peer && peer_fail))) {
			if (!batch_complete(s, b)) {
				if (peer && peer_fail)
					printf("%s: peer failed, stopping batch %u\n",
					       side_name[s->me], b->id);
				else
					missing_report(s, b);
			}
			rc = sx_boot_send_u64(s->fd, "done", b->fail, BOOT_MS);
			if (rc < 0) {
				FAIL(s, "bootstrap send: %s", strerror(-rc));
				return -1;
			}
			sent = true;
		}
		/* Read the peer's "done" once: after it, the peer moves on to
		 * the next phase and its next message is not ours to read. */
		if (!peer && (sent || (++it & 31) == 0)) {
			if (fd_readable(s->fd)) {
				rc = sx_boot_recv_u64(s->fd, "done", &peer_fail, BOOT_MS);
				if (rc < 0) {
					FAIL(s, "bootstrap recv: %s", strerror(-rc));
					return -1;
				}
				peer = true;
				if (peer_fail)
					b->peer_fail = true;
			} else if (sent && proc_now_s() > t_end + 10) {
				FAIL(s, "peer not done 10 s after the deadline");
				return -1;
			}
		}
	}
	b->t_wait = proc_now_s() - t0;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                   */

static unsigned int
access_target(const struct xop *op)
{
	if (op->bad == BAD_RO)
		return SX_ACCESS_REMOTE_READ;
	return SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE | SX_ACCESS_REMOTE_READ |
	       SX_ACCESS_REMOTE_ATOMIC;
}

/* Owner of the buffer the data lands in, per check: 'T' the target buffer,
 * 'L' the initiator's. */
static bool
check_applies(const struct xop *op, char which)
{
	if (is_atomic(op->opcode))
		return true;
	if (which == 'L')
		return op->opcode == SX_WR_RDMA_READ;
	return op->opcode != SX_WR_RDMA_READ && !op->skip_landing;
}

static enum side_id
check_owner(const struct xop *op, char which)
{
	return which == 'L' ? (enum side_id)op->who : (enum side_id)(1 - op->who);
}

/* Allocate, fill and register this side's buffers; post the receives. */
static int
batch_prepare(struct side *s, struct batch *b)
{
	unsigned int i;
	int rc;

	layout(s, b);
	s->cur = b;
	b->prepared = true;
	for (i = 0; i < b->n; i++) {
		struct xop *op = &b->op[i];
		bool init = op->who == s->me;
		uint64_t seed = init ? op->lseed : op->rseed;
		unsigned int access = init ? SX_ACCESS_LOCAL_WRITE : access_target(op);

		op->buf_len = init ? op->llen : op->rlen;
		op->buf = buf_alloc(op->buf_len);
		if (op->buf == NULL) {
			fail_op(s, b, (int)i, "out of memory (%zu B)", op->buf_len);
			return -1;
		}
		pat_fill(op->buf, seed, 0, op->buf_len);
		op->crc_before = sx_crc32(0, op->buf, op->buf_len);
		op->mr = sx_reg_mr(s->pd, op->buf, op->buf_len, access);
		if (op->mr == NULL) {
			fail_op(s, b, (int)i, "sx_reg_mr: %s", strerror(errno));
			return -1;
		}
		if (!init && consumes_recv(op->opcode)) {
			struct sx_sge sge = {
			    .addr = (uintptr_t)op->buf + op->toff,
			    /* larger than the message: the rest must stay */
			    .length = op->len + GUARD / 2,
			    .lkey = op->mr->lkey,
			};
			struct sx_recv_wr wr = {
			    .wr_id = wr_id_of(b, i, true),
			    .sg_list = &sge,
			    .num_sge = op->opcode == SX_WR_RDMA_WRITE_WITH_IMM ? 0 : 1,
			};

			rc = sx_post_recv(s->qp[op->qp], &wr, NULL);
			if (rc < 0) {
				fail_op(s, b, (int)i, "sx_post_recv: %s", strerror(-rc));
				return -1;
			}
		}
	}
	return 0;
}

/* Each side learns the address and rkey of the target buffers. */
static int
batch_exchange(struct side *s, struct batch *b)
{
	struct sx_boot_qp *mine = calloc(b->n, sizeof(*mine));
	struct sx_boot_qp *peer = calloc(b->n, sizeof(*peer));
	struct sx_qp_endpoint ep;
	unsigned int i;
	int rc = -ENOMEM;

	if (mine == NULL || peer == NULL)
		goto out;
	sx_context_endpoint(s->ctx, &ep);
	for (i = 0; i < b->n; i++) {
		mine[i].ep = ep;
		if (b->op[i].who != s->me) {
			mine[i].addr = (uintptr_t)b->op[i].buf;
			mine[i].rkey = b->op[i].mr->rkey;
			mine[i].len = b->op[i].buf_len;
		}
	}
	rc = sx_boot_exchange(s->fd, mine, peer, b->n, BOOT_MS);
	if (rc < 0)
		goto out;
	for (i = 0; i < b->n; i++) {
		struct xop *op = &b->op[i];

		if (op->who != s->me)
			continue;
		if (peer[i].len != op->rlen) {
			fail_op(s, b, (int)i, "peer's buffer is %" PRIu64 " B, want %zu",
			        peer[i].len, op->rlen);
			rc = -EPROTO;
			goto out;
		}
		op->raddr = peer[i].addr;
		op->rkey = peer[i].rkey;
	}
out:
	if (rc < 0)
		FAIL(s, "buffer exchange: %s", strerror(-rc));
	free(mine);
	free(peer);
	return rc;
}

static int
post_op(struct side *s, struct batch *b, unsigned int i)
{
	struct xop *op = &b->op[i];
	struct sx_sge sge = {.lkey = op->mr->lkey, .length = op->len};
	struct sx_send_wr wr = {
	    .wr_id = wr_id_of(b, i, false),
	    .sg_list = &sge,
	    .num_sge = 1,
	    .opcode = op->opcode,
	    .send_flags = op->unsignaled ? 0 : SX_SEND_SIGNALED,
	    .imm_data = htobe32(imm_of(b, i)),
	};
	uint64_t raddr =
	    op->raddr + (op->opcode == SX_WR_RDMA_READ ? op->soff : op->toff);
	uint32_t rkey = op->rkey;
	int rc;

	if (op->bad == BAD_RKEY)
		rkey += 1000u << 8; /* a slot no region uses, same generation */
	if (op->bad == BAD_OOB)
		raddr = is_atomic(op->opcode) ? op->raddr + op->rlen
		                              : op->raddr + op->rlen - op->len + 1;
	if (is_atomic(op->opcode)) {
		sge.addr = (uintptr_t)op->buf + ATOMIC_OFF;
		wr.wr.atomic.remote_addr = raddr;
		wr.wr.atomic.rkey = rkey;
		wr.wr.atomic.compare_add = atomic_compare_add(op);
		wr.wr.atomic.swap = atomic_swap(op);
	} else {
		sge.addr = (uintptr_t)op->buf +
		           (op->opcode == SX_WR_RDMA_READ ? op->toff : op->soff);
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	rc = sx_post_send(s->qp[op->qp], &wr, NULL);
	if (rc < 0)
		fail_op(s, b, (int)i, "sx_post_send: %s", strerror(-rc));
	return rc;
}

static int
batch_post(struct side *s, struct batch *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++) {
		if (b->op[i].who == s->me && post_op(s, b, i) < 0)
			return -1;
		s->tot.ops += b->op[i].who == s->me;
		s->tot.bytes += b->op[i].who == s->me ? b->op[i].len : 0;
	}
	return 0;
}

/* Expected checksum of the peer's buffer @p which of op @p i: computed by
 * the side that holds the source bytes. */
static uint32_t
expected_crc(const struct xop *op, char which)
{
	bool ok = op->want == SX_WC_SUCCESS;
	uint64_t seed = which == 'L' ? op->lseed : op->rseed;
	size_t len = which == 'L' ? op->llen : op->rlen;
	uint32_t crc;

	if (is_atomic(op->opcode)) {
		/* target word: the result; initiator's word: the original */
		uint64_t v = which == 'L' ? atomic_init(op) : atomic_after(op);

		if (!ok)
			return pat_crc(0, seed, 0, len);
		crc = pat_crc(0, seed, 0, ATOMIC_OFF);
		crc = sx_crc32(crc, &v, 8);
		return pat_crc(crc, seed, ATOMIC_OFF + 8, len - ATOMIC_OFF - 8);
	}
	if (!ok)
		return pat_crc(0, seed, 0, len);
	crc = pat_crc(0, seed, 0, op->toff);
	crc = sx_crc32(crc, op->buf + op->soff, op->len); /* my source bytes */
	return pat_crc(crc, seed, (uint64_t)op->toff + op->len, len - op->toff - op->len);
}

/*
 * Send the expected checksums of the peer's landing buffers, then compare
 * mine: the whole buffer, guards included. Then exchange failure counts.
 * Returns 0 (both sides' verdicts in *b), or -1 if the bootstrap broke.
 */
static int
batch_verify(struct side *s, struct batch *b)
{
	static const char which_list[] = {'T', 'L'};
	char tag[32];
	unsigned int i, w;
	uint64_t v;
	int rc;

	for (i = 0; i < b->n; i++) {
		for (w = 0; w < 2; w++) {
			const struct xop *op = &b->op[i];
			char which = which_list[w];

			if (!check_applies(op, which) || check_owner(op, which) == s->me)
				continue;
			snprintf(tag, sizeof(tag), "crc%u%c", i, which);
			rc = sx_boot_send_u64(s->fd, tag, expected_crc(op, which),
			                      BOOT_MS);
			if (rc < 0)
				goto broken;
		}
	}
	for (i = 0; i < b->n; i++) {
		for (w = 0; w < 2; w++) {
			struct xop *op = &b->op[i];
			char which = which_list[w];
			uint32_t crc;

			if (!check_applies(op, which) || check_owner(op, which) != s->me)
				continue;
			snprintf(tag, sizeof(tag), "crc%u%c", i, which);
			rc = sx_boot_recv_u64(s->fd, tag, &v, BOOT_MS);
			if (rc < 0)
				goto broken;
			crc = sx_crc32(0, op->buf, op->buf_len);
			if (crc != (uint32_t)v && is_atomic(op->opcode)) {
				uint64_t word;

				memcpy(&word, op->buf + ATOMIC_OFF, 8);
				fail_op(s, b, (int)i,
				        "%s word 0x%016" PRIx64 ", expected 0x%016" PRIx64
				        " (before 0x%016" PRIx64 "%s)",
				        which == 'L' ? "fetched" : "target", word,
				        which == 'L' ? atomic_init(op) : atomic_after(op),
				        which == 'L' ? pat_u64(op->lseed, ATOMIC_OFF)
				                     : atomic_init(op),
				        op->cas_miss ? ", compare did not match" : "");
			} else if (crc != (uint32_t)v)
				fail_op(s, b, (int)i,
				        "%s buffer (%zu B) crc 0x%08x, expected 0x%08x "
				        "(before 0x%08x)",
				        which == 'L' ? "initiator" : "target",
				        op->buf_len, crc, (uint32_t)v, op->crc_before);
			else if (op->want != SX_WC_SUCCESS && crc != op->crc_before)
				fail_op(s, b, (int)i, "buffer changed by a failed WR");
			else if (op->want != SX_WC_SUCCESS)
				printf(
				    "%s: batch %u op %u (%s, %s): %s; %s buffer (%zu B) "
				    "unchanged, crc 0x%08x before and after\n",
				    side_name[s->me], b->id, i, op_name(op->opcode),
				    bad_name[op->bad], sx_wc_status_str(op->want),
				    which == 'L' ? "initiator" : "target", op->buf_len,
				    crc);
		}
	}
	rc = sx_boot_send_u64(s->fd, "verdict", b->fail, BOOT_MS);
	if (rc == 0)
		rc = sx_boot_recv_u64(s->fd, "verdict", &v, BOOT_MS);
	if (rc < 0)
		goto broken;
	if (v != 0)
		b->peer_fail = true;
	return 0;
broken:
	FAIL(s, "bootstrap during verification: %s", strerror(-rc));
	return -1;
}

static void
batch_release(struct side *s, struct batch *b)
{
	unsigned int i;

	if (!b->prepared)
		return;
	for (i = 0; i < b->n; i++) {
		struct xop *op = &b->op[i];

		/* Deregistered, the region must never be touched again: its
		 * pages go at once, so a late access faults. */
		if (op->mr != NULL) {
			int rc = sx_dereg_mr(op->mr);

			if (rc < 0) {
				/* still in use: keep the memory, report it */
				fail_op(s, b, (int)i, "sx_dereg_mr: %s", strerror(-rc));
				op->buf = NULL;
			}
		}
		buf_free(op->buf, op->buf_len);
		op->mr = NULL;
		op->buf = NULL;
	}
	b->prepared = false;
	if (s->cur == b)
		s->cur = NULL;
}

static struct batch *
batch_new(struct side *s)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (b == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	b->id = ++s->next_batch;
	return b;
}

/* Sum of counter @p c over the live QPs. */
static uint64_t
qps_count(const struct side *s, enum sx_qp_counter c)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < MAX_QP; i++)
		if (s->qp[i] != NULL)
			sum += s->qp[i]->cnt[c];
	return sum;
}

static void
batch_print(const struct side *s, const struct batch *b, const char *what)
{
	uint64_t bytes = 0;
	unsigned int i, mine = 0;

	for (i = 0; i < b->n; i++) {
		if (b->op[i].who == s->me) {
			bytes += b->op[i].len;
			mine++;
		}
	}
	printf("%s: batch %u (%s): %u ops (%u mine, %" PRIu64 " B) in %.3f s, %" PRIu64
	       " retransmits, %" PRIu64 " timeouts: %s\n",
	       side_name[s->me], b->id, what, b->n, mine, bytes, b->t_wait, b->retx,
	       b->timeouts, b->fail || b->peer_fail ? "FAIL" : "ok");
}

/*
 * The whole batch: prepare, exchange, post, wait for both sides, verify,
 * release. Returns 1 if it passed on both sides, 0 if it failed (both sides
 * know), -1 if the bootstrap broke. @p keep: leave buffers registered (the
 * caller releases them after destroying QPs that may still point at them).
 */
static int
batch_run(struct side *s, struct batch *b, const char *what, double limit_s, bool keep)
{
	uint64_t retx0 = qps_count(s, SX_QPC_RETRANSMITS);
	uint64_t timeouts0 = qps_count(s, SX_QPC_TIMEOUTS);

	if (batch_prepare(s, b) < 0 || batch_exchange(s, b) < 0 || batch_post(s, b) < 0 ||
	    wait_both(s, b, limit_s) < 0 || batch_verify(s, b) < 0) {
		qps_destroy(s);
		batch_release(s, b);
		return -1;
	}
	s->tot.batches++;
	b->retx = qps_count(s, SX_QPC_RETRANSMITS) - retx0;
	b->timeouts = qps_count(s, SX_QPC_TIMEOUTS) - timeouts0;
	batch_print(s, b, what);
	if (b->fail != 0 || b->peer_fail) {
		/* WRs may still point into the buffers: the QPs go first. */
		qps_destroy(s);
		batch_release(s, b);
		return 0;
	}
	if (!keep)
		batch_release(s, b);
	return 1;
}

/* ------------------------------------------------------------------------ */
/* QPs                                                                       */

static enum sx_reliability
rel_of(const struct opts *o, unsigned int i)
{
	if (o->rel == REL_MIXED)
		return i & 1 ? SX_REL_SR : SX_REL_GBN;
	return o->rel == REL_SR ? SX_REL_SR : SX_REL_GBN;
}

struct qp_cfg {
	uint32_t sq_psn; /* 0: random */
	uint8_t retry_cnt;
	uint32_t timeout_us;
};

static const struct qp_cfg qp_default = {.sq_psn = 0, .retry_cnt = 7, .timeout_us = 2000};

static void
qp_destroy(struct side *s, unsigned int i)
{
	unsigned int c;

	if (s->qp[i] == NULL)
		return;
	for (c = 0; c < SX_QPC_MAX; c++)
		s->tot.cnt[c] += s->qp[i]->cnt[c];
	sx_destroy_qp(s->qp[i]);
	s->qp[i] = NULL;
}

static void
qps_destroy(struct side *s)
{
	unsigned int i;

	for (i = 0; i < MAX_QP; i++)
		qp_destroy(s, i);
	s->nqp = 0;
}

/* Create @p n QP pairs (QP i here with QP i there) and connect them. */
static int
qps_connect(struct side *s, unsigned int n, const struct qp_cfg *cfg)
{
	struct sx_boot_qp mine[MAX_QP], peer[MAX_QP];
	unsigned int i;
	int rc;

	memset(mine, 0, sizeof(mine));
	for (i = 0; i < n; i++) {
		struct sx_qp_init_attr a = {
		    .send_cq = s->scq,
		    .recv_cq = s->rcq,
		    .max_send_wr = 256,
		    .max_recv_wr = 256,
		    .reliability = rel_of(s->o, i),
		    .mtu = s->o->mtu,
		    .sq_psn = cfg->sq_psn,
		    .retry_cnt = cfg->retry_cnt,
		    .rnr_retry = 7,
		    .timeout_us = cfg->timeout_us,
		};

		s->qp[i] = sx_create_qp(s->pd, &a);
		if (s->qp[i] == NULL) {
			FAIL(s, "sx_create_qp: %s", strerror(errno));
			return -1;
		}
		sx_qp_local(s->qp[i], &mine[i].ep);
		s->qp_start_psn[i] = mine[i].ep.psn;
	}
	s->nqp = n;
	rc = sx_boot_exchange(s->fd, mine, peer, n, BOOT_MS);
	if (rc < 0) {
		FAIL(s, "QP exchange: %s", strerror(-rc));
		return -1;
	}
	for (i = 0; i < n; i++) {
		rc = sx_qp_connect(s->qp[i], &peer[i].ep);
		if (rc < 0) {
			FAIL(s, "sx_qp_connect: %s", strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/* Nothing may be left on a QP after its batches: no send WR unretired, no
 * receive unconsumed. */
static void
qps_check_idle(struct side *s, bool allow_recv)
{
	unsigned int i;

	for (i = 0; i < s->nqp; i++) {
		const struct sx_qp *qp = s->qp[i];

		if (qp != NULL && (qp->sq_head != qp->sq_tail ||
		                   (!allow_recv && qp->rq_head != qp->rq_tail)))
			FAIL(s, "QP %u: %u send and %u receive WRs left", i,
			     qp->sq_tail - qp->sq_head, qp->rq_tail - qp->rq_head);
	}
}

/* ------------------------------------------------------------------------ */
/* Scenarios                                                                 */

/* Every opcode at every size up to --max-size over --qps QPs, in both
 * directions (the largest size from the client only), then atomics. */
static int
scenario_opcodes(struct side *s)
{
	static const uint32_t sizes[] = {1, 1000, 4096, 65537, 1u << 20, 64u << 20};
	unsigned int k;
	char what[64];
	int rc;

	if (qps_connect(s, s->o->nqp, &qp_default) < 0)
		return -1;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct batch *b;

		if (sizes[k] > s->o->max_size)
			break;
		b = batch_new(s);
		script_data(b, sizes[k], sizes[k] <= (1u << 20), s->o->nqp, k);
		snprintf(what, sizeof(what), "data %u B", sizes[k]);
		rc = batch_run(s, b, what, 120, false);
		free(b);
		if (rc <= 0)
			return rc;
	}
	{
		struct batch *b = batch_new(s);

		script_atomics(b, s->o->nqp);
		rc = batch_run(s, b, "atomics", 30, false);
		free(b);
	}
	return rc < 0 ? -1 : 0;
}

/* Rounds of every opcode at mixed sizes in both directions plus atomics,
 * some unsignaled, over faulty ports (--fault-tx / --fault-rx). */
static int
scenario_faults(struct side *s)
{
	static const uint32_t sizes[] = {1, 4096, 65537, 262144};
	unsigned int r, k;
	char what[64];
	int rc = 0;

	if (qps_connect(s, s->o->nqp, &qp_default) < 0)
		return -1;
	for (r = 0; r < s->o->rounds; r++) {
		struct batch *b = batch_new(s);

		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
			script_data(b, sizes[k], true, s->o->nqp, r + k);
		script_atomics(b, s->o->nqp);
		script_unsignal(b, 3);
		snprintf(what, sizeof(what), "faults round %u", r + 1);
		rc = batch_run(s, b, what, 60, false);
		free(b);
		if (rc <= 0)
			break;
	}
	return rc < 0 ? -1 : 0;
}

/* One QP pair per case: a request the responder must refuse, then (on
 * some) a valid WRITE after it on the same QP, which must be flushed. */
static int
scenario_access(struct side *s)
{
	static const struct {
		enum sx_wr_opcode op;
		uint32_t len;
		enum bad bad;
		bool trailer;
	} cases[] = {
	    {SX_WR_RDMA_WRITE, 4096, BAD_RKEY, true},
	    {SX_WR_RDMA_WRITE, 65537, BAD_OOB, true},
	    {SX_WR_RDMA_WRITE, 65537, BAD_RO, true},
	    {SX_WR_RDMA_WRITE_WITH_IMM, 1000, BAD_RO, false},
	    {SX_WR_RDMA_READ, 4096, BAD_RKEY, false},
	    {SX_WR_RDMA_READ, 65537, BAD_OOB, true},
	    {SX_WR_ATOMIC_CMP_AND_SWP, 8, BAD_RKEY, false},
	    {SX_WR_ATOMIC_FETCH_AND_ADD, 8, BAD_OOB, false},
	    {SX_WR_ATOMIC_FETCH_AND_ADD, 8, BAD_RO, true},
	};
	unsigned int k;
	char what[96];
	int rc = 0;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct batch *b = batch_new(s);
		struct xop *op;

		if (qps_connect(s, 1, &qp_default) < 0) {
			free(b);
			return -1;
		}
		op = add_op(b, CLIENT, 0, cases[k].op, cases[k].len);
		op->bad = cases[k].bad;
		op->want = SX_WC_REM_ACCESS_ERR;
		if (cases[k].trailer) {
			op = add_op(b, CLIENT, 0, SX_WR_RDMA_WRITE, 4096);
			op->want = SX_WC_WR_FLUSH_ERR;
			/* Selective repeat places a WRITE that overtook the
			 * refused request; the requester still flushes it. */
			op->skip_landing = rel_of(s->o, 0) == SX_REL_SR;
		}
		snprintf(what, sizeof(what), "%s %u B, %s", op_name(cases[k].op),
		         cases[k].len, bad_name[cases[k].bad]);
		rc = batch_run(s, b, what, 20, true);
		/* A refused WRITE_IMM moved the responder QP to error, which
		 * flushed its receive. */
		if (rc > 0)
			qps_check_idle(s, true);
		/* The unconsumed receive of a refused WRITE_IMM points into the
		 * batch's buffer: destroy the QP before the buffer goes. */
		qps_destroy(s);
		batch_release(s, b);
		free(b);
		if (rc <= 0)
			break;
	}
	return rc < 0 ? -1 : 0;
}

/*
 * Retry exhaustion: after a good batch the server's QP stops answering
 * (destroyed in gbn, moved to error in sr) and the client posts a mix of
 * WRs, signaled and not, plus receives. Each must complete exactly once:
 * the oldest with RETRY_EXC_ERR, every other with WR_FLUSH_ERR. Then both
 * sides connect new QPs and a full batch must pass.
 */
static int
scenario_retry(struct side *s)
{
	static const enum sx_wr_opcode mix[] = {
	    SX_WR_RDMA_WRITE,          SX_WR_SEND,
	    SX_WR_RDMA_READ,           SX_WR_ATOMIC_FETCH_AND_ADD,
	    SX_WR_RDMA_WRITE_WITH_IMM, SX_WR_SEND_WITH_IMM,
	    SX_WR_ATOMIC_CMP_AND_SWP,  SX_WR_RDMA_WRITE,
	};
	const unsigned int nsend = 16, nrecv = 4;
	struct qp_cfg cfg = {.retry_cnt = s->o->retry_cnt,
	                     .timeout_us = s->o->timeout_us};
	struct batch *b = batch_new(s), *dead = NULL;
	uint64_t v = 0;
	int rc;

	if (qps_connect(s, 1, &cfg) < 0)
		goto broken;
	/* Small: the short retry budget also applies here. */
	add_op(b, CLIENT, 0, SX_WR_SEND, 1);
	add_op(b, CLIENT, 0, SX_WR_RDMA_WRITE, 4096);
	rc = batch_run(s, b, "before the peer goes", 20, true);
	if (rc < 0)
		goto broken;
	if (rc == 0)
		goto out;

	if (s->me == SERVER) {
		if (rel_of(s->o, 0) == SX_REL_GBN)
			qp_destroy(s, 0);
		else
			sx_qp_to_error(s->qp[0]);
		/* Drain the flush of nothing: the server posted no receives. */
		drain(s, NULL);
		if (sx_boot_send_u64(s->fd, "gone", 1, BOOT_MS) < 0)
			goto broken;
		/* Keep the port polled (frames for the gone QP are dropped)
		 * until the client has seen everything fail. */
		while (!fd_readable(s->fd)) {
			drain(s, NULL);
			if (proc_now_s() > s->deadline)
				break;
		}
		if (sx_boot_recv_u64(s->fd, "failed", &v, BOOT_MS) < 0)
			goto broken;
	} else {
		unsigned int i, got = 0, sgot = 0, first_err = 0;
		uint8_t *buf = calloc(1, 65536);
		struct sx_mr *mr;
		bool seen[32] = {false};
		double t0, t_exc = -1, t_last;
		struct sx_wc wc[16];
		uint32_t timeouts0 = (uint32_t)s->qp[0]->cnt[SX_QPC_TIMEOUTS];

		if (sx_boot_recv_u64(s->fd, "gone", &v, BOOT_MS) < 0 || buf == NULL)
			goto broken;
		mr = sx_reg_mr(s->pd, buf, 65536, SX_ACCESS_LOCAL_WRITE);
		if (mr == NULL)
			goto broken;
		for (i = 0; i < nrecv; i++) {
			struct sx_sge sge = {(uintptr_t)buf + 60000, 1000, mr->lkey};
			struct sx_recv_wr wr = {
			    .wr_id = 1000 + i, .sg_list = &sge, .num_sge = 1};

			if (sx_post_recv(s->qp[0], &wr, NULL) < 0)
				FAIL(s, "post_recv");
		}
		t0 = proc_now_s();
		for (i = 0; i < nsend; i++) {
			enum sx_wr_opcode opc = mix[i % (sizeof(mix) / sizeof(mix[0]))];
			struct sx_sge sge = {(uintptr_t)buf + i * 2048,
			                     is_atomic(opc) ? 8 : 2000, mr->lkey};
			struct sx_send_wr wr = {
			    .wr_id = i,
			    .sg_list = &sge,
			    .num_sge = 1,
			    .opcode = opc,
			    /* half unsignaled: errors complete regardless */
			    .send_flags = i % 2 ? 0 : SX_SEND_SIGNALED,
			};

			/* the old WRITE target, which nobody will answer for */
			wr.wr.rdma.remote_addr = b->op[1].raddr + GUARD;
			wr.wr.rdma.rkey = b->op[1].rkey;
			if (is_atomic(opc)) {
				wr.wr.atomic.remote_addr = b->op[1].raddr + GUARD;
				wr.wr.atomic.rkey = b->op[1].rkey;
			}
			if (sx_post_send(s->qp[0], &wr, NULL) < 0)
				FAIL(s, "post_send %u", i);
		}
		t_last = t0;
		while (got < nsend + nrecv && proc_now_s() < t0 + 10) {
			int n = sx_poll_cq(s->scq, 16, wc), k;

			for (k = 0; k < n; k++, got++, sgot++) {
				if (wc[k].wr_id >= nsend || seen[wc[k].wr_id]) {
					FAIL(s,
					     "retry: unexpected or repeated wr_id "
					     "%" PRIu64,
					     wc[k].wr_id);
					continue;
				}
				seen[wc[k].wr_id] = true;
				if (wc[k].status == SX_WC_RETRY_EXC_ERR) {
					first_err++;
					t_exc = proc_now_s() - t0;
					if (wc[k].wr_id != 0)
						FAIL(s,
						     "retry: RETRY_EXC_ERR on wr %" PRIu64
						     ", want the oldest (0)",
						     wc[k].wr_id);
					if (sgot != 0)
						FAIL(s,
						     "retry: RETRY_EXC_ERR is send "
						     "completion "
						     "%u, want the first",
						     sgot);
				} else if (wc[k].status != SX_WC_WR_FLUSH_ERR) {
					FAIL(s, "retry: wr %" PRIu64 " status %s",
					     wc[k].wr_id, sx_wc_status_str(wc[k].status));
				}
				t_last = proc_now_s();
			}
			n = sx_poll_cq(s->rcq, 16, wc);
			for (k = 0; k < n; k++, got++) {
				if (wc[k].wr_id < 1000 || wc[k].wr_id >= 1000 + nrecv ||
				    seen[16 + wc[k].wr_id - 1000]) {
					FAIL(s,
					     "retry: unexpected receive wr_id %" PRIu64,
					     wc[k].wr_id);
					continue;
				}
				seen[16 + wc[k].wr_id - 1000] = true;
				if (wc[k].status != SX_WC_WR_FLUSH_ERR)
					FAIL(s, "retry: receive %" PRIu64 " status %s",
					     wc[k].wr_id, sx_wc_status_str(wc[k].status));
			}
		}
		/* Nothing more may come. */
		for (t_last = proc_now_s(); proc_now_s() < t_last + QUIET;) {
			int n = sx_poll_cq(s->scq, 16, wc);

			n += sx_poll_cq(s->rcq, 16, wc + 0);
			if (n > 0)
				FAIL(s, "retry: %d completions after all %u", n,
				     nsend + nrecv);
		}
		if (got != nsend + nrecv || first_err != 1)
			FAIL(s, "retry: %u of %u completions, %u RETRY_EXC_ERR", got,
			     nsend + nrecv, first_err);
		{
			struct sx_send_wr wr = {.wr_id = 99, .opcode = SX_WR_SEND};

			/* A QP in the error state takes no new work. */
			if (sx_post_send(s->qp[0], &wr, NULL) == 0)
				FAIL(s, "retry: post_send on an errored QP succeeded");
		}
		printf("client: retry: %u send + %u receive WRs completed once each: "
		       "RETRY_EXC_ERR after %.1f ms (%u timeouts, retry_cnt %u, timeout "
		       "%u us), "
		       "%u flushed\n",
		       nsend, nrecv, t_exc * 1e3,
		       (uint32_t)s->qp[0]->cnt[SX_QPC_TIMEOUTS] - timeouts0,
		       s->o->retry_cnt, s->o->timeout_us, got - first_err);
		if (s->qp[0]->cnt[SX_QPC_TIMEOUTS] - timeouts0 !=
		    (uint64_t)s->o->retry_cnt + 1)
			FAIL(s, "retry: %" PRIu64 " timeouts, want retry_cnt + 1",
			     s->qp[0]->cnt[SX_QPC_TIMEOUTS] - timeouts0);
		qp_destroy(s, 0); /* errored QP, nothing outstanding */
		sx_dereg_mr(mr);
		free(buf);
		if (sx_boot_send_u64(s->fd, "failed", s->failures, BOOT_MS) < 0)
			goto broken;
	}
	/* Healthy afterwards: new QPs, every opcode, checked. */
	qps_destroy(s);
	batch_release(s, b);
	dead = b;
	b = batch_new(s);
	if (qps_connect(s, 1, &qp_default) < 0)
		goto broken;
	script_data(b, 1u << 20, true, 1, 0);
	script_atomics(b, 1);
	rc = batch_run(s, b, "new QPs after the failure", 30, false);
	if (rc < 0)
		goto broken;
out:
	batch_release(s, b);
	free(b);
	free(dead);
	return 0;
broken:
	qps_destroy(s);
	batch_release(s, b);
	free(b);
	free(dead);
	return -1;
}

/* Both directions' PSNs start 300 below 2^24 and must wrap. */
static int
scenario_psn_wrap(struct side *s)
{
	struct qp_cfg cfg = qp_default;
	struct batch *b;
	unsigned int i;
	int rc;

	cfg.sq_psn = SX_PSN_MASK - 300;
	if (qps_connect(s, s->o->nqp, &cfg) < 0)
		return -1;
	b = batch_new(s);
	script_data(b, 1u << 20, true, s->o->nqp, 0);
	script_data(b, 65537, true, s->o->nqp, 1);
	script_atomics(b, s->o->nqp);
	rc = batch_run(s, b, "across the PSN wrap", 60, false);
	free(b);
	if (rc < 0)
		return -1;
	for (i = 0; i < s->nqp; i++) {
		const struct sx_qp *qp = s->qp[i];

		printf("%s: qp %u: sq psn 0x%06x -> 0x%06x, expected psn now 0x%06x\n",
		       side_name[s->me], i, s->qp_start_psn[i], qp->snd_nxt, qp->epsn);
		/* Fewer than 2^23 PSNs were used, so a wrap shows as going down. */
		if (!(qp->snd_nxt < s->qp_start_psn[i]) ||
		    !(qp->epsn < SX_PSN_MASK - 300))
			FAIL(s, "qp %u did not cross the PSN wrap", i);
	}
	return 0;
}

/*
 * A READ whose responder stalls after one burst of answers: the requester
 * times out and asks again for the rest, so two answer streams overlap.
 * The responder stops polling once the first stream is out, which
 * completes the READ; both sides then deregister and unmap at once, and
 * poll again in the quiet period. The responder must not read the unmapped
 * source (it did until answers were resolved per packet; see
 * repro_read_after_dereg.c).
 */
static int
scenario_read_dereg(struct side *s)
{
	struct batch *b;
	int rc;

	if (qps_connect(s, 1, &qp_default) < 0)
		return -1;
	if (s->me == SERVER) {
		/* 20 ms is ten RTOs: the re-reads are queued behind the first
		 * stream, which alone completes the READ (1024 answers at MTU
		 * 1024); the rest goes out only after the buffers are gone. */
		s->pause_ms = 20;
		s->hold_frames = (1u << 20) / s->o->mtu;
	}
	b = batch_new(s);
	add_op(b, CLIENT, 0, SX_WR_RDMA_READ, 1u << 20);
	rc = batch_run(s, b, "READ, stalled responder", 30, false);
	free(b);
	s->pause_ms = 0;
	s->hold_frames = 0;
	return rc < 0 ? -1 : 0;
}

/* A capture of every opcode on a go-back-N and a selective-repeat QP; the
 * launcher checks the files. */
static int
scenario_pcap(struct side *s)
{
	struct batch *b;
	int rc;

	if (qps_connect(s, s->o->nqp, &qp_default) < 0)
		return -1;
	b = batch_new(s);
	script_data(b, 1, true, s->o->nqp, 0);
	script_data(b, 4096, true, s->o->nqp, 1);
	script_data(b, 65537, true, s->o->nqp, 0);
	script_data(b, 262144, true, s->o->nqp, 1);
	script_atomics(b, s->o->nqp);
	rc = batch_run(s, b, "captured", 30, false);
	free(b);
	return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* One side                                                                  */

static int
eal_up(const struct side *s)
{
	char prefix[96], lcores[32];
	char *argv[] = {
	    (char *)"xfer",
	    (char *)"--no-huge",
	    (char *)"-m",
	    (char *)"256",
	    (char *)"--no-pci",
	    (char *)"--no-telemetry",
	    (char *)"--file-prefix",
	    prefix,
	    (char *)"--log-level=error",
	    (char *)"--lcores",
	    lcores,
	    NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	cpu_set_t set;
	int cpu, nth = 0, pick = 0;

	/* EAL pins its main lcore to the first CPU unless told otherwise,
	 * which puts both sides on one core (10x slower, and RTOs expire
	 * while the peer waits for its time slice). One CPU each: the
	 * server the first allowed CPU, the client the second. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
			if (!CPU_ISSET(cpu, &set))
				continue;
			if (nth == 0 || nth == (s->me == CLIENT ? 1 : 0))
				pick = cpu;
			nth++;
		}
	}
	snprintf(lcores, sizeof(lcores), "0@%d", pick);

	snprintf(prefix, sizeof(prefix), "sx-int-%s-%s", s->o->tag, side_name[s->me]);
	if (sx_eal_init(argc, argv) < 0) {
		fprintf(stderr, "%s: EAL init failed\n", side_name[s->me]);
		return -1;
	}
	return 0;
}

static bool
link_up(void)
{
	struct rte_eth_link link;
	uint16_t pid;

	return rte_eth_dev_get_port_by_name(MEMIF_NAME, &pid) == 0 &&
	       rte_eth_link_get_nowait(pid, &link) == 0 &&
	       link.link_status == RTE_ETH_LINK_UP;
}

static int
device_up(struct side *s)
{
	struct sx_context_attr attr;
	char spec[PATH_MAX + 128], pcap[PATH_MAX];
	const struct opts *o = s->o;

	sx_context_attr_init(&attr);
	snprintf(spec, sizeof(spec),
	         MEMIF_NAME ",role=%s,id=0,socket=%s/memif.sock,"
	                    "socket-abstract=no",
	         side_name[s->me], o->dir);
	attr.port = spec;
	attr.ip_version = 4;
	attr.ip[0] = 10;
	attr.ip[3] = (uint8_t)(1 + s->me);
	attr.mtu = o->mtu;
	if (sx_fault_parse(o->fault_tx, &attr.fault_tx) < 0 ||
	    sx_fault_parse(o->fault_rx, &attr.fault_rx) < 0) {
		fprintf(stderr, "bad fault spec\n");
		return -1;
	}
	attr.fault_seed = mix64(o->seed * 2 + s->me);
	attr.path = o->path;
	if (strcmp(o->scenario, "pcap") == 0) {
		snprintf(pcap, sizeof(pcap), "%s/%s.pcapng", o->dir, side_name[s->me]);
		attr.pcap_path = pcap;
	}
	s->ctx = sx_open_device(&attr);
	if (s->ctx == NULL) {
		fprintf(stderr, "%s: sx_open_device(%s): %s\n", side_name[s->me], spec,
		        strerror(errno));
		return -1;
	}
	s->pd = sx_alloc_pd(s->ctx);
	s->scq = sx_create_cq(s->ctx, 4096);
	s->rcq = sx_create_cq(s->ctx, 4096);
	if (s->pd == NULL || s->scq == NULL || s->rcq == NULL) {
		fprintf(stderr, "%s: pd/cq: %s\n", side_name[s->me], strerror(errno));
		return -1;
	}
	return 0;
}

static void
device_down(struct side *s)
{
	int rc;

	qps_destroy(s);
	if (s->cur != NULL)
		batch_release(s, s->cur);
	if (s->scq != NULL)
		sx_destroy_cq(s->scq);
	if (s->rcq != NULL)
		sx_destroy_cq(s->rcq);
	if (s->pd != NULL)
		sx_dealloc_pd(s->pd);
	if (s->ctx != NULL) {
		rc = sx_close_device(s->ctx);
		if (rc < 0)
			FAIL(s, "sx_close_device: %s", strerror(-rc));
	}
	s->scq = s->rcq = NULL;
	s->pd = NULL;
	s->ctx = NULL;
}

/* The end of a run: no completion may arrive in a quiet period; then the
 * sides swap counters and print a summary. */
static int
finish(struct side *s)
{
	const struct sx_port_stats *ps = &s->ctx->port->stats;
	const struct sx_engine_stats *es = &s->ctx->engine.stats;
	uint64_t faults, retx, peer_faults = 0, peer_retx = 0;
	double t0 = proc_now_s();
	unsigned int i, c;
	int rc;

	while (proc_now_s() < t0 + QUIET)
		if (drain(s, NULL) > 0)
			break; /* on_wc has reported it */
	qps_check_idle(s, false);
	if (s->scq->overflow || s->rcq->overflow)
		FAIL(s, "CQ overflow: send %" PRIu64 ", receive %" PRIu64,
		     s->scq->overflow, s->rcq->overflow);
	for (i = 0; i < MAX_QP; i++)
		if (s->qp[i] != NULL)
			for (c = 0; c < SX_QPC_MAX; c++)
				s->tot.cnt[c] += s->qp[i]->cnt[c];
	faults = ps->fault_drop[0] + ps->fault_drop[1] + ps->fault_reorder[0] +
	         ps->fault_reorder[1] + ps->fault_duplicate[0] + ps->fault_duplicate[1] +
	         ps->fault_corrupt[0] + ps->fault_corrupt[1];
	retx = s->tot.cnt[SX_QPC_RETRANSMITS];
	rc = sx_boot_send_u64(s->fd, "faults", faults, BOOT_MS);
	if (rc == 0)
		rc = sx_boot_send_u64(s->fd, "retx", retx, BOOT_MS);
	if (rc == 0)
		rc = sx_boot_recv_u64(s->fd, "faults", &peer_faults, BOOT_MS);
	if (rc == 0)
		rc = sx_boot_recv_u64(s->fd, "retx", &peer_retx, BOOT_MS);
	if (rc < 0) {
		FAIL(s, "bootstrap at the end: %s", strerror(-rc));
		return -1;
	}

	printf("%s: totals: %" PRIu64 " batches, %" PRIu64 " WRs posted (%" PRIu64
	       " B), %" PRIu64 " send + %" PRIu64 " receive completions\n",
	       side_name[s->me], s->tot.batches, s->tot.ops, s->tot.bytes, s->tot.send_wc,
	       s->tot.recv_wc);
	printf("%s: qp counters:", side_name[s->me]);
	for (c = 0; c < SX_QPC_MAX; c++)
		if (s->tot.cnt[c])
			printf(" %s=%" PRIu64, sx_qp_counter_name(c), s->tot.cnt[c]);
	printf("\n%s: port: tx %" PRIu64 " rx %" PRIu64 " frames, tx_full %" PRIu64
	       ", injected drop %" PRIu64 "/%" PRIu64 " reorder %" PRIu64 "/%" PRIu64
	       " duplicate %" PRIu64 "/%" PRIu64 " corrupt %" PRIu64 "/%" PRIu64
	       " (tx/rx), capture_drop %" PRIu64 "\n",
	       side_name[s->me], ps->tx_frames, ps->rx_frames, ps->tx_full,
	       ps->fault_drop[0], ps->fault_drop[1], ps->fault_reorder[0],
	       ps->fault_reorder[1], ps->fault_duplicate[0], ps->fault_duplicate[1],
	       ps->fault_corrupt[0], ps->fault_corrupt[1], ps->capture_drop);
	printf("%s: engine drops:", side_name[s->me]);
	for (c = 0; c < SX_EDROP_MAX; c++)
		if (c != SX_WIRE_OK && es->drop[c])
			printf(" %s=%" PRIu64, sx_engine_drop_name(c), es->drop[c]);
	printf("\n");

	if ((s->o->fault_tx[0] || s->o->fault_rx[0]) && faults + peer_faults == 0)
		FAIL(s, "fault injection configured but no fault happened");
	if (strstr(s->o->fault_tx, "drop") && retx + peer_retx == 0)
		FAIL(s, "frames were dropped but nothing was retransmitted");
	/* Sprayed over reordering ports without loss: every resend the loss
	 * detector orders is spurious. A reorder-tolerant one (rack.c) orders
	 * few; a count of SACKed PSNs would order one for most reordered
	 * frames. (Timeouts are not its doing: on a loaded machine a process
	 * may sleep past the retransmit timeout.) */
	if (s->o->path != NULL && !strstr(s->o->fault_tx, "drop") &&
	    !strstr(s->o->fault_rx, "drop") && !strstr(s->o->fault_tx, "corrupt") &&
	    !strstr(s->o->fault_rx, "corrupt")) {
		uint64_t lost = s->tot.cnt[SX_QPC_RACK_LOST];

		printf("%s: loss detector: %" PRIu64 " resends, %" PRIu64
		       " frames reordered here\n", side_name[s->me], lost, faults);
		if (lost * 10 > faults)
			FAIL(s, "spurious retransmit storm: %" PRIu64 " resends for %" PRIu64
			     " reordered frames", lost, faults);
	}
	if (strcmp(s->o->scenario, "pcap") == 0) {
		char path[PATH_MAX];
		FILE *f;

		if (ps->capture_drop != 0)
			FAIL(s, "%" PRIu64 " frames missing from the capture",
			     ps->capture_drop);
		snprintf(path, sizeof(path), "%s/%s.stats", s->o->dir, side_name[s->me]);
		f = fopen(path, "w");
		if (f == NULL || fprintf(f, "%" PRIu64 " %" PRIu64 "\n", ps->tx_frames,
		                         ps->rx_frames) < 0)
			FAIL(s, "cannot write %s", path);
		if (f != NULL)
			fclose(f);
	}
	return 0;
}

#ifndef XFER_ASAN
/* A crash in a side prints where, for whoever reads the test log. */
static void
on_crash(int sig)
{
	void *pc[64];
	int n = backtrace(pc, 64);
	static const char msg[] = "xfer: fatal signal, backtrace:\n";

	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(128 + sig);
	backtrace_symbols_fd(pc, n, STDERR_FILENO);
	signal(sig, SIG_DFL);
	raise(sig);
}
#endif

static int
side_main(const struct opts *o)
{
	static struct side s; /* large; zeroed */
	double t0 = proc_now_s();
	int rc = -1, fd;

	s.o = o;
	s.me = (enum side_id)o->role;
	s.fd = -1;
	s.deadline = t0 + o->timeout_s;
	setvbuf(stdout, NULL, _IOLBF, 0);
#ifndef XFER_ASAN
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGFPE, on_crash);
#endif
	if (eal_up(&s) < 0)
		return 1;
	/* The server's port (and memif socket) exists before the client, which
	 * connects to it, learns of it over TCP. */
	if (s.me == SERVER) {
		if (device_up(&s) < 0)
			goto down;
		fd = sx_boot_accept("127.0.0.1", o->tcp_port, BOOT_MS);
	} else {
		fd = sx_boot_connect("127.0.0.1", o->tcp_port, BOOT_MS);
		if (fd >= 0 && device_up(&s) < 0) {
			sx_boot_close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		FAIL(&s, "bootstrap connection: %s", strerror(-fd));
		goto down;
	}
	s.fd = fd;
	while (!link_up() && proc_now_s() < t0 + LINK_WAIT)
		usleep(1000);
	if (!link_up()) {
		FAIL(&s, "memif link down after %.0f s", LINK_WAIT);
		goto down;
	}
	if (sx_boot_barrier(s.fd, "link", BOOT_MS) < 0) {
		FAIL(&s, "barrier link");
		goto down;
	}

	if (strcmp(o->scenario, "opcodes") == 0)
		rc = scenario_opcodes(&s);
	else if (strcmp(o->scenario, "faults") == 0)
		rc = scenario_faults(&s);
	else if (strcmp(o->scenario, "access") == 0)
		rc = scenario_access(&s);
	else if (strcmp(o->scenario, "retry") == 0)
		rc = scenario_retry(&s);
	else if (strcmp(o->scenario, "psn-wrap") == 0)
		rc = scenario_psn_wrap(&s);
	else if (strcmp(o->scenario, "pcap") == 0)
		rc = scenario_pcap(&s);
	else if (strcmp(o->scenario, "read-dereg") == 0)
		rc = scenario_read_dereg(&s);
	if (rc == 0)
		rc = finish(&s);
	/*
	 * Orderly shutdown, in the order tests/port/memif_smoke.c found safe:
	 * neither side polls past the barrier; the client closes its port and
	 * says so; the server waits until its interrupt thread has seen the
	 * link go down, and only then closes. (Closing both at once crashed
	 * the server's interrupt thread in the memif PMD, in rte_intr_fd_get.)
	 */
	if (rc == 0 && sx_boot_barrier(s.fd, "done", BOOT_MS) < 0) {
		FAIL(&s, "final barrier");
		rc = -1;
	}
	if (rc == 0 && s.me == CLIENT) {
		device_down(&s);
		if (sx_boot_send_u64(s.fd, "closed", 1, BOOT_MS) < 0)
			FAIL(&s, "bootstrap: closed");
	} else if (rc == 0) {
		uint64_t v;
		double t1;

		if (sx_boot_recv_u64(s.fd, "closed", &v, BOOT_MS) < 0)
			FAIL(&s, "bootstrap: the client did not close");
		if (getenv("XFER_DEBUG"))
			fprintf(stderr, "server: %.6f closed received\n", proc_now_s());
		for (t1 = proc_now_s(); link_up() && proc_now_s() < t1 + 2;)
			usleep(1000);
		if (getenv("XFER_DEBUG"))
			fprintf(stderr, "server: %.6f link down\n", proc_now_s());
		if (link_up())
			FAIL(&s, "memif link still up 2 s after the client closed");
		/* The PMD marks the link down when its interrupt thread starts
		 * the disconnect, before it frees the regions; closing the port
		 * while that runs crashed that thread in rte_free (1 run in
		 * ~150). Let it finish. */
		usleep(SETTLE_MS * 1000);
	}
down:
	if (rc < 0 && s.fd >= 0) {
		/* Without a barrier the peer may still be polling when our
		 * port goes: the port's munmap guard (dataplane/port/ethdev.c)
		 * keeps it safe, so there is nothing to wait for here. */
		sx_boot_close(s.fd);
		s.fd = -1;
	}
	device_down(&s);
	if (getenv("XFER_DEBUG"))
		fprintf(stderr, "%s: %.6f device closed\n", side_name[s.me], proc_now_s());
	sx_boot_close(s.fd);
	rte_eal_cleanup();
	printf("%s: %s in %.2f s\n", side_name[s.me], s.failures ? "FAIL" : "PASS",
	       proc_now_s() - t0);
	return s.failures ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Launcher                                                                  */

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

/* A TCP port free on 127.0.0.1 now (the kernel's pick). */
static int
free_tcp_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void
remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[PATH_MAX];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (unlink(p) != 0 && errno == EISDIR)
			remove_tree(p);
	}
	closedir(d);
	rmdir(path);
}

static pid_t
spawn_side(int argc, char **argv, const char *role, const char *port, const char *dir,
           const char *tag)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0) {
		char **args = calloc((size_t)argc + 10, sizeof(*args));
		int i, k = 0;

		/* Never outlive the launcher. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent || args == NULL)
			_exit(1);
		for (i = 0; i < argc; i++)
			args[k++] = argv[i];
		args[k++] = (char *)"--role";
		args[k++] = (char *)role;
		args[k++] = (char *)"--tcp-port";
		args[k++] = (char *)port;
		args[k++] = (char *)"--dir";
		args[k++] = (char *)dir;
		args[k++] = (char *)"--tag";
		args[k++] = (char *)tag;
		execv("/proc/self/exe", args);
		perror("execv");
		_exit(1);
	}
	return pid;
}

/* Runs @p cmd through the shell; its output is echoed, the last line kept. */
static int
run_capture(const char *cmd, char *last, size_t cap)
{
	char line[1024];
	FILE *p = popen(cmd, "r");
	int st;

	last[0] = '\0';
	if (p == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL) {
		fputs(line, stdout);
		snprintf(last, cap, "%s", line);
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * A side's capture: scalex-pcap must find every frame a valid RoCE packet,
 * tshark must read as many frames as the port sent and received, each with
 * a BTH, none malformed and no error-level expert item.
 */
static int
check_capture(const struct opts *o, const char *dir, const char *role)
{
	char cap[PATH_MAX], stats[PATH_MAX], tsv[PATH_MAX], cmd[4 * PATH_MAX],
	    heur[64] = "";
	char last[1024], line[1024];
	unsigned long long tx = 0, rx = 0, ok = 0, bad = 1, skipped = 1, pkts = 0;
	unsigned long long frames = 0, malformed = 0, nobth = 0, experr = 0;
	FILE *f;
	int rc;

	snprintf(cap, sizeof(cap), "%s/%s.pcapng", dir, role);
	snprintf(stats, sizeof(stats), "%s/%s.stats", dir, role);
	f = fopen(stats, "r");
	if (f == NULL || fscanf(f, "%llu %llu", &tx, &rx) != 2) {
		printf("xfer: %s: no frame counts (%s)\n", role, stats);
		if (f != NULL)
			fclose(f);
		return 1;
	}
	fclose(f);
	if (o->scalex_pcap == NULL || o->scalex_pcap[0] == '\0') {
		printf("xfer: no --scalex-pcap given\n");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "'%s' check --quiet '%s' 2>&1", o->scalex_pcap, cap);
	rc = run_capture(cmd, last, sizeof(last));
	if (sscanf(last,
	           "checked %llu RoCE packets: %llu ok, %llu bad, %llu non-RoCE skipped",
	           &pkts, &ok, &bad, &skipped) != 4 ||
	    rc != 0 || bad != 0 || skipped != 0 || pkts != tx + rx) {
		printf("xfer: %s: scalex-pcap check exit %d, %llu packets (port: %llu tx "
		       "+ %llu "
		       "rx), %llu bad, %llu skipped\n",
		       role, rc, pkts, tx, rx, bad, skipped);
		return 1;
	}
	if (o->tshark == NULL || o->tshark[0] == '\0') {
		printf(
		    "xfer: %s: tshark not found, capture checked by scalex-pcap only\n",
		    role);
		return 0;
	}
	/* RoCE payload is opaque: keep Wireshark from guessing protocols in it
	 * (tests/interop/check_tshark.sh explains). */
	snprintf(
	    cmd, sizeof(cmd),
	    "'%s' -r '%s' -c 1 --disable-heuristic eth_over_ib -T fields -e frame.number "
	    ">/dev/null 2>&1",
	    o->tshark, cap);
	if (system(cmd) == 0)
		snprintf(heur, sizeof(heur), "--disable-heuristic eth_over_ib");
	snprintf(tsv, sizeof(tsv), "%s/%s.tsv", dir, role);
	snprintf(cmd, sizeof(cmd),
	         "'%s' -r '%s' --disable-protocol rpcordma %s -T fields -E separator=/t "
	         "-e frame.number -e _ws.malformed -e infiniband.bth.opcode "
	         "-e _ws.expert.severity >'%s' 2>'%s.err'",
	         o->tshark, cap, heur, tsv, tsv);
	rc = system(cmd);
	f = fopen(tsv, "r");
	if (rc != 0 || f == NULL) {
		printf("xfer: %s: tshark exit %d\n", role, rc);
		if (f != NULL)
			fclose(f);
		return 1;
	}
	/* Fields: frame number, malformed, BTH opcode, expert severities
	 * (8388608 is PI_ERROR). */
	while (fgets(line, sizeof(line), f) != NULL) {
		char *fld[4] = {line, NULL, NULL, NULL};
		int k;

		line[strcspn(line, "\n")] = '\0';
		for (k = 1; k < 4 && fld[k - 1] != NULL; k++) {
			fld[k] = strchr(fld[k - 1], '\t');
			if (fld[k] != NULL)
				*fld[k]++ = '\0';
		}
		frames++;
		malformed += fld[1] != NULL && fld[1][0] != '\0';
		nobth += fld[2] == NULL || fld[2][0] == '\0';
		experr += fld[3] != NULL && strstr(fld[3], "8388608") != NULL;
	}
	fclose(f);
	printf(
	    "xfer: %s capture: port %llu tx + %llu rx frames; scalex-pcap: %llu ok; "
	    "tshark: %llu frames, %llu malformed, %llu without BTH, %llu expert errors\n",
	    role, tx, rx, ok, frames, malformed, nobth, experr);
	return frames != tx + rx || malformed || nobth || experr;
}

static int
launch(const struct opts *o, int argc, char **argv)
{
	char dir[] = "/tmp/sx-xfer-XXXXXX";
	char port[16], tag[32], prefix[96];
	pid_t pid[2] = {0, 0};
	double t0 = proc_now_s();
	struct sigaction sa;
	int tcp, ret = 1, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	tcp = free_tcp_port();
	if (tcp < 0) {
		perror("tcp port");
		goto cleanup;
	}
	snprintf(port, sizeof(port), "%d", tcp);
	snprintf(tag, sizeof(tag), "%ld", (long)getpid());
	printf("xfer: scenario %s, dir %s, tcp port %d\n", o->scenario, dir, tcp);
	pid[SERVER] = spawn_side(argc, argv, "server", port, dir, tag);
	if (pid[SERVER] > 0)
		pid[CLIENT] = spawn_side(argc, argv, "client", port, dir, tag);
	if (pid[SERVER] <= 0 || pid[CLIENT] <= 0) {
		perror("fork");
		proc_reap(pid, side_name, 2, 0, &stop_signal);
		goto cleanup;
	}
	ret = proc_reap(pid, side_name, 2, t0 + o->timeout_s + KILL_GRACE, &stop_signal);
	if (ret == 0 && strcmp(o->scenario, "pcap") == 0)
		ret = check_capture(o, dir, "server") | check_capture(o, dir, "client");
cleanup:
	remove_tree(dir);
	for (i = 0; i < 2; i++) {
		snprintf(prefix, sizeof(prefix), "sx-int-%s-%s", tag, side_name[i]);
		eal_runtime_dir_remove(prefix);
	}
	printf("xfer %s: %s in %.2f s\n", o->scenario, ret == 0 ? "PASS" : "FAIL",
	       proc_now_s() - t0);
	return ret;
}

/* ------------------------------------------------------------------------ */

static void
usage(const char *argv0)
{
	fprintf(
	    stderr,
	    "usage: %s --scenario NAME [options]\n"
	    "scenarios:\n"
	    "  opcodes   every opcode, 1 B .. --max-size, --qps QPs, both directions\n"
	    "  faults    --rounds of mixed traffic under --fault-tx/--fault-rx\n"
	    "  access    bad rkey, out of bounds, read-only MR: REM_ACCESS_ERR, target "
	    "intact\n"
	    "  retry     peer QP gone: RETRY_EXC_ERR then flushes, then new QPs work\n"
	    "  psn-wrap  PSNs start below 2^24 and wrap\n"
	    "  pcap      capture on both sides, checked by --scalex-pcap and --tshark\n"
	    "  read-dereg  a READ answered twice (stalled responder), source freed at "
	    "once\n"
	    "options: --rel gbn|sr|mixed --mtu N --qps N --max-size N[K|M] --seed N\n"
	    "         --fault-tx SPEC --fault-rx SPEC --rounds N --timeout S\n"
	    "         --retry-cnt N --timeout-us N --scalex-pcap PATH --tshark PATH\n",
	    argv0);
}

static uint64_t
parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);

	if (*end == 'K' || *end == 'k')
		v <<= 10;
	else if (*end == 'M' || *end == 'm')
		v <<= 20;
	return v;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"scenario", required_argument, NULL, 's'},
	    {"role", required_argument, NULL, 'r'},
	    {"rel", required_argument, NULL, 'R'},
	    {"mtu", required_argument, NULL, 'm'},
	    {"qps", required_argument, NULL, 'q'},
	    {"max-size", required_argument, NULL, 'M'},
	    {"fault-tx", required_argument, NULL, 't'},
	    {"fault-rx", required_argument, NULL, 'x'},
	    {"seed", required_argument, NULL, 'S'},
	    {"rounds", required_argument, NULL, 'n'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"tcp-port", required_argument, NULL, 'p'},
	    {"dir", required_argument, NULL, 'd'},
	    {"tag", required_argument, NULL, 'g'},
	    {"scalex-pcap", required_argument, NULL, 'P'},
	    {"tshark", required_argument, NULL, 'w'},
	    {"retry-cnt", required_argument, NULL, 'c'},
	    {"timeout-us", required_argument, NULL, 'u'},
	    {"path", required_argument, NULL, 'A'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){
	    .role = -1,
	    .rel = REL_GBN,
	    .mtu = 1024,
	    .nqp = 4,
	    .max_size = 64u << 20,
	    .fault_tx = "",
	    .fault_rx = "",
	    .seed = 1,
	    .rounds = 2,
	    .timeout_s = 60,
	    .retry_cnt = 3,
	    .timeout_us = 1000,
	};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->scenario = optarg;
			break;
		case 'r':
			o->role = strcmp(optarg, "server") == 0   ? SERVER
			          : strcmp(optarg, "client") == 0 ? CLIENT
			                                          : -2;
			break;
		case 'R':
			o->rel = strcmp(optarg, "sr") == 0      ? REL_SR
			         : strcmp(optarg, "mixed") == 0 ? REL_MIXED
			                                        : REL_GBN;
			if (strcmp(optarg, "gbn") && strcmp(optarg, "sr") &&
			    strcmp(optarg, "mixed"))
				return -1;
			break;
		case 'm':
			o->mtu = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'q':
			o->nqp = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'M':
			o->max_size = parse_size(optarg);
			break;
		case 't':
			o->fault_tx = optarg;
			break;
		case 'x':
			o->fault_rx = optarg;
			break;
		case 'S':
			o->seed = strtoull(optarg, NULL, 10);
			break;
		case 'n':
			o->rounds = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'T':
			o->timeout_s = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o->tcp_port = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'g':
			o->tag = optarg;
			break;
		case 'P':
			o->scalex_pcap = optarg;
			break;
		case 'w':
			o->tshark = optarg;
			break;
		case 'c':
			o->retry_cnt = (uint8_t)strtoul(optarg, NULL, 10);
			break;
		case 'u':
			o->timeout_us = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'A':
			o->path = optarg;
			break;
		default:
			return -1;
		}
	}
	if (o->scenario == NULL || o->role == -2 || o->nqp == 0 || o->nqp > MAX_QP ||
	    o->timeout_s == 0 || o->max_size > (64u << 20) || o->retry_cnt > 7 ||
	    (o->role >= 0 && (o->dir == NULL || o->tag == NULL || o->tcp_port == 0)))
		return -1;
	if (strcmp(o->scenario, "opcodes") && strcmp(o->scenario, "faults") &&
	    strcmp(o->scenario, "access") && strcmp(o->scenario, "retry") &&
	    strcmp(o->scenario, "psn-wrap") && strcmp(o->scenario, "pcap") &&
	    strcmp(o->scenario, "read-dereg"))
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;

	if (parse_opts(argc, argv, &o) != 0) {
		usage(argv[0]);
		return 2;
	}
	if (o.role < 0)
		return launch(&o, argc, argv);
	return side_main(&o);
}
