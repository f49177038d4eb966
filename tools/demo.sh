#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The demo: what scalex does end to end today. Usage: tools/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
out=out
mkdir -p "$out"

echo "== 1. synthesize RoCEv2 frames: every opcode, IPv4/IPv6, pads, ECN, DSCP"
"$build/tools/scalex-pcap" synth "$out/demo.pcap"

echo
echo "== 2. scalex-pcap check: ICRC and header sanity of every packet"
"$build/tools/scalex-pcap" check --summary --quiet "$out/demo.pcap"

echo
echo "== 3. tshark's independent dissection (first packets of each kind)"
tshark -r "$out/demo.pcap" --disable-protocol rpcordma -T fields -E header=y \
	-e frame.number -e ip.version -e ip.dsfield.ecn -e infiniband.bth.opcode \
	-e infiniband.bth.psn -e infiniband.bth.destqp -e _ws.malformed \
	-Y 'frame.number <= 8 || infiniband.bth.opcode == 0x81' 2>/dev/null | head -n 16
malformed=$(tshark -r "$out/demo.pcap" --disable-protocol rpcordma -Y _ws.malformed 2>/dev/null | wc -l)
echo "tshark: $malformed malformed packets"

echo
echo "== 4. ICRC throughput against memcpy of the same frame"
"$build/tests/bench/icrc_bench" --csv "$out/icrc.csv"
gnuplot <<GP
set terminal pngcairo size 800,480
set output "$out/icrc.png"
set datafile separator ","
set title "scalex ICRC (ISA-L CRC-32) vs memcpy vs zlib crc32"
set xlabel "payload bytes"
set ylabel "GB/s"
set logscale x 2
set key top left
set grid
plot "$out/icrc.csv" using 1:2 skip 1 with linespoints title "memcpy", \
     "" using 1:3 skip 1 with linespoints title "scalex ICRC", \
     "" using 1:4 skip 1 with linespoints title "zlib crc32"
GP
echo "plot: $out/icrc.png"
