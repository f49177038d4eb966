#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Two real scalex-perf processes over memif at a WAN round trip
# (docs/longhaul.md, Windows and loss recovery): write_bw, sr, 64 KiB
# messages, --verify (crc64 of every target byte), the client's tx delayed
# 10 ms by the port's fault layer (--fault-tx delay=10ms: RTT ~10 ms), the
# window (--window) sized to this machine's rate x 10 ms with room for
# repairs. Baseline: the same pair without delay, in the same run.
#
#   perf_wan.sh SCALEX_PERF [--check]
#
# Benchmark (default): baseline, delay, delay + 0.1% loss, REPS times each,
# interleaved; prints each run and the median ratios; exit 1 if data did not
# verify or the delayed median is below 90% of the baseline median.
# --check (the test suite): one short delayed run with loss, data verified;
# nothing timed.
set -u
PERF=$1
MODE=${2:-bench}
. "$(dirname "$0")/../common/perf_lib.sh"

# 2.9 Gb/s x 10 ms is 3.6 MB, 880 packets of 4 KiB; twice that, and a
# messages queue deep enough to keep it full.
WIN=8192
DEPTH=512
REPS=${SX_WAN_REPS:-3}
DUR=${SX_WAN_DURATION:-3}
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT
FAILS=0

# pair NAME DURATION CLIENT_ARGS...: one server/client pair; GBPS is the
# client's average, empty on failure.
pair() {
	local name=$1 dur=$2 port spid cpid
	shift 2
	port=$(free_port)
	GBPS=
	"$PERF" write_bw --server --boot-port "$port" -s 64K -D "$dur" --rel sr --verify \
		--window $WIN --tx-depth $DEPTH >"$WORK/$name.s" 2>&1 &
	spid=$!
	PIDS+=("$spid")
	if ! wait_for 30 listening "$port"; then
		echo "FAIL $name: server never listened"
		FAILS=$((FAILS + 1))
		return
	fi
	"$PERF" write_bw --connect 127.0.0.1 --boot-port "$port" -s 64K -D "$dur" --rel sr \
		--verify --window $WIN --tx-depth $DEPTH "$@" >"$WORK/$name.c" 2>&1 &
	cpid=$!
	PIDS+=("$cpid")
	reap "$cpid" $((dur + 60))
	local crc=$REAP_RC
	reap "$spid" 30
	if [ "$crc" != 0 ] || [ "$REAP_RC" != 0 ] ||
		! grep -q "verify: ok" "$WORK/$name.c"; then
		echo "FAIL $name: client exit $crc, server exit $REAP_RC"
		sed 's/^/    /' "$WORK/$name.c" | tail -20
		FAILS=$((FAILS + 1))
		return
	fi
	GBPS=$(awk '/#bytes/ { getline; print $4; exit }' "$WORK/$name.c")
	local rx tmo
	rx=$(awk '/retransmits/ { for (i = 1; i < NF; i++) if ($i == "retransmits") print $(i + 1); exit }' "$WORK/$name.c")
	tmo=$(awk '/timeouts/ { for (i = 1; i < NF; i++) if ($i == "timeouts") print $(i + 1); exit }' "$WORK/$name.c")
	printf '%-22s %7s Gb/s  retransmits %s  timeouts %s  data verified\n' "$name" "$GBPS" "$rx" "$tmo"
	leftovers "$port" "$spid" "$cpid" | xargs -r rm -rf
}

median() {
	sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

if [ "$MODE" = --check ]; then
	pair delay10ms-loss0.1pct 2 --fault-tx delay=10ms,drop=0.001 --seed 5
	[ -n "$GBPS" ] && [ "$FAILS" = 0 ] && echo "PASS" && exit 0
	exit 1
fi

: >"$WORK/base"
: >"$WORK/delay"
: >"$WORK/loss"
for r in $(seq "$REPS"); do
	pair "baseline-$r" "$DUR"
	[ -n "$GBPS" ] && echo "$GBPS" >>"$WORK/base"
	pair "delay10ms-$r" "$DUR" --fault-tx delay=10ms
	[ -n "$GBPS" ] && echo "$GBPS" >>"$WORK/delay"
	pair "delay10ms-loss1e-3-$r" "$DUR" --fault-tx delay=10ms,drop=0.001 --seed "$r"
	[ -n "$GBPS" ] && echo "$GBPS" >>"$WORK/loss"
done
B=$(median <"$WORK/base")
D=$(median <"$WORK/delay")
L=$(median <"$WORK/loss")
if [ -z "$B" ] || [ -z "$D" ] || [ -z "$L" ]; then
	echo "FAIL: no medians"
	exit 1
fi
awk -v b="$B" -v d="$D" -v l="$L" -v w=$WIN 'BEGIN {
	printf "medians: baseline %.2f Gb/s, 10 ms %.2f (%.1f%%), 10 ms + 1e-3 loss %.2f (%.1f%%), window %d\n",
	       b, d, 100 * d / b, l, 100 * l / b, w }'
awk -v b="$B" -v d="$D" 'BEGIN { exit !(d >= 0.9 * b) }' || {
	echo "FAIL: delayed goodput below 90% of the baseline"
	FAILS=$((FAILS + 1))
}
[ "$FAILS" = 0 ]
