/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame parser. Headers are checked for presence in wire order so that a
 * truncated frame is reported by the first header it cuts into; then the
 * lengths the headers declare are checked against each other; then the
 * checksums. Nothing is read before its bytes are known to be there.
 */
#include <stdint.h>
#include <string.h>

#include <scalex/wire.h>

#include "wire_priv.h"

static const enum sx_wire_rc trunc_rc[SX_HDR_MAX] = {
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

static const uint8_t hdr_len[SX_HDR_MAX] = {
	[SX_HDR_RETH] = SX_RETH_LEN,       [SX_HDR_AETH] = SX_AETH_LEN,
	[SX_HDR_ATOMICETH] = SX_ATOMICETH_LEN, [SX_HDR_ATOMICACK] = SX_ATOMICACK_LEN,
	[SX_HDR_IMMDT] = SX_IMMDT_LEN,     [SX_HDR_CNP_PAD] = SX_CNP_PAD_LEN,
	[SX_HDR_XETH] = SX_XETH_LEN,       [SX_HDR_SACK] = SX_SACK_LEN,
	[SX_HDR_ECE] = SX_ECE_LEN,         [SX_HDR_SACKR] = SX_SACKR_LEN,
};

static void
parse_bth(const uint8_t *b, struct sx_bth *bth)
{
	bth->opcode = b[0];
	bth->se = b[1] >> 7;
	bth->mig = (b[1] >> 6) & 1;
	bth->pad = (b[1] >> 4) & 3;
	bth->tver = b[1] & 0x0f;
	bth->pkey = rd16(b + 2);
	bth->fecn = b[4] >> 7;
	bth->becn = (b[4] >> 6) & 1;
	bth->dqpn = rd24(b + 5);
	bth->ackreq = b[8] >> 7;
	bth->psn = rd24(b + 9);
}

static void
parse_ext(const uint8_t *b, const struct sx_opcode_info *op, struct sx_pkt *pkt)
{
	const uint8_t *h;

	if (op->flags & SX_OPF_RETH) {
		h = b + op->offset[SX_HDR_RETH];
		pkt->reth.va = rd64(h);
		pkt->reth.rkey = rd32(h + 8);
		pkt->reth.dma_len = rd32(h + 12);
	}
	if (op->flags & SX_OPF_AETH) {
		h = b + op->offset[SX_HDR_AETH];
		pkt->aeth.syndrome = h[0];
		pkt->aeth.msn = rd24(h + 1);
	}
	if (op->flags & SX_OPF_ATOMICETH) {
		h = b + op->offset[SX_HDR_ATOMICETH];
		pkt->atomiceth.va = rd64(h);
		pkt->atomiceth.rkey = rd32(h + 8);
		pkt->atomiceth.swap_add = rd64(h + 12);
		pkt->atomiceth.compare = rd64(h + 20);
	}
	if (op->flags & SX_OPF_ATOMICACK)
		pkt->atomic_orig = rd64(b + op->offset[SX_HDR_ATOMICACK]);
	if (op->flags & SX_OPF_IMMDT)
		pkt->immdt = rd32(b + op->offset[SX_HDR_IMMDT]);
	if (op->flags & SX_OPF_XETH) {
		h = b + op->offset[SX_HDR_XETH];
		pkt->xeth.msg_seq = rd32(h);
		pkt->xeth.offset = rd32(h + 4);
	}
	if (op->flags & SX_OPF_SACK) {
		h = b + op->offset[SX_HDR_SACK];
		pkt->sack.flags = h[0];
		pkt->sack.base = rd24(h + 1);
		memcpy(pkt->sack.bitmap, h + 4, sizeof(pkt->sack.bitmap));
	}
	if (op->flags & SX_OPF_ECE) {
		h = b + op->offset[SX_HDR_ECE];
		pkt->ece.entropy = rd16(h);
		pkt->ece.count = rd16(h + 2);
	}
}

/*
 * The INT shim after the BTH (docs/wire.md, "INT"): INTH (inner opcode,
 * flags, hops filled, slots) and the record slots. The inner opcode must
 * be an sr opcode other than the shim's; slots 1..SX_INT_MAX_HOPS, filled
 * hops no more than the slots, known flags, and every filled record a
 * known rate code. On success the BTH's opcode becomes the inner one and
 * *xb is where that opcode's headers are laid out from (BTH start + shim).
 */
static enum sx_wire_rc
parse_int(const uint8_t *f, size_t len, size_t bth, struct sx_pkt *pkt, size_t *xb)
{
	const uint8_t *h = f + bth + SX_BTH_LEN;
	const struct sx_opcode_info *in;
	struct sx_int_hop hop;

	if (len < bth + SX_BTH_LEN + SX_INTH_LEN)
		return SX_WIRE_TRUNC_INT;
	in = sx_opcode_info(h[0]);
	if (in == NULL || in->transport != SX_TRANSPORT_SR || h[0] == SX_OP_SR_INT ||
	    (h[1] & ~SX_INT_F_ECHO) != 0 || h[3] == 0 || h[3] > SX_INT_MAX_HOPS ||
	    h[2] > h[3])
		return SX_WIRE_BAD_INT;
	pkt->intx.flags = h[1];
	pkt->intx.nhops = h[2];
	pkt->intx.slots = h[3];
	if (len < bth + SX_BTH_LEN + sx_int_len(&pkt->intx))
		return SX_WIRE_TRUNC_INT;
	for (unsigned int i = 0; i < SX_INT_MAX_HOPS; i++) {
		pkt->intx.rec[i] = i < pkt->intx.nhops ? rd64(h + SX_INTH_LEN + i * SX_INT_REC_LEN)
						       : 0;
		if (i < pkt->intx.nhops && sx_int_decode(pkt->intx.rec[i], &hop) != 0)
			return SX_WIRE_BAD_INT;
	}
	pkt->bth.opcode = h[0];
	*xb = bth + sx_int_len(&pkt->intx);
	return SX_WIRE_OK;
}

/*
 * SACK ranges (docs/wire.md): a count of 1..SX_SACKR_MAX, zero reserved
 * bytes and unused slots, and blocks that are not empty, lie beyond the
 * bitmap and within SX_SACKR_SPAN of Base, and descend without touching.
 * Anything else would mark PSNs as received that the responder never
 * said it holds.
 */
static enum sx_wire_rc
parse_sackr(const uint8_t *b, const struct sx_opcode_info *op, struct sx_pkt *pkt)
{
	const uint8_t *h = b + op->offset[SX_HDR_SACKR];
	uint32_t base = rd24(b + op->offset[SX_HDR_SACK] + 1), k, below = 0;

	pkt->sackr.count = h[0];
	if (h[0] == 0 || h[0] > SX_SACKR_MAX || h[1] != 0 || rd16(h + 2) != 0)
		return SX_WIRE_BAD_SACKR;
	for (k = 0; k < SX_SACKR_MAX; k++) {
		const uint8_t *r = h + 4 + 8 * k;
		uint32_t off, len = rd32(r + 4);

		if (k >= pkt->sackr.count) {
			if (rd32(r) != 0 || len != 0)
				return SX_WIRE_BAD_SACKR;
			continue;
		}
		if (r[0] != 0)
			return SX_WIRE_BAD_SACKR;
		pkt->sackr.range[k].start = rd24(r + 1);
		pkt->sackr.range[k].len = len;
		off = (rd24(r + 1) - base) & SX_PSN_MASK;
		/* beyond the bitmap, within the span, under the previous block */
		if (off <= SX_SACK_BITS || off >= SX_SACKR_SPAN || len == 0 ||
		    len > SX_SACKR_SPAN - off || (k > 0 && off + len >= below))
			return SX_WIRE_BAD_SACKR;
		below = off;
	}
	return SX_WIRE_OK;
}

/* L3 header: fills addresses and returns where UDP starts and IP ends. */
static enum sx_wire_rc
parse_ip(const uint8_t *f, size_t len, size_t off, uint16_t ethertype, struct sx_pkt *pkt,
	 size_t *l4_off, size_t *ip_end)
{
	const uint8_t *ip = f + off;

	if (ethertype == SX_ETHERTYPE_IPV4) {
		size_t ihl, tot;

		if (len < off + SX_IPV4_HLEN)
			return SX_WIRE_TRUNC_IPV4;
		if ((ip[0] >> 4) != 4)
			return SX_WIRE_BAD_IP_VERSION;
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		if (ihl < SX_IPV4_HLEN)
			return SX_WIRE_BAD_IP_HDR_LEN;
		if (len < off + ihl)
			return SX_WIRE_TRUNC_IPV4;
		pkt->ip_version = 4;
		pkt->tos = ip[IP4_TOS_OFF];
		pkt->ttl = ip[IP4_TTL_OFF];
		pkt->ip_id = rd16(ip + IP4_ID_OFF);
		pkt->flow_label = 0;
		memset(pkt->ip_src, 0, sizeof(pkt->ip_src));
		memset(pkt->ip_dst, 0, sizeof(pkt->ip_dst));
		memcpy(pkt->ip_src, ip + IP4_SRC_OFF, 4);
		memcpy(pkt->ip_dst, ip + IP4_DST_OFF, 4);
		tot = rd16(ip + IP4_LEN_OFF);
		if (tot < ihl)
			return SX_WIRE_BAD_IP_LEN;
		if ((rd16(ip + IP4_FRAG_OFF) & 0x3fff) != 0)
			return SX_WIRE_IP_FRAGMENT;
		if (ip[IP4_PROTO_OFF] != SX_IPPROTO_UDP)
			return SX_WIRE_NOT_UDP;
		*l4_off = off + ihl;
		*ip_end = off + tot;
		return SX_WIRE_OK;
	}
	if (len < off + SX_IPV6_HLEN)
		return SX_WIRE_TRUNC_IPV6;
	if ((ip[0] >> 4) != 6)
		return SX_WIRE_BAD_IP_VERSION;
	pkt->ip_version = 6;
	pkt->tos = (uint8_t)(rd16(ip) >> 4);
	pkt->flow_label = rd32(ip) & 0xfffff;
	pkt->ttl = ip[IP6_HLIM_OFF];
	pkt->ip_id = 0;
	memcpy(pkt->ip_src, ip + IP6_SRC_OFF, 16);
	memcpy(pkt->ip_dst, ip + IP6_DST_OFF, 16);
	/* IPv6 extension headers are not used by RoCEv2. */
	if (ip[IP6_NXT_OFF] != SX_IPPROTO_UDP)
		return SX_WIRE_NOT_UDP;
	*l4_off = off + SX_IPV6_HLEN;
	*ip_end = off + SX_IPV6_HLEN + rd16(ip + IP6_PLEN_OFF);
	return SX_WIRE_OK;
}

enum sx_wire_rc
sx_wire_parse(const uint8_t *f, size_t len, struct sx_pkt *pkt, unsigned int flags)
{
	const struct sx_opcode_info *op;
	size_t off, l4, ip_end, udp_end, icrc_off, bth, xb, h;
	uint16_t ethertype;
	enum sx_wire_rc rc;
	unsigned int i;

	pkt->op = NULL;
	memset(&pkt->intx, 0, sizeof(pkt->intx));
	/* L2 */
	if (len < SX_ETH_HLEN)
		return SX_WIRE_TRUNC_ETH;
	memcpy(pkt->eth_dst, f, 6);
	memcpy(pkt->eth_src, f + 6, 6);
	ethertype = rd16(f + ETH_TYPE_OFF);
	off = SX_ETH_HLEN;
	pkt->vlan = false;
	pkt->vlan_tci = 0;
	if (ethertype == SX_ETHERTYPE_VLAN) {
		if (len < off + SX_VLAN_HLEN)
			return SX_WIRE_TRUNC_VLAN;
		pkt->vlan = true;
		pkt->vlan_tci = rd16(f + off);
		ethertype = rd16(f + off + 2);
		off += SX_VLAN_HLEN;
	}
	if (ethertype != SX_ETHERTYPE_IPV4 && ethertype != SX_ETHERTYPE_IPV6)
		return SX_WIRE_NOT_IP;

	/* L3 */
	pkt->l3_off = (uint16_t)off;
	rc = parse_ip(f, len, off, ethertype, pkt, &l4, &ip_end);
	if (rc != SX_WIRE_OK)
		return rc;

	/* L4 */
	if (len < l4 + SX_UDP_HLEN)
		return SX_WIRE_TRUNC_UDP;
	pkt->l4_off = (uint16_t)l4;
	pkt->udp_sport = rd16(f + l4);
	pkt->udp_dport = rd16(f + l4 + 2);
	if (pkt->udp_dport != SX_ROCE_UDP_PORT)
		return SX_WIRE_NOT_ROCE;

	/* BTH and the extension headers the opcode calls for */
	bth = l4 + SX_UDP_HLEN;
	if (len < bth + SX_BTH_LEN)
		return SX_WIRE_TRUNC_BTH;
	pkt->bth_off = (uint16_t)bth;
	parse_bth(f + bth, &pkt->bth);
	xb = bth;
	if (pkt->bth.opcode == SX_OP_SR_INT) {
		rc = parse_int(f, len, bth, pkt, &xb);
		if (rc != SX_WIRE_OK)
			return rc;
	}
	op = sx_opcode_info(pkt->bth.opcode);
	if (op == NULL)
		return SX_WIRE_UNKNOWN_OPCODE;
	/* The first header, in wire order, that the frame cuts into. */
	rc = SX_WIRE_OK;
	h = SIZE_MAX;
	for (i = 0; i < SX_HDR_MAX; i++) {
		if ((op->flags & (1u << i)) && len < xb + op->offset[i] + hdr_len[i] &&
		    op->offset[i] < h) {
			h = op->offset[i];
			rc = trunc_rc[i];
		}
	}
	if (rc != SX_WIRE_OK)
		return rc;

	/* The frame must hold what IP declares; more is L2 padding. */
	if (ip_end < xb + op->hdr_len + SX_ICRC_LEN)
		return SX_WIRE_BAD_IP_LEN;
	if (len < ip_end)
		return len < ip_end - SX_ICRC_LEN ? SX_WIRE_TRUNC_PAYLOAD : SX_WIRE_TRUNC_ICRC;
	udp_end = l4 + rd16(f + l4 + UDP_LEN_OFF);
	if (udp_end != ip_end)
		return SX_WIRE_BAD_UDP_LEN;
	if (pkt->ip_version == 4 &&
	    sx_csum_fold(sx_csum_add(0, f + off, l4 - off)) != 0)
		return SX_WIRE_BAD_IP_CSUM;
	/* RoCEv2 senders may leave the UDP checksum 0; a non-zero one must hold. */
	if (!(flags & SX_PARSE_NO_L4_CSUM) && rd16(f + l4 + UDP_CSUM_OFF) != 0 &&
	    sx_udp_csum(f + off, f + l4, udp_end - l4) != rd16(f + l4 + UDP_CSUM_OFF))
		return SX_WIRE_BAD_UDP_CSUM;

	/* Transport: version, pad and payload against the opcode (IBA 9.2, 9.8.3). */
	if (pkt->bth.tver != 0)
		return SX_WIRE_BAD_BTH_VERSION;
	icrc_off = udp_end - SX_ICRC_LEN;
	pkt->payload_off = (uint16_t)(xb + op->hdr_len);
	h = icrc_off - pkt->payload_off; /* payload + pad */
	if (!(op->flags & SX_OPF_PAYLOAD)) {
		if (h != 0)
			return SX_WIRE_BAD_LENGTH;
		if (pkt->bth.pad != 0)
			return SX_WIRE_BAD_PAD;
	} else {
		if (h % 4 != 0 || h < pkt->bth.pad)
			return SX_WIRE_BAD_PAD;
		/* Only the packet that ends a message may carry pad bytes. */
		if (pkt->bth.pad != 0 && !(op->flags & SX_OPF_LAST))
			return SX_WIRE_BAD_PAD;
	}
	pkt->payload_len = (uint32_t)(h - pkt->bth.pad);
	pkt->frame_len = (uint32_t)udp_end;
	if (!(flags & SX_PARSE_NO_ICRC)) {
		const uint8_t *ic = f + icrc_off;
		uint32_t got = (uint32_t)ic[0] | (uint32_t)ic[1] << 8 |
			       (uint32_t)ic[2] << 16 | (uint32_t)ic[3] << 24;

		if (sx_icrc(f + off, icrc_off - off) != got)
			return SX_WIRE_BAD_ICRC;
	}
	parse_ext(f + xb, op, pkt);
	if ((op->flags & SX_OPF_SACKR) && (rc = parse_sackr(f + xb, op, pkt)) != SX_WIRE_OK)
		return rc;
	pkt->op = op;
	return SX_WIRE_OK;
}
