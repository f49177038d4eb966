#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Verdicts and exit status of `scalex-pcap check` on captures that scapy
rewrote, independently of the C code:

  clean        the synth capture                          -> 0, all ok
  ipv4-flip    one IPv4 payload bit flipped               -> 1, that packet bad_icrc
  ipv6-flip    one IPv6 payload bit flipped               -> 1, that packet bad_udp_csum
  ipv6-fixed   the same, UDP checksum recomputed by scapy -> 1, that packet bad_icrc
  router       every packet ECN -> CE and TTL / hop limit -1,
               IPv4 header checksum fixed (RFC 3168, RFC 791) -> 0, all ok
  snaplen      one frame cut short by the snaplen          -> 1, "truncated capture"
  fcs-uncaptured  wire length counts an FCS not captured   -> 0, ok
  non-roce     ARP, DNS over UDP and TCP frames added      -> 0, skipped
  pcapng       the synth capture as pcapng                 -> 0, all ok
and usage / I/O errors -> 2 with a message.

usage: check_verdicts.py SCALEX_PCAP
"""
import os
import sys
import tempfile

import common
import icrc_ref

failures = []


def expect(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def check(scalex_pcap, path, *opts):
    r = common.run([scalex_pcap, "check", "--quiet"] + list(opts) + [path])
    verdicts, summary = common.parse_check(r.stdout)
    return r.returncode, verdicts, summary


def diff_at(a, b):
    return [i for i in range(max(len(a), len(b)))
            if i >= len(a) or i >= len(b) or a[i] != b[i]]


def ip4_csum_ok(hdr):
    """RFC 1071: the one's complement sum of a valid header is 0xffff."""
    total = sum(int.from_bytes(hdr[i:i + 2], "big") for i in range(0, len(hdr), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    scalex_pcap = sys.argv[1]
    common.load_scapy()
    from scapy.layers.l2 import ARP, Ether
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.dns import DNS, DNSQR
    from scapy.packet import Raw
    from scapy.compat import raw
    from scapy.contrib.roce import BTH

    with tempfile.TemporaryDirectory(prefix="sx-interop-") as tmp:
        def path(name):
            return os.path.join(tmp, name)

        n = common.synth(scalex_pcap, path("synth.pcap"))
        linktype, recs = common.read_pcap(path("synth.pcap"))
        expect(linktype == common.LINKTYPE_ETHERNET and len(recs) == n,
               "synth wrote %d Ethernet records" % n)
        frames = [r[2] for r in recs]

        # clean
        rc, v, s = check(scalex_pcap, path("synth.pcap"))
        expect(rc == 0 and s == (n, n, 0, 0), "clean: exit %d, summary %s" % (rc, s))

        # The first SEND_ONLY of each family with a payload: no extension header
        # sits between the BTH and the payload.
        def first_send_only(layer):
            for i, f in enumerate(frames):
                p = Ether(f)
                if layer in p and BTH in p and p[BTH].opcode == 0x04 and \
                   len(p[BTH].payload) > 0:
                    return i, p
            sys.exit("no %s SEND_ONLY with payload in the synth capture" % layer.__name__)

        def payload_off(p):
            return len(p) - len(p[BTH]) + 12  # BTH starts len(p[BTH]) from the end

        def one_bad(name, frames2, idx, reason):
            recs2 = [(r[0], r[1], f, len(f)) for r, f in zip(recs, frames2)]
            common.write_pcap(path(name + ".pcap"), recs2)
            rc, v, s = check(scalex_pcap, path(name + ".pcap"))
            got = v.get(idx + 1, ("", "", "", "", "ok"))[4]
            expect(rc == 1 and s == (n, n - 1, 1, 0) and list(v) == [idx + 1]
                   and got == reason,
                   "%s: exit %d, frame %d verdict %r (want %r), summary %s" %
                   (name, rc, idx + 1, got, reason, s))

        # ipv4-flip: the IPv4 UDP checksum is 0, so only the ICRC can notice.
        i4, p4 = first_send_only(IP)
        f = bytearray(frames[i4])
        f[payload_off(p4)] ^= 0x01
        one_bad("ipv4-flip", frames[:i4] + [bytes(f)] + frames[i4 + 1:], i4, "bad_icrc")

        # ipv6-flip: the UDP checksum is checked before the ICRC.
        i6, p6 = first_send_only(IPv6)
        f = bytearray(frames[i6])
        f[payload_off(p6)] ^= 0x01
        one_bad("ipv6-flip", frames[:i6] + [bytes(f)] + frames[i6 + 1:], i6, "bad_udp_csum")

        # ipv6-fixed: scapy recomputes the UDP checksum over the corrupted
        # datagram; what is left is the ICRC.
        q = Ether(bytes(f))
        del q[UDP].chksum
        g = raw(q)
        udp_off = len(g) - len(q[UDP])
        expect(set(diff_at(frames[i6], g)) <= {payload_off(p6), udp_off + 6, udp_off + 7},
               "ipv6-fixed: scapy changed only the payload bit and the UDP checksum")
        one_bad("ipv6-fixed", frames[:i6] + [g] + frames[i6 + 1:], i6, "bad_icrc")

        # router: what a congested router does to every packet. The ICRC masks
        # TOS / traffic class, TTL / hop limit and the IPv4 checksum, so it holds.
        routed = []
        for f in frames:
            p = Ether(f)
            l3 = len(f) - len(icrc_ref.ip_datagram(f))
            if IP in p:
                p[IP].tos = (p[IP].tos & 0xFC) | 3
                p[IP].ttl -= 1
                del p[IP].chksum
                allowed = {l3 + 1, l3 + 8, l3 + 10, l3 + 11}
            else:
                p[IPv6].tc = (p[IPv6].tc & 0xFC) | 3
                p[IPv6].hlim -= 1
                allowed = {l3 + 0, l3 + 1, l3 + 7}
            g = raw(p)
            if not set(diff_at(f, g)) <= allowed:
                sys.exit("router rewrite touched bytes %s" % diff_at(f, g))
            q = Ether(g)
            ce = (q[IP].tos if IP in q else q[IPv6].tc) & 3
            if ce != 3 or (IP in q and not ip4_csum_ok(g[l3:l3 + 20])):
                sys.exit("router rewrite is not CE or has a bad IPv4 checksum")
            routed.append(g)
        common.write_pcap(path("router.pcap"),
                          [(r[0], r[1], g, len(g)) for r, g in zip(recs, routed)])
        rc, v, s = check(scalex_pcap, path("router.pcap"))
        expect(rc == 0 and s == (n, n, 0, 0),
               "router (ECN=CE, TTL-1 on %d packets): exit %d, summary %s" % (n, rc, s))

        # snaplen: a frame captured short cannot be judged by its missing bytes.
        cut = [(r[0], r[1], r[2], r[3]) for r in recs]
        sec, usec, data, wire = cut[i4]
        cut[i4] = (sec, usec, data[:len(data) - 100], wire)
        common.write_pcap(path("snaplen.pcap"), cut)
        rc, v, s = check(scalex_pcap, path("snaplen.pcap"))
        got = v.get(i4 + 1, ("",) * 5)[4]
        expect(rc == 1 and got == "truncated capture" and s == (n, n - 1, 1, 0),
               "snaplen: exit %d, frame %d verdict %r, summary %s" % (rc, i4 + 1, got, s))

        # fcs-uncaptured: only bytes past the IP datagram are missing.
        fcs = [(r[0], r[1], r[2], r[3] + 4) for r in recs]
        common.write_pcap(path("fcs.pcap"), fcs)
        rc, v, s = check(scalex_pcap, path("fcs.pcap"))
        expect(rc == 0 and s == (n, n, 0, 0),
               "fcs-uncaptured: exit %d, summary %s" % (rc, s))

        # non-roce
        others = [
            Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="192.0.2.2"),
            Ether() / IP(src="192.0.2.1", dst="192.0.2.53") / UDP(dport=53) /
            DNS(qd=DNSQR(qname="example.com")),
            Ether() / IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(dport=4791) /
            Raw(b"x" * 20),
        ]
        mixed = [(r[0], r[1], r[2], r[3]) for r in recs]
        for k, o in enumerate(others):
            mixed.insert(k * 7, (1700000000, 0, raw(o), len(raw(o))))
        common.write_pcap(path("mixed.pcap"), mixed)
        r = common.run([scalex_pcap, "check", path("mixed.pcap")])
        v, s = common.parse_check(r.stdout)
        skipped = sorted(x[4] for x in v.values() if x[4].startswith("skipped"))
        expect(r.returncode == 0 and s == (n, n, 0, 3) and
               skipped == ["skipped not_ip", "skipped not_roce", "skipped not_udp"],
               "non-roce: exit %d, summary %s, %s" % (r.returncode, s, skipped))

        # pcapng, written by the few lines in common.py
        common.write_pcapng(path("synth.pcapng"), recs)
        rc, v, s = check(scalex_pcap, path("synth.pcapng"), "--summary")
        expect(rc == 0 and s == (n, n, 0, 0), "pcapng: exit %d, summary %s" % (rc, s))

        # usage and I/O errors
        with open(path("garbage.pcap"), "wb") as g:
            g.write(b"this is not a capture file\n" * 4)
        common.write_pcap(path("raw-ip.pcap"), recs[:1], linktype=101)
        with open(path("synth.pcap"), "rb") as g:
            head = g.read(24 + 16 + 30)
        with open(path("cut-file.pcap"), "wb") as g:
            g.write(head)
        for args, what in [
            ([], "no command"),
            (["frobnicate"], "unknown command"),
            (["check"], "check without FILE"),
            (["check", "--bogus", path("synth.pcap")], "unknown option"),
            (["check", path("synth.pcap"), path("synth.pcap")], "two files"),
            (["check", path("missing.pcap")], "missing file"),
            (["check", path("garbage.pcap")], "not a capture"),
            (["check", path("raw-ip.pcap")], "not Ethernet"),
            (["check", path("cut-file.pcap")], "file cut mid-record"),
            (["synth"], "synth without FILE"),
            (["synth", path("x.pcapng"), "--pcapng"], "synth --pcapng"),
            (["synth", os.path.join(tmp, "no", "such", "dir.pcap")], "unwritable"),
        ]:
            r = common.run([scalex_pcap] + args)
            expect(r.returncode == 2 and r.stderr.strip() != "",
                   "%s: exit %d with a message on stderr" % (what, r.returncode))

    if failures:
        sys.exit("FAIL: %d of the checks above" % len(failures))
    print("PASS")


if __name__ == "__main__":
    main()
