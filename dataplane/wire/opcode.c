/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The opcode table: for every opcode scalex speaks, which extension headers
 * follow the BTH and at which offsets, and where it sits in a message
 * (IBA 9.2, table 38; RoCEv2 annex A17.9.3 for the CNP). Parsing and building
 * both read this table; no other file knows a per-opcode offset.
 */
#include <scalex/wire.h>

#define B SX_BTH_LEN

/* Offsets of the headers that follow the BTH, in IBA order. */
#define AT(reth, aeth, atm, atmack, imm, cnp)                                          \
	{                                                                              \
		[SX_HDR_RETH] = (reth), [SX_HDR_AETH] = (aeth),                        \
		[SX_HDR_ATOMICETH] = (atm), [SX_HDR_ATOMICACK] = (atmack),             \
		[SX_HDR_IMMDT] = (imm), [SX_HDR_CNP_PAD] = (cnp),                      \
	}
/* scalex SR data packets: BTH, XETH, RETH (WRITE), ImmDt (with immediate). */
#define SR_AT(reth, imm)                                                               \
	{                                                                              \
		[SX_HDR_XETH] = B, [SX_HDR_RETH] = (reth), [SX_HDR_IMMDT] = (imm),     \
	}
#define X  SX_XETH_LEN
#define SR SX_OPF_XETH
#define SRW (SX_OPF_XETH | SX_OPF_RETH)
#define SR_SEND(op, name, fl, imm)                                                     \
	[SX_OP_SR(op)] = {name, SX_OP_SR(op), SX_TRANSPORT_SR,                         \
			  B + X + ((imm) ? SX_IMMDT_LEN : 0), REQ_SEND | (fl) | SR |    \
			  ((imm) ? SX_OPF_IMMDT : 0), SR_AT(0, (imm) ? B + X : 0)}
#define SR_WRITE(op, name, fl, imm)                                                    \
	[SX_OP_SR(op)] = {name, SX_OP_SR(op), SX_TRANSPORT_SR,                         \
			  B + X + SX_RETH_LEN + ((imm) ? SX_IMMDT_LEN : 0),             \
			  REQ_WRITE | (fl) | SRW | ((imm) ? SX_OPF_IMMDT : 0),          \
			  SR_AT(B + X, (imm) ? B + X + SX_RETH_LEN : 0)}

#define REQ_SEND  (SX_OPF_REQUEST | SX_OPF_SEND | SX_OPF_PAYLOAD)
#define REQ_WRITE (SX_OPF_REQUEST | SX_OPF_WRITE | SX_OPF_PAYLOAD)
#define RSP_READ  (SX_OPF_RESPONSE | SX_OPF_READ | SX_OPF_PAYLOAD)

static const struct sx_opcode_info op_table[256] = {
	[SX_OP_RC_SEND_FIRST] = {"RC_SEND_FIRST", SX_OP_RC_SEND_FIRST, SX_TRANSPORT_RC, B,
				 REQ_SEND | SX_OPF_FIRST, AT(0, 0, 0, 0, 0, 0)},
	[SX_OP_RC_SEND_MIDDLE] = {"RC_SEND_MIDDLE", SX_OP_RC_SEND_MIDDLE, SX_TRANSPORT_RC, B,
				  REQ_SEND | SX_OPF_MIDDLE, AT(0, 0, 0, 0, 0, 0)},
	[SX_OP_RC_SEND_LAST] = {"RC_SEND_LAST", SX_OP_RC_SEND_LAST, SX_TRANSPORT_RC, B,
				REQ_SEND | SX_OPF_LAST, AT(0, 0, 0, 0, 0, 0)},
	[SX_OP_RC_SEND_LAST_IMM] = {"RC_SEND_LAST_WITH_IMMEDIATE", SX_OP_RC_SEND_LAST_IMM,
				    SX_TRANSPORT_RC, B + SX_IMMDT_LEN,
				    REQ_SEND | SX_OPF_LAST | SX_OPF_IMMDT,
				    AT(0, 0, 0, 0, B, 0)},
	[SX_OP_RC_SEND_ONLY] = {"RC_SEND_ONLY", SX_OP_RC_SEND_ONLY, SX_TRANSPORT_RC, B,
				REQ_SEND | SX_OPF_FIRST | SX_OPF_LAST, AT(0, 0, 0, 0, 0, 0)},
	[SX_OP_RC_SEND_ONLY_IMM] = {"RC_SEND_ONLY_WITH_IMMEDIATE", SX_OP_RC_SEND_ONLY_IMM,
				    SX_TRANSPORT_RC, B + SX_IMMDT_LEN,
				    REQ_SEND | SX_OPF_FIRST | SX_OPF_LAST | SX_OPF_IMMDT,
				    AT(0, 0, 0, 0, B, 0)},
	[SX_OP_RC_WRITE_FIRST] = {"RC_RDMA_WRITE_FIRST", SX_OP_RC_WRITE_FIRST, SX_TRANSPORT_RC,
				  B + SX_RETH_LEN, REQ_WRITE | SX_OPF_FIRST | SX_OPF_RETH,
				  AT(B, 0, 0, 0, 0, 0)},
	[SX_OP_RC_WRITE_MIDDLE] = {"RC_RDMA_WRITE_MIDDLE", SX_OP_RC_WRITE_MIDDLE,
				   SX_TRANSPORT_RC, B, REQ_WRITE | SX_OPF_MIDDLE,
				   AT(0, 0, 0, 0, 0, 0)},
	[SX_OP_RC_WRITE_LAST] = {"RC_RDMA_WRITE_LAST", SX_OP_RC_WRITE_LAST, SX_TRANSPORT_RC, B,
				 REQ_WRITE | SX_OPF_LAST, AT(0, 0, 0, 0, 0, 0)},
	[SX_OP_RC_WRITE_LAST_IMM] = {"RC_RDMA_WRITE_LAST_WITH_IMMEDIATE",
				     SX_OP_RC_WRITE_LAST_IMM, SX_TRANSPORT_RC,
				     B + SX_IMMDT_LEN,
				     REQ_WRITE | SX_OPF_LAST | SX_OPF_IMMDT,
				     AT(0, 0, 0, 0, B, 0)},
	[SX_OP_RC_WRITE_ONLY] = {"RC_RDMA_WRITE_ONLY", SX_OP_RC_WRITE_ONLY, SX_TRANSPORT_RC,
				 B + SX_RETH_LEN,
				 REQ_WRITE | SX_OPF_FIRST | SX_OPF_LAST | SX_OPF_RETH,
				 AT(B, 0, 0, 0, 0, 0)},
	[SX_OP_RC_WRITE_ONLY_IMM] = {"RC_RDMA_WRITE_ONLY_WITH_IMMEDIATE",
				     SX_OP_RC_WRITE_ONLY_IMM, SX_TRANSPORT_RC,
				     B + SX_RETH_LEN + SX_IMMDT_LEN,
				     REQ_WRITE | SX_OPF_FIRST | SX_OPF_LAST | SX_OPF_RETH |
					     SX_OPF_IMMDT,
				     AT(B, 0, 0, 0, B + SX_RETH_LEN, 0)},
	[SX_OP_RC_READ_REQUEST] = {"RC_RDMA_READ_REQUEST", SX_OP_RC_READ_REQUEST,
				   SX_TRANSPORT_RC, B + SX_RETH_LEN,
				   SX_OPF_REQUEST | SX_OPF_READ | SX_OPF_FIRST | SX_OPF_LAST |
					   SX_OPF_RETH,
				   AT(B, 0, 0, 0, 0, 0)},
	[SX_OP_RC_READ_RESPONSE_FIRST] = {"RC_RDMA_READ_RESPONSE_FIRST",
					  SX_OP_RC_READ_RESPONSE_FIRST, SX_TRANSPORT_RC,
					  B + SX_AETH_LEN,
					  RSP_READ | SX_OPF_FIRST | SX_OPF_AETH,
					  AT(0, B, 0, 0, 0, 0)},
	[SX_OP_RC_READ_RESPONSE_MIDDLE] = {"RC_RDMA_READ_RESPONSE_MIDDLE",
					   SX_OP_RC_READ_RESPONSE_MIDDLE, SX_TRANSPORT_RC,
					   B, RSP_READ | SX_OPF_MIDDLE,
					   AT(0, 0, 0, 0, 0, 0)},
	[SX_OP_RC_READ_RESPONSE_LAST] = {"RC_RDMA_READ_RESPONSE_LAST",
					 SX_OP_RC_READ_RESPONSE_LAST, SX_TRANSPORT_RC,
					 B + SX_AETH_LEN,
					 RSP_READ | SX_OPF_LAST | SX_OPF_AETH,
					 AT(0, B, 0, 0, 0, 0)},
	[SX_OP_RC_READ_RESPONSE_ONLY] = {"RC_RDMA_READ_RESPONSE_ONLY",
					 SX_OP_RC_READ_RESPONSE_ONLY, SX_TRANSPORT_RC,
					 B + SX_AETH_LEN,
					 RSP_READ | SX_OPF_FIRST | SX_OPF_LAST | SX_OPF_AETH,
					 AT(0, B, 0, 0, 0, 0)},
	[SX_OP_RC_ACK] = {"RC_ACKNOWLEDGE", SX_OP_RC_ACK, SX_TRANSPORT_RC, B + SX_AETH_LEN,
			  SX_OPF_RESPONSE | SX_OPF_ACK | SX_OPF_FIRST | SX_OPF_LAST |
				  SX_OPF_AETH,
			  AT(0, B, 0, 0, 0, 0)},
	[SX_OP_RC_ATOMIC_ACK] = {"RC_ATOMIC_ACKNOWLEDGE", SX_OP_RC_ATOMIC_ACK,
				 SX_TRANSPORT_RC, B + SX_AETH_LEN + SX_ATOMICACK_LEN,
				 SX_OPF_RESPONSE | SX_OPF_ATOMIC | SX_OPF_FIRST | SX_OPF_LAST |
					 SX_OPF_AETH | SX_OPF_ATOMICACK,
				 AT(0, B, 0, B + SX_AETH_LEN, 0, 0)},
	[SX_OP_RC_COMPARE_SWAP] = {"RC_COMPARE_SWAP", SX_OP_RC_COMPARE_SWAP, SX_TRANSPORT_RC,
				   B + SX_ATOMICETH_LEN,
				   SX_OPF_REQUEST | SX_OPF_ATOMIC | SX_OPF_FIRST | SX_OPF_LAST |
					   SX_OPF_ATOMICETH,
				   AT(0, 0, B, 0, 0, 0)},
	[SX_OP_RC_FETCH_ADD] = {"RC_FETCH_ADD", SX_OP_RC_FETCH_ADD, SX_TRANSPORT_RC,
				B + SX_ATOMICETH_LEN,
				SX_OPF_REQUEST | SX_OPF_ATOMIC | SX_OPF_FIRST | SX_OPF_LAST |
					SX_OPF_ATOMICETH,
				AT(0, 0, B, 0, 0, 0)},
	/* CNP: BTH + 16 reserved bytes, no payload (RoCEv2 annex A17.9.3). */
	[SX_OP_CNP] = {"CNP", SX_OP_CNP, SX_TRANSPORT_CNP, B + SX_CNP_PAD_LEN,
		       SX_OPF_CNP | SX_OPF_FIRST | SX_OPF_LAST | SX_OPF_CNP_PAD,
		       AT(0, 0, 0, 0, 0, B)},
	/* scalex selective repeat (docs/wire.md) */
	SR_SEND(SX_OP_RC_SEND_FIRST, "SX_SR_SEND_FIRST", SX_OPF_FIRST, 0),
	SR_SEND(SX_OP_RC_SEND_MIDDLE, "SX_SR_SEND_MIDDLE", SX_OPF_MIDDLE, 0),
	SR_SEND(SX_OP_RC_SEND_LAST, "SX_SR_SEND_LAST", SX_OPF_LAST, 0),
	SR_SEND(SX_OP_RC_SEND_LAST_IMM, "SX_SR_SEND_LAST_WITH_IMMEDIATE", SX_OPF_LAST, 1),
	SR_SEND(SX_OP_RC_SEND_ONLY, "SX_SR_SEND_ONLY", SX_OPF_FIRST | SX_OPF_LAST, 0),
	SR_SEND(SX_OP_RC_SEND_ONLY_IMM, "SX_SR_SEND_ONLY_WITH_IMMEDIATE",
		SX_OPF_FIRST | SX_OPF_LAST, 1),
	SR_WRITE(SX_OP_RC_WRITE_FIRST, "SX_SR_RDMA_WRITE_FIRST", SX_OPF_FIRST, 0),
	SR_WRITE(SX_OP_RC_WRITE_MIDDLE, "SX_SR_RDMA_WRITE_MIDDLE", SX_OPF_MIDDLE, 0),
	SR_WRITE(SX_OP_RC_WRITE_LAST, "SX_SR_RDMA_WRITE_LAST", SX_OPF_LAST, 0),
	SR_WRITE(SX_OP_RC_WRITE_LAST_IMM, "SX_SR_RDMA_WRITE_LAST_WITH_IMMEDIATE",
		 SX_OPF_LAST, 1),
	SR_WRITE(SX_OP_RC_WRITE_ONLY, "SX_SR_RDMA_WRITE_ONLY", SX_OPF_FIRST | SX_OPF_LAST, 0),
	SR_WRITE(SX_OP_RC_WRITE_ONLY_IMM, "SX_SR_RDMA_WRITE_ONLY_WITH_IMMEDIATE",
		 SX_OPF_FIRST | SX_OPF_LAST, 1),
	[SX_OP_SR_ACK] = {"SX_SR_ACK", SX_OP_SR_ACK, SX_TRANSPORT_SR,
			  B + SX_AETH_LEN + SX_SACK_LEN,
			  SX_OPF_RESPONSE | SX_OPF_ACK | SX_OPF_FIRST | SX_OPF_LAST |
				  SX_OPF_AETH | SX_OPF_SACK,
			  {[SX_HDR_AETH] = B, [SX_HDR_SACK] = B + SX_AETH_LEN}},
	[SX_OP_SR_ACK_ECE] = {"SX_SR_ACK_ECE", SX_OP_SR_ACK_ECE, SX_TRANSPORT_SR,
			      B + SX_AETH_LEN + SX_SACK_LEN + SX_ECE_LEN,
			      SX_OPF_RESPONSE | SX_OPF_ACK | SX_OPF_FIRST | SX_OPF_LAST |
				      SX_OPF_AETH | SX_OPF_SACK | SX_OPF_ECE,
			      {[SX_HDR_AETH] = B, [SX_HDR_SACK] = B + SX_AETH_LEN,
			       [SX_HDR_ECE] = B + SX_AETH_LEN + SX_SACK_LEN}},
	[SX_OP_SR_ACK_RANGES] = {"SX_SR_ACK_RANGES", SX_OP_SR_ACK_RANGES, SX_TRANSPORT_SR,
				 B + SX_AETH_LEN + SX_SACK_LEN + SX_SACKR_LEN,
				 SX_OPF_RESPONSE | SX_OPF_ACK | SX_OPF_FIRST | SX_OPF_LAST |
					 SX_OPF_AETH | SX_OPF_SACK | SX_OPF_SACKR,
				 {[SX_HDR_AETH] = B, [SX_HDR_SACK] = B + SX_AETH_LEN,
				  [SX_HDR_SACKR] = B + SX_AETH_LEN + SX_SACK_LEN}},
	[SX_OP_SR_ACK_ECE_RANGES] = {"SX_SR_ACK_ECE_RANGES", SX_OP_SR_ACK_ECE_RANGES,
				     SX_TRANSPORT_SR,
				     B + SX_AETH_LEN + SX_SACK_LEN + SX_ECE_LEN + SX_SACKR_LEN,
				     SX_OPF_RESPONSE | SX_OPF_ACK | SX_OPF_FIRST | SX_OPF_LAST |
					     SX_OPF_AETH | SX_OPF_SACK | SX_OPF_ECE | SX_OPF_SACKR,
				     {[SX_HDR_AETH] = B, [SX_HDR_SACK] = B + SX_AETH_LEN,
				      [SX_HDR_ECE] = B + SX_AETH_LEN + SX_SACK_LEN,
				      [SX_HDR_SACKR] = B + SX_AETH_LEN + SX_SACK_LEN + SX_ECE_LEN}},
};

const struct sx_opcode_info *
sx_opcode_info(uint8_t opcode)
{
	const struct sx_opcode_info *op = &op_table[opcode];

	return op->name != NULL ? op : NULL;
}

static const char *const rc_names[SX_WIRE_RC_MAX] = {
	[SX_WIRE_OK] = "ok",
	[SX_WIRE_TRUNC_ETH] = "trunc_eth",
	[SX_WIRE_TRUNC_VLAN] = "trunc_vlan",
	[SX_WIRE_TRUNC_IPV4] = "trunc_ipv4",
	[SX_WIRE_TRUNC_IPV6] = "trunc_ipv6",
	[SX_WIRE_TRUNC_UDP] = "trunc_udp",
	[SX_WIRE_TRUNC_BTH] = "trunc_bth",
	[SX_WIRE_TRUNC_RETH] = "trunc_reth",
	[SX_WIRE_TRUNC_AETH] = "trunc_aeth",
	[SX_WIRE_TRUNC_ATOMICETH] = "trunc_atomiceth",
	[SX_WIRE_TRUNC_ATOMICACK] = "trunc_atomicacketh",
	[SX_WIRE_TRUNC_IMMDT] = "trunc_immdt",
	[SX_WIRE_TRUNC_CNP] = "trunc_cnp",
	[SX_WIRE_TRUNC_XETH] = "trunc_xeth",
	[SX_WIRE_TRUNC_SACK] = "trunc_sack",
	[SX_WIRE_TRUNC_ECE] = "trunc_ece",
	[SX_WIRE_TRUNC_SACKR] = "trunc_sackr",
	[SX_WIRE_TRUNC_PAYLOAD] = "trunc_payload",
	[SX_WIRE_TRUNC_ICRC] = "trunc_icrc",
	[SX_WIRE_NOT_IP] = "not_ip",
	[SX_WIRE_NOT_UDP] = "not_udp",
	[SX_WIRE_NOT_ROCE] = "not_roce",
	[SX_WIRE_BAD_IP_VERSION] = "bad_ip_version",
	[SX_WIRE_BAD_IP_HDR_LEN] = "bad_ip_hdr_len",
	[SX_WIRE_BAD_IP_LEN] = "bad_ip_len",
	[SX_WIRE_BAD_IP_CSUM] = "bad_ip_csum",
	[SX_WIRE_IP_FRAGMENT] = "ip_fragment",
	[SX_WIRE_BAD_UDP_LEN] = "bad_udp_len",
	[SX_WIRE_BAD_UDP_CSUM] = "bad_udp_csum",
	[SX_WIRE_BAD_BTH_VERSION] = "bad_bth_version",
	[SX_WIRE_UNKNOWN_OPCODE] = "unknown_opcode",
	[SX_WIRE_BAD_PAD] = "bad_pad",
	[SX_WIRE_BAD_LENGTH] = "bad_length",
	[SX_WIRE_BAD_ICRC] = "bad_icrc",
	[SX_WIRE_BAD_SACKR] = "bad_sackr",
	[SX_WIRE_TRUNC_INT] = "trunc_int",
	[SX_WIRE_BAD_INT] = "bad_int",
};

const char *
sx_wire_rc_name(enum sx_wire_rc rc)
{
	if ((unsigned int)rc >= SX_WIRE_RC_MAX)
		return "invalid";
	return rc_names[rc];
}
