/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the QP core: the responder and the completer of one
 * QP (tests/qp/raw.h, virtual time, no engine, no DPDK) get an arbitrary
 * sequence of frames and events decoded from the input.
 *
 * Most frames are built from fields the input chooses (opcode from the RC
 * and SR tables, PSN near the expected one, VA inside or near a region, a
 * live, stale or random key, lengths around the MTU) with the wire builder
 * and parsed back, so they are well-formed and reach deep states; some are
 * raw bytes, so the parser's rejects are covered too. Between frames the
 * input posts sends and receives, drains what the QP sends, runs timers and
 * deregisters or re-registers regions.
 *
 * Every region lies in a mapping with PROT_NONE pages on either side and
 * patterned bytes around it (ASan or a SIGSEGV catches a write past the
 * mapping; the pattern check catches one inside it); the regions that grant
 * no remote write, and the bytes of a region no request could reach, must be
 * unchanged at the end. Failures abort(), so the target works the same under
 * libFuzzer (clang, tests/meson.build fuzz-qp) and under
 * tests/fuzz/replay.c (any compiler, fuzz-qp-replay over tests/fuzz/qp-corpus).
 *
 * For a longer run:
 *   meson configure BUILD -Dfuzz_seconds=3600 && meson test -C BUILD fuzz-qp
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../qp/raw.h"

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "qp_fuzz: %s:%d: %s\n", __FILE__, __LINE__,      \
			        #cond);                                                  \
			abort();                                                         \
		}                                                                        \
	} while (0)

#define MAX_STEPS 256
#define REGION_LEN 8192
#define PAD 64
#define EPSN 0xfffff0 /* close to the 24-bit wrap */
#define SQ_PSN 0xffff00

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum region { R_RW, R_RO, R_NONE, R_LOCAL, R_MAX };

static const unsigned int region_access[R_MAX] = {
	[R_RW] = SX_ACCESS_LOCAL_WRITE | SX_ACCESS_REMOTE_WRITE | SX_ACCESS_REMOTE_READ |
		 SX_ACCESS_REMOTE_ATOMIC,
	[R_RO] = SX_ACCESS_REMOTE_READ,
	[R_NONE] = 0,
	[R_LOCAL] = SX_ACCESS_LOCAL_WRITE, /* receive buffers, READ/atomic landing */
};

/* Every opcode the wire table knows for RC and SR, requests and responses. */
static const uint8_t opcodes[] = {
	SX_OP_RC_SEND_FIRST,         SX_OP_RC_SEND_MIDDLE,
	SX_OP_RC_SEND_LAST,          SX_OP_RC_SEND_LAST_IMM,
	SX_OP_RC_SEND_ONLY,          SX_OP_RC_SEND_ONLY_IMM,
	SX_OP_RC_WRITE_FIRST,        SX_OP_RC_WRITE_MIDDLE,
	SX_OP_RC_WRITE_LAST,         SX_OP_RC_WRITE_LAST_IMM,
	SX_OP_RC_WRITE_ONLY,         SX_OP_RC_WRITE_ONLY_IMM,
	SX_OP_RC_READ_REQUEST,       SX_OP_RC_READ_RESPONSE_FIRST,
	SX_OP_RC_READ_RESPONSE_MIDDLE, SX_OP_RC_READ_RESPONSE_LAST,
	SX_OP_RC_READ_RESPONSE_ONLY, SX_OP_RC_ACK,
	SX_OP_RC_ATOMIC_ACK,         SX_OP_RC_COMPARE_SWAP,
	SX_OP_RC_FETCH_ADD,          SX_OP_SR_ACK,
	SX_OP_SR(SX_OP_RC_SEND_FIRST), SX_OP_SR(SX_OP_RC_SEND_MIDDLE),
	SX_OP_SR(SX_OP_RC_SEND_LAST), SX_OP_SR(SX_OP_RC_SEND_LAST_IMM),
	SX_OP_SR(SX_OP_RC_SEND_ONLY), SX_OP_SR(SX_OP_RC_SEND_ONLY_IMM),
	SX_OP_SR(SX_OP_RC_WRITE_FIRST), SX_OP_SR(SX_OP_RC_WRITE_MIDDLE),
	SX_OP_SR(SX_OP_RC_WRITE_LAST), SX_OP_SR(SX_OP_RC_WRITE_LAST_IMM),
	SX_OP_SR(SX_OP_RC_WRITE_ONLY), SX_OP_SR(SX_OP_RC_WRITE_ONLY_IMM),
	SX_OP_SR_ACK_RANGES,
};

/* The input, consumed front to back; past its end every read is 0. */
struct in {
	const uint8_t *p;
	size_t n;
};

static uint64_t
take(struct in *in, unsigned int bytes)
{
	uint64_t v = 0;

	while (bytes-- > 0) {
		v = v << 8 | (in->n > 0 ? *in->p : 0);
		if (in->n > 0) {
			in->p++;
			in->n--;
		}
	}
	return v;
}

struct world {
	struct raw r;
	struct guard g[R_MAX];
	struct sx_mr mr[R_MAX];
	bool live[R_MAX];
	uint32_t stale_key[R_MAX];
	uint8_t snapshot[R_MAX][REGION_LEN];
	uint8_t payload[RAW_FRAME_MAX]; /* up to MTU + 64: past the MTU on purpose */
};

static uint32_t
pick_key(struct world *w, struct in *in)
{
	uint8_t k = (uint8_t)take(in, 1);
	unsigned int i = (k >> 2) % R_MAX;

	switch (k & 3) {
	case 0:
	case 1:
		return w->mr[i].rkey;
	case 2:
		return w->stale_key[i];
	default:
		return (uint32_t)take(in, 4);
	}
}

static uint64_t
pick_va(struct world *w, struct in *in)
{
	uint8_t k = (uint8_t)take(in, 1);
	unsigned int i = (k >> 2) % R_MAX;
	uint64_t base = (uintptr_t)w->g[i].buf;

	switch (k & 3) {
	case 0:
		return base + take(in, 2) % (REGION_LEN + 1);
	case 1:
		return base + (take(in, 2) & ~7ull) % REGION_LEN; /* aligned */
	case 2:
		return base - take(in, 1) + take(in, 1) * 64; /* around the start */
	default:
		return take(in, 8);
	}
}

static uint32_t
pick_len(struct world *w, struct in *in)
{
	uint8_t k = (uint8_t)take(in, 1);
	uint32_t mtu = w->r.qp.mtu;

	switch (k & 3) {
	case 0:
		return mtu;
	case 1:
		return (uint32_t)take(in, 2) % (mtu + 1);
	case 2:
		return (uint32_t)take(in, 2) % (4 * mtu + 1);
	default:
		return (uint32_t)take(in, 4);
	}
}

/* A frame built from fields the input chooses, parsed back and delivered. */
static void
built_frame(struct world *w, struct in *in)
{
	struct sx_qp *qp = &w->r.qp;
	struct sx_pkt h;
	int8_t delta;

	memset(&h, 0, sizeof(h));
	h.bth.opcode = opcodes[take(in, 1) % (sizeof(opcodes) / sizeof(opcodes[0]))];
	delta = (int8_t)take(in, 1);
	/* requests near the expected PSN, responses near the oldest unacked */
	h.bth.psn = sx_psn_add(sx_opcode_info(h.bth.opcode)->flags & SX_OPF_REQUEST ? qp->epsn
										    : qp->snd_una,
			       (uint32_t)(int32_t)delta & SX_PSN_MASK);
	h.bth.ackreq = take(in, 1) & 1;
	h.bth.se = false;
	h.reth.va = pick_va(w, in);
	h.reth.rkey = pick_key(w, in);
	h.reth.dma_len = pick_len(w, in);
	h.atomiceth.va = pick_va(w, in);
	h.atomiceth.rkey = pick_key(w, in);
	h.atomiceth.swap_add = take(in, 8);
	h.atomiceth.compare = take(in, 8);
	h.aeth.syndrome = (uint8_t)take(in, 1);
	h.aeth.msn = (uint32_t)take(in, 3);
	h.atomic_orig = take(in, 8);
	h.immdt = (uint32_t)take(in, 4);
	h.xeth.msg_seq = qp->rq_msg_seq + (uint32_t)(take(in, 1) % 8);
	h.xeth.offset = (uint32_t)(take(in, 1) % 8) * qp->mtu;
	h.sack.base = sx_psn_add(qp->snd_una, (uint32_t)(int32_t)(int8_t)take(in, 1) & SX_PSN_MASK);
	h.sack.flags = (uint8_t)take(in, 1);
	for (size_t i = 0; i < sizeof(h.sack.bitmap); i++)
		h.sack.bitmap[i] = (uint8_t)take(in, 1);
	/* SACK ranges: mostly well formed (descending from far past the
	 * bitmap), sometimes not; the parser drops what docs/wire.md forbids */
	h.sackr.count = (uint8_t)(take(in, 1) % (SX_SACKR_MAX + 1));
	for (uint32_t k = 0, off = 257 + (uint32_t)take(in, 2); k < h.sackr.count; k++) {
		uint32_t len = 1 + (uint32_t)take(in, 1);

		off += len + 1 + (uint32_t)take(in, 1);
		h.sackr.range[h.sackr.count - 1 - k].start = sx_psn_add(h.sack.base, off - len);
		h.sackr.range[h.sackr.count - 1 - k].len = len;
	}
	h.payload_len = pick_len(w, in);
	if (h.payload_len > qp->mtu + 64)
		h.payload_len = qp->mtu; /* the builder keeps frames under 64 KiB */
	if (!(sx_opcode_info(h.bth.opcode)->flags & SX_OPF_PAYLOAD))
		h.payload_len = 0;
	memset(w->payload, (int)take(in, 1), h.payload_len);
	(void)raw_rx(&w->r, &h, w->payload);
}

/* A frame of raw input bytes: the parser decides. */
static void
raw_frame(struct world *w, struct in *in)
{
	size_t len = (size_t)take(in, 2) % 1500;
	struct sx_pkt p;
	uint8_t *f = w->r.frame;

	if (len > in->n)
		len = in->n;
	memcpy(f, in->p, len);
	in->p += len;
	in->n -= len;
	if (sx_wire_parse(f, len, &p, SX_PARSE_NO_ICRC | SX_PARSE_NO_L4_CSUM) != SX_WIRE_OK)
		return;
	if (p.op->flags & SX_OPF_CNP)
		sx_qp_on_cnp(&w->r.qp, w->r.now_ns);
	else
		sx_qp_rx(&w->r.qp, &p, f + p.payload_off, w->r.now_ns);
}

static void
post_send(struct world *w, struct in *in)
{
	static const enum sx_wr_opcode ops[] = {
		SX_WR_RDMA_WRITE, SX_WR_RDMA_WRITE_WITH_IMM, SX_WR_SEND, SX_WR_SEND_WITH_IMM,
		SX_WR_RDMA_READ, SX_WR_ATOMIC_CMP_AND_SWP, SX_WR_ATOMIC_FETCH_AND_ADD,
	};
	struct sx_send_wr wr;
	struct sx_sge sge;

	memset(&wr, 0, sizeof(wr));
	wr.opcode = ops[take(in, 1) % (sizeof(ops) / sizeof(ops[0]))];
	wr.wr_id = take(in, 1);
	wr.send_flags = (unsigned int)take(in, 1) & (SX_SEND_SIGNALED | SX_SEND_FENCE);
	sge.addr = (uintptr_t)w->g[R_LOCAL].buf + take(in, 1) * 8;
	sge.length = (uint32_t)take(in, 2) % (REGION_LEN / 2);
	if (wr.opcode == SX_WR_ATOMIC_CMP_AND_SWP || wr.opcode == SX_WR_ATOMIC_FETCH_AND_ADD)
		sge.length = 8;
	sge.lkey = w->mr[R_LOCAL].lkey;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.wr.rdma.remote_addr = take(in, 2) * 8;
	wr.wr.rdma.rkey = (uint32_t)take(in, 2);
	(void)sx_qp_post_send(&w->r.qp, &wr, NULL);
}

static void
post_recv(struct world *w, struct in *in)
{
	struct sx_recv_wr wr;
	struct sx_sge sge;

	memset(&wr, 0, sizeof(wr));
	sge.addr = (uintptr_t)w->g[R_LOCAL].buf + (take(in, 1) % 64) * 64;
	sge.length = (uint32_t)take(in, 2) % (REGION_LEN / 2);
	sge.lkey = w->mr[R_LOCAL].lkey;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	(void)sx_qp_post_recv(&w->r.qp, &wr, NULL);
}

static void
drain(struct world *w, struct in *in)
{
	unsigned int n = (unsigned int)take(in, 1) % 64;
	struct sx_pkt out;

	while (n-- > 0 && raw_tx(&w->r, &out, true)) {
		const struct sx_opcode_info *op = sx_opcode_info(out.bth.opcode);

		/* what the QP sends is a well-formed packet of its mode */
		CHECK(op != NULL);
		CHECK(out.bth.psn <= SX_PSN_MASK);
		CHECK(out.payload_len <= w->r.qp.mtu);
	}
}

static void
timer(struct world *w, struct in *in)
{
	w->r.now_ns += take(in, 2) * 1000;
	sx_qp_timer(&w->r.qp, w->r.now_ns);
}

/* Deregister a region, or register it again (a new key); the pattern
 * check still holds. */
static void
rereg(struct world *w, struct in *in)
{
	unsigned int i = (unsigned int)(take(in, 1) % R_MAX);

	if (i == R_LOCAL)
		return; /* posted WRs point into it: sx_dereg_mr would say -EBUSY */
	if (w->live[i]) {
		w->stale_key[i] = w->mr[i].rkey;
		raw_dereg(&w->r, &w->mr[i]);
		w->live[i] = false;
	} else {
		CHECK(raw_reg(&w->r, &w->mr[i], w->g[i].buf, REGION_LEN, region_access[i]) == 0);
		w->live[i] = true;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;
	struct in in = {data, size};
	uint8_t mode = (uint8_t)take(&in, 1);
	static const uint32_t mtus[] = {256, 1024, 4096, 1024};
	unsigned int i, steps;

	memset(&w.r, 0, sizeof(w.r));
	CHECK(raw_init(&w.r, (mode & 1) ? SX_REL_SR : SX_REL_GBN, mtus[(mode >> 1) & 3], EPSN,
		       SQ_PSN) == 0);
	for (i = 0; i < R_MAX; i++) {
		/* mapped once: mmap per input would cost more than the input */
		if (w.g[i].map == NULL)
			CHECK(guard_alloc(&w.g[i], REGION_LEN, PAD) == 0);
		guard_reset(&w.g[i]);
		memset(w.g[i].buf, 0x40 + (int)i, REGION_LEN);
		memcpy(w.snapshot[i], w.g[i].buf, REGION_LEN);
		CHECK(raw_reg(&w.r, &w.mr[i], w.g[i].buf, REGION_LEN, region_access[i]) == 0);
		w.live[i] = true;
		w.stale_key[i] = w.mr[i].rkey ^ 0x55;
	}
	for (i = 0; i < 4; i++) {
		struct in seed = {(const uint8_t *)"\x20\x10", 2};

		post_recv(&w, &seed);
	}
	for (steps = 0; steps < MAX_STEPS && in.n > 0; steps++) {
		switch (take(&in, 1) % 10) {
		case 0:
		case 1:
		case 2:
		case 3:
			built_frame(&w, &in);
			break;
		case 4:
			raw_frame(&w, &in);
			break;
		case 5:
			post_send(&w, &in);
			break;
		case 6:
			post_recv(&w, &in);
			break;
		case 7:
			drain(&w, &in);
			break;
		case 8:
			timer(&w, &in);
			break;
		default:
			rereg(&w, &in);
			break;
		}
	}
	raw_drain(&w.r);
	/* no write outside a region, and none into one that grants no remote
	 * write (the read-only region is only read; nothing is ever allowed
	 * into the one that grants nothing) */
	for (i = 0; i < R_MAX; i++)
		CHECK(guard_intact(&w.g[i]));
	CHECK(memcmp(w.g[R_RO].buf, w.snapshot[R_RO], REGION_LEN) == 0);
	CHECK(memcmp(w.g[R_NONE].buf, w.snapshot[R_NONE], REGION_LEN) == 0);
	sx_qp_error(&w.r.qp); /* flushes: every WR completes once */
	raw_fini(&w.r);
	return 0;
}
