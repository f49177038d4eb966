#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The long-haul figures of docs/longhaul.md, from scalex-sim runs of the
# scenarios tests/sim/longhaul_test.c checks (gnuplot):
#   longhaul-incast.png  the WAN port's throughput and queue over time in the
#                        4:1 WAN incast: DCQCN longhaul and nic at RTT 5 ms,
#                        Swift at RTT 10 ms
#   longhaul-border.png  FCT CDF of the short intra-DC flows on the border
#                        leaf: no WAN traffic, WAN flows end to end, WAN flows
#                        through the gateways
# usage: tools/sim/longhaul-plots.sh [BUILD_DIR [OUT_DIR]]  (default: build docs/img)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
out=${2:-$here/../../docs/img}
sim=$build/tools/scalex-sim
ini=$here/../../tests/sim
command -v gnuplot >/dev/null || { echo "longhaul-plots.sh: gnuplot not found" >&2; exit 1; }
[ -x "$sim" ] || { echo "longhaul-plots.sh: $sim not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

series=(-q -s sim.series=1 -s sim.sample_us=1000)
"$sim" "${series[@]}" -o "$tmp/lh" -s transport.cc_preset=longhaul "$ini/lh_incast4.ini"
"$sim" "${series[@]}" -o "$tmp/nic" -s transport.cc_preset=nic "$ini/lh_incast4.ini"
"$sim" "${series[@]}" -o "$tmp/swift" "$ini/lh_swift10.ini"
for r in lh nic swift; do
	awk -F, 'NR > 1 && $2 == "b0>b1" { print $1 / 1000, $4, $3 / 1e6 }' \
		"$tmp/$r/queues.csv" > "$tmp/$r.dat"
done
gnuplot <<GP
set terminal pngcairo size 1000,700 noenhanced
set output "$out/longhaul-incast.png"
set multiplot layout 2,1 title "4:1 WAN incast into a 10 Gb/s WAN cable (port b0>b1)"
set ylabel "WAN throughput, Gb/s"; set grid; set yrange [0:11]
plot "$tmp/lh.dat" using 1:2 with lines lw 2 title "DCQCN longhaul, RTT 5 ms", \
     "$tmp/nic.dat" using 1:2 with lines lw 2 title "DCQCN nic, RTT 5 ms", \
     "$tmp/swift.dat" using 1:2 with lines lw 2 title "Swift, RTT 10 ms"
set xlabel "time, ms"; set ylabel "WAN port queue, MB"; set yrange [0:*]
plot "$tmp/lh.dat" using 1:3 with lines lw 2 title "DCQCN longhaul, RTT 5 ms", \
     "$tmp/nic.dat" using 1:3 with lines lw 2 title "DCQCN nic, RTT 5 ms", \
     "$tmp/swift.dat" using 1:3 with lines lw 2 title "Swift, RTT 10 ms"
unset multiplot
GP

# the border leaf: the short flows come from hosts 8..11
grep -v ' 12 200000000$' "$ini/lh_border.ini" > "$tmp/nowan.ini"
"$sim" -q -o "$tmp/none" "$tmp/nowan.ini"
"$sim" -q -o "$tmp/direct" -s gateway.enable=0 "$ini/lh_border.ini"
"$sim" -q -o "$tmp/gw" -s gateway.enable=1 "$ini/lh_border.ini"
for r in none direct gw; do
	awk -F, 'NR > 1 && $2 >= 8 && $2 <= 11 && $9 == "ok" { print $6 }' "$tmp/$r/flows.csv" |
		sort -g | awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; i++) print v[i], i / NR }' \
		> "$tmp/$r.cdf"
done
gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set output "$out/longhaul-border.png"
set title "100 short 64 KB flows into a host of the border leaf"
set xlabel "FCT, us"; set ylabel "CDF"; set logscale x; set grid; set key bottom right
plot "$tmp/none.cdf" using 1:2 with lines lw 2 title "no WAN traffic", \
     "$tmp/direct.cdf" using 1:2 with lines lw 2 title "6 WAN flows end to end", \
     "$tmp/gw.cdf" using 1:2 with lines lw 2 title "6 WAN flows through the gateways"
GP
echo "longhaul-plots.sh: $out/longhaul-incast.png $out/longhaul-border.png"
