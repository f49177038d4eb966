/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * INT records (docs/wire.md, "INT"): the 8-byte hop record of HPCC's ns-3
 * artifact (Li et al., SIGCOMM 2019; alibaba-edu/High-Precision-Congestion-
 * Control, int-header.h), big-endian:
 *
 *   63..60 rate code   59..36 ts, ns mod 2^24
 *   35..16 tx bytes / 128, mod 2^20   15..0 queue / 80 (saturating)
 *
 * and the switch side: stamping the next free slot of a frame's shim.
 */
#include <errno.h>
#include <string.h>

#include <scalex/wire.h>

#include "wire_priv.h"

#define INT_TX_UNIT 128u
#define INT_Q_UNIT  80u

/* Rate codes 1..9; 0 and 10..15 name no rate. */
static const uint64_t int_rates_gbps[] = {0, 10, 25, 40, 50, 100, 200, 400, 800, 1600};
#define NRATES (sizeof(int_rates_gbps) / sizeof(int_rates_gbps[0]))

uint64_t
sx_int_encode(const struct sx_int_hop *h)
{
	uint64_t code = 1, q = h->qlen_bytes / INT_Q_UNIT;

	for (unsigned int c = 1; c < NRATES; c++)
		if (h->rate_bps >= int_rates_gbps[c] * 1000000000ull)
			code = c;
	if (q > 0xffff)
		q = 0xffff;
	return code << 60 | (h->ts_ns & 0xffffffull) << 36 |
	       ((h->tx_bytes / INT_TX_UNIT) & 0xfffffull) << 16 | q;
}

int
sx_int_decode(uint64_t rec, struct sx_int_hop *h)
{
	uint64_t code = rec >> 60;

	if (code == 0 || code >= NRATES)
		return -EINVAL;
	h->rate_bps = int_rates_gbps[code] * 1000000000ull;
	h->ts_ns = (rec >> 36) & 0xffffff;
	h->tx_bytes = ((rec >> 16) & 0xfffff) * INT_TX_UNIT;
	h->qlen_bytes = (rec & 0xffff) * INT_Q_UNIT;
	return 0;
}

int
sx_int_stamp(uint8_t *f, size_t len, const struct sx_int_hop *hop)
{
	size_t off = SX_ETH_HLEN, l3, l4, ihl;
	uint16_t et;
	uint8_t *b, *h;

	if (len < off)
		return -ENOENT;
	et = rd16(f + ETH_TYPE_OFF);
	if (et == SX_ETHERTYPE_VLAN) {
		if (len < off + SX_VLAN_HLEN)
			return -ENOENT;
		et = rd16(f + off + 2);
		off += SX_VLAN_HLEN;
	}
	l3 = off;
	if (et == SX_ETHERTYPE_IPV4) {
		if (len < l3 + SX_IPV4_HLEN || (f[l3] >> 4) != 4 ||
		    f[l3 + IP4_PROTO_OFF] != SX_IPPROTO_UDP)
			return -ENOENT;
		ihl = (size_t)(f[l3] & 0x0f) * 4;
	} else if (et == SX_ETHERTYPE_IPV6) {
		if (len < l3 + SX_IPV6_HLEN || f[l3 + IP6_NXT_OFF] != SX_IPPROTO_UDP)
			return -ENOENT;
		ihl = SX_IPV6_HLEN;
	} else {
		return -ENOENT;
	}
	l4 = l3 + ihl;
	if (ihl < SX_IPV4_HLEN || len < l4 + SX_UDP_HLEN + SX_BTH_LEN + SX_INTH_LEN ||
	    rd16(f + l4 + 2) != SX_ROCE_UDP_PORT)
		return -ENOENT;
	b = f + l4 + SX_UDP_HLEN;
	h = b + SX_BTH_LEN;
	if (b[0] != SX_OP_SR_INT || (h[1] & SX_INT_F_ECHO) || h[3] > SX_INT_MAX_HOPS)
		return -ENOENT;
	if (h[2] >= h[3])
		return -ENOSPC;
	if (len < l4 + SX_UDP_HLEN + SX_BTH_LEN + SX_INTH_LEN + (size_t)h[3] * SX_INT_REC_LEN)
		return -ENOENT;
	wr64(h + SX_INTH_LEN + (size_t)h[2] * SX_INT_REC_LEN, sx_int_encode(hop));
	h[2]++;
	/* IPv6 requires the UDP checksum (RFC 8200 8.1): keep a non-zero one right. */
	if (et == SX_ETHERTYPE_IPV6 && rd16(f + l4 + UDP_CSUM_OFF) != 0) {
		size_t udp_len = rd16(f + l4 + UDP_LEN_OFF);

		if (udp_len >= SX_UDP_HLEN && l4 + udp_len <= len)
			wr16(f + l4 + UDP_CSUM_OFF, sx_udp_csum(f + l3, f + l4, udp_len));
	}
	return 0;
}
