#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Multipath benchmark (not a test; docs/multipath.md): on a full-bisection
# leaf-spine of 128 hosts (8 leaves x 16, 8 spines), for each path policy
# (flow, spray, flowlet, adaptive), each fabric state
#   permutation  all links healthy
#   degraded     every link of spine 0 at 25% of its rate
#   linkfail     the cable leaf 0 - spine 0 fails a quarter into the run and
#                the routing never learns it (only the hosts route around)
# and each host rate (100, 400, 800 Gb/s; spines at twice that, ECN
# thresholds and buffers scaled with the rate), two runs:
#   - a permutation of long flows, 2 ms at 100G (less at higher rates, the
#     same packets): window goodput / line rate, the switch queue p99,
#     spurious retransmissions (duplicates the receivers saw);
#   - WebSearch flows at 50% load, 1 ms at 100G: p99 FCT slowdown of the
#     flows <= 100 KB.
# Writes OUT/table.md, OUT/table.csv, and plots (goodput per policy and
# state, per-uplink load of the permutation runs) with gnuplot.
#
# usage: tools/bench/multipath.sh [BUILD_DIR] [OUT_DIR] [--quick]
#   --quick: 32 hosts (4 x 8, 4 spines), 100G only: a minute or two.
#   RATES="400 800" in the environment: only those host rates.
set -euo pipefail
build=${1:-build}
out=${2:-multipath-bench}
quick=${3:-}
sim="$build/tools/scalex-sim"
[ -x "$sim" ] || { echo "multipath.sh: $sim not built" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "multipath.sh: gnuplot not found" >&2; exit 1; }
mkdir -p "$out"

if [ "$quick" = "--quick" ]; then
	hpl=8; leaves=4; spines=4; rates=${RATES:-100}
else
	hpl=16; leaves=8; spines=8; rates=${RATES:-100 400 800}
fi
policies="flow spray flowlet adaptive"
states="permutation degraded linkfail"
cdf=$(cd "$(dirname "$0")/../data" && pwd)/websearch.cdf

# One INI for host rate $1 (Gb/s), fabric state $2, workload $3.
ini() {
	local r=$1 state=$2 wl=$3 k=$(( $1 / 100 )) l
	cat <<INI
[topology]
hosts_per_leaf = $hpl
leaves = $leaves
spines = $spines
host_rate_gbps = $r
fabric_rate_gbps = $(( 2 * r ))
host_delay_ns = 1000
fabric_delay_ns = 1000
[switch]
buffer_bytes = $(( 4000000 * k ))
ecn = 1
kmin_bytes = $(( 100000 * k ))
kmax_bytes = $(( 400000 * k ))
pmax = 0.2
[transport]
cc = dcqcn
cc_param = rpg_min_rate=100
reliability = sr
timeout_us = 500
INI
	if [ "$wl" = perm ]; then
		printf 'mtu = 4096\n[workload]\ntype = permutation\nflow_bytes = 1000000000\n'
		printf '[sim]\nduration_us = %d\nseed = 1\n' "$perm_us"
	else
		printf 'mtu = 1024\n[workload]\ntype = cdf\ncdf = %s\nload = 0.5\n' "$cdf"
		printf '[sim]\nduration_us = %d\nseed = 1\n' "$ws_us"
	fi
	printf '[fault]\n'
	case $state in
	degraded)
		for ((l = 0; l < leaves; l++)); do
			printf 'rate = l%d-s0 0 %d\n' "$l" $(( 2 * r / 4 ))
		done ;;
	linkfail)
		local at=$(( ws_us / 4 ))
		[ "$wl" = perm ] && at=$(( perm_us / 4 ))
		printf 'fail = l0-s0 %d\ndetect_us = 1000000\n' "$at" ;;
	esac
}

echo "# machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rate_gbps,state,policy,goodput_frac,queue_p99_bytes,spurious_retx,retx,short_fct_p99_slowdown,ws_completed" > "$out/table.csv"
for r in $rates; do
	for state in $states; do
		for p in $policies; do
			# The same number of packets per run at every rate.
			perm_us=$(( 200000 / r )); ws_us=$(( 100000 / r ))
			d="$out/$r-$state-$p"
			mkdir -p "$d"
			ini "$r" "$state" perm > "$d/perm.ini"
			ini "$r" "$state" ws > "$d/ws.ini"
			"$sim" -q -o "$d/perm" -s "transport.path=$p" "$d/perm.ini" > "$d/perm.log" 2>&1 ||
				{ cat "$d/perm.log" >&2; exit 1; }
			"$sim" -q -o "$d/ws" -s "transport.path=$p" "$d/ws.ini" > "$d/ws.log" 2>&1 ||
				{ cat "$d/ws.log" >&2; exit 1; }
			python3 - "$d" "$r" "$state" "$p" "$((hpl * leaves))" >> "$out/table.csv" <<'PY'
import csv, json, sys
d, r, state, p, hosts = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
pm = json.load(open(d + "/perm/summary.json"))
ws = json.load(open(d + "/ws/summary.json"))
share = 4096.0 / (4096 + 82 + 24)   # payload share of a full SR WRITE frame
frac = pm["window"]["goodput_gbps"] / (hosts * r * share)
sd = []
for f in csv.DictReader(open(d + "/ws/flows.csv")):
    if f["status"] == "ok" and int(f["bytes"]) <= 100000:
        sd.append(float(f["slowdown"]))
sd.sort()
p99 = sd[min(len(sd) - 1, int(0.99 * len(sd)))] if sd else float("nan")
m = pm["multipath"]
print("%g,%s,%s,%.3f,%d,%d,%d,%.2f,%d" % (r, state, p, frac, pm["window"]["queue"]["worst_port_p99_bytes"],
      m["spurious_retransmits"], m["retransmits"], p99, ws["flows"]["completed"]))
PY
			tail -1 "$out/table.csv"
		done
	done
done

python3 - "$out" <<'PY'
import csv, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(out + "/table.csv")))
with open(out + "/table.md", "w") as f:
    f.write("| host rate | fabric | policy | goodput / line rate | queue p99 | spurious retx (of retx) | short-flow FCT p99 slowdown |\n")
    f.write("| --- | --- | --- | --- | --- | --- | --- |\n")
    for x in rows:
        f.write("| %sG | %s | %s | %.1f%% | %.0f KB | %s (%s) | %s |\n" % (
            x["rate_gbps"], x["state"], x["policy"], 100 * float(x["goodput_frac"]),
            int(x["queue_p99_bytes"]) / 1000, x["spurious_retx"], x["retx"],
            x["short_fct_p99_slowdown"]))
print(open(out + "/table.md").read())
PY

# Plots: goodput per policy and fabric state (one panel per rate), and the
# load of every leaf uplink in each permutation run at the first rate.
for r in $rates; do
	for state in $states; do
		awk -F, -v r="$r" -v s="$state" 'NR > 1 && $1 == r && $2 == s { print $3, $4 }' \
			"$out/table.csv" > "$out/.g-$r-$state"
	done
	gnuplot <<GP
set terminal pngcairo size 900,500 noenhanced
set output "$out/goodput-${r}g.png"
set title "Permutation goodput / line rate, ${r}G hosts, $((hpl * leaves)) hosts"
set style data histograms; set style histogram clustered gap 1; set style fill solid 0.8
set yrange [0:1.05]; set grid y; set key top right
plot "$out/.g-$r-permutation" using 2:xtic(1) title "healthy", \
     "$out/.g-$r-degraded" using 2 title "spine 0 at 25%", \
     "$out/.g-$r-linkfail" using 2 title "l0-s0 failed"
GP
done
r=${rates%% *}
for state in $states; do
	plots=""
	for p in $policies; do
		plots="$plots${plots:+, }\"$out/$r-$state-$p/perm/uplinks.csv\" using 0:5 every ::1 with linespoints title \"$p\""
	done
	gnuplot <<GP
set terminal pngcairo size 900,500 noenhanced
set output "$out/uplinks-$state.png"
set title "Leaf uplink load, permutation, ${r}G, $state (uplink index = leaf * spines + spine)"
set datafile separator ","
set xlabel "uplink"; set ylabel "utilization (window)"; set yrange [0:1.1]; set grid
plot $plots
GP
done
rm -f "$out"/.g-*
echo "wrote $out/table.md, $out/table.csv, $out/goodput-*.png, $out/uplinks-*.png"
