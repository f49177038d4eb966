#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The demo: what scalex does end to end today.
#   1. RDMA WRITE bandwidth between two processes over memif (DPDK), every
#      message size, with a plot;
#   2. SEND latency between them;
#   3. go-back-N against selective repeat with 1% of frames dropped, and
#      DCQCN cutting and recovering its rate on a path that marks ECN-CE;
#   4. a captured READ transfer checked by scalex-pcap and by tshark;
#   5. a simulated 16-host leaf-spine running the same protocol code under
#      DCQCN in virtual time, with plots;
#   6. four real host processes through scalex-fabric (2 leaves x 2 spines):
#      all-to-all plus incast under DCQCN, per-host table, rate plot, and
#      the same file in scalex-sim.
#   7. multipath on the simulated leaf-spine: flow vs adaptive;
#   8. a hierarchical all-reduce across 3 emulated nodes x 2 ranks, started
#      by mpirun, nccl-tests style table;
#   9. flat vs hierarchical all-reduce and MoE all-to-all at 8 nodes x 8 GPUs
#      with 400G and 800G NICs in scalex-sim, table and plot.
#
# usage: tools/demo.sh BUILD_DIR     (results and plots under out/)
set -euo pipefail

build=${1:-build}
out=${OUT:-out}
perf=$build/tools/scalex-perf
mkdir -p "$out"
. "$(dirname "${BASH_SOURCE[0]}")/common/free_port.sh"

# pair ARGS...: server and client of one scalex-perf run; the client's
# table goes to stdout. Each pair gets its own bootstrap port and socket.
# $client_args go to the client only (e.g. its capture file). A --json
# FILE is the client's; the server writes its own to $out/server.json, so
# the two do not overwrite one file.
client_args=()
pair() {
	local spid rc=0 a srv=() next=
	port=$(sx_free_port)
	rm -f "/tmp/scalex-perf-$port.sock"
	for a in "$@"; do
		if [ "$next" = json ]; then
			a=$out/server.json
			next=
		fi
		[ "$a" = --json ] && next=json
		srv+=("$a")
	done
	"$perf" "${srv[@]}" --server --boot-port "$port" >"$out/server.log" 2>&1 &
	spid=$!
	"$perf" "$@" "${client_args[@]}" --connect 127.0.0.1 --boot-port "$port" || rc=$?
	wait "$spid" || rc=$?
	return "$rc"
}

# avg_gbps JSON: the average bandwidth of the first result.
avg_gbps() {
	python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["results"][0]["bw_avg_gbps"])' "$1"
}

echo "== 1. RDMA WRITE bandwidth, two processes over memif, MTU 4096"
pair write_bw -a -n 200 --json "$out/write_bw.json"
gnuplot <<GP
set terminal pngcairo size 800,480
set output "$out/write_bw.png"
set title "scalex RDMA WRITE over memif (two processes, MTU 4096)"
set xlabel "message size (bytes)"
set format x "%.0s%cB"
set ylabel "Gb/s"
set logscale x 2
set key top left
set grid
plot "< python3 -c 'import json; [print(r[\"bytes\"], r[\"bw_avg_gbps\"], r[\"bw_peak_gbps\"]) for r in json.load(open(\"$out/write_bw.json\"))[\"results\"]]'" \
     using 1:2 with linespoints title "average", "" using 1:3 with linespoints title "peak"
GP
echo "plot: $out/write_bw.png"

echo
echo "== 2. SEND latency (ping-pong, 2 bytes)"
pair send_lat -s 2 -n 2000

echo
echo "== 3. go-back-N vs selective repeat, 64 KiB WRITEs, 1% of frames dropped"
pair write_bw -s 64K -D 1 --rel gbn --fault-tx drop=0.01 --json "$out/gbn.json" >/dev/null
pair write_bw -s 64K -D 1 --rel sr --fault-tx drop=0.01 --json "$out/sr.json" >/dev/null
gbn=$(avg_gbps "$out/gbn.json")
sr=$(avg_gbps "$out/sr.json")
printf '%-22s %12s\n' "reliability" "Gb/s"
printf '%-22s %12s\n' "gbn (RoCEv2)" "$gbn" "sr (scalex)" "$sr"
python3 -c "import sys; print('sr / gbn: %.2fx' % (float(sys.argv[2]) / max(float(sys.argv[1]), 1e-9)))" "$gbn" "$sr"

echo
echo "== 3b. DCQCN (paper preset): 0.2% of the client's frames marked ECN-CE"
client_args=(--trace "$out/rates.csv" --fault-tx ecn=0.002)
pair write_bw -s 64K -D 1 --cc dcqcn --cc-preset paper >"$out/dcqcn.txt"
client_args=()
grep -E '^ 65536 ' "$out/dcqcn.txt" | awk '{ printf "goodput %s Gb/s average under marking\n", $4 }'
awk -F, 'NR > 1 { n[$3]++ } END { printf "trace: %d CNP cuts, %d timer steps\n", n["cnp"], n["timer"] }' "$out/rates.csv"
awk -F, 'NR == 2 { t0 = $1 } NR > 1 { printf "%.4f %.3f %.3f\n", ($1 - t0) / 1e6, $4 / 1e9, $5 / 1e9 }' \
	"$out/rates.csv" >"$out/rates.dat"
gnuplot <<GP
set terminal pngcairo size 900,420 noenhanced
set output "$out/dcqcn.png"
set title "DCQCN rate and target: scalex-perf write_bw over memif, 0.2% of frames marked CE"
set xlabel "time (ms)"
set ylabel "Gb/s"
set yrange [0:105]
set xrange [0:50]
set key bottom right
plot "$out/rates.dat" using 1:2 with steps title "rate (Rc)", "" using 1:3 with steps title "target (Rt)"
GP
echo "plot: $out/dcqcn.png"

echo
echo "== 4. a captured READ transfer, checked by scalex-pcap and tshark"
client_args=(--pcap "$out/read.pcapng")
pair read_bw -s 16K -n 100 >/dev/null
client_args=()
"$build/tools/scalex-pcap" check --summary --quiet "$out/read.pcapng"
malformed=$(tshark -r "$out/read.pcapng" --disable-protocol rpcordma -Y _ws.malformed 2>/dev/null | wc -l)
echo "tshark: $(tshark -r "$out/read.pcapng" 2>/dev/null | wc -l) frames, $malformed malformed"

echo
echo "== 5. simulated leaf-spine: 16 hosts, 100G, DCQCN, permutation of 1 MB WRITEs"
"$build/tools/scalex-sim" -o "$out/sim" -s sim.duration_us=3000 tools/sim/leafspine-small.ini
tools/sim/plot.sh "$out/sim" >/dev/null && echo "plots: $out/sim/*.png"

echo
echo "== 6. real processes through an emulated leaf-spine: 2 leaves x 2 spines, 4 hosts,"
echo "      all-to-all plus a 3:1 incast under DCQCN (scalex-fabric + scalex-traffic)"
tools/scalex-run --build "$build" --config tools/fabric/leafspine-4.ini --out "$out/fabric" \
	--plot --sim
echo "the same file in scalex-sim (virtual time):"
jq -r '"  goodput \(.flows.goodput_gbps) Gb/s, ECN marks \(.fabric.ecn_marked), CNPs \(.transport.cnp_sent), retransmits \(.transport.retransmits), FCT p99 \(.fct_slowdown[-1].fct_p99_us) us"' \
	"$out/fabric/sim/summary.json"

echo
echo "== 7. multipath on the simulated leaf-spine: flow vs adaptive (docs/multipath.md)"
# 32 hosts (4 leaves x 8, 4 spines), a permutation of long flows: one ECMP
# path per QP lets flows collide on a spine; adaptive spraying does not.
for p in flow adaptive; do
	"$build/tools/scalex-sim" -q -o "$out/mp-$p" -s transport.path=$p tests/sim/mp-permutation.ini
	python3 - "$out/mp-$p/summary.json" "$p" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
w, m = d["window"], d["multipath"]
print("%-8s goodput %6.0f Gb/s of %d, switch queue p99 %5.0f KB, spine load %s" % (
      sys.argv[2], w["goodput_gbps"], 3200, w["queue"]["worst_port_p99_bytes"] / 1000,
      " ".join("%.2f" % u for u in m["spine_util"])))
PY
done

echo
echo "== 8. hierarchical all-reduce across 3 emulated nodes x 2 ranks (mpirun, memif links)"
# Open MPI starts the ranks; SCALEX_LOCAL_SIZE puts 2 consecutive ranks on
# one emulated node (shared memory inside it, one scalex QP per node pair).
coll_port=$(sx_free_port)
mpirun --allow-run-as-root --oversubscribe --bind-to none -n 6 \
	-x SCALEX_LOCAL_SIZE=2 -x MASTER_ADDR=127.0.0.1 -x MASTER_PORT="$coll_port" \
	"$build/tools/scalex-coll-perf" -b 8 -e 4M -f 8 -n 5 -w 2 -c 1 --json "$out/coll.json" |
	tee "$out/coll.txt"

echo
echo "== 9. flat vs hierarchical collectives at 8 nodes x 8 GPUs, 400G and 800G NICs"
echo "      (scalex-sim: leaf-spine, DCQCN, the NVLink domain modelled; docs/collectives.md)"
tools/sim/coll.sh "$build" "$out/coll-sim"
