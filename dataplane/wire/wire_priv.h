/* SPDX-License-Identifier: BSD-3-Clause */
/* Big-endian field access and Internet checksum helpers shared by the wire files. */
#ifndef SX_WIRE_PRIV_H
#define SX_WIRE_PRIV_H

#include <stddef.h>
#include <stdint.h>

/* Field offsets inside the fixed headers. */
#define ETH_TYPE_OFF   12
#define IP4_TOS_OFF    1
#define IP4_LEN_OFF    2
#define IP4_ID_OFF     4
#define IP4_FRAG_OFF   6
#define IP4_TTL_OFF    8
#define IP4_PROTO_OFF  9
#define IP4_CSUM_OFF   10
#define IP4_SRC_OFF    12
#define IP4_DST_OFF    16
#define IP6_PLEN_OFF   4
#define IP6_NXT_OFF    6
#define IP6_HLIM_OFF   7
#define IP6_SRC_OFF    8
#define IP6_DST_OFF    24
#define UDP_LEN_OFF    4
#define UDP_CSUM_OFF   6
#define BTH_RESV8A_OFF 4 /* FECN, BECN, 6 reserved bits */

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static inline uint64_t
rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wr24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static inline void
wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)(v >> 32));
	wr32(p + 4, (uint32_t)v);
}

/* One's complement sum of @p len bytes added to @p sum (RFC 1071), unfolded. */
uint32_t sx_csum_add(uint32_t sum, const uint8_t *buf, size_t len);

/* Fold a sum to 16 bits and complement it. */
uint16_t sx_csum_fold(uint32_t sum);

/* The UDP checksum (RFC 768, RFC 8200 8.1) of the datagram at @p l4 (0 -> 0xffff). */
uint16_t sx_udp_csum(const uint8_t *l3, const uint8_t *l4, size_t udp_len);

#endif
