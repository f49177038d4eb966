#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# scalex-fabric benchmark, run by hand: two ratios against baselines
# measured in the same run, on the same machine, over the same memif ports.
#
#   (a) forwarding: dpdk-testpmd txonly (client) -> SWITCH -> testpmd rxonly
#       (client), 1024-byte UDP frames to 10.0.0.2, where SWITCH is
#       scalex-fabric (one leaf, unlimited rates, no delay) or dpdk-testpmd
#       io-forward between the same two memif server ports;
#       goal: scalex-fabric frames/s >= 0.7 x testpmd io frames/s
#   (b) scalex-perf write_bw (64 KiB, MTU 4096, 5 s) through scalex-fabric
#       vs over a direct memif pair; the ratio is printed, no goal
#
# Usage: tools/bench/fabric.sh [BUILD_DIR]   (default: build)
# Environment: SX_BENCH_SECONDS (default 5) per measurement.
# Every process runs under "timeout -k", is stopped by PID on exit, and its
# files (sockets, logs, DPDK runtime directories) are removed.
# Exit: 0 the goal met, 1 missed, 2 a measurement failed.
# Units: Mpps = 10^6 frames/s, Gb/s = 10^9 bit/s.
set -u -o pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../common/free_port.sh"

build=${1:-build}
secs=${SX_BENCH_SECONDS:-5}
fabric=$build/tools/scalex-fabric
perf=$build/tools/scalex-perf
work=$(mktemp -d /tmp/sx-fabric-bench.XXXXXX)
pids=()
frame=1024

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "${SX_BENCH_KEEP:-}" ] || rm -rf "$work"
	rm -rf /var/run/dpdk/sxfb-*-$$
}
trap cleanup EXIT
trap 'exit 2' INT TERM
die() { echo "fabric.sh: $*" >&2; exit 2; }
[ -x "$fabric" ] && [ -x "$perf" ] || die "build first: ninja -C $build"
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd not found (apt-get install dpdk)"

common="--no-huge -m 512 --no-pci --log-level=error"
pmd="--mbuf-size=2176 --total-num-mbufs=16384 --stats-period 1"

# Placement: each generator's forwarding lcore and the switch's get the
# same CPUs in both runs (the switch on CPU 1, as testpmd io's forwarding
# lcore). The one-leaf fabric the forwarding runs through: rates far above what a
# CPU forwards, no delay, deep queues.
cat >"$work/wire.ini" <<EOF
[topology]
hosts_per_leaf = 2
leaves = 1
host_rate_gbps = 1000
host_delay_ns = 0
nic_ring_frames = 8192
[switch]
buffer_bytes = 100000000
ecn = 0
EOF

# median Rx-pps over the stats periods with traffic, but the first
rx_pps() {
	awk '/Rx-pps:/ { if ($2 > 0) { n++; p[n] = $2 } }
		END { k = 0; for (i = 2; i <= n; i++) q[++k] = p[i]
		      if (k == 0) { print 0; exit }
		      for (i = 2; i <= k; i++) for (j = i; j > 1 && q[j-1] > q[j]; j--) { t = q[j]; q[j] = q[j-1]; q[j-1] = t }
		      print q[int((k + 1) / 2)] }' "$1"
}

# gen_pair DIR A B: testpmd txonly on socket A and rxonly on socket B, both
# memif clients (DPDK 22.11 memif sockets are abstract names by default, as
# both switches use them); prints the receiver's frames/s.
gen_pair() {
	local d=$1 a=$2 b=$3 rx tx
	timeout -k 3 $((secs * 3 + 30)) dpdk-testpmd -l 0,1 --main-lcore 1 $common --file-prefix "sxfb-rx-$$" \
		--vdev "net_memif0,role=client,socket=$b,bsize=2048" \
		-- $pmd --forward-mode=rxonly >"$d/rx.log" 2>&1 </dev/null &
	rx=$!
	pids+=("$rx")
	timeout -k 3 $((secs * 3 + 30)) dpdk-testpmd -l 0,1 --main-lcore 0 $common --file-prefix "sxfb-tx-$$" \
		--vdev "net_memif0,role=client,socket=$a,bsize=2048" \
		-- $pmd --forward-mode=txonly --txpkts=$frame --tx-ip=10.0.0.1,10.0.0.2 \
		>"$d/tx.log" 2>&1 </dev/null &
	tx=$!
	pids+=("$tx")
	for _ in $(seq $((secs * 30 + 100))); do
		awk -v want=$((secs + 1)) '/Rx-pps:/ && $2 > 0 { n++ } END { exit n < want }' \
			"$d/rx.log" && break
		sleep 0.1
	done
	kill -TERM "$tx" 2>/dev/null
	wait "$tx" 2>/dev/null
	kill -TERM "$rx" 2>/dev/null
	wait "$rx" 2>/dev/null
	rx_pps "$d/rx.log"
}

# wait_for FILE PATTERN: until FILE exists and holds PATTERN (10 s)
wait_for() { for _ in $(seq 100); do grep -qs "$2" "$1" && return 0; sleep 0.1; done; return 1; }

echo "== (a) forwarding between two memif ports, $frame-byte frames"
d=$work/testpmd
mkdir -p "$d"
timeout -k 3 $((secs * 3 + 60)) dpdk-testpmd -l 0,1 --main-lcore 0 $common \
	--file-prefix "sxfb-sw-$$" \
	--vdev "net_memif0,role=server,socket=$d/a.sock,bsize=2048" \
	--vdev "net_memif1,role=server,socket=$d/b.sock,bsize=2048" \
	-- $pmd --forward-mode=io >"$d/sw.log" 2>&1 </dev/null &
sw=$!
pids+=("$sw")
wait_for "$d/sw.log" "start packet forwarding" || die "testpmd io did not start"
tp=$(gen_pair "$d" "$d/a.sock" "$d/b.sock")
kill -TERM $sw 2>/dev/null
wait $sw 2>/dev/null

d=$work/fabric
mkdir -p "$d"
timeout -k 3 $((secs * 3 + 60)) "$fabric" --config "$work/wire.ini" --sock-dir "$d" \
	--stats "$d/stats.json" --ready "$d/ready" -- -l 1 $common --file-prefix "sxfb-fx-$$" \
	>"$d/fx.log" 2>&1 &
fx=$!
pids+=("$fx")
wait_for "$d/ready" . || die "scalex-fabric did not start: $(cat "$d/fx.log")"
sx=$(gen_pair "$d" "$d/h0.sock" "$d/h1.sock")
kill -INT $fx 2>/dev/null
wait $fx 2>/dev/null
[ "$tp" != 0 ] && [ "$sx" != 0 ] || die "a forwarding measurement got nothing (testpmd $tp, fabric $sx)"
ratio_a=$(awk -v a="$sx" -v b="$tp" 'BEGIN { printf "%.3f", a / b }')
printf "  testpmd io-forward %8.3f Mpps\n  scalex-fabric      %8.3f Mpps   ratio %s (goal >= 0.7)\n" \
	"$(awk -v x="$tp" 'BEGIN { print x / 1e6 }')" "$(awk -v x="$sx" 'BEGIN { print x / 1e6 }')" "$ratio_a"

echo "== (b) scalex-perf write_bw 64 KiB, MTU 4096: through scalex-fabric vs direct"
perf_pair() { # DIR SERVER_DEV CLIENT_DEV EXTRA...
	local d=$1 sdev=$2 cdev=$3 port s
	port=$(sx_free_port)
	shift 3
	timeout -k 3 $((secs + 60)) "$perf" write_bw -s 64K -D "$secs" --mtu 4096 --server \
		--boot-port $port --dev "$sdev" --ip 10.0.0.1 "$@" >"$d/server.log" 2>&1 &
	s=$!
	pids+=("$s")
	timeout -k 3 $((secs + 60)) "$perf" write_bw -s 64K -D "$secs" --mtu 4096 \
		--connect 127.0.0.1 --boot-port $port --dev "$cdev" --ip 10.0.0.2 "$@" \
		--json "$d/client.json" >"$d/client.log" 2>&1
	wait $s 2>/dev/null
	jq -r '.results[0].bw_avg_gbps' "$d/client.json" 2>/dev/null || echo 0
}
d=$work/direct
mkdir -p "$d"
direct=$(perf_pair "$d" "net_memif0,role=server,socket=$d/p.sock" "net_memif0,role=client,socket=$d/p.sock")
d=$work/through
mkdir -p "$d"
timeout -k 3 $((secs + 90)) "$fabric" --config "$work/wire.ini" --sock-dir "$d" \
	--stats "$d/stats.json" --ready "$d/ready" -- $common --file-prefix "sxfb-fx2-$$" \
	>"$d/fx.log" 2>&1 &
fx=$!
pids+=("$fx")
wait_for "$d/ready" . || die "scalex-fabric did not start"
through=$(perf_pair "$d" "net_memif0,role=client,socket=$d/h0.sock" "net_memif0,role=client,socket=$d/h1.sock")
kill -INT $fx 2>/dev/null
wait $fx 2>/dev/null
ratio_b=$(awk -v a="$through" -v b="$direct" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.3f", a / b }')
printf "  direct memif pair  %8.3f Gb/s\n  through the fabric %8.3f Gb/s   ratio %s\n" "$direct" "$through" "$ratio_b"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
awk -v r="$ratio_a" 'BEGIN { exit !(r >= 0.7) }'
