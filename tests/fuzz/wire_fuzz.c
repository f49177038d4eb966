/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the wire parser and builder.
 *
 * Every input is parsed under every combination of parser flags. Skipping a
 * check may only turn a reject into an accept, never the other way. An
 * accepted packet must be self-consistent, and rebuilding it from the parsed
 * struct must give a frame that parses with no checks skipped, carries the
 * same fields and payload, and rebuilds to the same bytes.
 *
 * Failures abort(), so the target works the same under libFuzzer and under
 * tests/fuzz/replay.c (gcc, no sanitizer).
 *
 * The suite runs it for -Dfuzz_seconds (clang only). For a longer run:
 *   meson configure BUILD -Dfuzz_seconds=3600 && meson test -C BUILD fuzz-wire
 * New inputs land in BUILD/tests/fuzz-wire-corpus, crashes in
 * BUILD/tests/fuzz-wire-crash-*; copy a reproducer into tests/fuzz/corpus/ so
 * the replay test (every compiler) keeps it. The seeds there come from
 * tests/ref/gen_vectors.py.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scalex/wire.h>

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "wire_fuzz: %s:%d: %s\n", __FILE__, __LINE__,    \
			        #cond);                                                  \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* The builder's frame length limit: offsets in struct sx_pkt are 16-bit. */
#define BUILD_MAX 0xffff

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_consistent(const struct sx_pkt *p, size_t size)
{
	const struct sx_opcode_info *op = p->op;

	CHECK(op != NULL);
	CHECK(op == sx_opcode_info(p->bth.opcode));
	CHECK(p->ip_version == 4 || p->ip_version == 6);
	CHECK(p->udp_dport == SX_ROCE_UDP_PORT);
	CHECK(p->bth.tver == 0);
	CHECK(p->bth.pad <= 3);
	CHECK(p->bth.dqpn <= SX_QPN_MASK && p->bth.psn <= SX_PSN_MASK);
	CHECK(p->l3_off == SX_ETH_HLEN + (p->vlan ? SX_VLAN_HLEN : 0));
	CHECK(p->l4_off >=
	      p->l3_off + (p->ip_version == 4 ? SX_IPV4_HLEN : SX_IPV6_HLEN));
	CHECK(p->bth_off == p->l4_off + SX_UDP_HLEN);
	CHECK(p->payload_off == p->bth_off + sx_int_len(&p->intx) + op->hdr_len);
	/* An INT shim: sr only, slots and filled hops in range. */
	if (p->intx.slots != 0)
		CHECK(op->transport == SX_TRANSPORT_SR && p->intx.slots <= SX_INT_MAX_HOPS &&
		      p->intx.nhops <= p->intx.slots);
	CHECK((size_t)p->payload_off + p->payload_len + p->bth.pad + SX_ICRC_LEN ==
	      p->frame_len);
	CHECK(p->frame_len <= size);
	if (!(op->flags & SX_OPF_PAYLOAD))
		CHECK(p->payload_len == 0 && p->bth.pad == 0);
	if (!(op->flags & SX_OPF_LAST))
		CHECK(p->bth.pad == 0);
	CHECK((p->payload_len + p->bth.pad) % 4 == 0);
}

static void
check_same(const struct sx_pkt *a, const struct sx_pkt *b)
{
	uint32_t f = a->op->flags;

	CHECK(memcmp(a->eth_dst, b->eth_dst, 6) == 0);
	CHECK(memcmp(a->eth_src, b->eth_src, 6) == 0);
	CHECK(a->vlan == b->vlan && a->vlan_tci == b->vlan_tci);
	CHECK(a->ip_version == b->ip_version);
	CHECK(a->tos == b->tos && a->ttl == b->ttl);
	if (a->ip_version == 4) {
		CHECK(a->ip_id == b->ip_id);
		CHECK(memcmp(a->ip_src, b->ip_src, 4) == 0);
		CHECK(memcmp(a->ip_dst, b->ip_dst, 4) == 0);
	} else {
		CHECK(a->flow_label == b->flow_label);
		CHECK(memcmp(a->ip_src, b->ip_src, 16) == 0);
		CHECK(memcmp(a->ip_dst, b->ip_dst, 16) == 0);
	}
	CHECK(a->udp_sport == b->udp_sport && a->udp_dport == b->udp_dport);
	CHECK(a->bth.opcode == b->bth.opcode && a->bth.se == b->bth.se);
	CHECK(a->bth.mig == b->bth.mig && a->bth.pad == b->bth.pad);
	CHECK(a->bth.tver == b->bth.tver && a->bth.pkey == b->bth.pkey);
	CHECK(a->bth.fecn == b->bth.fecn && a->bth.becn == b->bth.becn);
	CHECK(a->bth.dqpn == b->bth.dqpn && a->bth.ackreq == b->bth.ackreq);
	CHECK(a->bth.psn == b->bth.psn);
	if (f & SX_OPF_RETH)
		CHECK(a->reth.va == b->reth.va && a->reth.rkey == b->reth.rkey &&
		      a->reth.dma_len == b->reth.dma_len);
	if (f & SX_OPF_AETH)
		CHECK(a->aeth.syndrome == b->aeth.syndrome && a->aeth.msn == b->aeth.msn);
	if (f & SX_OPF_ATOMICETH)
		CHECK(a->atomiceth.va == b->atomiceth.va &&
		      a->atomiceth.rkey == b->atomiceth.rkey &&
		      a->atomiceth.swap_add == b->atomiceth.swap_add &&
		      a->atomiceth.compare == b->atomiceth.compare);
	if (f & SX_OPF_ATOMICACK)
		CHECK(a->atomic_orig == b->atomic_orig);
	if (f & SX_OPF_IMMDT)
		CHECK(a->immdt == b->immdt);
	CHECK(a->intx.slots == b->intx.slots && a->intx.nhops == b->intx.nhops &&
	      a->intx.flags == b->intx.flags);
	for (unsigned int i = 0; i < a->intx.nhops; i++)
		CHECK(a->intx.rec[i] == b->intx.rec[i]);
	CHECK(a->op == b->op && a->payload_len == b->payload_len);
}

/* Rebuild an accepted packet and check the new frame against it. */
static void
rebuild(const uint8_t *data, const struct sx_pkt *p)
{
	static uint8_t out[BUILD_MAX], again[BUILD_MAX];
	struct sx_pkt q = *p, r, t;
	ssize_t n, m;

	n = sx_wire_build(out, sizeof(out), &q, data + p->payload_off);
	if (n == -ENOSPC) {
		/* Only datagrams near 64 KiB outgrow the builder (no IP options). */
		CHECK(p->frame_len - (p->l4_off - p->l3_off) +
		          (p->ip_version == 4 ? SX_IPV4_HLEN : SX_IPV6_HLEN) >
		      BUILD_MAX);
		return;
	}
	CHECK(n > 0);
	CHECK((size_t)n == q.frame_len);
	CHECK(sx_wire_parse(out, (size_t)n, &r, 0) == SX_WIRE_OK);
	check_consistent(&r, (size_t)n);
	check_same(p, &r);
	CHECK(memcmp(out + r.payload_off, data + p->payload_off, p->payload_len) == 0);

	/* The builder's output is a fixed point. */
	t = r;
	m = sx_wire_build(again, sizeof(again), &t, out + r.payload_off);
	CHECK(m == n);
	CHECK(memcmp(again, out, (size_t)n) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int flag_sets[] = {
	    0,
	    SX_PARSE_NO_ICRC,
	    SX_PARSE_NO_L4_CSUM,
	    SX_PARSE_NO_ICRC | SX_PARSE_NO_L4_CSUM,
	};
	bool strict_ok = false;
	size_t i;

	for (i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		struct sx_pkt p;
		enum sx_wire_rc rc;

		memset(&p, 0, sizeof(p));
		rc = sx_wire_parse(data, size, &p, flag_sets[i]);
		CHECK((unsigned int)rc < SX_WIRE_RC_MAX);
		CHECK(strcmp(sx_wire_rc_name(rc), "invalid") != 0);
		if (i == 0)
			strict_ok = rc == SX_WIRE_OK;
		else if (strict_ok)
			CHECK(rc == SX_WIRE_OK);
		if (rc != SX_WIRE_OK) {
			CHECK(p.op == NULL);
			continue;
		}
		check_consistent(&p, size);
		rebuild(data, &p);
	}
	return 0;
}
