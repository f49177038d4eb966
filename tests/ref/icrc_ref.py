# SPDX-License-Identifier: BSD-3-Clause
"""Independent RoCEv2 ICRC reference (InfiniBand annex A17, RoCEv2, A17.3.3).

Written from the annex text, not from dataplane/wire/icrc.c, so that the two
can check each other. The ICRC is the IEEE CRC-32 (zlib.crc32) over

    8 bytes of 0xff                  standing for the IB LRH
    IP header, with the fields a router may rewrite set to ones:
        IPv4: TOS, TTL, header checksum
        IPv6: traffic class, flow label, hop limit
    UDP header, checksum set to ones
    BTH, byte 4 (FECN, BECN, 6 reserved bits) set to ones
    everything after the BTH up to the ICRC itself

and is stored after the payload least-significant byte first, which is what
scapy.contrib.roce.BTH.pack_icrc does for IPv4.
"""
import zlib

ETH_HLEN = 14
VLAN_HLEN = 4
ETHERTYPE_VLAN = 0x8100
UDP_HLEN = 8
ICRC_LEN = 4


def l3_offset(frame):
    """Offset of the IP header in an Ethernet frame (one optional 802.1Q tag)."""
    ethertype = int.from_bytes(frame[12:14], "big")
    return ETH_HLEN + VLAN_HLEN if ethertype == ETHERTYPE_VLAN else ETH_HLEN


def icrc(frame, l3=None):
    """ICRC value of a whole frame whose last four bytes are the ICRC field."""
    if l3 is None:
        l3 = l3_offset(frame)
    pkt = bytearray(frame[l3:len(frame) - ICRC_LEN])
    version = pkt[0] >> 4
    if version == 4:
        ip_hlen = (pkt[0] & 0x0F) * 4
        pkt[1] = 0xFF                 # TOS (DSCP + ECN)
        pkt[8] = 0xFF                 # TTL
        pkt[10:12] = b"\xff\xff"      # header checksum
    elif version == 6:
        ip_hlen = 40
        pkt[0] |= 0x0F                # traffic class, high nibble
        pkt[1] = 0xFF                 # traffic class low nibble, flow label
        pkt[2:4] = b"\xff\xff"        # flow label
        pkt[7] = 0xFF                 # hop limit
    else:
        raise ValueError("IP version %d" % version)
    udp = ip_hlen
    pkt[udp + 6:udp + 8] = b"\xff\xff"  # UDP checksum
    bth = udp + UDP_HLEN
    pkt[bth + 4] = 0xFF                 # FECN, BECN, resv6
    return zlib.crc32(b"\xff" * 8 + bytes(pkt)) & 0xFFFFFFFF


def pack(value):
    """The four ICRC bytes as they appear on the wire."""
    return value.to_bytes(ICRC_LEN, "little")


def stored(frame):
    """The ICRC value a frame carries."""
    return int.from_bytes(frame[-ICRC_LEN:], "little")


def _self_test():
    # The masked LRH alone: a constant both implementations fold into a seed.
    assert zlib.crc32(b"\xff" * 8) == 0x2144DF1C
    # Masked fields must not change the ICRC; unmasked ones must.
    v4 = bytearray(14 + 20 + 8 + 12 + 4)
    v4[12:14] = b"\x08\x00"
    v4[14] = 0x45
    a = icrc(bytes(v4))
    for off in (14 + 1, 14 + 8, 14 + 10, 14 + 11, 14 + 20 + 6, 14 + 20 + 7,
                14 + 28 + 4):
        w = bytearray(v4)
        w[off] ^= 0x5A
        assert icrc(bytes(w)) == a, off
    for off in (14 + 2, 14 + 9, 14 + 12, 14 + 20, 14 + 28, 14 + 28 + 5):
        w = bytearray(v4)
        w[off] ^= 0x01
        assert icrc(bytes(w)) != a, off


_self_test()
