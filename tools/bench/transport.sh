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
# Environment: SX_BENCH_SECONDS (default 5) per measurement,
#              SX_BENCH_TRIES (default 3) tries of a contended measurement.
#
# The machine has few cores and other work may run on it: each
# measurement reports the share of the machine other processes took while
# it ran; above 10% it is tried again, up to SX_BENCH_TRIES times, and the
# least contended try is kept. Both sides of each pair get a core of their
# own. Every process runs under "timeout -k" and is stopped by PID on exit;
# files live in one temporary directory, removed on exit.
#
# Exit: 0 every goal met, 1 a goal missed, 2 a measurement failed.
# Units: Gb/s = 10^9 bit/s, Mpps = 10^6 frames (or messages)/s, us.
# shellcheck disable=SC2317 # the measurements are called through best()
set -u -o pipefail

build=${1:-build}
secs=${SX_BENCH_SECONDS:-5}
tries=${SX_BENCH_TRIES:-3}
perf=$build/tools/scalex-perf
msg=65536
quiet_pct=10
work=$(mktemp -d /tmp/sx-bench.XXXXXX)
pids=()
failed=0
missed=0
. "$(dirname "${BASH_SOURCE[0]}")/../common/free_port.sh"
hz=$(getconf CLK_TCK)

# A TERM to a "timeout -k 3" process is passed on to its command, which is
# killed if still alive 3 s later; so waiting for them is bounded.
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$work"
	# testpmd leaves its EAL runtime directories behind (MBs of tmpfs)
	rm -rf "${eal_run:?}/sxb-rx-$$" "${eal_run:?}/sxb-tx-$$"
}
eal_run=$([ "$(id -u)" -eq 0 ] && echo /var/run/dpdk || echo "${XDG_RUNTIME_DIR:-/tmp}/dpdk")
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
case $secs$tries in
'' | *[!0-9]*) die "SX_BENCH_SECONDS and SX_BENCH_TRIES are whole numbers" ;;
esac
[ "$tries" -ge 1 ] || die "SX_BENCH_TRIES must be at least 1"

# wait_pid PID: reap a process this script started, and stop tracking it
# (so that cleanup never signals a recycled PID). Returns its status.
wait_pid() {
	local rc i
	wait "$1"
	rc=$?
	for i in "${!pids[@]}"; do
		[ "${pids[$i]}" = "$1" ] && unset 'pids[i]'
	done
	return "$rc"
}

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

# ---------------------------------------------------------------------------
# Contention: the machine's busy ticks (/proc/stat) less those of this
# script's reaped children (bash's "times", run in this shell: a subshell
# has children of its own), as a share of all cores.

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

mark() {
	cpu_read
	m_busy=$c_busy m_kids=$c_kids m_t=$c_t
}

# others=percent of the machine other processes used since mark.
others_since_mark() {
	cpu_read
	others=$(awk -v b="$((c_busy - m_busy))" -v k="$((c_kids - m_kids))" -v t0="$m_t" \
		-v t1="$c_t" -v n="$(nproc)" -v hz="$hz" 'BEGIN {
		o = (b - k) / ((t1 - t0) * hz * n) * 100
		printf "%d", o < 0 ? 0 : o + 0.5 }')
}

# best NAME FUNC ARGS...: run "FUNC DIR ARGS..." until a try is quiet
# (others <= quiet_pct) or SX_BENCH_TRIES are done; $work/NAME is the
# least contended try. FUNC writes shell assignments to DIR/vals and
# returns non-zero on failure, which ends the tries. Sets others, ntry.
best() {
	local name=$1 fn=$2 t d best_d='' best_o=1000
	shift 2
	for t in $(seq "$tries"); do
		d=$work/$name.$t
		mkdir -p "$d"
		mark
		if ! "$fn" "$d" "$@"; then
			return 1
		fi
		others_since_mark
		echo "$others" >"$d/others"
		if [ "$others" -lt "$best_o" ]; then
			best_o=$others
			best_d=$d
		fi
		[ "$others" -le "$quiet_pct" ] && break
	done
	ln -sfn "$best_d" "$work/$name"
	others=$best_o
	ntry=$t
	return 0
}

# The contention line under a measurement.
print_others() {
	local tail=""
	[ "$ntry" -gt 1 ] && tail=", least of $ntry tries"
	if [ "$others" -gt "$quiet_pct" ]; then
		echo "           WARNING: other processes used ${others}% of the machine meanwhile$tail"
	else
		echo "           (other processes used ${others}% of the machine meanwhile$tail)"
	fi
}

# ---------------------------------------------------------------------------
# Measurements: FUNC DIR ARGS...

# scalex_pair DIR MODE "ARGS" "CLIENT_ARGS": a server and a client over a
# memif pair of their own; the client's JSON is DIR/client.json.
scalex_pair() {
	local d=$1 mode=$2 args=$3 cargs=$4
	local port sock=$1/memif.sock spid crc src
	port=$(sx_free_port)
	# shellcheck disable=SC2086 # ARGS are words on purpose
	timeout -k 3 -s TERM $((secs + 60)) "$perf" "$mode" --server --boot-port "$port" \
		--dev "net_memif0,role=server,socket=$sock" $args \
		--json "$d/server.json" >"$d/server.log" 2>&1 &
	spid=$!
	pids+=("$spid")
	# shellcheck disable=SC2086
	timeout -k 3 -s TERM $((secs + 60)) "$perf" "$mode" --connect 127.0.0.1 \
		--boot-port "$port" --dev "net_memif0,role=client,socket=$sock" $args $cargs \
		--json "$d/client.json" >"$d/client.log" 2>&1
	crc=$?
	wait_pid "$spid"
	src=$?
	if [ "$crc" -ne 0 ] || [ "$src" -ne 0 ]; then
		echo "  scalex-perf $mode failed (client $crc, server $src):"
		tail -n 5 "$d/client.log" "$d/server.log" | sed 's/^/    /'
		return 1
	fi
}

# val DIR KEY: a value a measurement wrote to DIR/vals ("key=value" lines).
val() {
	awk -F= -v k="$2" '$1 == k { print $2 }' "$1/vals"
}

# jget DIR JQ-EXPR: a value from the client's JSON.
jget() {
	jq -r "$2" "$1/client.json"
}

# write_bw at MTU, with CLIENT_ARGS: goodput, message rate, counters.
m_write_bw() {
	local d=$1 mtu=$2 rel=$3 cargs=$4
	scalex_pair "$d" write_bw "-s $msg --mtu $mtu -D $secs --rel $rel" "$cargs" || return 1
	{
		echo "gbps=$(jget "$d" '.results[0].bw_avg_gbps')"
		echo "mpps_msg=$(jget "$d" '.results[0].msg_rate_mpps')"
		echo "tx_frames=$(jget "$d" '.counters["port.tx_frames"]')"
		echo "tx_bytes=$(jget "$d" '.counters["port.tx_bytes"]')"
		echo "retx=$(jget "$d" '.counters["qp.retransmits"]')"
		echo "tmo=$(jget "$d" '.counters["qp.timeouts"]')"
		echo "dropped=$(jget "$d" '.counters["port.fault_drop_tx"]')"
	} >"$d/vals"
}

# testpmd txonly -> rxonly over memif, FRAME-byte frames, memif buffers of
# BSIZE bytes (as scalex's port sizes them). The receiver is the memif
# server. Each side's forwarding lcore gets a CPU of its own: the EAL
# makes the lowest lcore of -l the main one whatever the order, hence
# --main-lcore. The pair runs in a subshell whose stderr is a log: DPDK
# 22.11 memif can crash the survivor when its peer closes while it polls,
# and that is no measurement's business.
testpmd_pair() {
	local d=$1 frame=$2 bsize=$3
	local sock=$d/memif.sock common pmd rxpid='' txpid='' want
	common="--no-huge -m 512 --no-pci --log-level=error"
	pmd="--mbuf-size=$((bsize + 128)) --total-num-mbufs=8192 --stats-period 1"
	trap 'kill -TERM $txpid $rxpid 2>/dev/null; wait; exit 2' TERM
	# shellcheck disable=SC2086
	timeout -k 3 -s TERM $((secs * 3 + 60)) dpdk-testpmd -l 0,1 --main-lcore 1 $common \
		--file-prefix "sxb-rx-$$" --vdev "net_memif0,role=server,socket=$sock,bsize=$bsize" \
		-- $pmd --forward-mode=rxonly >"$d/rx.log" 2>&1 </dev/null &
	rxpid=$!
	for _ in $(seq 50); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	# shellcheck disable=SC2086
	timeout -k 3 -s TERM $((secs * 3 + 60)) dpdk-testpmd -l 0,1 --main-lcore 0 $common \
		--file-prefix "sxb-tx-$$" --vdev "net_memif0,role=client,socket=$sock,bsize=$bsize" \
		-- $pmd --forward-mode=txonly --txpkts="$frame" >"$d/tx.log" 2>&1 </dev/null &
	txpid=$!
	# testpmd takes seconds to start under --no-huge: wait for enough
	# stats periods with traffic (the first one is partial), at most 3x
	# the run time.
	want=$((secs + 1))
	for _ in $(seq $((secs * 30 + 100))); do
		awk -v want="$want" '/Rx-pps:/ && $2 > 0 { n++ } END { exit n < want }' \
			"$d/rx.log" && break
		sleep 0.1
	done
	kill -TERM "$rxpid" "$txpid" 2>/dev/null
	wait
}

m_testpmd() {
	local d=$1 sub
	(testpmd_pair "$@") 2>"$d/jobs.log" &
	sub=$!
	pids+=("$sub")
	wait_pid "$sub"
	# The median Rx-pps / Rx-bps of the periods with traffic but the first.
	awk '
		/Rx-pps:/ { if ($2 > 0) { n++; pps[n] = $2; bps[n] = $4 } }
		END {
			k = 0
			for (i = 2; i <= n; i++) { k++; p[k] = pps[i]; b[k] = bps[i] }
			if (k == 0) { print "tp_n=0"; exit }
			for (i = 2; i <= k; i++) for (j = i; j > 1 && p[j-1] > p[j]; j--) {
				t = p[j]; p[j] = p[j-1]; p[j-1] = t
				t = b[j]; b[j] = b[j-1]; b[j-1] = t
			}
			m = int((k + 1) / 2)
			printf "tp_pps=%s\ntp_bps=%s\ntp_n=%d\n", p[m], b[m], k
		}' "$d/rx.log" >"$d/vals"
	if [ "$(val "$d" tp_n)" = 0 ]; then
		echo "  testpmd measured nothing:"
		tail -n 8 "$d/rx.log" "$d/tx.log" | sed 's/^/    /'
		return 1
	fi
}

m_send_lat() {
	local d=$1
	scalex_pair "$d" send_lat "-s 2 -D $secs --warmup 1000" "" || return 1
	{
		echo "med=$(jget "$d" '.results[0].t_median_us')"
		echo "p99=$(jget "$d" '.results[0].t_p99_us')"
		echo "n=$(jget "$d" '.results[0].iterations')"
	} >"$d/vals"
}

# sockperf sends at least 14 bytes (its header) and reports half round
# trips. Server and client on separate cores, as the scalex pair.
m_sockperf() {
	local d=$1 port sppid rc
	port=$(sx_free_port)
	taskset -c 0 timeout -k 3 -s TERM $((secs + 30)) sockperf server -i 127.0.0.1 \
		-p "$port" >"$d/server.log" 2>&1 </dev/null &
	sppid=$!
	pids+=("$sppid")
	sleep 1
	taskset -c $(($(nproc) - 1)) timeout -k 3 -s TERM $((secs + 30)) sockperf ping-pong \
		-i 127.0.0.1 -p "$port" -m 14 -t "$secs" >"$d/client.log" 2>&1 </dev/null
	rc=$?
	kill -TERM "$sppid" 2>/dev/null
	wait_pid "$sppid"
	sed 's/\x1b\[[0-9;]*m//g' "$d/client.log" | awk '
		/percentile 50.000 =/ { m = $NF }
		/percentile 99.000 =/ { p = $NF }
		END { printf "sp_med=%s\nsp_p99=%s\n", m, p }' >"$d/vals"
	if [ "$rc" -ne 0 ] || [ -z "$(val "$d" sp_med)" ]; then
		echo "  sockperf failed ($rc):"
		tail -n 5 "$d/client.log" | sed 's/^/    /'
		return 1
	fi
}

# ---------------------------------------------------------------------------
echo "== scalex transport benchmark, $(date -u '+%Y-%m-%d %H:%M:%S') UTC, ${secs} s per run"
echo "   cpus $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------------------
echo
echo "== (a) bandwidth over memif: scalex write_bw vs dpdk-testpmd txonly -> rxonly"
mtu=
for m in 4096 2048 1024; do
	if best bw_mtu$m m_write_bw "$m" gbn ""; then
		mtu=$m
		break
	fi
	echo "  MTU $m did not work over memif; trying a smaller one"
done
if [ -z "$mtu" ]; then
	failed=1
else
	r=$work/bw_mtu$mtu
	gbps=$(val "$r" gbps)
	mpps_msg=$(val "$r" mpps_msg)
	tx_frames=$(val "$r" tx_frames)
	tx_bytes=$(val "$r" tx_bytes)
	retx=$(val "$r" retx)
	tmo=$(val "$r" tmo)
	pkts_per_msg=$(((msg + mtu - 1) / mtu))
	frame=$(awk -v b="$tx_bytes" -v f="$tx_frames" 'BEGIN { printf "%d", b / f + 0.5 }')
	# Data frames/s: messages/s x frames per message (retransmissions
	# are not goodput); on the wire at the average frame size.
	sx_mpps=$(awk -v m="$mpps_msg" -v k="$pkts_per_msg" 'BEGIN { printf "%.4f", m * k }')
	sx_wire=$(awk -v p="$sx_mpps" -v f="$frame" 'BEGIN { printf "%.2f", p * 1e6 * f * 8 / 1e9 }')
	printf "  scalex   MTU %s, %s B messages: %.2f Gb/s goodput, %s Mpps of %s-byte frames (%s Gb/s of frames)\n" \
		"$mtu" "$msg" "$gbps" "$sx_mpps" "$frame" "$sx_wire"
	printf "           %s retransmits, %s timeouts" "$retx" "$tmo"
	if [ "$tmo" != 0 ]; then
		printf " (no frame was dropped: spurious, the receiver stalled past the RTO)"
	fi
	echo
	print_others
	# The memif buffers scalex's port uses: MTU + 128, rounded up to 64.
	if best testpmd m_testpmd "$frame" $(((mtu + 128 + 63) / 64 * 64)); then
		r=$work/testpmd
		tp_n=$(val "$r" tp_n)
		tp_mpps=$(awk -v p="$(val "$r" tp_pps)" 'BEGIN { printf "%.4f", p / 1e6 }')
		tp_gbps=$(awk -v b="$(val "$r" tp_bps)" 'BEGIN { printf "%.2f", b / 1e9 }')
		printf "  testpmd  txonly -> rxonly, %s-byte frames: %s Mpps, %s Gb/s (median of %s stats periods)\n" \
			"$frame" "$tp_mpps" "$tp_gbps" "$tp_n"
		print_others
		ratio_a=$(ratio "$sx_mpps" "$tp_mpps")
		goal "$ratio_a" ge 0.8
		printf "  ratio scalex/testpmd frames/s: %s (goal >= 0.8: %s)\n" "$ratio_a" "$verdict"
	else
		failed=1
	fi
fi

# ---------------------------------------------------------------------------
echo
echo "== (b) latency: scalex send_lat -s 2 vs sockperf ping-pong (UDP, loopback)"
sx_med=
if best lat m_send_lat; then
	r=$work/lat
	sx_med=$(val "$r" med)
	printf "  scalex   send_lat 2 B: median %.2f us, p99 %.2f us (half round trip, %s round trips)\n" \
		"$sx_med" "$(val "$r" p99)" "$(val "$r" n)"
	print_others
else
	failed=1
fi
if best sockperf m_sockperf; then
	r=$work/sockperf
	sp_med=$(val "$r" sp_med)
	printf "  sockperf ping-pong 14 B: median %s us, p99 %s us (half round trip)\n" "$sp_med" \
		"$(val "$r" sp_p99)"
	print_others
	if [ -n "$sx_med" ]; then
		ratio_b=$(ratio "$sx_med" "$sp_med")
		goal "$ratio_b" le 0.5
		printf "  ratio scalex/sockperf median: %s (goal <= 0.5: %s)\n" "$ratio_b" "$verdict"
	fi
else
	failed=1
fi

# ---------------------------------------------------------------------------
echo
echo "== (c) loss recovery: write_bw ${msg} B, 1% of the client's frames dropped"
loss_gbn=
loss_sr=
for rel in gbn sr; do
	if best loss_$rel m_write_bw "${mtu:-1024}" "$rel" "--fault-tx drop=0.01 --seed 1"; then
		r=$work/loss_$rel
		gbps=$(val "$r" gbps)
		printf "  %-3s goodput %.2f Gb/s; %s retransmits, %s timeouts, %s frames dropped\n" \
			"$rel" "$gbps" "$(val "$r" retx)" "$(val "$r" tmo)" "$(val "$r" dropped)"
		print_others
		if [ "$rel" = gbn ]; then loss_gbn=$gbps; else loss_sr=$gbps; fi
	else
		failed=1
	fi
done
if [ -n "$loss_gbn" ] && [ -n "$loss_sr" ]; then
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
