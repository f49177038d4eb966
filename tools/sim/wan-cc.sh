#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Goodput of one long-haul flow against RTT and loss, for each congestion
# control (docs/longhaul.md, "Goodput by CC"): the 100 Gb/s WAN of
# tests/sim/wan_bdp.ini (two datacenters, 7 links per path), a window of
# twice the BDP, selective repeat, MTU 4096; one 2 GB WRITE at 10 ms RTT
# and two back-to-back 2 GB WRITEs at 50 ms, loss 0, 1e-4 and 1e-3 per path (spread over
# the 7 links). CCs: none; DCQCN's `longhaul` preset; Swift set up for the
# WAN: its target 0.5 ms above the base RTT (the fabric target is
# microseconds: below the base RTT it would cut without end), its window
# starting at one BDP and allowed up to the QP's window (the defaults, 16
# and 1024 packets, cap it at 3.3 Gb/s at 10 ms), additive increase 64.
# Goodput = bytes / (FCT - one RTT), as a share of the 100 Gb/s link
# (headers cap it at 97.5%), the measure of sim-wan_bdp's whole transfer.
#
# usage: tools/sim/wan-cc.sh [--build DIR] [--out DIR] [--jobs N]
# Writes OUT/wan-cc.md (the table), OUT/wan-cc.dat and OUT/wan-cc.png.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build
out=wan-cc
jobs=$(nproc)
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$(cd "${2:?--build DIR}" && pwd); shift ;;
	--out) out=${2:?--out DIR}; shift ;;
	--jobs) jobs=${2:?--jobs N}; shift ;;
	*) echo "usage: $0 [--build DIR] [--out DIR] [--jobs N]" >&2; exit 2 ;;
	esac
	shift
done
sim=$build/tools/scalex-sim
[ -x "$sim" ] || { echo "wan-cc.sh: no $sim (build first)" >&2; exit 1; }
mkdir -p "$out/runs"
out=$(cd "$out" && pwd)
cp "$sim" "$out/scalex-sim"
# The scenario without its workload: each run adds its one flow.
grep -v '^flow' "$root/tests/sim/wan_bdp.ini" > "$out/base.ini"

: > "$out/jobs.txt"
for rtt in 10 50; do
	for loss in 0 0.000014 0.00014; do
		for cc in none dcqcn:longhaul swift; do
			echo "$rtt $loss $cc" >> "$out/jobs.txt"
		done
	done
done

run_one() {
	local rtt=$1 loss=$2 v=$3 cc=${3%%:*} name dir win
	name="rtt$rtt-loss$loss-${v/:/-}"
	dir=$out/runs/$name
	win=65536
	[ "$rtt" = 50 ] && win=524288
	set -- -q -o "$dir" -s "wan.wan_delay_us=$((rtt * 500))" -s "transport.window_pkts=$win" \
		-s "fault.loss=$loss" -s "transport.cc=$cc" -s "workload.flow=0 5 2000000000"
	# 4 GB at 50 ms: a WRITE carries at most 2 GiB, so two back to back
	[ "$rtt" = 50 ] && set -- "$@" -s "workload.flow=0 5 2000000000"
	case $v in
	dcqcn:longhaul) set -- "$@" -s transport.cc_preset=longhaul ;;
	swift) set -- "$@" -s transport.cc_preset=paper \
		-s "transport.cc_param=base_target=$((rtt * 1000 + 500))" \
		-s transport.cc_param=ai=64 -s "transport.cc_param=init_cwnd=$((win / 2))" \
		-s "transport.cc_param=max_cwnd=$win" -s transport.cc_param=loss_mdf=0 \
		-s transport.cc_param=packet_bytes=4096 ;;
	esac
	"$out/scalex-sim" "$@" "$out/base.ini" > "$dir.log" 2>&1 || {
		echo "wan-cc.sh: $name failed:" >&2; tail -n 5 "$dir.log" >&2; return 1; }
}
export -f run_one
export out
xargs -P "$jobs" -L 1 bash -c 'run_one "$@"' _ < "$out/jobs.txt"

python3 - "$out" <<'PY'
import csv, sys
out = sys.argv[1]
rows = [l.split() for l in open(out + "/jobs.txt")]
ccs = ["none", "dcqcn:longhaul", "swift"]
res = {}
for rtt, loss, cc in rows:
    d = "%s/runs/rtt%s-loss%s-%s" % (out, rtt, loss, cc.replace(":", "-"))
    fl = list(csv.DictReader(open(d + "/flows.csv")))
    if any(f["status"] != "ok" or not f["fct_us"] for f in fl):
        res[(rtt, loss, cc)] = None
        continue
    t0 = min(float(f["start_us"]) for f in fl)
    t1 = max(float(f["start_us"]) + float(f["fct_us"]) for f in fl)
    t_us = t1 - t0 - float(rtt) * 1000
    res[(rtt, loss, cc)] = 100.0 * sum(int(f["bytes"]) for f in fl) * 8 / (t_us * 1e3) / 100.0
per_path = {"0": "0", "0.000014": "1e-4", "0.00014": "1e-3"}
with open(out + "/wan-cc.md", "w") as md:
    md.write("| RTT | loss per path | " + " | ".join(ccs) + " |\n")
    md.write("|---|---|" + "---|" * len(ccs) + "\n")
    for rtt in ("10", "50"):
        for loss in ("0", "0.000014", "0.00014"):
            cells = ["%.1f%%" % res[(rtt, loss, c)] if res[(rtt, loss, c)] is not None
                     else "unfinished" for c in ccs]
            md.write("| %s ms | %s | %s |\n" % (rtt, per_path[loss], " | ".join(cells)))
with open(out + "/wan-cc.dat", "w") as dat:
    dat.write("# case " + " ".join(ccs) + "\n")
    for rtt in ("10", "50"):
        for loss in ("0", "0.000014", "0.00014"):
            dat.write('"%sms,%s" %s\n' % (rtt, per_path[loss], " ".join(
                "%.2f" % res[(rtt, loss, c)] if res[(rtt, loss, c)] is not None else "0"
                for c in ccs)))
print(open(out + "/wan-cc.md").read())
PY
gnuplot <<GP
set terminal pngcairo size 900,420 noenhanced
set output "$out/wan-cc.png"
set title "one long-haul flow over a 100 Gb/s WAN: goodput by RTT, loss and CC"
set style data histogram; set style histogram cluster gap 1; set style fill solid 0.8
set yrange [0:100]; set ylabel "goodput, % of the link"; set grid y; set key top right
plot "$out/wan-cc.dat" using 2:xtic(1) title "none", "" using 3 title "dcqcn longhaul", "" using 4 title "swift (WAN set-up)"
GP
echo "wan-cc.sh: $out/wan-cc.md $out/wan-cc.png"
