/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame builder. The caller fills struct sx_pkt with addresses, BTH and
 * extension-header values and the payload length; the builder derives every
 * length, the pad count, the IPv4 checksum and the ICRC.
 *
 * UDP checksum: 0 over IPv4, as RoCEv2 NICs send it; computed over IPv6,
 * where RFC 8200 does not allow a zero checksum for plain UDP.
 */
#include <errno.h>
#include <string.h>

#include <scalex/wire.h>

#include "wire_priv.h"

static void
build_ext(uint8_t *b, const struct sx_opcode_info *op, const struct sx_pkt *pkt)
{
	uint8_t *h;

	if (op->flags & SX_OPF_RETH) {
		h = b + op->offset[SX_HDR_RETH];
		wr64(h, pkt->reth.va);
		wr32(h + 8, pkt->reth.rkey);
		wr32(h + 12, pkt->reth.dma_len);
	}
	if (op->flags & SX_OPF_AETH) {
		h = b + op->offset[SX_HDR_AETH];
		h[0] = pkt->aeth.syndrome;
		wr24(h + 1, pkt->aeth.msn);
	}
	if (op->flags & SX_OPF_ATOMICETH) {
		h = b + op->offset[SX_HDR_ATOMICETH];
		wr64(h, pkt->atomiceth.va);
		wr32(h + 8, pkt->atomiceth.rkey);
		wr64(h + 12, pkt->atomiceth.swap_add);
		wr64(h + 20, pkt->atomiceth.compare);
	}
	if (op->flags & SX_OPF_ATOMICACK)
		wr64(b + op->offset[SX_HDR_ATOMICACK], pkt->atomic_orig);
	if (op->flags & SX_OPF_IMMDT)
		wr32(b + op->offset[SX_HDR_IMMDT], pkt->immdt);
	if (op->flags & SX_OPF_CNP_PAD)
		memset(b + op->offset[SX_HDR_CNP_PAD], 0, SX_CNP_PAD_LEN);
	if (op->flags & SX_OPF_XETH) {
		h = b + op->offset[SX_HDR_XETH];
		wr32(h, pkt->xeth.msg_seq);
		wr32(h + 4, pkt->xeth.offset);
	}
	if (op->flags & SX_OPF_SACK) {
		h = b + op->offset[SX_HDR_SACK];
		h[0] = pkt->sack.flags;
		wr24(h + 1, pkt->sack.base & SX_PSN_MASK);
		memcpy(h + 4, pkt->sack.bitmap, sizeof(pkt->sack.bitmap));
	}
	if (op->flags & SX_OPF_ECE) {
		h = b + op->offset[SX_HDR_ECE];
		wr16(h, pkt->ece.entropy);
		wr16(h + 2, pkt->ece.count);
	}
	if (op->flags & SX_OPF_SACKR) {
		unsigned int k;

		h = b + op->offset[SX_HDR_SACKR];
		memset(h, 0, SX_SACKR_LEN);
		h[0] = pkt->sackr.count;
		for (k = 0; k < pkt->sackr.count && k < SX_SACKR_MAX; k++) {
			wr24(h + 5 + 8 * k, pkt->sackr.range[k].start & SX_PSN_MASK);
			wr32(h + 8 + 8 * k, pkt->sackr.range[k].len);
		}
	}
}

ssize_t
sx_wire_build_hdr(uint8_t *buf, size_t cap, struct sx_pkt *pkt)
{
	const struct sx_opcode_info *op = sx_opcode_info(pkt->bth.opcode);
	size_t off, l3, l4, bth, udp_len, frame_len;
	uint32_t ilen = sx_int_len(&pkt->intx);
	uint8_t pad, *ip, *b;

	if (op == NULL || (pkt->ip_version != 4 && pkt->ip_version != 6))
		return -EINVAL;
	if (pkt->payload_len != 0 && !(op->flags & SX_OPF_PAYLOAD))
		return -EINVAL;
	/* Only the packet that ends a message may need pad bytes (IBA 9.8.3). */
	if ((pkt->payload_len & 3) != 0 && !(op->flags & SX_OPF_LAST))
		return -EINVAL;
	/* Check only fields this packet carries: a parsed one leaves the rest unset. */
	if (pkt->bth.dqpn > SX_QPN_MASK || pkt->bth.psn > SX_PSN_MASK ||
	    ((op->flags & SX_OPF_AETH) && pkt->aeth.msn > 0xffffff) ||
	    (pkt->ip_version == 6 && pkt->flow_label > 0xfffff))
		return -EINVAL;
	/* The INT shim: sr opcodes only, slots and filled hops in range. */
	if (ilen != 0 && (op->transport != SX_TRANSPORT_SR || pkt->intx.slots > SX_INT_MAX_HOPS ||
			  pkt->intx.nhops > pkt->intx.slots ||
			  (pkt->intx.flags & ~SX_INT_F_ECHO) != 0))
		return -EINVAL;
	pad = (uint8_t)(-pkt->payload_len & 3);
	l3 = SX_ETH_HLEN + (pkt->vlan ? SX_VLAN_HLEN : 0);
	l4 = l3 + (pkt->ip_version == 4 ? SX_IPV4_HLEN : SX_IPV6_HLEN);
	bth = l4 + SX_UDP_HLEN;
	udp_len = SX_UDP_HLEN + ilen + op->hdr_len + pkt->payload_len + pad + SX_ICRC_LEN;
	frame_len = l4 + udp_len;
	if (frame_len > cap || frame_len > 0xffff)
		return -ENOSPC;

	/* L2 */
	memcpy(buf, pkt->eth_dst, 6);
	memcpy(buf + 6, pkt->eth_src, 6);
	off = ETH_TYPE_OFF;
	if (pkt->vlan) {
		wr16(buf + off, SX_ETHERTYPE_VLAN);
		wr16(buf + off + 2, pkt->vlan_tci);
		off += SX_VLAN_HLEN;
	}
	wr16(buf + off, pkt->ip_version == 4 ? SX_ETHERTYPE_IPV4 : SX_ETHERTYPE_IPV6);

	/* L3 */
	ip = buf + l3;
	if (pkt->ip_version == 4) {
		ip[0] = 0x45;
		ip[IP4_TOS_OFF] = pkt->tos;
		wr16(ip + IP4_LEN_OFF, (uint16_t)(SX_IPV4_HLEN + udp_len));
		wr16(ip + IP4_ID_OFF, pkt->ip_id);
		wr16(ip + IP4_FRAG_OFF, 0x4000); /* DF */
		ip[IP4_TTL_OFF] = pkt->ttl;
		ip[IP4_PROTO_OFF] = SX_IPPROTO_UDP;
		wr16(ip + IP4_CSUM_OFF, 0);
		memcpy(ip + IP4_SRC_OFF, pkt->ip_src, 4);
		memcpy(ip + IP4_DST_OFF, pkt->ip_dst, 4);
		wr16(ip + IP4_CSUM_OFF, sx_csum_fold(sx_csum_add(0, ip, SX_IPV4_HLEN)));
	} else {
		wr32(ip, 6u << 28 | (uint32_t)pkt->tos << 20 | pkt->flow_label);
		wr16(ip + IP6_PLEN_OFF, (uint16_t)udp_len);
		ip[IP6_NXT_OFF] = SX_IPPROTO_UDP;
		ip[IP6_HLIM_OFF] = pkt->ttl;
		memcpy(ip + IP6_SRC_OFF, pkt->ip_src, 16);
		memcpy(ip + IP6_DST_OFF, pkt->ip_dst, 16);
	}

	/* L4 */
	wr16(buf + l4, pkt->udp_sport);
	wr16(buf + l4 + 2, pkt->udp_dport ? pkt->udp_dport : SX_ROCE_UDP_PORT);
	wr16(buf + l4 + UDP_LEN_OFF, (uint16_t)udp_len);
	wr16(buf + l4 + UDP_CSUM_OFF, 0);

	/* BTH (IBA 9.2) */
	b = buf + bth;
	pkt->bth.pad = pad;
	b[0] = ilen != 0 ? SX_OP_SR_INT : pkt->bth.opcode;
	b[1] = (uint8_t)(pkt->bth.se << 7 | pkt->bth.mig << 6 | pad << 4 | (pkt->bth.tver & 0xf));
	wr16(b + 2, pkt->bth.pkey);
	b[4] = (uint8_t)(pkt->bth.fecn << 7 | pkt->bth.becn << 6);
	wr24(b + 5, pkt->bth.dqpn);
	b[8] = (uint8_t)(pkt->bth.ackreq << 7);
	wr24(b + 9, pkt->bth.psn);
	if (ilen != 0) {
		uint8_t *h = b + SX_BTH_LEN;

		h[0] = pkt->bth.opcode;
		h[1] = pkt->intx.flags;
		h[2] = pkt->intx.nhops;
		h[3] = pkt->intx.slots;
		for (unsigned int i = 0; i < pkt->intx.slots; i++)
			wr64(h + SX_INTH_LEN + i * SX_INT_REC_LEN,
			     i < pkt->intx.nhops ? pkt->intx.rec[i] : 0);
		b += ilen; /* the inner opcode's headers follow the shim */
	}
	build_ext(b, op, pkt);

	pkt->op = op;
	pkt->l3_off = (uint16_t)l3;
	pkt->l4_off = (uint16_t)l4;
	pkt->bth_off = (uint16_t)bth;
	pkt->payload_off = (uint16_t)(bth + ilen + op->hdr_len);
	pkt->frame_len = (uint32_t)frame_len;
	return (ssize_t)pkt->payload_off;
}

void
sx_wire_seal(uint8_t *buf, const struct sx_pkt *pkt)
{
	size_t icrc_off = pkt->frame_len - SX_ICRC_LEN;
	uint32_t icrc;

	memset(buf + pkt->payload_off + pkt->payload_len, 0, pkt->bth.pad);
	icrc = sx_icrc(buf + pkt->l3_off, icrc_off - pkt->l3_off);
	buf[icrc_off] = (uint8_t)icrc;
	buf[icrc_off + 1] = (uint8_t)(icrc >> 8);
	buf[icrc_off + 2] = (uint8_t)(icrc >> 16);
	buf[icrc_off + 3] = (uint8_t)(icrc >> 24);
	if (pkt->ip_version == 6)
		wr16(buf + pkt->l4_off + UDP_CSUM_OFF,
		     sx_udp_csum(buf + pkt->l3_off, buf + pkt->l4_off,
				 pkt->frame_len - pkt->l4_off));
}

ssize_t
sx_wire_build(uint8_t *buf, size_t cap, struct sx_pkt *pkt, const void *payload)
{
	ssize_t n = sx_wire_build_hdr(buf, cap, pkt);

	if (n < 0)
		return n;
	if (pkt->payload_len != 0)
		memcpy(buf + n, payload, pkt->payload_len);
	sx_wire_seal(buf, pkt);
	return (ssize_t)pkt->frame_len;
}
