# SPDX-License-Identifier: BSD-3-Clause
"""Helpers shared by the interop checks: run scalex-pcap, read and write
captures (a few lines of struct, so the checks do not trust libpcap or the
C code to tell them what a capture holds), skip when a tool is missing."""
import struct
import subprocess
import sys

SKIP = 77  # meson's exit code for a skipped test
LINKTYPE_ETHERNET = 1
PCAP_MAGIC_US = 0xA1B2C3D4


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def load_scapy():
    """Import scapy's Ethernet/IP/UDP layers and its RoCE module, or skip."""
    try:
        import scapy.all  # noqa: F401
        import scapy.contrib.roce  # noqa: F401
    except ImportError as e:
        skip("scapy is not importable by %s: %s" % (sys.executable, e))


def run(cmd, **kw):
    """Run @cmd, echo it and its output, return the CompletedProcess."""
    print("$ " + " ".join(cmd))
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    return r


def synth(scalex_pcap, path):
    """Write the sample capture to @path; return its frame count."""
    r = run([scalex_pcap, "synth", path])
    if r.returncode != 0:
        sys.exit("scalex-pcap synth failed with status %d" % r.returncode)
    return int(r.stdout.split()[1])


def read_pcap(path):
    """Records of a classic pcap file: (linktype, [(sec, usec, caplen_data, wirelen)])."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic == PCAP_MAGIC_US else ">"
    if struct.unpack(end + "I", data[:4])[0] != PCAP_MAGIC_US:
        raise ValueError("%s: not a microsecond pcap file" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0]
    recs, off = [], 24
    while off < len(data):
        sec, usec, caplen, wirelen = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        recs.append((sec, usec, data[off:off + caplen], wirelen))
        off += caplen
    return linktype, recs


def write_pcap(path, recs, linktype=LINKTYPE_ETHERNET):
    """Write records (sec, usec, data, wirelen) as a little-endian pcap."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", PCAP_MAGIC_US, 2, 4, 0, 0, 65535, linktype))
        for sec, usec, data, wirelen in recs:
            f.write(struct.pack("<IIII", sec, usec, len(data), wirelen))
            f.write(data)


def _pcapng_block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def write_pcapng(path, recs, linktype=LINKTYPE_ETHERNET):
    """Write records as pcapng: one section, one interface, enhanced packet blocks."""
    with open(path, "wb") as f:
        # Section header: byte-order magic, version 1.0, section length unknown.
        f.write(_pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        # Interface description: link type, snaplen; default resolution is 1 us.
        f.write(_pcapng_block(0x00000001, struct.pack("<HHI", linktype, 0, 65535)))
        for sec, usec, data, wirelen in recs:
            ts = sec * 1000000 + usec
            body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), wirelen)
            f.write(_pcapng_block(0x00000006, body + data))


def parse_check(stdout):
    """Per-packet lines of `scalex-pcap check`: {frame: (opcode, ip, psn, payload, verdict)}
    and the numbers of the summary line (roce, ok, bad, skipped)."""
    verdicts, summary = {}, None
    for line in stdout.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("checked "):
            w = line.replace(",", "").replace(":", "").split()
            summary = (int(w[1]), int(w[4]), int(w[6]), int(w[8]))
            continue
        f = line.split(None, 5)
        if len(f) >= 2 and f[1] == "skipped:":
            verdicts[int(f[0])] = ("-", "-", "-", "-", "skipped " + f[2])
        elif len(f) == 6:
            verdicts[int(f[0])] = tuple(f[1:])
    return verdicts, summary
