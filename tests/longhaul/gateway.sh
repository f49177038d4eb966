#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two datacenters on this machine (docs/longhaul.md, "Gateway mode"):
#
#   host A --memif-- gateway 0 ==memif, WAN== gateway 1 --memif-- host B
#
# three DPDK processes: scalex-gateway gw twice (inside DCQCN nic, WAN DCQCN
# longhaul) and scalex-gateway hosts (A and B). A writes BYTES through the
# gateways to B, which checks every byte. Run twice: without delay (the
# baseline of this machine's rate) and with 5 ms on each gateway's WAN tx
# (RTT 10 ms). Checks: both runs complete intact; each gateway printed its
# per-side counters; gateway 0's WAN side forwarded, and gateway 1's inside
# side delivered, exactly BYTES of payload; nothing arrived with a bad
# header. Prints the goodput of both runs and their ratio.
#
# usage: gateway.sh BUILD_DIR [BYTES]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/perf_lib.sh"
build=${1:?usage: gateway.sh BUILD_DIR [BYTES]}
bytes=${2:-16000000}
gw=$build/tools/scalex-gateway
[ -x "$gw" ] || { echo "gateway.sh: $gw not built" >&2; exit 1; }
work=$(mktemp -d /tmp/sx-gateway-test.XXXXXX)
tag=sxgwt$$
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
	[ -n "${KEEP:-}" ] || rm -rf "$work"
	rm -rf "$SX_RUNTIME_BASE/$tag"-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "gateway.sh: FAIL: $*" >&2; exit 1; }

# run NAME FAULT: one transfer; leaves NAME.hosts, NAME.gw0, NAME.gw1 in $work
run() {
	local name=$1 fault=$2 p0 p1 hp0 hp1 pp f=() rc
	hp0=$(free_port) hp1=$(free_port) pp=$(free_port)
	[ -n "$fault" ] && f=(--wan-fault-tx "$fault")
	rm -f "$work"/*.sock
	"$gw" gw --name gw0 --inside "net_memif0,role=server,socket=$work/in0.sock" \
		--wan "net_memif1,role=server,socket=$work/wan.sock" --host-port "$hp0" \
		--peer-connect "$pp" --inside-cc dcqcn --inside-preset nic --wan-cc dcqcn \
		--wan-preset longhaul "${f[@]}" --duration 90 --file-prefix "$tag-$name-0" \
		>"$work/$name.gw0" 2>"$work/$name.gw0.err" &
	p0=$!
	pids+=("$p0")
	# a memif client whose server socket is not there yet never connects
	wait_for 30 grep -q "ports open" "$work/$name.gw0.err" ||
		fail "$name: gateway 0 did not open its ports"
	"$gw" gw --name gw1 --inside "net_memif0,role=server,socket=$work/in1.sock" \
		--wan "net_memif1,role=client,socket=$work/wan.sock" --host-port "$hp1" \
		--peer-listen "$pp" --inside-cc dcqcn --inside-preset nic --wan-cc dcqcn \
		--wan-preset longhaul "${f[@]}" --duration 90 --file-prefix "$tag-$name-1" \
		>"$work/$name.gw1" 2>"$work/$name.gw1.err" &
	p1=$!
	pids+=("$p1")
	wait_for 30 grep -q "ports open" "$work/$name.gw1.err" ||
		fail "$name: gateway 1 did not open its ports"
	timeout 80 "$gw" hosts --src "net_memif0,role=client,socket=$work/in0.sock" \
		--dst "net_memif1,role=client,socket=$work/in1.sock" --src-gw "$hp0" \
		--dst-gw "$hp1" --bytes "$bytes" --inside-cc dcqcn --inside-preset nic \
		--timeout 60 --file-prefix "$tag-$name-h" >"$work/$name.hosts" 2>"$work/$name.hosts.err"
	rc=$?
	kill -TERM "$p0" "$p1" 2>/dev/null
	wait "$p0"; local r0=$?
	wait "$p1"; local r1=$?
	pids=()
	if [ $rc -ne 0 ] || [ $r0 -ne 0 ] || [ $r1 -ne 0 ]; then
		cat "$work/$name".*.err >&2
		fail "$name: hosts exit $rc, gateways $r0 $r1"
	fi
}

field() { # FILE SIDE KEY: a gateway's per-side counter
	grep "\"side\": \"$2\"" "$1" | sed -n "s/.*\"$3\": \([0-9.]*\).*/\1/p"
}
hfield() { sed -n "s/.*\"$2\": \([0-9.]*\).*/\1/p" "$1"; }

check() {
	local name=$1 g0=$work/$1.gw0 g1=$work/$1.gw1 s
	[ "$(hfield "$work/$name.hosts" bytes)" = "$bytes" ] || fail "$name: not all bytes"
	[ "$(hfield "$work/$name.hosts" corrupt_bytes)" = 0 ] || fail "$name: corrupt data"
	for s in inside wan; do
		grep -q "\"gateway\": \"gw0\", \"side\": \"$s\"" "$g0" || fail "$name: gw0 $s counters"
		grep -q "\"gateway\": \"gw1\", \"side\": \"$s\"" "$g1" || fail "$name: gw1 $s counters"
	done
	[ "$(field "$g0" wan payload_bytes)" = "$bytes" ] || fail "$name: gw0 forwarded $(field "$g0" wan payload_bytes)"
	[ "$(field "$g1" inside payload_bytes)" = "$bytes" ] || fail "$name: gw1 delivered $(field "$g1" inside payload_bytes)"
	[ "$(field "$g0" inside bad_header)" = 0 ] && [ "$(field "$g1" wan bad_header)" = 0 ] ||
		fail "$name: bad headers"
	# the WAN side carried the payload, the inside of gw0 only acknowledgements
	[ "$(field "$g0" wan tx_bytes)" -ge "$bytes" ] || fail "$name: gw0 WAN tx"
	[ "$(field "$g1" inside tx_bytes)" -ge "$bytes" ] || fail "$name: gw1 inside tx"
	echo "$name: $(cat "$work/$name.hosts")"
	cat "$g0" "$g1"
}

run base ""
check base
run wan "delay=5ms"
check wan
b=$(hfield "$work/base.hosts" goodput_gbps) w=$(hfield "$work/wan.hosts" goodput_gbps)
awk -v b="$b" -v w="$w" 'BEGIN { printf "gateway relay: %.4f Gb/s without delay, %.4f Gb/s at RTT 10 ms: %.2fx\n", b, w, w / b }'
