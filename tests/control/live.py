#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The control plane of a running scalex-perf pair (two processes over memif).

--check rate:      the client's fixed rate is changed live, once through
                   scalex-ctl and once through the raw socket; the CC trace
                   (--trace CSV) shows every event after each change at the new
                   rate, the QP's measured throughput follows (never above the
                   set rate, clearly higher after the raise), and the run ends
                   with every completion, no retransmit and no timeout.
--check prom:      `scalex-ctl stats --prom` and a scrape of --prom-port both
                   pass `promtool check metrics` and carry the QP's counters.
--check telemetry: DPDK's own dpdk-telemetry.py lists the /scalex/ commands
                   and reads parameters, QPs and counters through them; then
                   `scalex-ctl capture start|stop` takes a pcapng capture of
                   the running flow that scalex-pcap checks frame by frame.

Both processes and every file they made are removed at the end, pass or fail.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

MSG = 4096


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


class Pair:
    """scalex-perf write_bw server and client; the client is the sender."""

    def __init__(self, a, work, duration, rate_gbps, extra_client=()):
        self.a = a
        self.work = work
        port = 20000 + os.getpid() % 20000
        self.memif = os.path.join(work, "memif.sock")
        common = ["write_bw", "--boot-port", str(port), "-s", str(MSG), "-D", str(duration),
                  "--cc", "fixed", "--cc-param", "rate_gbps=%g" % rate_gbps,
                  "--tx-depth", "16", "--qp-timeout", "1000000"]
        env = dict(os.environ, SCALEX_CTL_DIR=work)
        self.trace = os.path.join(work, "trace.csv")
        self.json = os.path.join(work, "client.json")
        self.srv_log = open(os.path.join(work, "server.log"), "w")
        self.cli_log = open(os.path.join(work, "client.log"), "w")
        self.srv = subprocess.Popen(
            [a.perf] + common + ["--server", "--dev",
                                 "net_memif0,role=server,socket=" + self.memif],
            stdout=self.srv_log, stderr=subprocess.STDOUT, env=env)
        time.sleep(0.3)
        self.cli = subprocess.Popen(
            [a.perf] + common + ["--connect", "127.0.0.1", "--dev",
                                 "net_memif0,role=client,socket=" + self.memif,
                                 "--trace", self.trace, "--json", self.json]
            + list(extra_client),
            stdout=self.cli_log, stderr=subprocess.STDOUT, env=env)
        self.sock = os.path.join(work, "scalex-%d.sock" % self.cli.pid)
        self.env = env
        deadline = time.time() + 20
        while not os.path.exists(self.sock):
            if time.time() > deadline or self.cli.poll() is not None:
                self.log_and_fail("the client's control socket did not appear")
            time.sleep(0.05)
        self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.conn.connect(self.sock)
        self.rbuf = b""

    def ask(self, req):
        self.conn.sendall((json.dumps(req) + "\n").encode())
        while b"\n" not in self.rbuf:
            chunk = self.conn.recv(65536)
            if not chunk:
                fail("control socket closed")
            self.rbuf += chunk
        line, self.rbuf = self.rbuf.split(b"\n", 1)
        return json.loads(line)

    def qp_tx_bytes(self):
        r = self.ask({"cmd": "stats"})
        if not r.get("ok"):
            return None
        qps = r["stats"].get("qp", [])
        return qps[0]["tx_bytes"] if qps else 0

    def ctl(self, *args, check=True):
        p = subprocess.run([self.a.ctl, "--pid", str(self.cli.pid)] + list(args),
                           capture_output=True, text=True, env=self.env, timeout=30)
        if check and p.returncode != 0:
            self.log_and_fail("scalex-ctl %s: rc %d: %s" % (" ".join(args), p.returncode,
                                                           p.stderr))
        return p

    def wait(self):
        rc = [self.cli.wait(timeout=60), self.srv.wait(timeout=60)]
        self.srv_log.close()
        self.cli_log.close()
        return rc

    def log_and_fail(self, msg):
        self.stop()
        for f in ("server.log", "client.log"):
            with open(os.path.join(self.work, f)) as fh:
                sys.stderr.write("---- %s\n%s" % (f, fh.read()[-3000:]))
        fail(msg)

    def stop(self):
        for p in (self.cli, self.srv):
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in (self.cli, self.srv):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for p in (self.cli, self.srv):  # EAL runtime dirs a killed process left
            shutil.rmtree("/var/run/dpdk/scalex-perf-%d" % p.pid, ignore_errors=True)


def window(pair, secs):
    """Gb/s of the QP over the next secs seconds."""
    b0, t0 = pair.qp_tx_bytes(), time.monotonic()
    time.sleep(secs)
    b1, t1 = pair.qp_tx_bytes(), time.monotonic()
    return (b1 - b0) * 8 / (t1 - t0) / 1e9


def check_rate(a, work):
    lo, hi = 0.01, 0.2  # Gb/s: 305 and 6100 messages/s of 4 KiB
    pair = Pair(a, work, 8, lo)  # room for a slow (sanitizer) build
    deadline = time.time() + 20
    while not pair.qp_tx_bytes():
        if time.time() > deadline:
            pair.log_and_fail("no traffic")
        time.sleep(0.05)
    time.sleep(0.2)
    bw_lo = window(pair, 1.0)
    t_set1 = time.monotonic_ns()
    out = pair.ctl("param", "set", "rate_gbps=%g" % hi).stdout
    if "0.01 -> 0.2" not in out:
        pair.log_and_fail("scalex-ctl said %r" % out)
    time.sleep(0.2)
    bw_hi = window(pair, 1.0)
    t_set2 = time.monotonic_ns()
    r = pair.ask({"cmd": "param.set", "name": "cc.rate_gbps", "value": lo})
    t_rep2 = time.monotonic_ns()
    if not r.get("ok"):
        pair.log_and_fail("raw set: %r" % r)
    time.sleep(0.2)
    bw_lo2 = window(pair, 1.0)
    # Refused values change nothing.
    p = pair.ctl("param", "set", "rate_gbps=-1", check=False)
    if p.returncode != 1 or "outside" not in p.stderr:
        pair.log_and_fail("a negative rate was not refused clearly: %r" % p.stderr)
    p = pair.ctl("param", "set", "rate_gbs=1", check=False)
    if p.returncode != 1 or "no such parameter" not in p.stderr:
        pair.log_and_fail("an unknown name was not refused clearly: %r" % p.stderr)
    if pair.ask({"cmd": "param.get", "name": "rate_gbps"})["value"] != lo:
        pair.log_and_fail("a refused set changed the value")
    rc = pair.wait()
    if rc != [0, 0]:
        pair.log_and_fail("scalex-perf exit status client %d server %d" % tuple(rc))
    counters = json.load(open(pair.json))["counters"]
    # A tail-loss probe (RFC 8985 7) resends the last packet when no ACK
    # came for 2 SRTT (at least 1 ms): a descheduled peer on a loaded
    # machine sets one off without any loss. Only the other resends and
    # timeouts mean a packet was lost.
    lost = counters["qp.retransmits"] - counters.get("qp.tlp_probes", 0)
    if lost or counters["qp.timeouts"]:
        fail("retransmits %d (%d tail-loss probes) timeouts %d: a packet was lost" % (
            counters["qp.retransmits"], counters.get("qp.tlp_probes", 0),
            counters["qp.timeouts"]))

    # The trace: every event carries the rate in force at its time.
    events = []
    with open(pair.trace) as f:
        next(f)
        for line in f:
            t, qpn, ev, rate, _, _ = line.strip().split(",")
            events.append((int(t), ev, int(rate)))
    params = [e for e in events if e[1] == "param"]
    if len(params) != 2:
        fail("want 2 'param' events in the trace, got %d" % len(params))
    t_p1, t_p2 = params[0][0], params[1][0]
    if not t_set1 <= t_p1 < t_set2 <= t_p2:
        fail("param events at the wrong times")
    # In trace order: each 'param' event switches the rate every later
    # event must carry (events of the same poll round share its time).
    want, nparam = lo, 0
    for t, ev, rate in events:
        if ev == "param":
            nparam += 1
            want = hi if nparam == 1 else lo
        if ev == "init":
            continue
        if rate != int(want * 1e9) and not (ev == "param"):
            fail("%s at %d: rate %d, want %d" % (ev, t, rate, want * 1e9))
    after1 = [e for e in events if e[0] > t_p1 and e[1] == "ack"]
    if not after1:
        fail("no ack after the first change")
    # Throughput: never above the set rate (pacing), and it follows a raise.
    if bw_lo > lo * 1.25 or bw_lo2 > lo * 1.25:
        fail("%.4f / %.4f Gb/s at a %.2f Gb/s setting" % (bw_lo, bw_lo2, lo))
    if bw_hi < 2 * bw_lo or bw_hi > hi * 1.25:
        fail("raised to %.2f Gb/s: %.4f Gb/s after, %.4f before" % (hi, bw_hi, bw_lo))
    print("rate: %.4f Gb/s at %.2f, %.4f at %.2f, %.4f at %.2f; %d events checked" % (
        bw_lo, lo, bw_hi, hi, bw_lo2, lo, len(events)))
    print("latency: scalex-ctl invoked -> engine applied %.0f us; "
          "raw socket request -> applied %.0f us (reply after %.0f us)" % (
              (t_p1 - t_set1) / 1e3, (t_p2 - t_set2) / 1e3, (t_rep2 - t_set2) / 1e3))
    print("no loss: %d packets, 0 retransmits but %d tail-loss probes, 0 timeouts, "
          "both exits 0" % (counters["qp.tx_pkts"], counters.get("qp.tlp_probes", 0)))


def promtool_ok(a, text, what):
    p = subprocess.run([a.promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    if p.returncode != 0:
        fail("promtool on %s: %s%s" % (what, p.stdout, p.stderr))
    m = re.search(r'^scalex_qp_tx_pkts_total\{qpn="(\d+)"\} (\d+)$', text, re.M)
    if not m or int(m.group(2)) == 0:
        fail("%s: no QP tx_pkts counter" % what)
    for name in ("scalex_cc_rate_bps", "scalex_port_tx_frames_total"):
        if not re.search("^# TYPE %s " % name, text, re.M):
            fail("%s: no %s" % (what, name))


def check_prom(a, work):
    # Long enough for a loaded machine; stopped (SIGINT) once checked.
    pair = Pair(a, work, 30, 0.05, extra_client=["--prom-port", "0"])
    deadline = time.time() + 20
    while not pair.qp_tx_bytes():
        if time.time() > deadline:
            pair.log_and_fail("no traffic")
        time.sleep(0.05)
    text = pair.ctl("stats", "--prom").stdout
    promtool_ok(a, text, "scalex-ctl stats --prom")
    # watch: one row per QP with the rates of the interval.
    w = pair.ctl("watch", "--count", "1", "--interval", "0.5").stdout.splitlines()
    if len(w) != 2 or w[0].split()[:4] != ["qpn", "tx_Gbps", "rx_Gbps", "cc_Gbps"]:
        pair.log_and_fail("watch printed %r" % w)
    row = w[1].split()
    if float(row[1]) <= 0 or float(row[1]) > 0.05 * 1.25 or float(row[3]) != 0.05:
        pair.log_and_fail("watch row %r: want 0 < tx <= the fixed 0.05 Gb/s" % row)
    with open(os.path.join(work, "client.log")) as f:
        m = re.search(r"prometheus endpoint (http://127\.0\.0\.1:\d+/metrics)", f.read())
    if not m:
        pair.log_and_fail("no endpoint line from --prom-port 0")
    with urllib.request.urlopen(m.group(1), timeout=10) as r:
        ctype = r.headers.get("Content-Type", "")
        scraped = r.read().decode()
    if not ctype.startswith("text/plain; version=0.0.4"):
        fail("Content-Type %r" % ctype)
    promtool_ok(a, scraped, "the scrape of " + m.group(1))
    try:
        urllib.request.urlopen(m.group(1).replace("/metrics", "/nothing"), timeout=10)
        fail("/nothing answered 200")
    except urllib.error.HTTPError as e:
        if e.code != 404:
            fail("/nothing: %d" % e.code)
    pair.stop()
    print("prom: scalex-ctl stats --prom (%d lines) and a scrape of %s pass promtool" %
          (text.count("\n"), m.group(1)))


def check_telemetry(a, work):
    pair = Pair(a, work, 30, 0.05)  # stopped (SIGINT) once checked
    deadline = time.time() + 20
    while not pair.qp_tx_bytes():
        if time.time() > deadline:
            pair.log_and_fail("no traffic")
        time.sleep(0.05)
    qpn = pair.ask({"cmd": "qp.list"})["qps"][0]["qpn"]
    cmds = "/\n/scalex/params\n/scalex/qps\n/scalex/qp,%d\n/scalex/port\n" % qpn
    # DPDK's telemetry socket has a short listen backlog: on a loaded
    # machine a connect may be refused; dpdk-telemetry.py then says so.
    for attempt in range(5):
        p = subprocess.run([a.telemetry, "-f", "scalex-perf-%d" % pair.cli.pid], input=cmds,
                           capture_output=True, text=True, timeout=30)
        if "Error connecting" not in p.stdout:
            break
        time.sleep(0.2)
    replies = {}
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            replies.update(json.loads(line))
    listed = replies.get("/", [])
    for c in ("/scalex/params", "/scalex/qps", "/scalex/qp", "/scalex/port"):
        if c not in listed:
            pair.log_and_fail("dpdk-telemetry.py does not list %s: %s %s" % (c, p.stdout,
                                                                            p.stderr))
    if float(replies["/scalex/params"]["cc"]["rate_gbps"]) != 0.05:
        fail("/scalex/params: %r" % replies["/scalex/params"])
    if replies["/scalex/qps"] != [qpn]:
        fail("/scalex/qps: %r" % replies["/scalex/qps"])
    qp = replies["/scalex/qp"]
    if qp["qp"].get("tx_pkts", 0) <= 0 or qp["cc"].get("rate_bps") != 50000000:
        fail("/scalex/qp,%d: %r" % (qpn, qp))
    if replies["/scalex/port"]["port"].get("tx_frames", 0) <= 0:
        fail("/scalex/port: %r" % replies["/scalex/port"])
    # Capture on demand, on the running flow.
    pcap = os.path.join(work, "live.pcapng")
    out = pair.ctl("capture", "start", pcap).stdout
    if "capturing into" not in out:
        pair.log_and_fail("capture start: %r" % out)
    p = pair.ctl("capture", "start", pcap + "2", check=False)
    if p.returncode != 1 or "already" not in p.stderr:
        pair.log_and_fail("a second capture was not refused: %r" % p.stderr)
    time.sleep(0.5)
    pair.ctl("capture", "stop")
    p = pair.ctl("capture", "stop", check=False)
    if p.returncode != 1 or "no capture" not in p.stderr:
        pair.log_and_fail("stopping twice was not refused: %r" % p.stderr)
    pair.stop()
    p = subprocess.run([a.pcap, "check", pcap, "--quiet"], capture_output=True, text=True,
                       timeout=60)
    m = re.search(r"(\d+) RoCE", p.stdout + p.stderr)
    if p.returncode != 0 or not m or int(m.group(1)) == 0:
        fail("scalex-pcap check of the capture: rc %d: %s%s" % (p.returncode, p.stdout,
                                                                p.stderr))
    print("telemetry: dpdk-telemetry.py lists and reads %d /scalex commands" %
          sum(1 for c in listed if c.startswith("/scalex/")))
    print("capture: %s RoCE frames captured on demand, all parse" % m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--perf", required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--promtool", default=shutil.which("promtool"))
    ap.add_argument("--telemetry", default="/usr/bin/dpdk-telemetry.py")
    ap.add_argument("--pcap", default="scalex-pcap")
    ap.add_argument("--check", choices=["rate", "prom", "telemetry"], required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sx-ctl-live-")
    try:
        {"rate": check_rate, "prom": check_prom, "telemetry": check_telemetry}[a.check](a, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
