#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""scalex-tune over a small DCQCN grid (rpg_time_reset x rpg_ai_rate) on a
2-flow and an incast scenario: locally (process pool), then the same grid
through GNU parallel on localhost (--sshloginfile with ':'), then as a Slurm
array script. The table, the heatmaps and the best setting exist; the two
runs' results are identical; the table's numbers are the summaries' own
(read here independently); the sbatch script covers every point."""
import argparse
import csv
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--tune", required=True)
ap.add_argument("--sim", required=True)
ap.add_argument("--scenarios", nargs=2, required=True)
a = ap.parse_args()


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def tune(out, *extra):
    cmd = [a.tune, "run", "-o", out, "--sim", a.sim,
           "--scenario", a.scenarios[0], "--scenario", a.scenarios[1],
           "--grid", "rpg_time_reset=55,300", "--grid", "rpg_ai_rate=5,50",
           "--objective", "min:p99_slowdown_short"] + list(extra)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        fail("%s: rc %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p.stdout


work = tempfile.mkdtemp(prefix="sx-tune-test-")
try:
    local, par, slurm = (os.path.join(work, d) for d in ("local", "parallel", "slurm"))
    tune(local, "--jobs", "2")
    login = os.path.join(work, "hosts")
    with open(login, "w") as f:
        f.write(":\n")  # GNU parallel: ':' is this machine
    tune(par, "--engine", "parallel", "--sshloginfile", login, "--jobs", "2")

    for f in ("results.csv", "results.md", "best.txt"):
        if not filecmp.cmp(os.path.join(local, f), os.path.join(par, f), shallow=False):
            fail("%s differs between the local and the GNU parallel run" % f)
    with open(os.path.join(local, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    if len(rows) != 8:
        fail("want 8 rows (2 scenarios x 2 x 2), got %d" % len(rows))
    plan = json.load(open(os.path.join(local, "plan.json")))
    for r in rows:
        s = json.load(open(os.path.join(local, "points", r["point"], "summary.json")))
        q = s["window"]["queue"]["worst_port_p99_bytes"]  # sim/report.c's name
        if float(r["queue_p99_bytes"]) != float(q):
            fail("point %s: queue_p99_bytes %s, summary says %s" % (r["point"],
                 r["queue_p99_bytes"], q))
        short = [b for b in s["fct_slowdown"] if b["bucket"] != "all" and b["flows"] > 0][0]
        if abs(float(r["p99_slowdown_short"]) - short["slowdown_p99"]) > 1e-3 * short["slowdown_p99"]:
            fail("point %s: p99_slowdown_short %s, summary says %s" % (
                r["point"], r["p99_slowdown_short"], short["slowdown_p99"]))
        p = plan["points"][int(r["point"])]
        if [r["rpg_time_reset"], r["rpg_ai_rate"]] != p["values"]:
            fail("point %s: its grid values" % r["point"])
        # The point really ran with its values.
        log = open(os.path.join(local, "points", r["point"], "log.txt")).readline()
        for n in ("rpg_time_reset", "rpg_ai_rate"):
            if "--cc-param %s=%s" % (n, r[n]) not in log:
                fail("point %s ran without %s=%s: %s" % (r["point"], n, r[n], log))
    if len({tuple(r[m] for m in ("utilization", "goodput_gbps")) for r in rows}) < 3:
        fail("the grid changed nothing: every point has the same results")
    md = open(os.path.join(local, "results.md")).read()
    for s in ("## tune-2flow", "## tune-incast", "Best for tune-2flow:", "Best overall"):
        if s not in md:
            fail("results.md has no %r" % s)
    # The best setting is the minimum of the objective (computed here).
    for scen in ("tune-2flow", "tune-incast"):
        sr = [r for r in rows if r["scenario"] == scen and r["p99_slowdown_short"]]
        b = min(sr, key=lambda r: float(r["p99_slowdown_short"]))
        if "Best for %s: `rpg_time_reset=%s`, `rpg_ai_rate=%s`" % (
                scen, b["rpg_time_reset"], b["rpg_ai_rate"]) not in md:
            fail("results.md names another best setting for %s" % scen)
    for scen in ("tune-2flow", "tune-incast"):
        for m in ("p99_slowdown_short", "utilization", "queue_p99_bytes", "drops"):
            png = os.path.join(local, "heatmap-%s-%s.png" % (scen, m))
            with open(png, "rb") as f:
                if f.read(8) != b"\x89PNG\r\n\x1a\n":
                    fail("%s is not a PNG" % png)

    out = tune(slurm, "--engine", "slurm")
    sb = open(os.path.join(slurm, "tune.sbatch")).read()
    if "#SBATCH --array=0-7" not in sb or "point %s" % slurm not in sb:
        fail("tune.sbatch:\n" + sb)
    if "sbatch --parsable" not in out:
        fail("no submit command printed: " + out)
    print("tune: 8 points local and through GNU parallel, identical results; "
          "tables, 8 heatmaps, best setting; sbatch array 0-7")
finally:
    shutil.rmtree(work, ignore_errors=True)
