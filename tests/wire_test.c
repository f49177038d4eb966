/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the wire module: ICRC known answers from outside this code,
 * build/parse round trips, every reject reason, header rewrites, PSN math and
 * the opcode table.
 *
 * Expected layouts come from a copy of IBA 9.2 table 38 written out below,
 * not from opcode.c, and checksums are recomputed here (RFC 1071), so a
 * mistake in the library cannot also be the reference it is checked against.
 * The ICRC vectors are read from the directory named by argv[1] or by the
 * SX_WIRE_VECTORS environment variable (set by tests/meson.build).
 *
 * Units: lengths and offsets in bytes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/hex.h"

#include <scalex/wire.h>

#define MTU_BYTES 4096
/* Largest frame the tests build: VLAN, IPv6, every header, an MTU, pad, ICRC. */
#define FRAME_CAP                                                                        \
	(SX_ETH_HLEN + SX_VLAN_HLEN + SX_IPV6_HLEN + SX_UDP_HLEN + 64 + MTU_BYTES + 3 +  \
	 SX_ICRC_LEN + 64)

/* ------------------------------------------------------------------------ */
/* The reference: IBA 9.2 table 38 (RC) and RoCEv2 annex A17.9.3 (CNP).    */

enum pay {
	PAY_NONE, /* no payload bytes at all */
	PAY_FULL, /* FIRST/MIDDLE: payload, but never pad (a whole PMTU) */
	PAY_ANY,  /* may end a message: any length, pad to 4 bytes */
};

static const struct iba_op {
	uint8_t opcode;
	enum pay pay;
	uint8_t nhdr;
	uint8_t hdr[4]; /* enum sx_hdr, in wire order after the BTH */
} iba_ops[] = {
    {SX_OP_RC_SEND_FIRST, PAY_FULL, 0, {0}},
    {SX_OP_RC_SEND_MIDDLE, PAY_FULL, 0, {0}},
    {SX_OP_RC_SEND_LAST, PAY_ANY, 0, {0}},
    {SX_OP_RC_SEND_LAST_IMM, PAY_ANY, 1, {SX_HDR_IMMDT}},
    {SX_OP_RC_SEND_ONLY, PAY_ANY, 0, {0}},
    {SX_OP_RC_SEND_ONLY_IMM, PAY_ANY, 1, {SX_HDR_IMMDT}},
    {SX_OP_RC_WRITE_FIRST, PAY_FULL, 1, {SX_HDR_RETH}},
    {SX_OP_RC_WRITE_MIDDLE, PAY_FULL, 0, {0}},
    {SX_OP_RC_WRITE_LAST, PAY_ANY, 0, {0}},
    {SX_OP_RC_WRITE_LAST_IMM, PAY_ANY, 1, {SX_HDR_IMMDT}},
    {SX_OP_RC_WRITE_ONLY, PAY_ANY, 1, {SX_HDR_RETH}},
    {SX_OP_RC_WRITE_ONLY_IMM, PAY_ANY, 2, {SX_HDR_RETH, SX_HDR_IMMDT}},
    {SX_OP_RC_READ_REQUEST, PAY_NONE, 1, {SX_HDR_RETH}},
    {SX_OP_RC_READ_RESPONSE_FIRST, PAY_FULL, 1, {SX_HDR_AETH}},
    {SX_OP_RC_READ_RESPONSE_MIDDLE, PAY_FULL, 0, {0}},
    {SX_OP_RC_READ_RESPONSE_LAST, PAY_ANY, 1, {SX_HDR_AETH}},
    {SX_OP_RC_READ_RESPONSE_ONLY, PAY_ANY, 1, {SX_HDR_AETH}},
    {SX_OP_RC_ACK, PAY_NONE, 1, {SX_HDR_AETH}},
    {SX_OP_RC_ATOMIC_ACK, PAY_NONE, 2, {SX_HDR_AETH, SX_HDR_ATOMICACK}},
    {SX_OP_RC_COMPARE_SWAP, PAY_NONE, 1, {SX_HDR_ATOMICETH}},
    {SX_OP_RC_FETCH_ADD, PAY_NONE, 1, {SX_HDR_ATOMICETH}},
    {SX_OP_CNP, PAY_NONE, 1, {SX_HDR_CNP_PAD}},
    /* scalex selective repeat (docs/wire.md): XETH first, RETH on every WRITE */
    {SX_OP_SR(SX_OP_RC_SEND_FIRST), PAY_FULL, 1, {SX_HDR_XETH}},
    {SX_OP_SR(SX_OP_RC_SEND_MIDDLE), PAY_FULL, 1, {SX_HDR_XETH}},
    {SX_OP_SR(SX_OP_RC_SEND_LAST), PAY_ANY, 1, {SX_HDR_XETH}},
    {SX_OP_SR(SX_OP_RC_SEND_LAST_IMM), PAY_ANY, 2, {SX_HDR_XETH, SX_HDR_IMMDT}},
    {SX_OP_SR(SX_OP_RC_SEND_ONLY), PAY_ANY, 1, {SX_HDR_XETH}},
    {SX_OP_SR(SX_OP_RC_SEND_ONLY_IMM), PAY_ANY, 2, {SX_HDR_XETH, SX_HDR_IMMDT}},
    {SX_OP_SR(SX_OP_RC_WRITE_FIRST), PAY_FULL, 2, {SX_HDR_XETH, SX_HDR_RETH}},
    {SX_OP_SR(SX_OP_RC_WRITE_MIDDLE), PAY_FULL, 2, {SX_HDR_XETH, SX_HDR_RETH}},
    {SX_OP_SR(SX_OP_RC_WRITE_LAST), PAY_ANY, 2, {SX_HDR_XETH, SX_HDR_RETH}},
    {SX_OP_SR(SX_OP_RC_WRITE_LAST_IMM), PAY_ANY, 3,
     {SX_HDR_XETH, SX_HDR_RETH, SX_HDR_IMMDT}},
    {SX_OP_SR(SX_OP_RC_WRITE_ONLY), PAY_ANY, 2, {SX_HDR_XETH, SX_HDR_RETH}},
    {SX_OP_SR(SX_OP_RC_WRITE_ONLY_IMM), PAY_ANY, 3,
     {SX_HDR_XETH, SX_HDR_RETH, SX_HDR_IMMDT}},
    {SX_OP_SR_ACK, PAY_NONE, 2, {SX_HDR_AETH, SX_HDR_SACK}},
    {SX_OP_SR_ACK_ECE, PAY_NONE, 3, {SX_HDR_AETH, SX_HDR_SACK, SX_HDR_ECE}},
    {0xe2, PAY_NONE, 3, {SX_HDR_AETH, SX_HDR_SACK, SX_HDR_SACKR}},
    {0xe3, PAY_NONE, 4, {SX_HDR_AETH, SX_HDR_SACK, SX_HDR_ECE, SX_HDR_SACKR}},
};

#define N_IBA_OPS (sizeof(iba_ops) / sizeof(iba_ops[0]))

static const size_t hdr_bytes[SX_HDR_MAX] = {
    [SX_HDR_RETH] = 16,     [SX_HDR_AETH] = 4,  [SX_HDR_ATOMICETH] = 28,
    [SX_HDR_ATOMICACK] = 8, [SX_HDR_IMMDT] = 4, [SX_HDR_CNP_PAD] = 16,
    [SX_HDR_XETH] = 8,      [SX_HDR_SACK] = 36,
    [SX_HDR_ECE] = 4,       [SX_HDR_SACKR] = 68, /* count + 3 + 8 x (start, len) */
};

static const enum sx_wire_rc hdr_trunc[SX_HDR_MAX] = {
    [SX_HDR_RETH] = SX_WIRE_TRUNC_RETH,
    [SX_HDR_AETH] = SX_WIRE_TRUNC_AETH,
    [SX_HDR_ATOMICETH] = SX_WIRE_TRUNC_ATOMICETH,
    [SX_HDR_ATOMICACK] = SX_WIRE_TRUNC_ATOMICACK,
    [SX_HDR_IMMDT] = SX_WIRE_TRUNC_IMMDT,
    [SX_HDR_CNP_PAD] = SX_WIRE_TRUNC_CNP,
    [SX_HDR_XETH] = SX_WIRE_TRUNC_XETH,
    [SX_HDR_SACK] = SX_WIRE_TRUNC_SACK,
    [SX_HDR_ECE] = SX_WIRE_TRUNC_ECE,
    [SX_HDR_SACKR] = SX_WIRE_TRUNC_SACKR,
};

static const struct iba_op *
iba_op(uint8_t opcode)
{
	size_t i;

	for (i = 0; i < N_IBA_OPS; i++)
		if (iba_ops[i].opcode == opcode)
			return &iba_ops[i];
	return NULL;
}

static size_t
iba_hdr_len(const struct iba_op *io)
{
	size_t n = 12, i;

	for (i = 0; i < io->nhdr; i++)
		n += hdr_bytes[io->hdr[i]];
	return n;
}

/* A payload length the opcode may carry, near @p want. */
static uint32_t
legal_len(const struct iba_op *io, uint32_t want)
{
	if (io->pay == PAY_NONE)
		return 0;
	if (io->pay == PAY_FULL)
		return want & ~3u;
	return want;
}

/* ------------------------------------------------------------------------ */
/* Byte, checksum and random helpers, independent of the library.          */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void
put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	put24(p + 1, v);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* RFC 1071 one's complement sum, folded, not complemented. */
static uint16_t
ones_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t
ip4_csum(const uint8_t *ip)
{
	uint8_t h[60];
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;

	memcpy(h, ip, ihl);
	h[10] = h[11] = 0;
	return (uint16_t)~ones_sum(0, h, ihl);
}

/* UDP checksum (RFC 768; RFC 8200 8.1) of the @p udp_len bytes at @p l4. */
static uint16_t
udp_csum(const uint8_t *l3, const uint8_t *l4, size_t udp_len)
{
	uint8_t ph[40];
	size_t phl, i;
	uint32_t sum = 0;
	uint16_t c;

	if ((l3[0] >> 4) == 4) {
		memcpy(ph, l3 + 12, 8);
		ph[8] = 0;
		ph[9] = 17;
		put16(ph + 10, (uint16_t)udp_len);
		phl = 12;
	} else {
		memcpy(ph, l3 + 8, 32);
		ph[32] = (uint8_t)(udp_len >> 24);
		ph[33] = (uint8_t)(udp_len >> 16);
		ph[34] = (uint8_t)(udp_len >> 8);
		ph[35] = (uint8_t)udp_len;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 17;
		phl = 40;
	}
	sum = ones_sum(0, ph, phl);
	for (i = 0; i + 1 < udp_len; i += 2)
		if (i != 6)
			sum += get16(l4 + i);
	if (udp_len & 1)
		sum += (uint32_t)l4[udp_len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)~sum;
	return c == 0 ? 0xffff : c;
}

static uint64_t
rnd(uint64_t *s)
{
	/* xorshift64*: deterministic, so a failure reproduces. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* ------------------------------------------------------------------------ */
/* Building test frames.                                                    */

struct frame {
	uint8_t buf[FRAME_CAP];
	size_t len;
	struct sx_pkt pkt; /* as given to the builder */
};

static uint8_t payload_src[MTU_BYTES + 64];

static void
payload_init(void)
{
	uint64_t s = 0x5eed;
	size_t i;

	for (i = 0; i < sizeof(payload_src); i++)
		payload_src[i] = (uint8_t)rnd(&s);
}

static void
pkt_init(struct sx_pkt *p, uint8_t opcode, unsigned int ipv, bool vlan, uint32_t plen,
         uint64_t *s)
{
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < 6; i++) {
		p->eth_dst[i] = (uint8_t)rnd(s);
		p->eth_src[i] = (uint8_t)rnd(s);
	}
	p->vlan = vlan;
	p->vlan_tci = vlan ? (uint16_t)rnd(s) : 0;
	p->ip_version = (uint8_t)ipv;
	p->tos = (uint8_t)rnd(s);
	p->ttl = (uint8_t)rnd(s);
	if (ipv == 4)
		p->ip_id = (uint16_t)rnd(s);
	else
		p->flow_label = (uint32_t)rnd(s) & 0xfffff;
	for (i = 0; i < (ipv == 4 ? 4 : 16); i++) {
		p->ip_src[i] = (uint8_t)rnd(s);
		p->ip_dst[i] = (uint8_t)rnd(s);
	}
	p->udp_sport = (uint16_t)rnd(s);
	p->udp_dport = SX_ROCE_UDP_PORT;
	p->bth.opcode = opcode;
	p->bth.se = rnd(s) & 1;
	p->bth.mig = rnd(s) & 1;
	p->bth.pkey = (uint16_t)rnd(s);
	p->bth.fecn = rnd(s) & 1;
	p->bth.becn = rnd(s) & 1;
	p->bth.dqpn = (uint32_t)rnd(s) & SX_QPN_MASK;
	p->bth.ackreq = rnd(s) & 1;
	p->bth.psn = (uint32_t)rnd(s) & SX_PSN_MASK;
	p->reth.va = rnd(s);
	p->reth.rkey = (uint32_t)rnd(s);
	p->reth.dma_len = (uint32_t)rnd(s);
	p->aeth.syndrome = (uint8_t)rnd(s);
	p->aeth.msn = (uint32_t)rnd(s) & 0xffffff;
	p->atomiceth.va = rnd(s);
	p->atomiceth.rkey = (uint32_t)rnd(s);
	p->atomiceth.swap_add = rnd(s);
	p->atomiceth.compare = rnd(s);
	p->atomic_orig = rnd(s);
	p->immdt = (uint32_t)rnd(s);
	p->payload_len = plen;
	/* SACK ranges as docs/wire.md allows them: 1..8 blocks, each more
	 * than 256 PSNs after Base, descending with gaps */
	p->sack.base = (uint32_t)rnd(s) & SX_PSN_MASK;
	p->sackr.count = (uint8_t)(1 + rnd(s) % 8);
	for (i = 0; i < p->sackr.count; i++) {
		p->sackr.range[i].start = (p->sack.base + 100000 - 1000 * (uint32_t)i) & 0xffffff;
		p->sackr.range[i].len = 1 + (uint32_t)(rnd(s) % 999);
	}
}

static const uint8_t *
payload_of(uint32_t plen)
{
	return payload_src + plen % 61;
}

/* Build a valid frame; fails the test if the builder refuses. */
static void
frame_build(struct frame *f, uint8_t opcode, unsigned int ipv, bool vlan, uint32_t plen,
            uint64_t *s)
{
	ssize_t n;

	pkt_init(&f->pkt, opcode, ipv, vlan, plen, s);
	n = sx_wire_build(f->buf, sizeof(f->buf), &f->pkt, payload_of(plen));
	assert_true(n > 0);
	f->len = (size_t)n;
}

enum fix {
	FIX_IP4 = 1u << 0,  /* recompute the IPv4 header checksum */
	FIX_ICRC = 1u << 1, /* recompute the ICRC */
	FIX_UDP = 1u << 2,  /* recompute a UDP checksum that is in use */
	FIX_ALL = FIX_IP4 | FIX_ICRC | FIX_UDP,
};

/* Make the checksums named in @p fix valid again after a mutation. */
static void
frame_fix(struct frame *f, unsigned int fix)
{
	uint8_t *l3 = f->buf + f->pkt.l3_off;
	uint8_t *l4 = f->buf + f->pkt.l4_off;
	bool v4 = (l3[0] >> 4) == 4;

	if ((fix & FIX_IP4) && v4)
		put16(l3 + 10, ip4_csum(l3));
	if (fix & FIX_ICRC)
		put_le32(f->buf + f->len - SX_ICRC_LEN,
		         sx_icrc(l3, f->len - SX_ICRC_LEN - f->pkt.l3_off));
	if ((fix & FIX_UDP) && (!v4 || get16(l4 + 6) != 0))
		put16(l4 + 6, udp_csum(l3, l4, f->len - f->pkt.l4_off));
}

/* Grow (@p delta > 0) or shrink the payload area just before the ICRC. */
static void
frame_resize(struct frame *f, int delta)
{
	uint8_t *icrc = f->buf + f->len - SX_ICRC_LEN;
	uint8_t *l3 = f->buf + f->pkt.l3_off;
	uint8_t *l4 = f->buf + f->pkt.l4_off;

	memmove(icrc + delta, icrc, SX_ICRC_LEN);
	if (delta > 0)
		memset(icrc, 0xa5, (size_t)delta);
	f->len = (size_t)((ptrdiff_t)f->len + delta);
	if ((l3[0] >> 4) == 4)
		put16(l3 + 2, (uint16_t)(get16(l3 + 2) + delta));
	else
		put16(l3 + 4, (uint16_t)(get16(l3 + 4) + delta));
	put16(l4 + 4, (uint16_t)(get16(l4 + 4) + delta));
}

/* ------------------------------------------------------------------------ */
/* ICRC known-answer vectors (tests/vectors, from tests/ref/gen_vectors.py). */

struct vec_file {
	const char *dir;
	const char *name;
	unsigned int ip_version;
	size_t min_count;
};

/* The vector's frame: its hex must decode in full. */
static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	ssize_t n = test_unhex(s, out, cap);

	assert_true(n >= 0);
	return (size_t)n;
}

static unsigned long
field(const char *line, const char *key)
{
	char pat[16];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	assert_non_null(p);
	return strtoul(p + strlen(pat), NULL, 0);
}

static void
check_vector(const char *line, unsigned int ipv)
{
	static uint8_t frame[FRAME_CAP], copy[FRAME_CAP];
	char name[128];
	const char *hex = strrchr(line, ' ');
	unsigned long icrc;
	struct sx_pkt pkt;
	size_t len, l3;
	uint8_t *ip;

	assert_int_equal(sscanf(line, "%127s %lx", name, &icrc), 2);
	assert_non_null(hex);
	len = unhex(hex + 1, frame, sizeof(frame));
	l3 = get16(frame + 12) == SX_ETHERTYPE_VLAN ? SX_ETH_HLEN + SX_VLAN_HLEN
	                                            : SX_ETH_HLEN;
	assert_int_equal(frame[l3] >> 4, ipv);

	/* The known answer: the vector's ICRC, as stored, as computed. */
	assert_int_equal(get_le32(frame + len - SX_ICRC_LEN), icrc);
	if (sx_icrc(frame + l3, len - l3 - SX_ICRC_LEN) != icrc)
		fail_msg("%s: sx_icrc %08x, vector %08lx", name,
		         sx_icrc(frame + l3, len - l3 - SX_ICRC_LEN), icrc);

	if (sx_wire_parse(frame, len, &pkt, 0) != SX_WIRE_OK)
		fail_msg("%s: %s", name,
		         sx_wire_rc_name(sx_wire_parse(frame, len, &pkt, 0)));
	assert_int_equal(pkt.bth.opcode, field(line, "op"));
	assert_int_equal(pkt.bth.dqpn, field(line, "qpn"));
	assert_int_equal(pkt.bth.psn, field(line, "psn"));
	assert_int_equal(pkt.bth.pad, field(line, "pad"));
	assert_int_equal(pkt.payload_len, field(line, "plen"));
	assert_int_equal(pkt.tos, field(line, "tos"));
	assert_int_equal(pkt.ttl, field(line, "ttl"));
	assert_int_equal(pkt.vlan, field(line, "vlan"));
	assert_int_equal(pkt.l3_off, l3);
	assert_int_equal(pkt.frame_len, len);

	/* What a switch does to these frames must leave them valid. */
	memcpy(copy, frame, len);
	ip = copy + l3;
	sx_ip_set_ecn(ip, SX_ECN_CE);
	assert_int_equal(sx_ip_dec_ttl(ip), field(line, "ttl") != 0);
	if (sx_wire_parse(copy, len, &pkt, 0) != SX_WIRE_OK)
		fail_msg("%s after CE+TTL: %s", name,
		         sx_wire_rc_name(sx_wire_parse(copy, len, &pkt, 0)));
	assert_int_equal(pkt.tos & 3, SX_ECN_CE);
	assert_int_equal(pkt.tos >> 2, field(line, "tos") >> 2);
}

static void
test_icrc_vectors(void **state)
{
	const struct vec_file *vf = *state;
	char path[4096];
	char *line = NULL;
	size_t cap = 0, count = 0;
	FILE *fp;

	if (vf->dir == NULL)
		fail_msg("no vector directory: pass it as argv[1] or in SX_WIRE_VECTORS");
	snprintf(path, sizeof(path), "%s/%s", vf->dir, vf->name);
	fp = fopen(path, "r");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	while (getline(&line, &cap, fp) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		check_vector(line, vf->ip_version);
		count++;
	}
	free(line);
	fclose(fp);
	assert_true(count >= vf->min_count);
}

/* ------------------------------------------------------------------------ */
/* Opcode table and names.                                                  */

static void
test_opcode_table(void **state)
{
	unsigned int op, i, n = 0;

	(void)state;
	for (op = 0; op < 256; op++) {
		const struct sx_opcode_info *info = sx_opcode_info((uint8_t)op);
		const struct iba_op *io = iba_op((uint8_t)op);
		uint32_t hdr_flags = 0, f;
		size_t off = SX_BTH_LEN;

		/* Exactly IBA RC 0x00-0x14, the CNP, and scalex's SR opcodes in
		 * the manufacturer-specific range. */
		assert_int_equal(io != NULL, op <= 0x14 || op == SX_OP_CNP ||
		                                 (op >= 0xc0 && op <= 0xcb) ||
		                                 (op >= SX_OP_SR_ACK && op <= 0xe3));
		if ((info != NULL) != (io != NULL))
			fail_msg("opcode 0x%02x (%s): %s", op, info ? info->name : "-",
			         info ? "in the table but not in IBA table 38 / CNP / SR"
			              : "missing from the table");
		if (info == NULL)
			continue;
		n++;
		f = info->flags;
		assert_non_null(info->name);
		assert_int_equal(info->opcode, op);

		/* Headers: the IBA set, packed in wire order right after the BTH. */
		for (i = 0; i < io->nhdr; i++) {
			unsigned int h = io->hdr[i];

			hdr_flags |= 1u << h;
			assert_int_equal(info->offset[h], off);
			off += hdr_bytes[h];
		}
		assert_int_equal(f & ((1u << SX_HDR_MAX) - 1), hdr_flags);
		for (i = 0; i < SX_HDR_MAX; i++)
			if (!(hdr_flags & (1u << i)))
				assert_int_equal(info->offset[i], 0);
		assert_int_equal(info->hdr_len, off);
		assert_int_equal(info->hdr_len, iba_hdr_len(io));

		/* Message position and direction. */
		assert_int_equal(!!(f & SX_OPF_PAYLOAD), io->pay != PAY_NONE);
		if (f & SX_OPF_MIDDLE)
			assert_int_equal(f & (SX_OPF_FIRST | SX_OPF_LAST), 0);
		else
			assert_true(f & (SX_OPF_FIRST | SX_OPF_LAST));
		assert_int_equal(!!(f & SX_OPF_LAST), io->pay != PAY_FULL);
		assert_int_equal(!!(f & SX_OPF_REQUEST) + !!(f & SX_OPF_RESPONSE) +
		                     !!(f & SX_OPF_CNP),
		                 1);
		assert_int_equal(!!(f & SX_OPF_SEND) + !!(f & SX_OPF_WRITE) +
		                     !!(f & SX_OPF_READ) + !!(f & SX_OPF_ATOMIC) +
		                     !!(f & SX_OPF_ACK) + !!(f & SX_OPF_CNP),
		                 1);
		assert_int_equal(info->transport, op == SX_OP_CNP ? SX_TRANSPORT_CNP
		                                  : op >= SX_OP_SR_BASE ? SX_TRANSPORT_SR
		                                                        : SX_TRANSPORT_RC);
	}
	assert_int_equal(n, N_IBA_OPS);
	assert_string_equal(sx_opcode_info(SX_OP_RC_SEND_FIRST)->name, "RC_SEND_FIRST");
	assert_string_equal(sx_opcode_info(SX_OP_CNP)->name, "CNP");
}

static void
test_rc_names(void **state)
{
	unsigned int i, j;

	(void)state;
	assert_string_equal(sx_wire_rc_name(SX_WIRE_OK), "ok");
	assert_string_equal(sx_wire_rc_name(SX_WIRE_TRUNC_ETH), "trunc_eth");
	assert_string_equal(sx_wire_rc_name(SX_WIRE_BAD_ICRC), "bad_icrc");
	assert_string_equal(sx_wire_rc_name(SX_WIRE_RC_MAX), "invalid");
	assert_string_equal(sx_wire_rc_name((enum sx_wire_rc) - 1), "invalid");
	for (i = 0; i < SX_WIRE_RC_MAX; i++) {
		assert_non_null(sx_wire_rc_name(i));
		assert_string_not_equal(sx_wire_rc_name(i), "invalid");
		for (j = 0; j < i; j++)
			assert_string_not_equal(sx_wire_rc_name(i), sx_wire_rc_name(j));
	}
}

/* ------------------------------------------------------------------------ */
/* Round trip.                                                              */

static void
assert_pkt_equal(const struct sx_pkt *w, const struct sx_pkt *g, uint32_t plen)
{
	uint32_t f = w->op->flags;

	assert_memory_equal(g->eth_dst, w->eth_dst, 6);
	assert_memory_equal(g->eth_src, w->eth_src, 6);
	assert_int_equal(g->vlan, w->vlan);
	assert_int_equal(g->vlan_tci, w->vlan_tci);
	assert_int_equal(g->ip_version, w->ip_version);
	assert_int_equal(g->tos, w->tos);
	assert_int_equal(g->ttl, w->ttl);
	if (w->ip_version == 4)
		assert_int_equal(g->ip_id, w->ip_id);
	else
		assert_int_equal(g->flow_label, w->flow_label);
	assert_memory_equal(g->ip_src, w->ip_src, 16);
	assert_memory_equal(g->ip_dst, w->ip_dst, 16);
	assert_int_equal(g->udp_sport, w->udp_sport);
	assert_int_equal(g->udp_dport, SX_ROCE_UDP_PORT);

	assert_int_equal(g->bth.opcode, w->bth.opcode);
	assert_int_equal(g->bth.se, w->bth.se);
	assert_int_equal(g->bth.mig, w->bth.mig);
	assert_int_equal(g->bth.pad, (4 - plen % 4) % 4);
	assert_int_equal(g->bth.tver, 0);
	assert_int_equal(g->bth.pkey, w->bth.pkey);
	assert_int_equal(g->bth.fecn, w->bth.fecn);
	assert_int_equal(g->bth.becn, w->bth.becn);
	assert_int_equal(g->bth.dqpn, w->bth.dqpn);
	assert_int_equal(g->bth.ackreq, w->bth.ackreq);
	assert_int_equal(g->bth.psn, w->bth.psn);
	if (f & SX_OPF_RETH) {
		assert_int_equal(g->reth.va, w->reth.va);
		assert_int_equal(g->reth.rkey, w->reth.rkey);
		assert_int_equal(g->reth.dma_len, w->reth.dma_len);
	}
	if (f & SX_OPF_AETH) {
		assert_int_equal(g->aeth.syndrome, w->aeth.syndrome);
		assert_int_equal(g->aeth.msn, w->aeth.msn);
	}
	if (f & SX_OPF_ATOMICETH) {
		assert_int_equal(g->atomiceth.va, w->atomiceth.va);
		assert_int_equal(g->atomiceth.rkey, w->atomiceth.rkey);
		assert_int_equal(g->atomiceth.swap_add, w->atomiceth.swap_add);
		assert_int_equal(g->atomiceth.compare, w->atomiceth.compare);
	}
	if (f & SX_OPF_ATOMICACK)
		assert_int_equal(g->atomic_orig, w->atomic_orig);
	if (f & SX_OPF_IMMDT)
		assert_int_equal(g->immdt, w->immdt);
	if (f & SX_OPF_SACK)
		assert_int_equal(g->sack.base, w->sack.base);
	if (f & SX_OPF_SACKR) {
		assert_int_equal(g->sackr.count, w->sackr.count);
		for (unsigned int k = 0; k < w->sackr.count; k++) {
			assert_int_equal(g->sackr.range[k].start, w->sackr.range[k].start);
			assert_int_equal(g->sackr.range[k].len, w->sackr.range[k].len);
		}
	}

	assert_ptr_equal(g->op, w->op);
	assert_int_equal(g->l3_off, w->l3_off);
	assert_int_equal(g->l4_off, w->l4_off);
	assert_int_equal(g->bth_off, w->bth_off);
	assert_int_equal(g->payload_off, w->payload_off);
	assert_int_equal(g->payload_len, plen);
	assert_int_equal(g->frame_len, w->frame_len);
}

/* The frame length IBA and the RFCs give, counted without the builder. */
static size_t
expected_len(const struct iba_op *io, unsigned int ipv, bool vlan, uint32_t plen)
{
	return SX_ETH_HLEN + (vlan ? SX_VLAN_HLEN : 0) +
	       (ipv == 4 ? SX_IPV4_HLEN : SX_IPV6_HLEN) + SX_UDP_HLEN + iba_hdr_len(io) +
	       plen + (4 - plen % 4) % 4 + SX_ICRC_LEN;
}

static void
test_round_trip(void **state)
{
	static struct frame f;
	uint64_t s = 1;
	unsigned int op, ipv, vlan;
	size_t frames = 0;

	(void)state;
	for (op = 0; op < 256; op++) {
		const struct sx_opcode_info *info = sx_opcode_info((uint8_t)op);
		const struct iba_op *io = iba_op((uint8_t)op);
		uint32_t plen, max = 0, step = 1;

		/*
		 * Every opcode the table has, so payload rules come from its flags
		 * (test_opcode_table holds them to IBA); lengths are checked
		 * independently where the IBA reference knows the opcode.
		 */
		if (info == NULL)
			continue;
		if (info->flags & SX_OPF_PAYLOAD)
			max = MTU_BYTES;
		if (!(info->flags & SX_OPF_LAST))
			step = 4;
		for (ipv = 4; ipv <= 6; ipv += 2) {
			for (vlan = 0; vlan < 2; vlan++) {
				for (plen = 0; plen <= max; plen += step) {
					struct sx_pkt got;
					enum sx_wire_rc rc;

					frame_build(&f, (uint8_t)op, ipv, vlan, plen, &s);
					if (io != NULL)
						assert_int_equal(
						    f.len,
						    expected_len(io, ipv, vlan, plen));
					rc = sx_wire_parse(f.buf, f.len, &got, 0);
					if (rc != SX_WIRE_OK)
						fail_msg("%s IPv%u vlan %u len %u: %s",
						         info->name, ipv, vlan, plen,
						         sx_wire_rc_name(rc));
					assert_pkt_equal(&f.pkt, &got, plen);
					assert_memory_equal(f.buf + got.payload_off,
					                    payload_of(plen), plen);
					frames++;
				}
			}
		}
	}
	/* Ten opcodes that may end a message, at every length, four ways. */
	assert_true(frames >= 10 * 4 * (MTU_BYTES + 1));
}

/* Headers written first and payload placed later give the same frame. */
static void
test_build_hdr_then_seal(void **state)
{
	static struct frame a, b;
	static const uint32_t lens[] = {0, 1, 2, 3, 4, 5, 63, 1021, MTU_BYTES};
	uint64_t s = 2;
	size_t i, k;

	(void)state;
	for (k = 0; k < N_IBA_OPS; k++) {
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			uint32_t plen = legal_len(&iba_ops[k], lens[i]);
			uint64_t s0 = s;
			unsigned int ipv = (i & 1) ? 6 : 4;
			ssize_t n;

			frame_build(&a, iba_ops[k].opcode, ipv, i & 2, plen, &s);
			s = s0;
			pkt_init(&b.pkt, iba_ops[k].opcode, ipv, i & 2, plen, &s);
			/* Garbage where the payload and pad go: seal must zero the pad.
			 */
			memset(b.buf, 0xee, sizeof(b.buf));
			n = sx_wire_build_hdr(b.buf, sizeof(b.buf), &b.pkt);
			assert_int_equal(n, a.pkt.payload_off);
			memcpy(b.buf + n, payload_of(plen), plen);
			sx_wire_seal(b.buf, &b.pkt);
			assert_int_equal(b.pkt.frame_len, a.len);
			assert_memory_equal(b.buf, a.buf, a.len);
		}
	}
}

/*
 * A parsed packet is valid builder input, whatever the caller's struct held
 * before: fields the packet lacks (IPv4 flow label, headers of other opcodes)
 * must neither leak garbage nor make the builder refuse. Rebuilding gives
 * back the same bytes.
 */
static void
test_parse_then_build(void **state)
{
	static struct frame a, b;
	static const uint32_t lens[] = {0, 3, 8, 1021};
	uint64_t s = 12;
	unsigned int ipv, vlan;
	size_t k, i;

	(void)state;
	for (k = 0; k < N_IBA_OPS; k++) {
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			for (ipv = 4; ipv <= 6; ipv += 2) {
				for (vlan = 0; vlan < 2; vlan++) {
					uint32_t plen = legal_len(&iba_ops[k], lens[i]);
					struct sx_pkt got;
					ssize_t n;

					frame_build(&a, iba_ops[k].opcode, ipv, vlan,
					            plen, &s);
					memset(&got, 0xff, sizeof(got));
					assert_int_equal(
					    sx_wire_parse(a.buf, a.len, &got, 0),
					    SX_WIRE_OK);
					if (ipv == 4)
						assert_int_equal(got.flow_label, 0);
					else
						assert_int_equal(got.ip_id, 0);
					n = sx_wire_build(b.buf, sizeof(b.buf), &got,
					                  a.buf + got.payload_off);
					if (n != (ssize_t)a.len)
						fail_msg("%s IPv%u len %u: rebuild %zd, "
						         "want %zu",
						         sx_opcode_info(iba_ops[k].opcode)
						             ->name,
						         ipv, plen, n, a.len);
					assert_memory_equal(b.buf, a.buf, a.len);
				}
			}
		}
	}
}

/* Ethernet pads short frames; bytes after the IP datagram are not the packet. */
static void
test_l2_trailer(void **state)
{
	static struct frame f;
	uint64_t s = 3;
	size_t k, extra;

	(void)state;
	for (k = 0; k < N_IBA_OPS; k++) {
		for (extra = 1; extra <= 64; extra *= 4) {
			struct sx_pkt got;
			size_t len;

			frame_build(&f, iba_ops[k].opcode, k & 1 ? 6 : 4, false,
			            legal_len(&iba_ops[k], 8), &s);
			len = f.len;
			memset(f.buf + len, 0x5a, extra);
			assert_int_equal(sx_wire_parse(f.buf, len + extra, &got, 0),
			                 SX_WIRE_OK);
			assert_int_equal(got.frame_len, len);
			assert_int_equal(got.payload_len, f.pkt.payload_len);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Truncation: every prefix is rejected by the header it cuts into.         */

static enum sx_wire_rc
trunc_reason(const struct iba_op *io, unsigned int ipv, bool vlan, uint32_t plen,
             size_t cut)
{
	size_t end = SX_ETH_HLEN, i;

	if (cut < end)
		return SX_WIRE_TRUNC_ETH;
	if (vlan && cut < (end += SX_VLAN_HLEN))
		return SX_WIRE_TRUNC_VLAN;
	end += ipv == 4 ? SX_IPV4_HLEN : SX_IPV6_HLEN;
	if (cut < end)
		return ipv == 4 ? SX_WIRE_TRUNC_IPV4 : SX_WIRE_TRUNC_IPV6;
	if (cut < (end += SX_UDP_HLEN))
		return SX_WIRE_TRUNC_UDP;
	if (cut < (end += SX_BTH_LEN))
		return SX_WIRE_TRUNC_BTH;
	for (i = 0; i < io->nhdr; i++)
		if (cut < (end += hdr_bytes[io->hdr[i]]))
			return hdr_trunc[io->hdr[i]];
	if (cut < (end += plen + (4 - plen % 4) % 4))
		return SX_WIRE_TRUNC_PAYLOAD;
	if (cut < (end += SX_ICRC_LEN))
		return SX_WIRE_TRUNC_ICRC;
	return SX_WIRE_OK;
}

static void
test_truncation(void **state)
{
	static struct frame f;
	static const uint32_t lens[] = {0, 5, 8};
	uint64_t s = 4;
	unsigned int ipv, vlan, flags;
	size_t k, i, cut;

	(void)state;
	for (k = 0; k < N_IBA_OPS; k++) {
		const struct iba_op *io = &iba_ops[k];

		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			uint32_t plen = legal_len(io, lens[i]);

			for (ipv = 4; ipv <= 6; ipv += 2) {
				for (vlan = 0; vlan < 2; vlan++) {
					frame_build(&f, io->opcode, ipv, vlan, plen, &s);
					for (cut = 0; cut <= f.len; cut++) {
						enum sx_wire_rc want, got;
						struct sx_pkt pkt;

						want = trunc_reason(io, ipv, vlan, plen,
						                    cut);
						assert_int_equal(want == SX_WIRE_OK,
						                 cut == f.len);
						/* Checksum flags cannot hide a short
						 * frame. */
						for (flags = 0; flags < 4; flags++) {
							got = sx_wire_parse(f.buf, cut,
							                    &pkt, flags);
							if (got != want)
								fail_msg(
								    "op %02x IPv%u vlan "
								    "%u "
								    "cut %zu/%zu: %s, "
								    "want %s",
								    io->opcode, ipv, vlan,
								    cut, f.len,
								    sx_wire_rc_name(got),
								    sx_wire_rc_name(
								        want));
						}
					}
				}
			}
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Every other reason, one mutation of a valid frame at a time.             */

static uint8_t *
l3p(struct frame *f)
{
	return f->buf + f->pkt.l3_off;
}

static uint8_t *
l4p(struct frame *f)
{
	return f->buf + f->pkt.l4_off;
}

static uint8_t *
bthp(struct frame *f)
{
	return f->buf + f->pkt.bth_off;
}

static bool
is_v4(struct frame *f)
{
	return f->pkt.ip_version == 4;
}

static void
m_none(struct frame *f)
{
	(void)f;
}

static void
m_ethertype_arp(struct frame *f)
{
	put16(l3p(f) - 2, 0x0806);
}

static void
m_ethertype_qinq(struct frame *f)
{
	put16(l3p(f) - 2, SX_ETHERTYPE_VLAN);
}

static void
m_proto_tcp(struct frame *f)
{
	l3p(f)[is_v4(f) ? 9 : 6] = 6;
}

static void
m_ip6_hop_by_hop(struct frame *f)
{
	l3p(f)[6] = 0;
}

static void
m_dport(struct frame *f)
{
	put16(l4p(f) + 2, SX_ROCE_UDP_PORT + 1);
}

static void
m_version_swap(struct frame *f)
{
	uint8_t *ip = l3p(f);

	ip[0] = (uint8_t)((ip[0] & 0x0f) | (is_v4(f) ? 0x60 : 0x40));
}

static void
m_ihl_4(struct frame *f)
{
	l3p(f)[0] = 0x44;
}

static void
m_ihl_0(struct frame *f)
{
	l3p(f)[0] = 0x40;
}

/* IPv4 options: a valid header of 24 bytes (NOP NOP NOP EOL). */
static void
m_ip4_options(struct frame *f)
{
	uint8_t *ip = l3p(f);

	memmove(ip + 24, ip + 20, f->len - f->pkt.l3_off - 20);
	memcpy(ip + 20, "\x01\x01\x01\x00", 4);
	ip[0] = 0x46;
	put16(ip + 2, (uint16_t)(get16(ip + 2) + 4));
	f->len += 4;
	f->pkt.l4_off += 4;
	f->pkt.bth_off += 4;
	f->pkt.payload_off += 4;
}

static void
m_ihl_past_frame(struct frame *f)
{
	/* 60-byte header in a frame that ends inside it. */
	l3p(f)[0] = 0x4f;
	f->len = f->pkt.l3_off + 40;
}

static void
m_ip_len_below_ihl(struct frame *f)
{
	put16(l3p(f) + 2, 19);
}

static void
m_ip_len_below_headers(struct frame *f)
{
	uint8_t *ip = l3p(f);
	size_t short_by = f->pkt.payload_len + f->pkt.bth.pad + 1;

	if (is_v4(f))
		put16(ip + 2, (uint16_t)(get16(ip + 2) - short_by));
	else
		put16(ip + 4, (uint16_t)(get16(ip + 4) - short_by));
}

static void
m_ip_len_plus(struct frame *f, uint16_t n)
{
	uint8_t *ip = l3p(f);

	if (is_v4(f))
		put16(ip + 2, (uint16_t)(get16(ip + 2) + n));
	else
		put16(ip + 4, (uint16_t)(get16(ip + 4) + n));
}

static void
m_ip_len_plus2(struct frame *f)
{
	m_ip_len_plus(f, 2);
}

static void
m_ip_len_plus200(struct frame *f)
{
	m_ip_len_plus(f, 200);
}

static void
m_ip_csum_flip(struct frame *f)
{
	l3p(f)[11] ^= 0x01;
}

static void
m_ip_id(struct frame *f)
{
	l3p(f)[4] ^= 0x80;
}

static void
m_frag_mf(struct frame *f)
{
	l3p(f)[6] |= 0x20;
}

static void
m_frag_offset(struct frame *f)
{
	l3p(f)[7] |= 0x01;
}

static void
m_frag_df_clear(struct frame *f)
{
	l3p(f)[6] &= (uint8_t)~0x40;
}

static void
m_udp_len_plus4(struct frame *f)
{
	put16(l4p(f) + 4, (uint16_t)(get16(l4p(f) + 4) + 4));
}

static void
m_udp_len_minus4(struct frame *f)
{
	put16(l4p(f) + 4, (uint16_t)(get16(l4p(f) + 4) - 4));
}

static uint16_t
frame_udp_csum(struct frame *f)
{
	return udp_csum(l3p(f), l4p(f), f->len - f->pkt.l4_off);
}

static void
m_udp_csum_valid(struct frame *f)
{
	put16(l4p(f) + 6, frame_udp_csum(f));
}

static void
m_udp_csum_wrong(struct frame *f)
{
	uint16_t c = frame_udp_csum(f) ^ 0x0100;

	/* Zero would mean "no checksum"; keep it wrong and in use. */
	put16(l4p(f) + 6, c != 0 ? c : 0x0200);
}

static void m_payload_bit(struct frame *f);

static void
m_udp_csum_then_payload(struct frame *f)
{
	m_udp_csum_valid(f);
	m_payload_bit(f);
}

static void
m_udp_csum_zero(struct frame *f)
{
	put16(l4p(f) + 6, 0);
}

static void
m_bth_version(struct frame *f)
{
	bthp(f)[1] |= 0x01;
}

static void
m_pad1(struct frame *f)
{
	bthp(f)[1] = (uint8_t)((bthp(f)[1] & ~0x30u) | 0x10);
}

static void
m_pad3(struct frame *f)
{
	bthp(f)[1] |= 0x30;
}

static void
m_drop_byte(struct frame *f)
{
	frame_resize(f, -1);
}

static void
m_add4(struct frame *f)
{
	frame_resize(f, 4);
}

static void
m_add1(struct frame *f)
{
	frame_resize(f, 1);
}

static void
m_payload_bit(struct frame *f)
{
	f->buf[f->pkt.payload_off + f->pkt.payload_len / 2] ^= 0x04;
}

static void
m_pad_byte(struct frame *f)
{
	f->buf[f->len - SX_ICRC_LEN - 1] ^= 0x01;
}

static void
m_dqpn_bit(struct frame *f)
{
	bthp(f)[7] ^= 0x10;
}

static void
m_psn_bit(struct frame *f)
{
	bthp(f)[11] ^= 0x01;
}

static void
m_bth_resv7(struct frame *f)
{
	bthp(f)[8] ^= 0x01;
}

static void
m_ext_bit(struct frame *f)
{
	bthp(f)[SX_BTH_LEN] ^= 0x02;
}

static void
m_ip_src_bit(struct frame *f)
{
	l3p(f)[is_v4(f) ? 12 : 8] ^= 0x01;
}

static void
m_sport(struct frame *f)
{
	l4p(f)[1] ^= 0x40;
}

static void
m_icrc_bit(struct frame *f)
{
	f->buf[f->len - 1] ^= 0x80;
}

static void
m_tos_all(struct frame *f)
{
	uint8_t *ip = l3p(f);

	if (is_v4(f))
		ip[1] ^= 0xff;
	else
		put16(ip, (uint16_t)(get16(ip) ^ 0x0ff0)); /* traffic class */
}

static void
m_ttl(struct frame *f)
{
	l3p(f)[is_v4(f) ? 8 : 7] ^= 0x3c;
}

static void
m_flow_label(struct frame *f)
{
	uint8_t *ip = l3p(f);

	ip[1] ^= 0x0f;
	ip[2] ^= 0xff;
	ip[3] ^= 0x55;
}

static void
m_fecn_becn_resv6(struct frame *f)
{
	bthp(f)[4] ^= 0xff;
}

enum ipsel {
	V4_V6,
	V4,
	V6,
};

static const struct reject_case {
	const char *what;
	enum ipsel ip;
	uint8_t opcode;
	uint32_t plen;
	void (*mutate)(struct frame *f);
	unsigned int fix; /* checksums repaired after the mutation */
	enum sx_wire_rc want;
} reject_cases[] = {
    {"untouched", V4_V6, SX_OP_RC_SEND_ONLY, 9, m_none, 0, SX_WIRE_OK},
    /* L2, L3, L4 identification */
    {"ARP EtherType", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_ethertype_arp, FIX_ALL,
     SX_WIRE_NOT_IP},
    {"second VLAN tag", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_ethertype_qinq, FIX_ALL,
     SX_WIRE_NOT_IP},
    {"TCP", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_proto_tcp, FIX_ALL, SX_WIRE_NOT_UDP},
    {"IPv6 hop-by-hop header", V6, SX_OP_RC_SEND_ONLY, 4, m_ip6_hop_by_hop, FIX_ALL,
     SX_WIRE_NOT_UDP},
    {"UDP port 4792", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_dport, FIX_ALL, SX_WIRE_NOT_ROCE},
    /* IP header */
    {"version disagrees with EtherType", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_version_swap, 0,
     SX_WIRE_BAD_IP_VERSION},
    {"IHL 4", V4, SX_OP_RC_SEND_ONLY, 4, m_ihl_4, 0, SX_WIRE_BAD_IP_HDR_LEN},
    {"IHL 0", V4, SX_OP_RC_SEND_ONLY, 4, m_ihl_0, 0, SX_WIRE_BAD_IP_HDR_LEN},
    {"IHL 15 past the frame", V4, SX_OP_RC_SEND_ONLY, 4, m_ihl_past_frame, 0,
     SX_WIRE_TRUNC_IPV4},
    {"IPv4 options", V4, SX_OP_RC_WRITE_ONLY_IMM, 7, m_ip4_options, FIX_ALL, SX_WIRE_OK},
    {"IPv4 options, stale ICRC", V4, SX_OP_RC_WRITE_ONLY_IMM, 7, m_ip4_options,
     FIX_IP4 | FIX_UDP, SX_WIRE_BAD_ICRC},
    {"total length < IHL", V4, SX_OP_RC_SEND_ONLY, 4, m_ip_len_below_ihl, FIX_ALL,
     SX_WIRE_BAD_IP_LEN},
    {"IP length < headers + ICRC", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_ip_len_below_headers,
     FIX_ALL, SX_WIRE_BAD_IP_LEN},
    {"IP length < headers + ICRC, ACK", V4_V6, SX_OP_RC_ACK, 0, m_ip_len_below_headers,
     FIX_ALL, SX_WIRE_BAD_IP_LEN},
    {"IP length past the frame by 2", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_ip_len_plus2,
     FIX_ALL, SX_WIRE_TRUNC_ICRC},
    {"IP length past the frame by 200", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_ip_len_plus200,
     FIX_ALL, SX_WIRE_TRUNC_PAYLOAD},
    {"IPv4 checksum bit", V4, SX_OP_RC_SEND_ONLY, 4, m_ip_csum_flip, FIX_ICRC,
     SX_WIRE_BAD_IP_CSUM},
    {"IPv4 ID changed, checksum stale", V4, SX_OP_RC_SEND_ONLY, 4, m_ip_id, FIX_ICRC,
     SX_WIRE_BAD_IP_CSUM},
    {"more fragments", V4, SX_OP_RC_SEND_ONLY, 4, m_frag_mf, FIX_ALL,
     SX_WIRE_IP_FRAGMENT},
    {"fragment offset", V4, SX_OP_RC_SEND_ONLY, 4, m_frag_offset, FIX_ALL,
     SX_WIRE_IP_FRAGMENT},
    {"DF clear", V4, SX_OP_RC_SEND_ONLY, 4, m_frag_df_clear, FIX_ALL, SX_WIRE_OK},
    /* UDP */
    {"UDP length + 4", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_udp_len_plus4, FIX_ALL,
     SX_WIRE_BAD_UDP_LEN},
    {"UDP length - 4", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_udp_len_minus4, FIX_ALL,
     SX_WIRE_BAD_UDP_LEN},
    {"UDP checksum valid", V4_V6, SX_OP_RC_SEND_ONLY, 13, m_udp_csum_valid, 0,
     SX_WIRE_OK},
    {"UDP checksum wrong", V4_V6, SX_OP_RC_SEND_ONLY, 13, m_udp_csum_wrong, 0,
     SX_WIRE_BAD_UDP_CSUM},
    {"UDP checksum stale after payload change", V4_V6, SX_OP_RC_SEND_ONLY, 13,
     m_udp_csum_then_payload, FIX_ICRC, SX_WIRE_BAD_UDP_CSUM},
    {"UDP checksum zero", V4_V6, SX_OP_RC_SEND_ONLY, 13, m_udp_csum_zero, 0, SX_WIRE_OK},
    {"IPv6 UDP checksum bit", V6, SX_OP_RC_ACK, 0, m_sport, FIX_ICRC,
     SX_WIRE_BAD_UDP_CSUM},
    /* BTH, pad, length */
    {"BTH version 1", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_bth_version, FIX_ALL,
     SX_WIRE_BAD_BTH_VERSION},
    {"pad on SEND_FIRST", V4_V6, SX_OP_RC_SEND_FIRST, 8, m_pad1, FIX_ALL,
     SX_WIRE_BAD_PAD},
    {"pad on WRITE_MIDDLE", V4_V6, SX_OP_RC_WRITE_MIDDLE, 8, m_pad1, FIX_ALL,
     SX_WIRE_BAD_PAD},
    {"pad on READ_RESPONSE_FIRST", V4_V6, SX_OP_RC_READ_RESPONSE_FIRST, 8, m_pad3,
     FIX_ALL, SX_WIRE_BAD_PAD},
    {"payload + pad not a multiple of 4", V4_V6, SX_OP_RC_SEND_LAST, 8, m_drop_byte,
     FIX_ALL, SX_WIRE_BAD_PAD},
    {"payload + pad not a multiple of 4, FIRST", V4_V6, SX_OP_RC_WRITE_FIRST, 8, m_add1,
     FIX_ALL, SX_WIRE_BAD_PAD},
    {"pad longer than payload", V4_V6, SX_OP_RC_SEND_LAST, 0, m_pad3, FIX_ALL,
     SX_WIRE_BAD_PAD},
    {"pad on ACK", V4_V6, SX_OP_RC_ACK, 0, m_pad1, FIX_ALL, SX_WIRE_BAD_PAD},
    {"payload on ACK", V4_V6, SX_OP_RC_ACK, 0, m_add4, FIX_ALL, SX_WIRE_BAD_LENGTH},
    {"payload on READ_REQUEST", V4_V6, SX_OP_RC_READ_REQUEST, 0, m_add4, FIX_ALL,
     SX_WIRE_BAD_LENGTH},
    {"payload on ATOMIC_ACK", V4_V6, SX_OP_RC_ATOMIC_ACK, 0, m_add4, FIX_ALL,
     SX_WIRE_BAD_LENGTH},
    {"payload on COMPARE_SWAP", V4_V6, SX_OP_RC_COMPARE_SWAP, 0, m_add4, FIX_ALL,
     SX_WIRE_BAD_LENGTH},
    {"payload on CNP", V4_V6, SX_OP_CNP, 0, m_add4, FIX_ALL, SX_WIRE_BAD_LENGTH},
    /* ICRC: covered fields break it ... */
    {"payload bit", V4_V6, SX_OP_RC_WRITE_ONLY, 100, m_payload_bit, FIX_IP4 | FIX_UDP,
     SX_WIRE_BAD_ICRC},
    {"pad byte", V4_V6, SX_OP_RC_SEND_LAST, 5, m_pad_byte, FIX_IP4 | FIX_UDP,
     SX_WIRE_BAD_ICRC},
    {"DQPN bit", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_dqpn_bit, FIX_IP4 | FIX_UDP,
     SX_WIRE_BAD_ICRC},
    {"PSN bit", V4_V6, SX_OP_RC_ACK, 0, m_psn_bit, FIX_IP4 | FIX_UDP, SX_WIRE_BAD_ICRC},
    {"BTH reserved byte 8", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_bth_resv7, FIX_IP4 | FIX_UDP,
     SX_WIRE_BAD_ICRC},
    {"RETH bit", V4_V6, SX_OP_RC_READ_REQUEST, 0, m_ext_bit, FIX_IP4 | FIX_UDP,
     SX_WIRE_BAD_ICRC},
    {"AtomicETH bit", V4_V6, SX_OP_RC_FETCH_ADD, 0, m_ext_bit, FIX_IP4 | FIX_UDP,
     SX_WIRE_BAD_ICRC},
    {"CNP reserved bit", V4_V6, SX_OP_CNP, 0, m_ext_bit, FIX_IP4 | FIX_UDP,
     SX_WIRE_BAD_ICRC},
    {"IP source bit", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_ip_src_bit, FIX_IP4 | FIX_UDP,
     SX_WIRE_BAD_ICRC},
    {"IPv4 ID", V4, SX_OP_RC_SEND_ONLY, 4, m_ip_id, FIX_IP4 | FIX_UDP, SX_WIRE_BAD_ICRC},
    {"UDP source port", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_sport, FIX_IP4 | FIX_UDP,
     SX_WIRE_BAD_ICRC},
    {"ICRC bit", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_icrc_bit, FIX_IP4 | FIX_UDP,
     SX_WIRE_BAD_ICRC},
    /* ... and the fields a router may rewrite do not (RoCEv2 A17.3.3). */
    {"TOS / traffic class", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_tos_all, FIX_IP4 | FIX_UDP,
     SX_WIRE_OK},
    {"TTL / hop limit", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_ttl, FIX_IP4 | FIX_UDP,
     SX_WIRE_OK},
    {"flow label", V6, SX_OP_RC_SEND_ONLY, 4, m_flow_label, FIX_UDP, SX_WIRE_OK},
    {"FECN, BECN, reserved 6", V4_V6, SX_OP_RC_SEND_ONLY, 4, m_fecn_becn_resv6,
     FIX_IP4 | FIX_UDP, SX_WIRE_OK},
};

static void
test_reject_reasons(void **state)
{
	static struct frame f;
	uint64_t s = 5;
	size_t k;
	unsigned int ipv, vlan;

	(void)state;
	for (k = 0; k < sizeof(reject_cases) / sizeof(reject_cases[0]); k++) {
		const struct reject_case *c = &reject_cases[k];

		for (ipv = 4; ipv <= 6; ipv += 2) {
			if ((c->ip == V4 && ipv != 4) || (c->ip == V6 && ipv != 6))
				continue;
			for (vlan = 0; vlan < 2; vlan++) {
				struct sx_pkt pkt;
				enum sx_wire_rc got;

				frame_build(&f, c->opcode, ipv, vlan, c->plen, &s);
				assert_int_equal(sx_wire_parse(f.buf, f.len, &pkt, 0),
				                 SX_WIRE_OK);
				c->mutate(&f);
				frame_fix(&f, c->fix);
				got = sx_wire_parse(f.buf, f.len, &pkt, 0);
				if (got != c->want)
					fail_msg("%s, IPv%u vlan %u: %s, want %s",
					         c->what, ipv, vlan, sx_wire_rc_name(got),
					         sx_wire_rc_name(c->want));
				if (got != SX_WIRE_OK)
					assert_null(pkt.op);
			}
		}
	}
}

/*
 * SACK ranges the parser must refuse (docs/wire.md, SACKR), each written
 * into a valid SX_SR_ACK_RANGES frame by hand: offsets are the header's
 * layout (count at 0, block k's start at 4 + 8k + 1, its length at 8 + 8k).
 */
static void
test_sackr_malformed(void **state)
{
	static struct frame f;
	enum { CASES = 10 };
	uint64_t s = 9;
	struct sx_pkt pkt;
	uint8_t *h;
	uint32_t base;
	int c;

	(void)state;
	for (c = 0; c <= CASES; c++) {
		frame_build(&f, 0xe2, c & 1 ? 6 : 4, c & 2, 0, &s);
		assert_int_equal(sx_wire_parse(f.buf, f.len, &pkt, 0), SX_WIRE_OK);
		/* BTH 12 + AETH 4, then SACK: flags, Base (3), bitmap (32) */
		base = (uint32_t)bthp(&f)[17] << 16 | (uint32_t)bthp(&f)[18] << 8 | bthp(&f)[19];
		h = bthp(&f) + 52;
		/* one block [base + 300, base + 310) */
		memset(h, 0, 68);
		h[0] = 1;
		put24(h + 5, (base + 300) & 0xffffff);
		put32(h + 8, 10);
		switch (c) {
		case 0: h[0] = 0; break;                              /* no block */
		case 1: h[0] = 9; break;                              /* more than 8 */
		case 2: h[2] = 1; break;                              /* reserved byte */
		case 3: h[4] = 1; break;                              /* start's high byte */
		case 4: put24(h + 5, (base + 256) & 0xffffff); break; /* inside the bitmap */
		case 5: put32(h + 8, 0); break;                       /* empty */
		case 6: put32(h + 8, 1u << 23); break;                /* past the span */
		case 7: put32(h + 16, 5); break;                      /* unused slot not zero */
		case 8:                                               /* second above the first */
			h[0] = 2;
			put24(h + 13, (base + 400) & 0xffffff);
			put32(h + 16, 5);
			break;
		case 9:                                               /* blocks touch */
			h[0] = 2;
			put24(h + 13, (base + 290) & 0xffffff);
			put32(h + 16, 10);
			break;
		default:                                              /* well formed, descending */
			h[0] = 2;
			put24(h + 5, (base + 400) & 0xffffff);
			put32(h + 8, 5);
			put24(h + 13, (base + 300) & 0xffffff);
			put32(h + 16, 10);
			break;
		}
		frame_fix(&f, FIX_ALL);
		if (c == CASES) {
			assert_int_equal(sx_wire_parse(f.buf, f.len, &pkt, 0), SX_WIRE_OK);
			assert_int_equal(pkt.sackr.count, 2);
			assert_int_equal(pkt.sackr.range[0].start, (base + 400) & 0xffffff);
			assert_int_equal(pkt.sackr.range[1].start, (base + 300) & 0xffffff);
			assert_int_equal(pkt.sackr.range[1].len, 10);
		} else if (sx_wire_parse(f.buf, f.len, &pkt, 0) != SX_WIRE_BAD_SACKR) {
			fail_msg("case %d: %s, want bad_sackr", c,
			         sx_wire_rc_name(sx_wire_parse(f.buf, f.len, &pkt, 0)));
		}
	}
}

static void
test_unknown_opcodes(void **state)
{
	static struct frame f;
	uint64_t s = 6;
	unsigned int op;

	(void)state;
	for (op = 0; op < 256; op++) {
		struct sx_pkt pkt;

		if (iba_op((uint8_t)op) != NULL || op == SX_OP_SR_INT) /* test_int_shim */
			continue;
		frame_build(&f, SX_OP_RC_SEND_ONLY, op & 1 ? 6 : 4, op & 2, 8, &s);
		bthp(&f)[0] = (uint8_t)op;
		frame_fix(&f, FIX_ALL);
		if (sx_wire_parse(f.buf, f.len, &pkt, 0) != SX_WIRE_UNKNOWN_OPCODE)
			fail_msg("opcode 0x%02x: %s, want unknown_opcode", op,
			         sx_wire_rc_name(sx_wire_parse(f.buf, f.len, &pkt, 0)));
		assert_int_equal(sx_wire_parse(f.buf, f.len, &pkt, SX_PARSE_NO_ICRC),
		                 SX_WIRE_UNKNOWN_OPCODE);
	}
}

/* SX_PARSE_NO_ICRC and SX_PARSE_NO_L4_CSUM skip exactly their check. */
static void
test_parse_flags(void **state)
{
	static const struct {
		enum ipsel ip;
		void (*mutate)(struct frame *f);
		unsigned int fix;
		enum sx_wire_rc want[4]; /* indexed by flags */
	} cases[] = {
	    {V4_V6, m_none, 0, {SX_WIRE_OK, SX_WIRE_OK, SX_WIRE_OK, SX_WIRE_OK}},
	    {V4_V6,
	     m_payload_bit,
	     FIX_IP4 | FIX_UDP,
	     {SX_WIRE_BAD_ICRC, SX_WIRE_OK, SX_WIRE_BAD_ICRC, SX_WIRE_OK}},
	    {V4_V6,
	     m_udp_csum_wrong,
	     0,
	     {SX_WIRE_BAD_UDP_CSUM, SX_WIRE_BAD_UDP_CSUM, SX_WIRE_OK, SX_WIRE_OK}},
	    {V4_V6,
	     m_icrc_bit,
	     FIX_IP4, /* stale UDP checksum and ICRC */
	     {SX_WIRE_BAD_UDP_CSUM, SX_WIRE_BAD_UDP_CSUM, SX_WIRE_BAD_ICRC, SX_WIRE_OK}},
	    {V4,
	     m_ip_id,
	     FIX_ICRC, /* a stale IPv4 checksum is never skipped */
	     {SX_WIRE_BAD_IP_CSUM, SX_WIRE_BAD_IP_CSUM, SX_WIRE_BAD_IP_CSUM,
	      SX_WIRE_BAD_IP_CSUM}},
	    {V4_V6,
	     m_pad3,
	     FIX_ALL,
	     {SX_WIRE_BAD_PAD, SX_WIRE_BAD_PAD, SX_WIRE_BAD_PAD, SX_WIRE_BAD_PAD}},
	};
	static struct frame f;
	uint64_t s = 7;
	unsigned int flags, ipv;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		for (ipv = 4; ipv <= 6; ipv += 2) {
			if ((cases[k].ip == V4 && ipv != 4) ||
			    (cases[k].ip == V6 && ipv != 6))
				continue;
			for (flags = 0; flags < 4; flags++) {
				struct sx_pkt pkt;

				frame_build(&f, SX_OP_RC_SEND_FIRST, ipv, false, 64, &s);
				/* A UDP checksum in use, so that the flag has work to do.
				 */
				m_udp_csum_valid(&f);
				cases[k].mutate(&f);
				frame_fix(&f, cases[k].fix);
				assert_int_equal(sx_wire_parse(f.buf, f.len, &pkt, flags),
				                 cases[k].want[flags]);
			}
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Builder input checks.                                                    */

static const struct build_case {
	const char *what;
	uint8_t opcode;
	unsigned int ipv;
	uint32_t plen;
	uint32_t dqpn, psn, msn, flow_label;
	long cap_delta; /* capacity - frame length; LONG_MAX: a big buffer */
	int want;       /* 0: success */
} build_cases[] = {
    {"fits exactly", SX_OP_RC_SEND_ONLY, 4, 5, 1, 1, 1, 1, 0, 0},
    {"fits exactly, IPv6", SX_OP_RC_WRITE_ONLY_IMM, 6, 4096, 1, 1, 1, 1, 0, 0},
    {"one byte short", SX_OP_RC_SEND_ONLY, 4, 5, 1, 1, 1, 1, -1, -ENOSPC},
    {"one byte short, IPv6", SX_OP_RC_ACK, 6, 0, 1, 1, 1, 1, -1, -ENOSPC},
    {"headers do not fit", SX_OP_RC_WRITE_ONLY, 6, 64, 1, 1, 1, 1, -100, -ENOSPC},
    {"larger than an IP datagram", SX_OP_RC_SEND_ONLY, 4, 65536, 1, 1, 1, 1, 100000,
     -ENOSPC},
    {"unknown opcode", 0x15, 4, 0, 1, 1, 1, 1, 1000, -EINVAL},
    {"UD opcode", 0x64, 4, 0, 1, 1, 1, 1, 1000, -EINVAL},
    {"IP version 5", SX_OP_RC_SEND_ONLY, 5, 0, 1, 1, 1, 1, 1000, -EINVAL},
    {"IP version 0", SX_OP_RC_SEND_ONLY, 0, 0, 1, 1, 1, 1, 1000, -EINVAL},
    {"payload on ACK", SX_OP_RC_ACK, 4, 4, 1, 1, 1, 1, 1000, -EINVAL},
    {"payload on READ_REQUEST", SX_OP_RC_READ_REQUEST, 6, 1, 1, 1, 1, 1, 1000, -EINVAL},
    {"payload on CNP", SX_OP_CNP, 4, 16, 1, 1, 1, 1, 1000, -EINVAL},
    {"payload on FETCH_ADD", SX_OP_RC_FETCH_ADD, 4, 8, 1, 1, 1, 1, 1000, -EINVAL},
    {"DQPN of 25 bits", SX_OP_RC_SEND_ONLY, 4, 0, 0x1000000, 1, 1, 1, 1000, -EINVAL},
    {"largest DQPN", SX_OP_RC_SEND_ONLY, 4, 0, 0xffffff, 1, 1, 1, 1000, 0},
    {"PSN of 25 bits", SX_OP_RC_SEND_ONLY, 4, 0, 1, 0x1000000, 1, 1, 1000, -EINVAL},
    {"largest PSN", SX_OP_RC_SEND_ONLY, 4, 0, 1, 0xffffff, 1, 1, 1000, 0},
    {"MSN of 25 bits", SX_OP_RC_ACK, 4, 0, 1, 1, 0x1000000, 1, 1000, -EINVAL},
    {"largest MSN", SX_OP_RC_ACK, 4, 0, 1, 1, 0xffffff, 1, 1000, 0},
    {"flow label of 21 bits", SX_OP_RC_SEND_ONLY, 6, 0, 1, 1, 1, 0x100000, 1000, -EINVAL},
    {"largest flow label", SX_OP_RC_SEND_ONLY, 6, 0, 1, 1, 1, 0xfffff, 1000, 0},
    /* Pad only on the packet that ends a message (the parser rejects the rest). */
    {"pad on SEND_FIRST", SX_OP_RC_SEND_FIRST, 4, 5, 1, 1, 1, 1, 1000, -EINVAL},
    {"pad on WRITE_MIDDLE", SX_OP_RC_WRITE_MIDDLE, 6, 2, 1, 1, 1, 1, 1000, -EINVAL},
    {"pad on READ_RESPONSE_FIRST", SX_OP_RC_READ_RESPONSE_FIRST, 4, 4095, 1, 1, 1, 1,
     1000, -EINVAL},
    {"pad on READ_RESPONSE_LAST", SX_OP_RC_READ_RESPONSE_LAST, 4, 4095, 1, 1, 1, 1, 1000,
     0},
};

static void
test_builder_rejects(void **state)
{
	uint64_t s = 8;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(build_cases) / sizeof(build_cases[0]); k++) {
		const struct build_case *c = &build_cases[k];
		const struct iba_op *io = iba_op(c->opcode);
		size_t need = expected_len(io != NULL ? io : &iba_ops[0],
		                           c->ipv == 6 ? 6 : 4, false, c->plen);
		size_t cap = (size_t)((long)need + c->cap_delta);
		uint8_t *buf = malloc(cap != 0 ? cap : 1);
		uint8_t *payload = calloc(1, c->plen + 1);
		struct sx_pkt pkt;
		ssize_t n;

		assert_non_null(buf);
		assert_non_null(payload);
		pkt_init(&pkt, c->opcode, c->ipv, false, c->plen, &s);
		pkt.bth.dqpn = c->dqpn;
		pkt.bth.psn = c->psn;
		pkt.aeth.msn = c->msn;
		pkt.flow_label = c->flow_label;
		/* An exactly sized heap buffer: ASan sees any write past @cap. */
		n = sx_wire_build(buf, cap, &pkt, payload);
		if (c->want != 0 ? n != c->want : n != (ssize_t)need)
			fail_msg("%s: %zd, want %d", c->what, n,
			         c->want ? c->want : (int)need);
		if (c->want == 0) {
			struct sx_pkt got;

			assert_int_equal(sx_wire_parse(buf, (size_t)n, &got, 0),
			                 SX_WIRE_OK);
			assert_int_equal(got.bth.dqpn, c->dqpn);
			assert_int_equal(got.bth.psn, c->psn);
		}
		free(payload);
		free(buf);
	}
}

/* ------------------------------------------------------------------------ */
/* What switches rewrite: ECN and TTL.                                      */

static void
test_ecn_rewrite(void **state)
{
	static const uint8_t tos_in[] = {0x00, 0x01, 0x02, 0x03, 0x68,
	                                 0x6a, 0xb8, 0xfc, 0xff};
	static struct frame f;
	uint64_t s = 9;
	unsigned int ipv, ecn, vlan;
	size_t i;

	(void)state;
	for (ipv = 4; ipv <= 6; ipv += 2) {
		for (i = 0; i < sizeof(tos_in); i++) {
			for (ecn = SX_ECN_NOT_ECT; ecn <= SX_ECN_CE; ecn++) {
				for (vlan = 0; vlan < 2; vlan++) {
					struct sx_pkt pkt;
					uint32_t icrc;
					uint8_t *ip;

					frame_build(&f, SX_OP_RC_WRITE_ONLY, ipv, vlan,
					            37, &s);
					ip = l3p(&f);
					/* Start from a known TOS with a valid frame. */
					if (ipv == 4)
						ip[1] = tos_in[i];
					else
						put16(ip,
						      (uint16_t)((get16(ip) & 0xf00f) |
						                 tos_in[i] << 4));
					frame_fix(&f, FIX_IP4);
					icrc = get_le32(f.buf + f.len - SX_ICRC_LEN);

					sx_ip_set_ecn(ip, (enum sx_ecn)ecn);
					assert_int_equal(
					    sx_wire_parse(f.buf, f.len, &pkt, 0),
					    SX_WIRE_OK);
					assert_int_equal(pkt.tos,
					                 (tos_in[i] & ~3u) | ecn);
					assert_int_equal(ip[0] >> 4, ipv);
					if (ipv == 4)
						assert_int_equal(get16(ip + 10),
						                 ip4_csum(ip));
					else
						assert_int_equal(pkt.flow_label,
						                 f.pkt.flow_label);
					assert_int_equal(
					    get_le32(f.buf + f.len - SX_ICRC_LEN), icrc);
				}
			}
		}
	}
}

static void
test_ttl_decrement(void **state)
{
	static const struct {
		uint8_t in;
		bool ok;
		uint8_t out;
	} cases[] = {
	    {64, true, 63},   {1, true, 0},     {0, false, 0},
	    {255, true, 254}, {128, true, 127},
	};
	static struct frame f;
	uint64_t s = 10;
	unsigned int ipv;
	size_t i;

	(void)state;
	for (ipv = 4; ipv <= 6; ipv += 2) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct sx_pkt pkt;
			uint8_t *ip;

			frame_build(&f, SX_OP_RC_READ_RESPONSE_ONLY, ipv, i & 1, 1 + i,
			            &s);
			ip = l3p(&f);
			ip[ipv == 4 ? 8 : 7] = cases[i].in;
			frame_fix(&f, FIX_IP4);
			assert_int_equal(sx_ip_dec_ttl(ip), cases[i].ok);
			assert_int_equal(sx_wire_parse(f.buf, f.len, &pkt, 0),
			                 SX_WIRE_OK);
			assert_int_equal(pkt.ttl, cases[i].out);
			if (ipv == 4)
				assert_int_equal(get16(ip + 10), ip4_csum(ip));
		}
	}
}

/* ------------------------------------------------------------------------ */
/* PSN arithmetic modulo 2^24 (IBA 9.7.1).                                  */

static void
test_psn(void **state)
{
	static const struct {
		uint32_t a, n, sum;
	} add[] = {
	    {0xffffff, 1, 0},        {0xffffff, 2, 1},      {0, 0xffffff, 0xffffff},
	    {0x800000, 0x800000, 0}, {5, SX_PSN_MODULO, 5}, {0x123456, 0, 0x123456},
	};
	static const struct {
		uint32_t a, b;
		int32_t diff;
		int cmp;
		uint32_t fwd;
	} rel[] = {
	    {0, 0, 0, 0, 0},
	    {0, 0xffffff, 1, 1, 1},
	    {0xffffff, 0, -1, -1, 0xffffff},
	    {2, 0xfffffe, 4, 1, 4},
	    {0x7fffff, 0, 0x7fffff, 1, 0x7fffff},
	    {0, 0x7fffff, -0x7fffff, -1, 0x800001},
	    {0x800001, 0, -0x7fffff, -1, 0x800001},
	    {0xffffff, 0x800000, 0x7fffff, 1, 0x7fffff},
	    /* Exactly half the space apart is ambiguous; both orders say "before". */
	    {0x800000, 0, -0x800000, -1, 0x800000},
	    {0, 0x800000, -0x800000, -1, 0x800000},
	    {0x1234, 0x1234, 0, 0, 0},
	};
	static const struct {
		uint32_t psn, base, size;
		bool in;
	} win[] = {
	    {0xfffffe, 0xfffffe, 4, true},
	    {0xffffff, 0xfffffe, 4, true},
	    {0, 0xfffffe, 4, true},
	    {1, 0xfffffe, 4, true},
	    {2, 0xfffffe, 4, false},
	    {0xfffffd, 0xfffffe, 4, false},
	    {5, 5, 0, false},
	    {5, 5, 1, true},
	    {6, 5, 1, false},
	    {0x7fffff, 0, SX_PSN_HALF, true},
	    {0x800000, 0, SX_PSN_HALF, false},
	    {0xffffff, 0, SX_PSN_MODULO, true},
	};
	uint64_t s = 11;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(add) / sizeof(add[0]); i++)
		assert_int_equal(sx_psn_add(add[i].a, add[i].n), add[i].sum);
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		assert_int_equal(sx_psn_diff(rel[i].a, rel[i].b), rel[i].diff);
		assert_int_equal(sx_psn_cmp(rel[i].a, rel[i].b), rel[i].cmp);
		assert_int_equal(sx_psn_fwd(rel[i].b, rel[i].a), rel[i].fwd);
	}
	for (i = 0; i < sizeof(win) / sizeof(win[0]); i++)
		if (sx_psn_in_window(win[i].psn, win[i].base, win[i].size) != win[i].in)
			fail_msg("psn %06x in [%06x, +%u): want %d", win[i].psn,
			         win[i].base, win[i].size, win[i].in);

	/* Inverse pairs, everywhere on the circle including across the wrap. */
	for (i = 0; i < 100000; i++) {
		uint32_t a = (uint32_t)rnd(&s) & SX_PSN_MASK;
		uint32_t n = (uint32_t)rnd(&s) % SX_PSN_HALF; /* [0, 2^23) */
		uint32_t b;

		if (i < 256)
			a = SX_PSN_MASK - (uint32_t)i; /* bias toward the wrap */
		b = sx_psn_add(a, n);
		assert_true(b <= SX_PSN_MASK);
		assert_int_equal(sx_psn_fwd(a, b), n);
		assert_int_equal(sx_psn_diff(b, a), (int32_t)n);
		assert_int_equal(sx_psn_diff(a, b), -(int32_t)n);
		assert_int_equal(sx_psn_cmp(b, a), n != 0);
		assert_int_equal(sx_psn_cmp(a, b), -(n != 0));
		assert_true(sx_psn_in_window(b, a, n + 1));
		assert_false(sx_psn_in_window(b, a, n));
	}
}

/*
 * The INT shim (docs/wire.md, "INT"): a stamped frame parses with its
 * records, its ICRC unchanged by the stamps (the shim's variant bytes are
 * masked); an echo and a full stack take no stamp; gbn opcodes refuse the
 * shim; malformed shims are counted rejects. Record values from the layout
 * the doc gives (rate code 5 = 100 Gb/s, ts ns mod 2^24, tx in 128-byte
 * units mod 2^20, queue in 80-byte units).
 */
static void
test_int_shim(void **state)
{
	static uint8_t buf[4096], payload[256];
	struct sx_int_hop h = {.rate_bps = 100000000000ull, .ts_ns = (1ull << 24) + 0x123456,
			       .tx_bytes = 5 * 128 + 100, .qlen_bytes = 10 * 80 + 79};
	struct sx_int_hop d;
	struct sx_pkt p, q;
	uint64_t s = 16, want = 5ull << 60 | 0x123456ull << 36 | 5ull << 16 | 10;
	ssize_t n;
	size_t bth;
	uint32_t icrc;

	(void)state;
	assert_true(sx_int_encode(&h) == want);
	assert_int_equal(sx_int_decode(want, &d), 0);
	assert_true(d.rate_bps == 100000000000ull && d.ts_ns == 0x123456 && d.tx_bytes == 640 &&
		    d.qlen_bytes == 800);
	assert_int_equal(sx_int_decode(want & ~(0xfull << 60), &d), -EINVAL);
	assert_int_equal(sx_int_decode(want | 0xfull << 60, &d), -EINVAL);

	for (unsigned int ipv = 4; ipv <= 6; ipv += 2) {
		pkt_init(&p, SX_OP_SR(SX_OP_RC_WRITE_ONLY), ipv, ipv == 6, sizeof(payload), &s);
		p.intx.slots = SX_INT_MAX_HOPS;
		n = sx_wire_build(buf, sizeof(buf), &p, payload);
		assert_true(n > 0);
		bth = p.bth_off;
		assert_int_equal(buf[bth], SX_OP_SR_INT);
		assert_int_equal(buf[bth + SX_BTH_LEN], SX_OP_SR(SX_OP_RC_WRITE_ONLY));
		assert_int_equal(p.payload_off, bth + SX_BTH_LEN + SX_INTH_LEN + 5 * 8 +
							 p.op->hdr_len - SX_BTH_LEN);
		icrc = get_le32(buf + n - SX_ICRC_LEN);
		for (unsigned int k = 0; k < SX_INT_MAX_HOPS; k++) {
			h.ts_ns += 1000;
			assert_int_equal(sx_int_stamp(buf, (size_t)n, &h), 0);
		}
		assert_int_equal(sx_int_stamp(buf, (size_t)n, &h), -ENOSPC);
		assert_int_equal(get_le32(buf + n - SX_ICRC_LEN), icrc);
		assert_int_equal(sx_wire_parse(buf, (size_t)n, &q, 0), SX_WIRE_OK);
		assert_int_equal(q.bth.opcode, SX_OP_SR(SX_OP_RC_WRITE_ONLY));
		assert_int_equal(q.intx.slots, 5);
		assert_int_equal(q.intx.nhops, 5);
		assert_int_equal(q.payload_len, sizeof(payload));
		assert_true(q.reth.va == p.reth.va && q.reth.rkey == p.reth.rkey);
		assert_int_equal(sx_int_decode(q.intx.rec[4], &d), 0);
		assert_true(d.ts_ns == ((0x123456 + 5000 + (ipv == 6 ? 5000 : 0)) & 0xffffff));
		/* Stamps leave the ICRC valid; a header byte after the shim does not. */
		buf[p.payload_off - 1] ^= 1;
		assert_int_equal(sx_wire_parse(buf, (size_t)n, &q, SX_PARSE_NO_L4_CSUM),
				 SX_WIRE_BAD_ICRC);
		buf[p.payload_off - 1] ^= 1;
		/* Malformed shims: counted rejects, never a read past the frame. */
		buf[bth + SX_BTH_LEN + 2] = 6; /* more hops than slots */
		assert_int_equal(sx_wire_parse(buf, (size_t)n, &q, SX_PARSE_NO_ICRC),
				 SX_WIRE_BAD_INT);
		buf[bth + SX_BTH_LEN + 2] = 5;
		buf[bth + SX_BTH_LEN + 3] = 6; /* more slots than the shim allows */
		assert_int_equal(sx_wire_parse(buf, (size_t)n, &q, SX_PARSE_NO_ICRC),
				 SX_WIRE_BAD_INT);
		buf[bth + SX_BTH_LEN + 3] = 5;
		buf[bth + SX_BTH_LEN] = SX_OP_RC_WRITE_ONLY; /* a gbn opcode inside */
		assert_int_equal(sx_wire_parse(buf, (size_t)n, &q, SX_PARSE_NO_ICRC),
				 SX_WIRE_BAD_INT);
		buf[bth + SX_BTH_LEN] = SX_OP_SR(SX_OP_RC_WRITE_ONLY);
		buf[bth + SX_BTH_LEN + SX_INTH_LEN] &= 0x0f; /* rate code 0 */
		assert_int_equal(sx_wire_parse(buf, (size_t)n, &q, SX_PARSE_NO_ICRC),
				 SX_WIRE_BAD_INT);
		for (size_t cut = bth + SX_BTH_LEN; cut < bth + SX_BTH_LEN + SX_INTH_LEN + 40;
		     cut++)
			assert_int_equal(sx_wire_parse(buf, cut, &q, SX_PARSE_NO_ICRC),
					 SX_WIRE_TRUNC_INT);
	}
	/* An echo takes no stamp; a gbn opcode cannot carry the shim. */
	pkt_init(&p, SX_OP_SR_ACK, 4, false, 0, &s);
	p.intx.slots = 2;
	p.intx.nhops = 1;
	p.intx.flags = SX_INT_F_ECHO;
	p.intx.rec[0] = want;
	n = sx_wire_build(buf, sizeof(buf), &p, NULL);
	assert_true(n > 0);
	assert_int_equal(sx_int_stamp(buf, (size_t)n, &h), -ENOENT);
	assert_int_equal(sx_wire_parse(buf, (size_t)n, &q, 0), SX_WIRE_OK);
	assert_true(q.intx.nhops == 1 && q.intx.rec[0] == want && q.intx.flags == SX_INT_F_ECHO);
	pkt_init(&p, SX_OP_RC_WRITE_ONLY, 4, false, 0, &s);
	p.intx.slots = 1;
	assert_int_equal(sx_wire_build(buf, sizeof(buf), &p, NULL), -EINVAL);
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("SX_WIRE_VECTORS");
	struct vec_file v4 = {dir, "icrc_ipv4.txt", 4, 100};
	struct vec_file v6 = {dir, "icrc_ipv6.txt", 6, 60};
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate(test_icrc_vectors, &v4),
	    cmocka_unit_test_prestate(test_icrc_vectors, &v6),
	    cmocka_unit_test(test_opcode_table),
	    cmocka_unit_test(test_rc_names),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_build_hdr_then_seal),
	    cmocka_unit_test(test_parse_then_build),
	    cmocka_unit_test(test_l2_trailer),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_reject_reasons),
	    cmocka_unit_test(test_sackr_malformed),
	    cmocka_unit_test(test_unknown_opcodes),
	    cmocka_unit_test(test_parse_flags),
	    cmocka_unit_test(test_builder_rejects),
	    cmocka_unit_test(test_ecn_rewrite),
	    cmocka_unit_test(test_ttl_decrement),
	    cmocka_unit_test(test_psn),
	    cmocka_unit_test(test_int_shim),
	};

	payload_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
