# SPDX-License-Identifier: BSD-3-Clause
"""Reference RoCEv2 ICRC, written from the spec and independent of the C code.

RoCEv2 annex A17.3.3 (and IBA 7.8.1): the ICRC is the IEEE CRC-32 (zlib's
crc32) over 8 bytes of ones standing for the IB LRH, then the IP header, UDP
header and BTH with every field a router may change replaced by ones, then
the rest of the packet up to the ICRC. Masked:
  IPv4: Type of Service, Time to Live, Header Checksum
  IPv6: Traffic Class, Flow Label, Hop Limit
  UDP:  Checksum
  BTH:  the byte holding FECN, BECN and six reserved bits
The ICRC is stored least significant byte first.
"""
import zlib

UDP_HLEN = 8
BTH_LEN = 12
ICRC_LEN = 4


def ip_datagram(frame):
    """The IP datagram (header through ICRC) of an Ethernet frame, or None."""
    off = 12
    etype = int.from_bytes(frame[off:off + 2], "big")
    if etype == 0x8100:
        off += 4
        etype = int.from_bytes(frame[off:off + 2], "big")
    l3 = frame[off + 2:]
    if etype == 0x0800 and len(l3) >= 20:
        return l3[:int.from_bytes(l3[2:4], "big")]
    if etype == 0x86DD and len(l3) >= 40:
        return l3[:40 + int.from_bytes(l3[4:6], "big")]
    return None


def icrc(l3):
    """ICRC of the IP datagram @l3 (its last 4 bytes are the ICRC field)."""
    version = l3[0] >> 4
    if version == 4:
        ip_len = (l3[0] & 0x0F) * 4
        hdr = bytearray(l3[:ip_len + UDP_HLEN + BTH_LEN])
        hdr[1] = 0xFF                  # TOS (DSCP, ECN)
        hdr[8] = 0xFF                  # TTL
        hdr[10:12] = b"\xff\xff"       # header checksum
    elif version == 6:
        ip_len = 40
        hdr = bytearray(l3[:ip_len + UDP_HLEN + BTH_LEN])
        hdr[0] |= 0x0F                 # traffic class, high nibble
        hdr[1:4] = b"\xff\xff\xff"     # traffic class low nibble, flow label
        hdr[7] = 0xFF                  # hop limit
    else:
        raise ValueError("IP version %d" % version)
    hdr[ip_len + 6:ip_len + 8] = b"\xff\xff"   # UDP checksum
    hdr[ip_len + UDP_HLEN + 4] = 0xFF          # BTH: FECN, BECN, resv6
    rest = l3[len(hdr):len(l3) - ICRC_LEN]
    return zlib.crc32(b"\xff" * 8 + bytes(hdr) + rest) & 0xFFFFFFFF


def stored_icrc(l3):
    """The ICRC field of the datagram @l3 as an integer."""
    return int.from_bytes(l3[-ICRC_LEN:], "little")
