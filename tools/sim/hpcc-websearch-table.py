#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Tables and plot data of tools/sim/hpcc-websearch.sh's runs.

usage: hpcc-websearch-table.py OUT JOBS WALL_S QUICK DURATION_US
Reads OUT/runs/NAME/{flows.csv,summary.json} for every line "workload load
pfc variant" of JOBS; writes OUT/results.csv, OUT/results.md and
OUT/plot-WORKLOAD-LOAD-pfcP.dat (slowdown p50/p99 by flow-size bucket).
Percentiles: nearest rank over the completed flows.
"""
import csv
import json
import math
import os
import sys

SHORT = 100_000    # short flows: below 100 KB (the HPCC paper's Fig. 11 split)
LONG = 1_000_000   # long flows: 1 MB and up
# flow-size buckets of the plots: upper ends, bytes
BUCKETS = [3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000,
           10_000_000, 100_000_000_000]


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    k = max(0, math.ceil(p / 100 * len(v)) - 1)
    return v[k]


def fmt(x, nd=2):
    return "-" if x != x else f"{x:.{nd}f}"


def kb(b):
    return "-" if b is None else f"{b / 1000:.0f}"


def main():
    out, jobs, wall, quick, duration = sys.argv[1:6]
    rows = []
    for line in open(jobs):
        wl, load, pfc, v = line.split()
        name = f"{wl}-{load}-pfc{pfc}-{v.replace(':', '-')}"
        d = os.path.join(out, "runs", name)
        flows = [r for r in csv.DictReader(open(os.path.join(d, "flows.csv")))]
        s = json.load(open(os.path.join(d, "summary.json")))
        ok = [r for r in flows if r["status"] == "ok"]
        sd = lambda lo, hi: [float(r["slowdown"]) for r in ok if lo <= int(r["bytes"]) < hi]
        short, long_ = sd(0, SHORT), sd(LONG, 1 << 62)
        hq = [float(r["host_queue_us"]) for r in ok if int(r["bytes"]) < SHORT]
        fab = s["fabric"]
        wall_s = open(os.path.join(out, "runs", name + ".wall")).read().split()[1]
        rows.append(dict(
            workload=wl, load=load, pfc=pfc, cc=v, flows=len(flows), completed=len(ok),
            short_p50=pct(short, 50), short_p95=pct(short, 95), short_p99=pct(short, 99),
            long_p50=pct(long_, 50), long_p99=pct(long_, 99),
            host_queue_p99_us=pct(hq, 99),
            queue_p99_fabric=fab["queue"]["fabric_p99_bytes"],
            queue_p99_worst=fab["queue"]["worst_port_p99_bytes"],
            pfc_pauses=fab["pfc"]["pauses"], drops=sum(fab["drops"].values()),
            wall_s=float(wall_s),
            buckets=[(pct([float(r["slowdown"]) for r in ok
                           if (BUCKETS[i - 1] if i else 0) <= int(r["bytes"]) < BUCKETS[i]], 50),
                      pct([float(r["slowdown"]) for r in ok
                           if (BUCKETS[i - 1] if i else 0) <= int(r["bytes"]) < BUCKETS[i]], 99))
                     for i in range(len(BUCKETS))]))
    keys = [k for k in rows[0] if k != "buckets"]
    with open(os.path.join(out, "results.csv"), "w") as f:
        w = csv.writer(f)
        w.writerow(keys)
        for r in rows:
            w.writerow([r[k] for k in keys])
    with open(os.path.join(out, "results.md"), "w") as f:
        mode = "quick (16 hosts)" if quick == "1" else "full (320 hosts)"
        f.write(f"Mode: {mode}, {duration} us of arrivals (and up to as long to drain), "
                f"{len(rows)} runs in {wall} s wall. Slowdown: nearest-rank percentiles over "
                "completed flows; short < 100 KB, long >= 1 MB; queue p99: over all switch "
                "ports and samples (fabric) and of the worst port; host q: short flows' p99 "
                "host queueing (us).\n")
        for wl in dict.fromkeys(r["workload"] for r in rows):
            f.write(f"\n#### {wl}\n\n")
            f.write("| load | PFC | CC | short p50 | p95 | p99 | long p50 | p99 | "
                    "queue p99 fabric / worst (KB) | PFC pauses | drops | completed | host q p99 |\n")
            f.write("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
            for r in rows:
                if r["workload"] != wl:
                    continue
                f.write(f"| {r['load']} | {'on' if r['pfc'] == '1' else 'off'} | {r['cc']} | "
                        f"{fmt(r['short_p50'])} | {fmt(r['short_p95'])} | {fmt(r['short_p99'])} | "
                        f"{fmt(r['long_p50'])} | {fmt(r['long_p99'])} | "
                        f"{kb(r['queue_p99_fabric'])} / {kb(r['queue_p99_worst'])} | "
                        f"{r['pfc_pauses']} | {r['drops']} | {r['completed']}/{r['flows']} | "
                        f"{fmt(r['host_queue_p99_us'], 1)} |\n")
    groups = {}
    for r in rows:
        groups.setdefault((r["workload"], r["load"], r["pfc"]), []).append(r)
    for (wl, load, pfc), rs in groups.items():
        with open(os.path.join(out, f"plot-{wl}-{load}-pfc{pfc}.dat"), "w") as f:
            f.write("# size " + " ".join(r["cc"] for r in rs) + "\n")
            for i, b in enumerate(BUCKETS):
                vals = []
                for r in rs:
                    vals += ["?" if x != x else f"{x:.3f}" for x in r["buckets"][i]]
                # the last bucket is open: plot it at 30 MB, WebSearch's largest
                f.write(f"{min(b, 30_000_000)} " + " ".join(vals) + "\n")


if __name__ == "__main__":
    main()
