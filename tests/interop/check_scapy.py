#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""ICRC interop: every frame of a `scalex-pcap synth` capture carries the ICRC
that independent implementations compute.

IPv4: scapy.contrib.roce (BTH.compute_icrc) and tests/interop/icrc_ref.py must
both agree with the stored ICRC. IPv6 (which scapy does not cover):
icrc_ref.py must agree. When tests/ref/icrc_ref.py (written separately for
the known-answer vectors) is present, it must agree on every frame too. 100% agreement is required, over a non-empty set of
both families, and a corrupted packet must be seen to disagree.

usage: check_scapy.py SCALEX_PCAP
"""
import importlib.util
import os
import sys
import tempfile

import common
import icrc_ref


def shared_ref():
    """tests/ref/icrc_ref.py, the project's other ICRC reference, if present."""
    path = os.path.join(os.environ.get("SCALEX_SOURCE_ROOT", ""), "tests", "ref",
                        "icrc_ref.py")
    if not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location("shared_icrc_ref", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    common.load_scapy()
    from scapy.layers.l2 import Ether
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.contrib.roce import BTH

    with tempfile.TemporaryDirectory(prefix="sx-interop-") as tmp:
        cap = os.path.join(tmp, "synth.pcap")
        n_frames = common.synth(sys.argv[1], cap)
        _, recs = common.read_pcap(cap)
    if len(recs) != n_frames:
        sys.exit("capture holds %d records, synth reported %d" % (len(recs), n_frames))

    v4 = {"n": 0, "scapy": 0, "ref": 0}
    v6 = {"n": 0, "ref": 0}
    shared = shared_ref()
    shared_agree = 0
    first_v4 = None
    for idx, (_, _, data, _) in enumerate(recs, 1):
        p = Ether(data)
        if UDP not in p or p[UDP].dport != 4791 or BTH not in p:
            sys.exit("frame %d: scapy does not see RoCEv2: %s" % (idx, p.summary()))
        l3 = icrc_ref.ip_datagram(data)
        stored = icrc_ref.stored_icrc(l3)
        ref_ok = icrc_ref.icrc(l3) == stored
        if shared is not None:
            # Synth frames end with the ICRC (no Ethernet trailer), as it expects.
            shared_agree += shared.icrc(data) == stored
        if IP in p:
            v4["n"] += 1
            scapy_icrc = int.from_bytes(p[BTH].compute_icrc(None), "little")
            v4["scapy"] += scapy_icrc == stored
            v4["ref"] += ref_ok
            if scapy_icrc != stored or not ref_ok:
                print("frame %d: IPv4 ICRC stored %08x scapy %08x ref %08x: %s" %
                      (idx, stored, scapy_icrc, icrc_ref.icrc(l3), p.summary()))
            if first_v4 is None:
                first_v4 = data
        elif IPv6 in p:
            v6["n"] += 1
            v6["ref"] += ref_ok
            if not ref_ok:
                print("frame %d: IPv6 ICRC stored %08x ref %08x: %s" %
                      (idx, stored, icrc_ref.icrc(l3), p.summary()))

    def pct(a, b):
        return 100.0 * a / b if b else 0.0

    print("IPv4: %d packets; scapy ICRC agrees on %d (%.2f%%), reference on %d (%.2f%%)" %
          (v4["n"], v4["scapy"], pct(v4["scapy"], v4["n"]), v4["ref"],
           pct(v4["ref"], v4["n"])))
    print("IPv6: %d packets; reference ICRC agrees on %d (%.2f%%)" %
          (v6["n"], v6["ref"], pct(v6["ref"], v6["n"])))

    if shared is not None:
        print("tests/ref/icrc_ref.py agrees on %d of %d" % (shared_agree, len(recs)))

    # Negative control: one flipped bit must change what both references compute.
    bad = bytearray(first_v4)
    bad[len(bad) - 5] ^= 0x01  # last byte before the ICRC (synth frames have no trailer)
    p = Ether(bytes(bad))
    l3 = icrc_ref.ip_datagram(bytes(bad))
    control = (int.from_bytes(p[BTH].compute_icrc(None), "little") != icrc_ref.stored_icrc(l3)
               and icrc_ref.icrc(l3) != icrc_ref.stored_icrc(l3))
    print("negative control (one bit flipped): %s" % ("detected" if control else "MISSED"))

    total = v4["n"] + v6["n"]
    agree = v4["scapy"] + v6["ref"]
    print("ICRC agreement (scapy on IPv4, reference on IPv6): %d/%d (%.2f%%)" %
          (agree, total, pct(agree, total)))
    if v4["n"] == 0 or v6["n"] == 0:
        sys.exit("FAIL: no IPv4 or no IPv6 RoCE packets were checked")
    if v4["scapy"] != v4["n"] or v4["ref"] != v4["n"] or v6["ref"] != v6["n"] or \
       (shared is not None and shared_agree != len(recs)):
        sys.exit("FAIL: ICRC disagreement")
    if not control:
        sys.exit("FAIL: a corrupted packet was not detected by the references")
    print("PASS")


if __name__ == "__main__":
    main()
