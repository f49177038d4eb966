#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate the ICRC known-answer vectors in tests/vectors/ and the fuzz seeds.

Run with the system interpreter, which has scapy:

    /usr/bin/python3 tests/ref/gen_vectors.py

Nothing here reads scalex code. IPv4 frames are built by scapy and their ICRC
is computed by scapy.contrib.roce; every one is also checked against the
independent reference in icrc_ref.py, and the script stops if they disagree.
Scapy has no IPv6 ICRC, so IPv6 frames are built by scapy (Ether, IPv6, UDP
with its checksum, BTH) and their ICRC comes from icrc_ref.py, the reference
that just agreed with scapy on every IPv4 frame.

The output is committed; the C tests never run Python.

Line format of the vector files:

    <name> <icrc> key=value ... <frame>

icrc is the CRC-32 value (8 hex digits) stored little-endian in the last four
bytes of the frame; the key=value fields are what the parser must report;
frame is the whole Ethernet frame in hex (no FCS).
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import icrc_ref  # noqa: E402

from scapy.compat import raw  # noqa: E402
from scapy.contrib.roce import AETH, BTH, CNPPadding, cnp  # noqa: E402
from scapy.layers.inet import IP, IPOption, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import Dot1Q, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VEC_DIR = os.path.normpath(os.path.join(HERE, "..", "vectors"))
CORPUS_DIR = os.path.normpath(os.path.join(HERE, "..", "fuzz", "corpus"))

ROCE_PORT = 4791
CNP = 0x81

# IBA 9.2 table 38 (RC) and the RoCEv2 CNP: which extension headers follow the
# BTH, whether payload is allowed, and whether the packet may carry pad (only
# the packet that ends a message: FIRST/MIDDLE are whole PMTUs).
RETH, AETH_H, ATOMIC, ATOMICACK, IMM = "reth", "aeth", "atomiceth", "atomicack", "imm"
OPS = {
    0x00: ("SEND_FIRST", (), "first"),
    0x01: ("SEND_MIDDLE", (), "middle"),
    0x02: ("SEND_LAST", (), "last"),
    0x03: ("SEND_LAST_IMM", (IMM,), "last"),
    0x04: ("SEND_ONLY", (), "last"),
    0x05: ("SEND_ONLY_IMM", (IMM,), "last"),
    0x06: ("WRITE_FIRST", (RETH,), "first"),
    0x07: ("WRITE_MIDDLE", (), "middle"),
    0x08: ("WRITE_LAST", (), "last"),
    0x09: ("WRITE_LAST_IMM", (IMM,), "last"),
    0x0A: ("WRITE_ONLY", (RETH,), "last"),
    0x0B: ("WRITE_ONLY_IMM", (RETH, IMM), "last"),
    0x0C: ("READ_REQUEST", (RETH,), None),
    0x0D: ("READ_RESPONSE_FIRST", (AETH_H,), "first"),
    0x0E: ("READ_RESPONSE_MIDDLE", (), "middle"),
    0x0F: ("READ_RESPONSE_LAST", (AETH_H,), "last"),
    0x10: ("READ_RESPONSE_ONLY", (AETH_H,), "last"),
    0x11: ("ACK", (AETH_H,), None),
    0x12: ("ATOMIC_ACK", (AETH_H, ATOMICACK), None),
    0x13: ("COMPARE_SWAP", (ATOMIC,), None),
    0x14: ("FETCH_ADD", (ATOMIC,), None),
    CNP: ("CNP", (), None),
}

# ECN codepoints under several DSCPs: Not-ECT, ECT(1), ECT(0), CE.
TOS_VALUES = [0x00, 0x01, 0x02, 0x03, 0x68 | 2, 0x68 | 3, 0xB8, 0xE2, 0x8B, 0xFF]
TTL_VALUES = [64, 1, 255, 0, 128, 17]


def ext_bytes(rng, hdrs):
    """Extension headers as raw bytes, encoded from the IBA field layouts."""
    out = b""
    for h in hdrs:
        if h == RETH:      # VA 64, R_Key 32, DMA length 32
            out += rng.getrandbits(64).to_bytes(8, "big")
            out += rng.getrandbits(32).to_bytes(4, "big")
            out += rng.getrandbits(32).to_bytes(4, "big")
        elif h == AETH_H:  # syndrome 8, MSN 24
            out += bytes([rng.choice([0x1F, 0x00, 0x60, 0x20, 0x62])])
            out += rng.getrandbits(24).to_bytes(3, "big")
        elif h == ATOMIC:  # VA 64, R_Key 32, swap/add 64, compare 64
            out += rng.getrandbits(64).to_bytes(8, "big")
            out += rng.getrandbits(32).to_bytes(4, "big")
            out += rng.getrandbits(64).to_bytes(8, "big")
            out += rng.getrandbits(64).to_bytes(8, "big")
        elif h == ATOMICACK:  # original remote data 64
            out += rng.getrandbits(64).to_bytes(8, "big")
        elif h == IMM:
            out += rng.getrandbits(32).to_bytes(4, "big")
    return out


def payload_lengths(kind):
    if kind is None:
        return [0]
    if kind in ("first", "middle"):
        return [4, 256, 1024]
    return [0, 1, 2, 3, 5, 7, 64, 1021, 4095]


def make_case(rng, op, plen, idx):
    name, hdrs, _ = OPS[op]
    pad = -plen & 3
    c = {
        "op": op,
        "opname": name,
        "plen": plen,
        "pad": pad,
        "tos": TOS_VALUES[idx % len(TOS_VALUES)],
        "ttl": TTL_VALUES[idx % len(TTL_VALUES)],
        "vlan": idx % 4 == 1,
        "udp_csum0": idx % 3 == 2,
        "dqpn": rng.getrandbits(24),
        "psn": rng.choice([0, 1, 0xFFFFFF, 0x7FFFFF, 0x800000, rng.getrandbits(24)]),
        "pkey": rng.choice([0xFFFF, 0x7FFF, 0x8001]),
        "se": rng.getrandbits(1),
        "mig": rng.getrandbits(1),
        "fecn": rng.getrandbits(1),
        "becn": rng.getrandbits(1),
        "ackreq": rng.getrandbits(1),
        "sport": rng.randrange(0xC000, 0x10000),
        "ext": ext_bytes(rng, hdrs),
        "payload": bytes(rng.getrandbits(8) for _ in range(plen)),
        "vid": rng.randrange(1, 4095),
        "prio": rng.randrange(0, 8),
    }
    if op == CNP:
        c["becn"] = 1
        c["se"] = c["mig"] = c["ackreq"] = c["fecn"] = 0
        c["pkey"] = 0xFFFF
        c["psn"] = 0
    if op == 0x11:
        c["ackreq"] = 0
    return c


def l2(c):
    eth = Ether(dst="02:00:00:00:00:02", src="02:00:00:00:00:01")
    if c["vlan"]:
        return eth / Dot1Q(vlan=c["vid"], prio=c["prio"])
    return eth


def bth_stack(c, **icrc):
    if c["op"] == CNP:
        if not icrc:
            return cnp(c["dqpn"])  # BTH(becn=1) / 16 reserved bytes
        return BTH(opcode=CNP, becn=1, dqpn=c["dqpn"], **icrc) / CNPPadding()
    b = BTH(opcode=c["op"], solicited=c["se"], migreq=c["mig"], padcount=c["pad"],
            version=0, pkey=c["pkey"], fecn=c["fecn"], becn=c["becn"],
            dqpn=c["dqpn"], ackreq=c["ackreq"], psn=c["psn"], **icrc)
    body = c["ext"] + c["payload"] + b"\x00" * c["pad"]
    if c["op"] == 0x11:
        # scapy's own AETH layer for the plain ACK.
        return b / AETH(syndrome=c["ext"][0], msn=int.from_bytes(c["ext"][1:4], "big"))
    return b / Raw(body) if body else b


def udp(c):
    if c["udp_csum0"]:
        return UDP(sport=c["sport"], dport=ROCE_PORT, chksum=0)
    return UDP(sport=c["sport"], dport=ROCE_PORT)


def ipv4_frame(c, idx):
    opts = [IPOption(b"\x01\x01\x01\x00")] if idx % 11 == 5 else []
    ip = IP(src="192.0.2.%d" % (1 + idx % 200), dst="198.51.100.%d" % (7 + idx % 100),
            tos=c["tos"], ttl=c["ttl"], id=(idx * 7919) & 0xFFFF,
            flags="DF" if idx % 2 else 0, options=opts)
    c["ipopts"] = bool(opts)
    # scapy.contrib.roce computes the ICRC in BTH.post_build.
    frame = raw(l2(c) / ip / udp(c) / bth_stack(c))
    ref = icrc_ref.icrc(frame)
    if ref != icrc_ref.stored(frame):
        sys.exit("ICRC mismatch, scapy %08x reference %08x: %s"
                 % (icrc_ref.stored(frame), ref, frame.hex()))
    return frame


def ipv6_frame(c, idx):
    ip = IPv6(src="2001:db8::%x" % (1 + idx), dst="2001:db8:1::%x" % (0x100 + idx),
              tc=c["tos"], fl=(idx * 0x9E37) & 0xFFFFF, hlim=c["ttl"])
    c["ipopts"] = False
    frame = raw(l2(c) / ip / udp(c) / bth_stack(c, icrc=0))
    v = icrc_ref.icrc(frame)
    be = int.from_bytes(icrc_ref.pack(v), "big")  # FCSField packs "!I"
    frame = raw(l2(c) / ip / udp(c) / bth_stack(c, icrc=be))
    if icrc_ref.stored(frame) != icrc_ref.icrc(frame):
        sys.exit("IPv6 frame does not carry its ICRC: " + frame.hex())
    return frame


def cases(rng, ops_plens):
    out = []
    for idx, (op, plen) in enumerate(ops_plens):
        out.append(make_case(rng, op, plen, idx))
    return out


def line(c, frame):
    fields = "op=0x%02x qpn=0x%06x psn=0x%06x pad=%d plen=%d tos=0x%02x ttl=%d vlan=%d" % (
        c["op"], c["dqpn"], c["psn"], c["pad"], c["plen"], c["tos"], c["ttl"],
        1 if c["vlan"] else 0)
    return "%s %08x %s %s" % (c["name"], icrc_ref.stored(frame), fields, frame.hex())


def name(prefix, c, idx):
    s = "%s_%03d_%s_p%d_tos%02x_ttl%d" % (prefix, idx, c["opname"].lower(), c["plen"],
                                         c["tos"], c["ttl"])
    if c["vlan"]:
        s += "_vlan"
    if c["udp_csum0"]:
        s += "_csum0"
    if c.get("ipopts"):
        s += "_ipopt"
    return s


HEADER = """\
# RoCEv2 ICRC known-answer vectors, %s. Generated by tests/ref/gen_vectors.py
# (scapy %s); do not edit. %s
# <name> <icrc: crc32 value, stored little-endian in the last 4 bytes> key=value... <frame hex>
"""


def sackr(base, blocks, count=None):
    """docs/wire.md, SACKR: count, 3 reserved bytes, 8 x (reserved byte,
    24-bit start, 32-bit length); blocks past count are zero."""
    out = bytes([len(blocks) if count is None else count]) + b"\x00" * 3
    for start, length in blocks:
        out += b"\x00" + ((base + start) & 0xFFFFFF).to_bytes(3, "big") + \
            length.to_bytes(4, "big")
    return out + b"\x00" * (8 * (8 - len(blocks)))


def sr_ack_range_seeds():
    """SX_SR_ACK_RANGES (0xe2) and SX_SR_ACK_ECE_RANGES (0xe3) frames, valid
    and malformed (the parser must count them as bad_sackr), for the
    fuzzer: BTH / AETH / SACK (flags, Base, 256-bit bitmap) / [ECE] / SACKR,
    ICRC by scapy.contrib.roce."""
    base = 0xFFFF00  # blocks wrap the 24-bit PSN space
    aeth = bytes([0x1F]) + (0x42).to_bytes(3, "big")
    sack = bytes([0]) + base.to_bytes(3, "big") + b"\xff" * 32
    ece = (0xC123).to_bytes(2, "big") + (3).to_bytes(2, "big")
    out = []
    for nm, op, tail in (
        ("sr_ack_ranges_ok", 0xE2, sackr(base, [(710, 290), (401, 299), (257, 143)])),
        ("sr_ack_ece_ranges_ok", 0xE3, ece + sackr(base, [(300, 10)])),
        ("sr_ack_ranges_bad_count", 0xE2, sackr(base, [(300, 10)], count=9)),
        ("sr_ack_ranges_bad_inside_bitmap", 0xE2, sackr(base, [(200, 10)])),
        ("sr_ack_ranges_bad_ascending", 0xE2, sackr(base, [(300, 10), (400, 5)])),
    ):
        b = BTH(opcode=op, version=0, pkey=0xFFFF, dqpn=0x100, psn=(base - 1) & 0xFFFFFF)
        frame = raw(Ether(dst="02:00:00:00:00:02", src="02:00:00:00:00:01") /
                    IP(src="192.0.2.1", dst="198.51.100.7", flags="DF") /
                    UDP(sport=0xC001, dport=ROCE_PORT, chksum=0) /
                    b / Raw(aeth + sack + tail))
        if icrc_ref.icrc(frame) != icrc_ref.stored(frame):
            sys.exit("ICRC mismatch in seed " + nm)
        out.append(("ipv4_" + nm, frame))
    return out


def main():
    import scapy

    rng = random.Random(4791)
    v4_plan = [(op, plen) for op in OPS for plen in payload_lengths(OPS[op][2])]
    # A second, smaller pass over every opcode so each sees more ECN/TTL/L2 mixes.
    v4_plan += [(op, payload_lengths(OPS[op][2])[:2][-1]) for op in OPS]
    v6_plan = [(op, plen) for op in OPS for plen in payload_lengths(OPS[op][2])[::2]]
    v6_plan += [(op, payload_lengths(OPS[op][2])[-1]) for op in OPS]

    os.makedirs(VEC_DIR, exist_ok=True)
    os.makedirs(CORPUS_DIR, exist_ok=True)
    seeds = {}
    for proto, plan, build, why in (
        ("ipv4", v4_plan, ipv4_frame,
         "ICRC computed by scapy.contrib.roce and checked against tests/ref/icrc_ref.py."),
        ("ipv6", v6_plan, ipv6_frame,
         "Frames built by scapy; ICRC from tests/ref/icrc_ref.py (scapy has no IPv6 ICRC)."),
    ):
        lines = [HEADER % (proto.upper().replace("IPV", "IPv"), scapy.__version__, why)]
        for idx, c in enumerate(cases(rng, plan)):
            frame = build(c, idx)
            c["name"] = name(proto, c, idx)
            lines.append(line(c, frame) + "\n")
            # A few small frames of distinct shapes seed the fuzzer.
            key = (proto, c["op"])
            if len(frame) <= 160 and key not in seeds:
                seeds[key] = (c["name"], frame)
        path = os.path.join(VEC_DIR, "icrc_%s.txt" % proto)
        with open(path, "w") as f:
            f.writelines(lines)
        print("%s: %d vectors" % (path, len(lines) - 1))

    for nm, frame in sr_ack_range_seeds():
        seeds[nm] = (nm, frame)
    for old in os.listdir(CORPUS_DIR):
        os.unlink(os.path.join(CORPUS_DIR, old))
    for nm, frame in seeds.values():
        with open(os.path.join(CORPUS_DIR, nm), "wb") as f:
            f.write(frame)
    print("%s: %d seeds" % (CORPUS_DIR, len(seeds)))


if __name__ == "__main__":
    main()
