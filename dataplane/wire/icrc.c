/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICRC (RoCEv2 annex A17.3.3) and the Internet checksums it sits beside.
 *
 * The ICRC is the IB CRC-32 taken over a packet in which every field a
 * router may rewrite is replaced by ones: 8 bytes standing for the IB LRH,
 * IPv4 TOS, TTL and header checksum (IPv6 traffic class, flow label and hop
 * limit), the UDP checksum and the BTH byte that carries FECN/BECN. So a
 * switch that marks ECN-CE or decrements TTL leaves the ICRC valid.
 *
 * CRC-32 is ISA-L's folded (PCLMULQDQ/AVX-512 where present) reflected
 * IEEE CRC, chained across buffers like zlib's crc32().
 */
#include <string.h>

#include <isa-l/crc.h>

#include <scalex/wire.h>

#include "wire_priv.h"

/* sx_crc32(0, 8 bytes of 0xff, 8): the masked LRH folded into the seed. */
#define ICRC_LRH_SEED 0x2144df1cu

uint32_t
sx_crc32(uint32_t crc, const void *buf, size_t len)
{
	return crc32_gzip_refl(crc, buf, len);
}

uint32_t
sx_icrc(const uint8_t *l3, size_t len)
{
	/* Longest masked prefix: IPv4 with options, UDP, BTH. */
	uint8_t hdr[60 + SX_UDP_HLEN + SX_BTH_LEN];
	size_t ip_len, n;
	uint32_t crc;

	if ((l3[0] >> 4) == 4) {
		ip_len = (size_t)(l3[0] & 0x0f) * 4;
		n = ip_len + SX_UDP_HLEN + SX_BTH_LEN;
		memcpy(hdr, l3, n);
		hdr[IP4_TOS_OFF] = 0xff;
		hdr[IP4_TTL_OFF] = 0xff;
		hdr[IP4_CSUM_OFF] = hdr[IP4_CSUM_OFF + 1] = 0xff;
	} else {
		ip_len = SX_IPV6_HLEN;
		n = ip_len + SX_UDP_HLEN + SX_BTH_LEN;
		memcpy(hdr, l3, n);
		hdr[0] |= 0x0f; /* traffic class, high nibble */
		hdr[1] = hdr[2] = hdr[3] = 0xff; /* traffic class low nibble, flow label */
		hdr[IP6_HLIM_OFF] = 0xff;
	}
	hdr[ip_len + UDP_CSUM_OFF] = hdr[ip_len + UDP_CSUM_OFF + 1] = 0xff;
	hdr[ip_len + SX_UDP_HLEN + BTH_RESV8A_OFF] = 0xff;

	crc = sx_crc32(ICRC_LRH_SEED, hdr, n);
	/*
	 * The INT shim is variant like TTL and ECN: switches fill its slots
	 * and count them in INTH byte 2, so the ICRC covers the hop count and
	 * every slot as ones (docs/wire.md, "INT"); the inner opcode, the
	 * flags and the slot count stay covered.
	 */
	if (hdr[ip_len + SX_UDP_HLEN] == SX_OP_SR_INT && len >= n + SX_INTH_LEN) {
		static const uint8_t ones[SX_INT_MAX_HOPS * SX_INT_REC_LEN] = {
			[0 ... SX_INT_MAX_HOPS * SX_INT_REC_LEN - 1] = 0xff};
		uint8_t inth[SX_INTH_LEN];
		size_t slots = (size_t)l3[n + 3] * SX_INT_REC_LEN;

		memcpy(inth, l3 + n, SX_INTH_LEN);
		inth[2] = 0xff;
		crc = sx_crc32(crc, inth, SX_INTH_LEN);
		n += SX_INTH_LEN;
		if (slots > sizeof(ones) || slots > len - n)
			slots = 0; /* not a shim the parser takes: cover as is */
		crc = sx_crc32(crc, ones, slots);
		n += slots;
	}
	return sx_crc32(crc, l3 + n, len - n);
}

uint32_t
sx_csum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += rd16(buf + i);
	if (len & 1)
		sum += (uint32_t)buf[len - 1] << 8;
	return sum;
}

uint16_t
sx_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t
sx_udp_csum(const uint8_t *l3, const uint8_t *l4, size_t udp_len)
{
	uint32_t sum;
	uint16_t csum;

	/* Pseudo-header: addresses, upper-layer length, protocol. */
	if ((l3[0] >> 4) == 4)
		sum = sx_csum_add(0, l3 + IP4_SRC_OFF, 8);
	else
		sum = sx_csum_add(0, l3 + IP6_SRC_OFF, 32);
	sum += (uint32_t)udp_len;
	sum += SX_IPPROTO_UDP;
	sum = sx_csum_add(sum, l4, UDP_CSUM_OFF);
	sum = sx_csum_add(sum, l4 + SX_UDP_HLEN, udp_len - SX_UDP_HLEN);
	csum = sx_csum_fold(sum);
	return csum == 0 ? 0xffff : csum;
}

/* RFC 1624 incremental update of the IPv4 checksum for one changed 16-bit word. */
static void
ip4_csum_update(uint8_t *l3, uint16_t old_word, uint16_t new_word)
{
	uint32_t sum = (uint16_t)~rd16(l3 + IP4_CSUM_OFF);

	sum += (uint16_t)~old_word;
	sum += new_word;
	wr16(l3 + IP4_CSUM_OFF, sx_csum_fold(sum));
}

void
sx_ip_set_ecn(uint8_t *l3, enum sx_ecn ecn)
{
	if ((l3[0] >> 4) == 4) {
		uint16_t old = rd16(l3);

		l3[IP4_TOS_OFF] = (uint8_t)((l3[IP4_TOS_OFF] & ~3u) | ecn);
		ip4_csum_update(l3, old, rd16(l3));
	} else {
		/* Traffic class straddles bytes 0 and 1; ECN is bits 5..4 of byte 1. */
		l3[1] = (uint8_t)((l3[1] & ~0x30u) | ((unsigned)ecn << 4));
	}
}

bool
sx_ip_dec_ttl(uint8_t *l3)
{
	if ((l3[0] >> 4) == 4) {
		uint16_t old = rd16(l3 + IP4_TTL_OFF);

		if (l3[IP4_TTL_OFF] == 0)
			return false;
		l3[IP4_TTL_OFF]--;
		ip4_csum_update(l3, old, rd16(l3 + IP4_TTL_OFF));
		return true;
	}
	if (l3[IP6_HLIM_OFF] == 0)
		return false;
	l3[IP6_HLIM_OFF]--;
	return true;
}
