#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Transport benchmark, run by hand: scalex against references measured in
# the same run, on the same machine, over the same memif pair.
#
#   (a) bandwidth: dpdk-testpmd txonly -> rxonly over memif at scalex's
#       frame size, vs scalex-perf write_bw, 64 KiB messages, largest MTU;
#       goal: scalex data frames/s >= 0.8 x testpmd frames/s
#   (b) latency: scalex-perf send_lat -s 2 median vs sockperf ping-pong
#       over UDP on loopback median (both half round trips);
#       goal: scalex <= 0.5 x sockperf
#   (c) loss recovery: write_bw 64 KiB goodput with 1% of the client's
#       frames dropped, selective repeat vs go-back-N; printed, no goal
#
# Usage: tools/bench/transport.sh [BUILD_DIR]   (default: build)
# Environment: SX_BENCH_SECONDS (default 5) per measurement.
#
# Every process it starts runs under timeout and is stopped (by PID) on
# exit; its files live in one temporary directory, removed on exit. Both
# sides of each pair get a core of their own: on a 2-core machine anything
# else running skews the numbers, so the load is printed first.
#
# Exit: 0 every goal met, 1 a goal missed, 2 a measurement failed.
# Units: Gb/s = 10^9 bit/s, Mpps = 10^6 frames (or messages)/s, us.
set -u -o pipefail

build=${1:-build}
secs=${SX_BENCH_SECONDS:-5}
perf=$build/tools/scalex-perf
msg=65536
work=$(mktemp -d /tmp/sx-bench.XXXXXX)
pids=()
failed=0
missed=0
port_base=$((20000 + $$ % 20000))

# Everything runs under "timeout -k 3": a TERM to that timeout process is
# passed on to the command, and a command still alive 3 s later is killed.
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

die() {
	echo "transport.sh: $*" >&2
	exit 2
}

need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found ($2)"
}

[ -x "$perf" ] || die "$perf not built (ninja -C $build)"
need dpdk-testpmd "apt-get install dpdk-dev"
need sockperf "apt-get install sockperf"
need jq "apt-get install jq"
case $secs in
'' | *[!0-9]*) die "SX_BENCH_SECONDS must be a whole number of seconds" ;;
esac

# a / b with 3 decimals, "n/a" when b is 0 or missing.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.3f", a / b }'
}

# verdict="met" or "MISSED" for value OP goal (OP: ge or le); a miss
# sets missed.
goal() {
	local v=$1 op=$2 g=$3
	if [ "$v" = n/a ]; then
		verdict="n/a"
	elif awk -v v="$v" -v g="$g" -v op="$op" \
		'BEGIN { exit !((op == "ge" && v >= g) || (op == "le" && v <= g)) }'; then
		verdict="met"
	else
		missed=1
		verdict="MISSED"
	fi
}

# wait_pid PID: reap a process this script started, and stop tracking it
# (so that cleanup never signals a recycled PID). Returns its status.
wait_pid() {
	local rc i
	wait "$1"
	rc=$?
	for i in "${!pids[@]}"; do
		[ "${pids[$i]}" = "$1" ] && unset 'pids[i]'
	done
	return $rc
}

# ---------------------------------------------------------------------------
# Contention: the machine's busy CPU time (/proc/stat) less what this
# script's children used (bash's "times"), as a share of all cores.

# cpu_read: busy ticks of the machine, ticks of this script's reaped
# children, and the time. "times" runs in this shell, not in a pipe or a
# $(...): a subshell's children are not ours.
cpu_read() {
	times >"$work/times"
	c_busy=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)
	# line 2: the children's "user sys", e.g. 0m1.230s 0m0.040s
	c_kids=$(awk -v hz="$hz" 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
		printf "%d", t * hz }' "$work/times")
	c_t=$(date +%s.%N)
}

# mark: start a measurement.
mark() {
	cpu_read
	m_busy=$c_busy m_kids=$c_kids m_t=$c_t
}

# contention LABEL: the other processes' share of the machine since mark;
# a warning above 10%.
contention() {
	local o
	cpu_read
	o=$(awk -v b="$((c_busy - m_busy))" -v k="$((c_kids - m_kids))" -v t0="$m_t" \
		-v t1="$c_t" -v n="$(nproc)" -v hz="$hz" 'BEGIN {
		o = (b - k) / ((t1 - t0) * hz * n) * 100
		printf "%d", o < 0 ? 0 : o + 0.5 }')
	if [ "$o" -gt 10 ]; then
		echo "           WARNING: other processes used ${o}% of the machine during $1"
	else
		echo "           (other processes used ${o}% of the machine during $1)"
	fi
}
hz=$(getconf CLK_TCK)

# ---------------------------------------------------------------------------
# scalex-perf pairs

# scalex NAME MODE "ARGS" "CLIENT_ARGS": run a server and a client over a
# memif pair of their own; the client's JSON is $work/NAME.json. 0 if both
# sides passed.
n_pair=0
scalex() {
	local name=$1 mode=$2 args=$3 cargs=$4
	local port=$((port_base + n_pair)) sock=$work/$name.sock spid crc src
	n_pair=$((n_pair + 1))
	# shellcheck disable=SC2086 # ARGS are words on purpose
	timeout -k 3 -s TERM $((secs + 60)) "$perf" "$mode" --server --boot-port "$port" \
		--dev "net_memif0,role=server,socket=$sock" $args \
		--json "$work/$name.server.json" >"$work/$name.server.log" 2>&1 &
	spid=$!
	pids+=("$spid")
	# shellcheck disable=SC2086
	timeout -k 3 -s TERM $((secs + 60)) "$perf" "$mode" --connect 127.0.0.1 --boot-port "$port" \
		--dev "net_memif0,role=client,socket=$sock" $args $cargs \
		--json "$work/$name.json" >"$work/$name.client.log" 2>&1
	crc=$?
	wait_pid "$spid"
	src=$?
	if [ $crc -ne 0 ] || [ $src -ne 0 ]; then
		echo "  scalex-perf $mode failed (client $crc, server $src):"
		tail -n 5 "$work/$name.client.log" "$work/$name.server.log" | sed 's/^/    /'
		return 1
	fi
	return 0
}

# jget NAME JQ-EXPR: a value from the client's JSON of run NAME.
jget() {
	jq -r "$2" "$work/$1.json"
}

# ---------------------------------------------------------------------------
echo "== scalex transport benchmark, $(date -u '+%Y-%m-%d %H:%M:%S') UTC, ${secs} s per run"
echo "   cpus $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"
busy=$(ps -eo pcpu=,pid=,comm= --sort=-pcpu | awk '$1 >= 10 { printf "%s(%s%%) ", $3, $1 }')
if [ -n "$busy" ]; then
	echo "   WARNING: other busy processes share the cores: $busy"
fi

# ---------------------------------------------------------------------------
echo
echo "== (a) bandwidth over memif: scalex write_bw vs dpdk-testpmd txonly -> rxonly"
mtu=
for m in 4096 2048 1024; do
	mark
	if scalex bw_mtu$m write_bw "-s $msg --mtu $m -D $secs" ""; then
		mtu=$m
		break
	fi
	echo "  MTU $m did not work over memif; trying a smaller one"
done
if [ -z "$mtu" ]; then
	failed=1
else
	r=bw_mtu$mtu
	sx_gbps=$(jget $r '.results[0].bw_avg_gbps')
	sx_mpps_msg=$(jget $r '.results[0].msg_rate_mpps')
	tx_frames=$(jget $r '.counters["port.tx_frames"]')
	tx_bytes=$(jget $r '.counters["port.tx_bytes"]')
	retx=$(jget $r '.counters["qp.retransmits"]')
	tmo=$(jget $r '.counters["qp.timeouts"]')
	pkts_per_msg=$(((msg + mtu - 1) / mtu))
	frame=$(awk -v b="$tx_bytes" -v f="$tx_frames" 'BEGIN { printf "%d", b / f + 0.5 }')
	# Data frames/s: messages/s x frames per message (retransmissions
	# are not goodput); on the wire at the average frame size.
	sx_mpps=$(awk -v m="$sx_mpps_msg" -v k="$pkts_per_msg" 'BEGIN { printf "%.4f", m * k }')
	sx_wire=$(awk -v p="$sx_mpps" -v f="$frame" 'BEGIN { printf "%.2f", p * 1e6 * f * 8 / 1e9 }')
	printf "  scalex   MTU %s, %s B messages: %.2f Gb/s goodput, %s Mpps of %s-byte frames (%s Gb/s of frames)\n" \
		"$mtu" "$msg" "$sx_gbps" "$sx_mpps" "$frame" "$sx_wire"
	printf "           %s retransmits, %s timeouts" "$retx" "$tmo"
	if [ "$tmo" != 0 ]; then
		printf " (no frame was dropped: spurious, the receiver stalled past the RTO)"
	fi
	echo
	contention "scalex"

	# testpmd: the receiver is the memif server, each forwarding lcore on
	# a core of its own (-l MAIN,FWD); buffers as large as scalex's
	# (MTU + 128 rounded up to 64, as the ethdev port sizes them).
	bsize=$(((mtu + 128 + 63) / 64 * 64))
	mbuf=$((bsize + 128))
	sock=$work/testpmd.sock
	mark
	common="--no-huge -m 512 --no-pci --log-level=error"
	pmd="--mbuf-size=$mbuf --total-num-mbufs=8192 --stats-period 1"
	# shellcheck disable=SC2086
	timeout -k 3 -s TERM $((secs + 30)) dpdk-testpmd -l 1,0 $common --file-prefix "sxb-rx-$$" \
		--vdev "net_memif0,role=server,socket=$sock,bsize=$bsize" -- $pmd \
		--forward-mode=rxonly >"$work/testpmd-rx.log" 2>&1 </dev/null &
	rxpid=$!
	pids+=("$rxpid")
	for _ in $(seq 50); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	# shellcheck disable=SC2086
	timeout -k 3 -s TERM $((secs + 30)) dpdk-testpmd -l 0,1 $common --file-prefix "sxb-tx-$$" \
		--vdev "net_memif0,role=client,socket=$sock,bsize=$bsize" -- $pmd \
		--forward-mode=txonly --txpkts="$frame" >"$work/testpmd-tx.log" 2>&1 </dev/null &
	txpid=$!
	pids+=("$txpid")
	# testpmd takes seconds to start under --no-huge, and its stats
	# period stretches when its main lcore shares a core with the other
	# side's forwarding lcore: wait for enough periods with traffic
	# (the first one is partial), at most 3x the run time.
	want=$((secs / 2 + 2))
	for _ in $(seq $((secs * 30 + 100))); do
		awk -v want="$want" '/Rx-pps:/ && $2 > 0 { n++ } END { exit n < want }' \
			"$work/testpmd-rx.log" && break
		sleep 0.1
	done
	kill -TERM "$txpid" 2>/dev/null
	wait_pid "$txpid"
	kill -TERM "$rxpid" 2>/dev/null
	wait_pid "$rxpid"
	# Rx-pps / Rx-bps of each 1 s period once traffic flows; the first
	# period with traffic is partial and dropped; the median of the rest.
	read -r tp_pps tp_bps n_samples < <(awk '
		/Rx-pps:/ { if ($2 > 0) { n++; pps[n] = $2; bps[n] = $4 } }
		END {
			k = 0
			for (i = 2; i <= n; i++) { k++; p[k] = pps[i]; b[k] = bps[i] }
			if (k == 0) { print 0, 0, 0; exit }
			# insertion sort: a handful of samples
			for (i = 2; i <= k; i++) for (j = i; j > 1 && p[j-1] > p[j]; j--) {
				t = p[j]; p[j] = p[j-1]; p[j-1] = t
				t = b[j]; b[j] = b[j-1]; b[j-1] = t
			}
			m = int((k + 1) / 2)
			print p[m], b[m], k
		}' "$work/testpmd-rx.log")
	if [ "$n_samples" -eq 0 ]; then
		echo "  testpmd measured nothing:"
		tail -n 8 "$work/testpmd-rx.log" "$work/testpmd-tx.log" | sed 's/^/    /'
		failed=1
	else
		tp_mpps=$(awk -v p="$tp_pps" 'BEGIN { printf "%.4f", p / 1e6 }')
		tp_gbps=$(awk -v b="$tp_bps" 'BEGIN { printf "%.2f", b / 1e9 }')
		printf "  testpmd  txonly -> rxonly, %s-byte frames: %s Mpps, %s Gb/s (median of %s stats periods)\n" \
			"$frame" "$tp_mpps" "$tp_gbps" "$n_samples"
		contention "testpmd"
		ratio_a=$(ratio "$sx_mpps" "$tp_mpps")
		goal "$ratio_a" ge 0.8
		printf "  ratio scalex/testpmd frames/s: %s (goal >= 0.8: %s)\n" "$ratio_a" "$verdict"
	fi
fi

# ---------------------------------------------------------------------------
echo
echo "== (b) latency: scalex send_lat -s 2 vs sockperf ping-pong (UDP, loopback)"
mark
if scalex lat send_lat "-s 2 -D $secs --warmup 1000" ""; then
	sx_med=$(jget lat '.results[0].t_median_us')
	sx_p99=$(jget lat '.results[0].t_p99_us')
	sx_n=$(jget lat '.results[0].iterations')
	printf "  scalex   send_lat 2 B: median %.2f us, p99 %.2f us (half round trip, %s round trips)\n" \
		"$sx_med" "$sx_p99" "$sx_n"
	contention "scalex"
else
	sx_med=
	failed=1
fi
# sockperf sends at least 14 bytes (its header); it reports half round
# trips. Server and client on separate cores, as the scalex pair.
sp_port=$((port_base + 100))
mark
taskset -c 0 timeout -k 3 -s TERM $((secs + 20)) sockperf server -i 127.0.0.1 -p "$sp_port" \
	>"$work/sockperf-server.log" 2>&1 </dev/null &
sppid=$!
pids+=("$sppid")
sleep 1
cpu_last=$(($(nproc) - 1))
taskset -c "$cpu_last" timeout -k 3 -s TERM $((secs + 20)) sockperf ping-pong -i 127.0.0.1 \
	-p "$sp_port" -m 14 -t "$secs" >"$work/sockperf.log" 2>&1 </dev/null
sprc=$?
kill -TERM "$sppid" 2>/dev/null
wait_pid "$sppid"
sp_med=$(sed 's/\x1b\[[0-9;]*m//g' "$work/sockperf.log" | awk '/percentile 50.000 =/ { print $NF }')
sp_p99=$(sed 's/\x1b\[[0-9;]*m//g' "$work/sockperf.log" | awk '/percentile 99.000 =/ { print $NF }')
if [ $sprc -ne 0 ] || [ -z "$sp_med" ]; then
	echo "  sockperf failed ($sprc):"
	tail -n 5 "$work/sockperf.log" | sed 's/^/    /'
	failed=1
else
	printf "  sockperf ping-pong 14 B: median %s us, p99 %s us (half round trip)\n" "$sp_med" "$sp_p99"
	contention "sockperf"
	if [ -n "$sx_med" ]; then
		ratio_b=$(ratio "$sx_med" "$sp_med")
		goal "$ratio_b" le 0.5
		printf "  ratio scalex/sockperf median: %s (goal <= 0.5: %s)\n" "$ratio_b" "$verdict"
	fi
fi

# ---------------------------------------------------------------------------
echo
echo "== (c) loss recovery: write_bw ${msg} B, 1% of the client's frames dropped"
loss_mtu=${mtu:-1024}
for rel in gbn sr; do
	mark
	if scalex loss_$rel write_bw "-s $msg --mtu $loss_mtu -D $secs --rel $rel" \
		"--fault-tx drop=0.01 --seed 1"; then
		eval "loss_$rel=\$(jget loss_$rel '.results[0].bw_avg_gbps')"
		printf "  %-3s goodput %.2f Gb/s; %s retransmits, %s timeouts, %s frames dropped\n" "$rel" \
			"$(jget loss_$rel '.results[0].bw_avg_gbps')" \
			"$(jget loss_$rel '.counters["qp.retransmits"]')" \
			"$(jget loss_$rel '.counters["qp.timeouts"]')" \
			"$(jget loss_$rel '.counters["port.fault_drop_tx"]')"
		contention "$rel"
	else
		eval "loss_$rel="
		failed=1
	fi
done
if [ -n "${loss_gbn:-}" ] && [ -n "${loss_sr:-}" ]; then
	printf "  ratio sr/gbn goodput: %s\n" "$(ratio "$loss_sr" "$loss_gbn")"
fi

echo
if [ $failed -ne 0 ]; then
	echo "== a measurement failed"
	exit 2
fi
if [ $missed -ne 0 ]; then
	echo "== done: a goal was missed"
	exit 1
fi
echo "== done: every goal met"
exit 0
