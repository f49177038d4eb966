#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Flat vs hierarchical collectives at 8 nodes x 8 GPUs in scalex-sim
# (tools/sim/coll-8x8.ini: leaf-spine, DCQCN, NVLink modelled; docs/collectives.md):
#   all-reduce busbw for 2 .. 128 MiB per GPU at 400G and 800G NICs, and
#   the skewed MoE all-to-all at 16 MiB per GPU, with NIC bytes per node.
# Writes OUT/allreduce.dat, OUT/alltoall.dat, OUT/busbw.png (gnuplot) and
# prints a table.
# usage: tools/sim/coll.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
out=${2:-out/coll-sim}
sim="$build/tools/scalex-sim"
[ -x "$sim" ] || { echo "coll.sh: $sim not built" >&2; exit 1; }
mkdir -p "$out"

# run OP ALGO GBPS BYTES: one collective; prints its summary's figures
run() {
	local d="$out/run-$1-$2-$3-$4"
	"$sim" -q -o "$d" -s coll.op="$1" -s coll.algo="$2" -s coll.bytes="$4" \
		-s topology.host_rate_gbps="$3" -s topology.fabric_rate_gbps="$3" \
		"$here/coll-8x8.ini" 2> "$d.log" || { cat "$d.log" >&2; exit 1; }
	jq -r '.coll | "\(.time_us) \(.busbw_gbs) \(.nic_bytes_per_node | max) \(.messages) \(.nic_rx_bytes_max)"' \
		"$d/summary.json"
}

printf '%-10s %5s %9s %12s %12s %9s %9s %14s %14s\n' collective NIC "MiB/GPU" "hier us" "flat us" \
	"hier GB/s" "flat GB/s" "hier NIC B" "flat NIC B"
echo "# MiB busbw_hier400 busbw_flat400 busbw_hier800 busbw_flat800" > "$out/allreduce.dat"
for mib in 2 8 32 128; do
	row="$mib"
	for g in 400 800; do
		read -r th bh nh _ _ < <(run allreduce hier "$g" $((mib << 20)))
		read -r tf bf nf _ _ < <(run allreduce flat "$g" $((mib << 20)))
		printf '%-10s %4sG %9s %12.1f %12.1f %9.2f %9.2f %14s %14s\n' all-reduce "$g" "$mib" \
			"$th" "$tf" "$bh" "$bf" "$nh" "$nf"
		row="$row $bh $bf"
	done
	echo "$row" >> "$out/allreduce.dat"
done
echo "# NIC busbw_hier busbw_flat messages_hier messages_flat" > "$out/alltoall.dat"
for g in 400 800; do
	read -r th bh nh mh rx < <(run alltoall hier "$g" $((16 << 20)))
	read -r tf bf nf mf _ < <(run alltoall flat "$g" $((16 << 20)))
	printf '%-10s %4sG %9s %12.1f %12.1f %9.2f %9.2f %14s %14s\n' all-to-all "$g" 16 \
		"$th" "$tf" "$bh" "$bf" "$nh" "$nf"
	echo "$g $bh $bf $mh $mf" >> "$out/alltoall.dat"
done
echo "all-to-all: $mh messages hierarchical, $mf flat; the hottest node receives $rx B" \
	"(Zipf expert popularity: its NIC's downlink bounds both)"
gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set output "$out/busbw.png"
set title "scalex-sim, 8 nodes x 8 GPUs, leaf-spine + DCQCN: all-reduce busbw"
set xlabel "bytes per GPU (MiB)"; set ylabel "busbw (GB/s)"
set logscale x 2; set grid; set key right bottom; set yrange [0:*]
plot "$out/allreduce.dat" using 1:2 with linespoints lw 2 title "hierarchical, 400G", \
     "" using 1:3 with linespoints lw 2 title "flat ring, 400G", \
     "" using 1:4 with linespoints lw 2 title "hierarchical, 800G", \
     "" using 1:5 with linespoints lw 2 title "flat ring, 800G", \
     50 with lines dt 2 lc rgb "gray" title "400G line rate (50 GB/s)", \
     100 with lines dt 2 lc rgb "black" title "800G line rate (100 GB/s)"
GP
echo "plot: $out/busbw.png"
