/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * RoCEv2 wire format: Ethernet (optional 802.1Q) / IPv4 or IPv6 / UDP 4791 /
 * BTH / extension headers / payload / pad / ICRC.
 *
 * Pure functions on byte buffers: no DPDK, no I/O, no clock. One opcode table
 * (sx_opcode_info()) says which extension headers every opcode carries and
 * where; the parser and the builder both read it.
 *
 * Units: lengths in bytes; all header fields in the parsed structs are in
 * host byte order.
 */
#ifndef SCALEX_WIRE_H
#define SCALEX_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SX_ROCE_UDP_PORT  4791
#define SX_ETH_HLEN       14
#define SX_VLAN_HLEN      4
#define SX_IPV4_HLEN      20 /**< without options */
#define SX_IPV6_HLEN      40
#define SX_UDP_HLEN       8
#define SX_BTH_LEN        12
#define SX_RETH_LEN       16
#define SX_AETH_LEN       4
#define SX_IMMDT_LEN      4
#define SX_ATOMICETH_LEN  28
#define SX_ATOMICACK_LEN  8
#define SX_CNP_PAD_LEN    16
#define SX_XETH_LEN       8  /**< scalex SR extension: message sequence, offset */
#define SX_SACK_LEN       36 /**< scalex SACK: base PSN + 256-bit bitmap */
#define SX_SACK_BITS      256
/** SACK flag: Base is a READ/atomic whose answer the responder sends next. */
#define SX_SACK_F_ANSWER_FOLLOWS 0x01
/** SACK flag: a request PSN arrived twice since the previous ACK (a
 *  spurious resend: RFC 8985's DSACK signal, docs/multipath.md). */
#define SX_SACK_F_DUPLICATE 0x02
#define SX_ECE_LEN        4  /**< scalex path echo: a marked entropy and a count */
/** scalex SACK ranges: blocks of PSNs received beyond the SACK bitmap */
#define SX_SACKR_MAX      8
#define SX_SACKR_LEN      (4 + 8 * SX_SACKR_MAX)
/** A range starts beyond the bitmap and ends within this of Base. */
#define SX_SACKR_SPAN     (1u << 23)
#define SX_ICRC_LEN       4
#define SX_INTH_LEN       4  /**< INT shim header: inner opcode, flags, hops, slots */
#define SX_INT_REC_LEN    8  /**< one INT hop record */
#define SX_INT_MAX_HOPS   5  /**< record slots at most (HPCC's 5-hop budget) */
/** INT flag: the records are an echo (an ACK's); switches leave them. */
#define SX_INT_F_ECHO     0x01
/** Frame bytes beyond the MTU's payload a port must hold: Eth, VLAN, IPv6,
 *  UDP, BTH, XETH, RETH, ImmDt, a full INT shim, ICRC (154), rounded up. */
#define SX_FRAME_HDR_ROOM 192
#define SX_ETHERTYPE_IPV4 0x0800
#define SX_ETHERTYPE_IPV6 0x86dd
#define SX_ETHERTYPE_VLAN 0x8100
#define SX_IPPROTO_UDP    17
#define SX_PKEY_DEFAULT   0xffff
#define SX_QPN_MASK       0xffffffu

/** ECN codepoints (RFC 3168), the low two bits of TOS / traffic class. */
enum sx_ecn {
	SX_ECN_NOT_ECT = 0,
	SX_ECN_ECT1 = 1,
	SX_ECN_ECT0 = 2,
	SX_ECN_CE = 3,
};

/** BTH opcodes (IBA 9.2 table 38, RC transport) and the RoCEv2 CNP. */
enum sx_opcode {
	SX_OP_RC_SEND_FIRST = 0x00,
	SX_OP_RC_SEND_MIDDLE = 0x01,
	SX_OP_RC_SEND_LAST = 0x02,
	SX_OP_RC_SEND_LAST_IMM = 0x03,
	SX_OP_RC_SEND_ONLY = 0x04,
	SX_OP_RC_SEND_ONLY_IMM = 0x05,
	SX_OP_RC_WRITE_FIRST = 0x06,
	SX_OP_RC_WRITE_MIDDLE = 0x07,
	SX_OP_RC_WRITE_LAST = 0x08,
	SX_OP_RC_WRITE_LAST_IMM = 0x09,
	SX_OP_RC_WRITE_ONLY = 0x0a,
	SX_OP_RC_WRITE_ONLY_IMM = 0x0b,
	SX_OP_RC_READ_REQUEST = 0x0c,
	SX_OP_RC_READ_RESPONSE_FIRST = 0x0d,
	SX_OP_RC_READ_RESPONSE_MIDDLE = 0x0e,
	SX_OP_RC_READ_RESPONSE_LAST = 0x0f,
	SX_OP_RC_READ_RESPONSE_ONLY = 0x10,
	SX_OP_RC_ACK = 0x11,
	SX_OP_RC_ATOMIC_ACK = 0x12,
	SX_OP_RC_COMPARE_SWAP = 0x13,
	SX_OP_RC_FETCH_ADD = 0x14,
	SX_OP_CNP = 0x81,
	/* scalex selective repeat (manufacturer-specific range, docs/wire.md):
	 * SX_OP_SR(op) is the SR form of RC SEND/WRITE opcode op (0x00-0x0b),
	 * with an XETH after the BTH and a RETH on every WRITE packet. */
	SX_OP_SR_BASE = 0xc0,
	SX_OP_SR_ACK = 0xe0, /**< AETH + SACK */
	SX_OP_SR_ACK_ECE = 0xe1, /**< AETH + SACK + ECE: an ACK that echoes ECN-CE per entropy */
	SX_OP_SR_ACK_RANGES = 0xe2, /**< AETH + SACK + SACKR: ranges beyond the bitmap */
	SX_OP_SR_ACK_ECE_RANGES = 0xe3, /**< AETH + SACK + ECE + SACKR */
	/** INT shim (docs/wire.md, "INT"): INTH + hop records, then the
	 *  headers of the sr opcode INTH names. Parsed into struct sx_int;
	 *  pkt->bth.opcode and pkt->op are the inner opcode's. */
	SX_OP_SR_INT = 0xe8,
};

/** The selective-repeat form of RC data opcode @p op. */
#define SX_OP_SR(op) ((uint8_t)(SX_OP_SR_BASE | (op)))

/** Extension headers, in the order IBA places them after the BTH. */
enum sx_hdr {
	SX_HDR_RETH,
	SX_HDR_AETH,
	SX_HDR_ATOMICETH,
	SX_HDR_ATOMICACK,
	SX_HDR_IMMDT,
	SX_HDR_CNP_PAD,
	SX_HDR_XETH,
	SX_HDR_SACK,
	SX_HDR_ECE,
	SX_HDR_SACKR,
	SX_HDR_MAX,
};

/** Opcode properties (bit flags of sx_opcode_info.flags). */
enum sx_op_flag {
	SX_OPF_RETH = 1u << SX_HDR_RETH,
	SX_OPF_AETH = 1u << SX_HDR_AETH,
	SX_OPF_ATOMICETH = 1u << SX_HDR_ATOMICETH,
	SX_OPF_ATOMICACK = 1u << SX_HDR_ATOMICACK,
	SX_OPF_IMMDT = 1u << SX_HDR_IMMDT,
	SX_OPF_CNP_PAD = 1u << SX_HDR_CNP_PAD,
	SX_OPF_XETH = 1u << SX_HDR_XETH,
	SX_OPF_SACK = 1u << SX_HDR_SACK,
	SX_OPF_ECE = 1u << SX_HDR_ECE,
	SX_OPF_SACKR = 1u << SX_HDR_SACKR,
	/* bits below 16 are headers (enum sx_hdr) */
	SX_OPF_PAYLOAD = 1u << 16, /**< carries payload bytes */
	SX_OPF_FIRST = 1u << 17,   /**< starts a message */
	SX_OPF_MIDDLE = 1u << 18,  /**< neither starts nor ends */
	SX_OPF_LAST = 1u << 19,    /**< ends a message */
	SX_OPF_REQUEST = 1u << 20, /**< requester -> responder */
	SX_OPF_RESPONSE = 1u << 21,/**< responder -> requester */
	SX_OPF_SEND = 1u << 22,
	SX_OPF_WRITE = 1u << 23,
	SX_OPF_READ = 1u << 24,
	SX_OPF_ATOMIC = 1u << 25,
	SX_OPF_ACK = 1u << 26,
	SX_OPF_CNP = 1u << 27,
};
#ifndef __cplusplus /* C++ adapters include this header too */
_Static_assert(SX_HDR_MAX <= 16, "header flags overlap the property flags");
#endif

/** Transport service of an opcode (the top three bits of the opcode). */
enum sx_transport {
	SX_TRANSPORT_RC,
	SX_TRANSPORT_CNP,
	SX_TRANSPORT_SR, /**< scalex selective repeat */
};

/** One row of the opcode table. */
struct sx_opcode_info {
	const char *name;      /**< IBA name, e.g. "RC_SEND_FIRST" */
	uint8_t opcode;
	uint8_t transport;     /**< enum sx_transport */
	uint8_t hdr_len;       /**< BTH + extension headers, bytes */
	uint32_t flags;        /**< enum sx_op_flag */
	uint8_t offset[SX_HDR_MAX]; /**< of each present header, from BTH start */
};

/** The table row for @p opcode, or NULL if scalex does not speak it. */
const struct sx_opcode_info *sx_opcode_info(uint8_t opcode);

/** Parse results and reasons a packet is rejected (also drop-counter indices). */
enum sx_wire_rc {
	SX_WIRE_OK = 0,
	SX_WIRE_TRUNC_ETH,
	SX_WIRE_TRUNC_VLAN,
	SX_WIRE_TRUNC_IPV4,
	SX_WIRE_TRUNC_IPV6,
	SX_WIRE_TRUNC_UDP,
	SX_WIRE_TRUNC_BTH,
	SX_WIRE_TRUNC_RETH,
	SX_WIRE_TRUNC_AETH,
	SX_WIRE_TRUNC_ATOMICETH,
	SX_WIRE_TRUNC_ATOMICACK,
	SX_WIRE_TRUNC_IMMDT,
	SX_WIRE_TRUNC_CNP,
	SX_WIRE_TRUNC_XETH,
	SX_WIRE_TRUNC_SACK,
	SX_WIRE_TRUNC_ECE,
	SX_WIRE_TRUNC_SACKR,
	SX_WIRE_TRUNC_PAYLOAD,
	SX_WIRE_TRUNC_ICRC,
	SX_WIRE_NOT_IP,        /**< EtherType is neither IPv4 nor IPv6 */
	SX_WIRE_NOT_UDP,       /**< IP protocol / next header is not UDP */
	SX_WIRE_NOT_ROCE,      /**< UDP destination port is not 4791 */
	SX_WIRE_BAD_IP_VERSION,
	SX_WIRE_BAD_IP_HDR_LEN,
	SX_WIRE_BAD_IP_LEN,    /**< IP length inconsistent with the headers */
	SX_WIRE_BAD_IP_CSUM,
	SX_WIRE_IP_FRAGMENT,
	SX_WIRE_BAD_UDP_LEN,
	SX_WIRE_BAD_UDP_CSUM,
	SX_WIRE_BAD_BTH_VERSION,
	SX_WIRE_UNKNOWN_OPCODE,
	SX_WIRE_BAD_PAD,       /**< pad count not allowed or not 4-byte aligned */
	SX_WIRE_BAD_LENGTH,    /**< payload present/absent against the opcode */
	SX_WIRE_BAD_ICRC,
	SX_WIRE_BAD_SACKR,     /**< SACK ranges malformed (docs/wire.md, SACKR) */
	SX_WIRE_TRUNC_INT,     /**< frame ends inside the INT shim */
	SX_WIRE_BAD_INT,       /**< INT shim: bad inner opcode, slot or hop count, or record */
	SX_WIRE_RC_MAX,
};

/** A short stable name of @p rc ("ok", "trunc_eth", "bad_icrc", ...). */
const char *sx_wire_rc_name(enum sx_wire_rc rc);

struct sx_bth {
	uint8_t opcode;
	bool se;        /**< solicited event */
	bool mig;       /**< migration state */
	uint8_t pad;    /**< pad count, 0..3 (derived by the builder) */
	uint8_t tver;   /**< transport header version, 0 */
	uint16_t pkey;
	bool fecn;
	bool becn;
	uint32_t dqpn;  /**< 24 bits */
	bool ackreq;
	uint32_t psn;   /**< 24 bits */
};

struct sx_reth {
	uint64_t va;
	uint32_t rkey;
	uint32_t dma_len;
};

struct sx_aeth {
	uint8_t syndrome;
	uint32_t msn; /**< 24 bits */
};

/** scalex SR extension: where a SEND/WRITE packet belongs, on its own. */
struct sx_xeth {
	uint32_t msg_seq; /**< SEND / WRITE-with-immediate: receive-consuming message index */
	uint32_t offset;  /**< byte offset of this packet's payload in its message */
};

/** scalex SACK: PSNs received after the cumulative point. */
struct sx_sack {
	uint8_t flags;    /**< SX_SACK_F_* */
	uint32_t base;    /**< first PSN not received (24 bits) */
	uint8_t bitmap[SX_SACK_BITS / 8]; /**< bit i (LSB first): base + 1 + i received */
};

/** One block of PSNs received beyond the SACK bitmap: [start, start + len). */
struct sx_sack_range {
	uint32_t start; /**< 24 bits, more than SX_SACK_BITS after Base */
	uint32_t len;   /**< PSNs, at least 1 */
};

/**
 * scalex SACK ranges (RFC 2018's SACK blocks, for windows longer than the
 * bitmap): the block holding the latest PSN received first, then the
 * blocks before it, newest first; disjoint and descending.
 */
struct sx_sackr {
	uint8_t count; /**< 1..SX_SACKR_MAX */
	struct sx_sack_range range[SX_SACKR_MAX];
};

/**
 * scalex path echo (sr mode only): the responder tells the requester which
 * entropy (UDP source port) its ECN-CE marked requests came on, so a path
 * policy can leave the marked paths (docs/multipath.md).
 */
struct sx_ece {
	uint16_t entropy; /**< UDP source port of the last CE-marked request */
	uint16_t count;   /**< CE-marked requests since the previous ACK (saturates) */
};

/**
 * scalex INT shim (sr only, docs/wire.md "INT"): record slots the sender
 * reserved and the switches on the path filled, first switch first; on an
 * ACK (SX_INT_F_ECHO) the records of the data packet it answers. A record
 * is a big-endian u64 (the layout of HPCC's ns-3 artifact): rate code
 * (4 bits) | ts ns mod 2^24 | tx bytes / 128 mod 2^20 | queue / 80 (16 bits).
 */
struct sx_int {
	uint8_t slots; /**< record slots; 0: no INT shim */
	uint8_t nhops; /**< slots filled */
	uint8_t flags; /**< SX_INT_F_* */
	uint64_t rec[SX_INT_MAX_HOPS];
};

/** One INT record decoded: what the switch port reported. */
struct sx_int_hop {
	uint64_t rate_bps;   /**< link rate */
	uint64_t ts_ns;      /**< egress time, mod 2^24 */
	uint64_t tx_bytes;   /**< bytes the port sent, mod 2^27, in 128-byte steps */
	uint64_t qlen_bytes; /**< queue at egress, in 80-byte steps (saturates) */
};

struct sx_atomiceth {
	uint64_t va;
	uint32_t rkey;
	uint64_t swap_add;
	uint64_t compare;
};

/** A RoCEv2 packet: every header in host order plus where each lies. */
struct sx_pkt {
	/* L2 */
	uint8_t eth_dst[6];
	uint8_t eth_src[6];
	bool vlan;
	uint16_t vlan_tci;
	/* L3: addresses in network order; IPv4 uses the first 4 bytes */
	uint8_t ip_version; /**< 4 or 6 */
	uint8_t tos;        /**< DSCP << 2 | ECN (IPv6: traffic class) */
	uint8_t ttl;        /**< IPv6: hop limit */
	uint16_t ip_id;     /**< IPv4 only */
	uint32_t flow_label; /**< IPv6 only, 20 bits */
	uint8_t ip_src[16];
	uint8_t ip_dst[16];
	/* L4 */
	uint16_t udp_sport; /**< ECMP entropy */
	uint16_t udp_dport;
	/* transport */
	struct sx_bth bth;
	struct sx_reth reth;
	struct sx_aeth aeth;
	struct sx_atomiceth atomiceth;
	uint64_t atomic_orig; /**< AtomicAckETH */
	struct sx_xeth xeth;
	struct sx_sack sack;
	struct sx_ece ece;
	struct sx_sackr sackr;
	struct sx_int intx;   /**< INT shim; intx.slots 0: none */
	uint32_t immdt;       /**< host order */
	/* layout, filled by the parser and the builder */
	const struct sx_opcode_info *op;
	uint16_t l3_off;      /**< IP header, from frame start */
	uint16_t l4_off;      /**< UDP header */
	uint16_t bth_off;
	uint16_t payload_off;
	uint32_t payload_len; /**< without pad */
	uint32_t frame_len;   /**< through the ICRC, without L2 trailer */
};

/** Bytes the INT shim of @p in takes after the BTH (0: none). */
static inline uint32_t
sx_int_len(const struct sx_int *in)
{
	return in->slots ? SX_INTH_LEN + (uint32_t)in->slots * SX_INT_REC_LEN : 0;
}

/** Encode @p h (rate rounded down to a rate the record can name, at least 10 Gb/s). */
uint64_t sx_int_encode(const struct sx_int_hop *h);

/** Decode record @p rec: 0, or -EINVAL for a rate code no rate has. */
int sx_int_decode(uint64_t rec, struct sx_int_hop *h);

/**
 * A switch egress port stamps @p h into the frame's next free INT slot:
 * 0; -ENOENT when the frame carries no INT request (not RoCEv2, not the
 * shim, or an echo); -ENOSPC when every slot is taken. Bounds-checked
 * against @p len; the ICRC masks the shim (docs/wire.md), an IPv6 UDP
 * checksum is updated.
 */
int sx_int_stamp(uint8_t *frame, size_t len, const struct sx_int_hop *h);

/** Parser options. */
enum sx_parse_flag {
	SX_PARSE_NO_ICRC = 1u << 0,    /**< trust the ICRC (checked elsewhere) */
	SX_PARSE_NO_L4_CSUM = 1u << 1, /**< skip a non-zero UDP checksum */
};

/**
 * Parse and validate one Ethernet frame.
 *
 * Every length and field is checked before it is used; on failure the
 * returned reason names the first problem and @p pkt is partially filled.
 */
enum sx_wire_rc sx_wire_parse(const uint8_t *frame, size_t len, struct sx_pkt *pkt,
			      unsigned int flags);

/**
 * Write the headers of @p pkt (Ethernet through the last extension header)
 * for a payload of pkt->payload_len bytes into @p buf. Derives lengths, the
 * IPv4 checksum and the BTH pad count; sets pkt->op and the offsets.
 *
 * @return header length, or -EINVAL (unknown opcode, payload on an opcode
 *         without one, field out of range), -ENOSPC (frame exceeds @p cap).
 */
ssize_t sx_wire_build_hdr(uint8_t *buf, size_t cap, struct sx_pkt *pkt);

/**
 * Finish a frame whose headers came from sx_wire_build_hdr() and whose
 * payload is in place: zero the pad bytes, compute the IPv6 UDP checksum
 * and write the ICRC.
 */
void sx_wire_seal(uint8_t *buf, const struct sx_pkt *pkt);

/** sx_wire_build_hdr() + copy @p payload + sx_wire_seal(); frame length or -errno. */
ssize_t sx_wire_build(uint8_t *buf, size_t cap, struct sx_pkt *pkt, const void *payload);

/**
 * The ICRC of the RoCEv2 packet whose IP header starts at @p l3 and whose
 * ICRC field starts @p len bytes later (RoCEv2 annex A17.3.3: CRC-32 over a
 * masked LRH of ones, the IP/UDP/BTH headers with variant fields set to ones,
 * and the rest of the packet). Returns the value as it is stored: the four
 * bytes at l3 + len, read little-endian.
 */
uint32_t sx_icrc(const uint8_t *l3, size_t len);

/** CRC-32 (IEEE 802.3, reflected) continuing from @p crc; 0 to start. */
uint32_t sx_crc32(uint32_t crc, const void *buf, size_t len);

/** Rewrite the ECN bits of the IP header at @p l3, fixing the IPv4 checksum. */
void sx_ip_set_ecn(uint8_t *l3, enum sx_ecn ecn);

/** Decrement TTL / hop limit at @p l3 (fixing the IPv4 checksum); false at 0. */
bool sx_ip_dec_ttl(uint8_t *l3);

/*
 * 24-bit PSN arithmetic (IBA 9.7.1). PSNs live modulo 2^24; comparisons are
 * valid when the two PSNs are less than 2^23 apart, which the window limits
 * guarantee.
 */
#define SX_PSN_MASK   0xffffffu
#define SX_PSN_MODULO 0x1000000u
#define SX_PSN_HALF   0x800000u

/** @p psn + @p n modulo 2^24. */
static inline uint32_t
sx_psn_add(uint32_t psn, uint32_t n)
{
	return (psn + n) & SX_PSN_MASK;
}

/** Signed distance a - b, in [-2^23, 2^23). */
static inline int32_t
sx_psn_diff(uint32_t a, uint32_t b)
{
	return (int32_t)((a - b) << 8) >> 8;
}

/** <0, 0, >0 as @p a is before, equal to, after @p b. */
static inline int
sx_psn_cmp(uint32_t a, uint32_t b)
{
	int32_t d = sx_psn_diff(a, b);

	return (d > 0) - (d < 0);
}

/** Forward distance from @p from to @p to, in [0, 2^24). */
static inline uint32_t
sx_psn_fwd(uint32_t from, uint32_t to)
{
	return (to - from) & SX_PSN_MASK;
}

/** True if @p psn lies in the window [base, base + size). */
static inline bool
sx_psn_in_window(uint32_t psn, uint32_t base, uint32_t size)
{
	return sx_psn_fwd(base, psn) < size;
}

/* AETH syndrome (IBA 9.7.5.1.4): bits 6..5 type, bits 4..0 value. */
enum sx_aeth_type {
	SX_AETH_ACK = 0,
	SX_AETH_RNR_NAK = 1,
	SX_AETH_NAK = 3,
};

enum sx_nak_code {
	SX_NAK_PSN_SEQ_ERR = 0,
	SX_NAK_INVALID_REQ = 1,
	SX_NAK_REM_ACCESS_ERR = 2,
	SX_NAK_REM_OP_ERR = 3,
	SX_NAK_INVALID_RD_REQ = 4,
};

/** An ACK credit count of 31 means "credits not valid" (IBA 9.7.5.1.4). */
#define SX_AETH_CREDIT_INVALID 0x1f

static inline uint8_t
sx_aeth_syndrome(enum sx_aeth_type type, uint8_t value)
{
	return (uint8_t)(((unsigned)type << 5) | (value & 0x1f));
}

static inline enum sx_aeth_type
sx_aeth_type(uint8_t syndrome)
{
	return (enum sx_aeth_type)((syndrome >> 5) & 3);
}

static inline uint8_t
sx_aeth_value(uint8_t syndrome)
{
	return syndrome & 0x1f;
}

#ifdef __cplusplus
}
#endif

#endif /* SCALEX_WIRE_H */
