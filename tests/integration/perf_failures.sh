#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Regression tests of issue 10: every failure of scalex-perf and scalex-pcap
# ends cleanly, within a bound, with the documented status and message
# (tools/common/options.c usage text: 0 pass, 1 failure or timeout, 2 usage,
# 128+N signal N). Each case failed before its fix.
#
#   perf_failures.sh SCALEX_PERF SCALEX_PCAP TSHARK
#
# Also issue 9's command-line reach: --server=ADDR and a static neighbor
# entry (--neighbor IP=MAC), read back from a capture by tshark.
#
# Waits are on events (a listening port, an exit) with deadlines, never a
# sleep that guesses how long the other side takes. The time bounds catch
# hangs, not speed: a process may take seconds to start and to exit on a
# loaded 2-core machine (QUICK_S), and what happened before the EAL started
# is also asserted by the absence of its runtime directory.
set -u
PERF=$1
PCAP=$2
TSHARK=${3:-}
. "$(dirname "$0")/../common/perf_lib.sh"

# A short peer timeout: a frozen peer must be given up within it. It also
# bounds the peer's device start-up between two bootstrap lines, so not too
# short on a loaded machine (a sanitizer build sets more).
PT=${SX_PEER_TIMEOUT:-2}
# Bound of a process that must not reach the device or wait for a peer.
QUICK_S=5
FAILS=0
PIDS=()
WORK=$(mktemp -d)
trap 'for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT

fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

ok() {
	echo "ok: $*"
}

# expect WHAT WANT GOT
expect_rc() {
	if [ "$3" = "$2" ]; then ok "$1: exit $3"; else fail "$1: exit $3, want $2"; fi
}

# expect_within WHAT SECONDS GOT_SECONDS
expect_within() {
	if le "$3" "$2"; then ok "$1: $3 s <= $2 s"; else fail "$1: $3 s > $2 s"; fi
}

expect_grep() {
	if grep -q -- "$2" "$3"; then ok "$1: says '$2'"; else
		fail "$1: no '$2' in:"
		sed 's/^/    /' "$3"
	fi
}

# start_server PORT MODE ARGS...: a server in the background; SPID.
start_server() {
	local port=$1 mode=$2
	shift 2
	"$PERF" "$mode" --server --boot-port "$port" --peer-timeout $PT "$@" \
		>"$WORK/s.out" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	wait_for 20 listening "$port" || fail "server on $port never listened"
}

start_client() {
	local port=$1 mode=$2
	shift 2
	"$PERF" "$mode" --connect 127.0.0.1 --boot-port "$port" --peer-timeout $PT "$@" \
		>"$WORK/c.out" 2>&1 &
	CPID=$!
	PIDS+=("$CPID")
}

# Has the run started (the client printed the endpoints it connected)?
running_test() {
	grep -q "remote address" "$WORK/c.out" 2>/dev/null
}

no_leftovers() {
	local left
	left=$(leftovers "$@")
	if [ -z "$left" ]; then ok "no leftovers"; else fail "left: $left"; fi
}

# ---------------------------------------------------------------------------
echo "# 1. every option is checked before any device starts"
port=$(free_port)
start_server "$port" write_bw -n 100
for bad in "--cc bogus" "--cc dcqcn --cc-preset nosuch" "--cc dcqcn --cc-param nosuch=1" \
	"--cc dcqcn --cc-param g=-5" "--cc-param g=1" "--trace $WORK/t.csv"; do
	start=$(now_s)
	# shellcheck disable=SC2086
	"$PERF" write_bw --connect 127.0.0.1 --boot-port "$port" $bad >"$WORK/c.out" 2>&1
	rc=$?
	expect_rc "client $bad" 2 $rc
	# A usage error comes before the EAL: no runtime directory, no socket.
	expect_within "client $bad" $QUICK_S "$(elapsed "$start")"
done
"$PERF" write_bw --connect 127.0.0.1 --boot-port "$port" --cc bogus >"$WORK/c.out" 2>&1
expect_grep "bad --cc names the registry's algorithms" "no congestion control 'bogus' (dcqcn, timely, " "$WORK/c.out"
# The server, which never met a client, ends at its accept deadline
# (4 peer timeouts) with a message, not a crash.
reap "$SPID" $((4 * PT + 10))
expect_rc "server without a client" 1 "$REAP_RC"
expect_grep "server without a client" "no client connected within" "$WORK/s.out"
no_leftovers "$port" "$SPID"

echo "# 1b. a client that fails after connecting: the live server survives"
port=$(free_port)
start_server "$port" write_bw -n 100
start_client "$port" write_bw -n 100 --pcap /dev/full
reap "$CPID" 20
expect_rc "client --pcap /dev/full" 1 "$REAP_RC"
expect_grep "--pcap /dev/full: the real error" "No space left on device" "$WORK/c.out"
reap "$SPID" 20
expect_rc "server of a client that could not open its device" 1 "$REAP_RC"
expect_grep "server" "the peer failed (open)" "$WORK/s.out"
no_leftovers "$port" "$SPID" "$CPID"

# ---------------------------------------------------------------------------
echo "# 6. outputs are opened before the run"
start=$(now_s)
"$PERF" write_bw --server --boot-port "$(free_port)" --json /nonexistent/x.json >"$WORK/s.out" 2>&1
expect_rc "--json /nonexistent/x.json" 1 $?
expect_within "--json /nonexistent/x.json" $QUICK_S "$(elapsed "$start")"
expect_grep "--json" "/nonexistent/x.json: No such file or directory" "$WORK/s.out"
"$PERF" write_bw --server --boot-port "$(free_port)" --pcap /nonexistent/x.pcapng >"$WORK/s.out" 2>&1
expect_rc "--pcap /nonexistent/x.pcapng" 1 $?
"$PCAP" synth /dev/full >"$WORK/p.out" 2>&1
expect_rc "scalex-pcap synth /dev/full" 2 $?
expect_grep "synth /dev/full" "No space left on device" "$WORK/p.out"
"$PCAP" synth "$WORK/x.pcap" >/dev/full 2>"$WORK/p.out"
expect_rc "scalex-pcap synth > /dev/full" 2 $?

# ---------------------------------------------------------------------------
echo "# 4. SIGINT and SIGTERM during the bootstrap connect retry"
for sig in INT TERM; do
	port=$(free_port)
	start_client "$port" write_bw
	# Retrying: EAL up (its runtime directory exists), nobody listening.
	wait_for 20 test -e "$SX_RUNTIME_BASE/scalex-perf-$CPID" || fail "client never started"
	kill -$sig "$CPID"
	reap "$CPID" 5
	want=$((128 + $(kill -l $sig)))
	expect_rc "SIG$sig while connecting" $want "$REAP_RC"
	expect_within "SIG$sig while connecting" $((PT + 3)) "$REAP_S"
	expect_grep "SIG$sig while connecting" "interrupted" "$WORK/c.out"
	no_leftovers "$port" "$CPID"
done

# ---------------------------------------------------------------------------
echo "# 3. the server of a client killed during the test fails"
for mode in write_bw read_bw; do
	port=$(free_port)
	start_server "$port" $mode -D 10
	start_client "$port" $mode -D 10
	wait_for 20 running_test || fail "$mode never started"
	kill -KILL "$CPID"
	wait "$CPID" 2>/dev/null
	reap "$SPID" 10
	expect_rc "$mode server, client killed" 1 "$REAP_RC"
	expect_within "$mode server, client killed" 5 "$REAP_S"
	no_leftovers "$port" "$SPID"
	# The killed client's runtime directory: removed by the next start.
	rm -rf "${SX_RUNTIME_BASE:?}/scalex-perf-$CPID"
done

# ---------------------------------------------------------------------------
echo "# 2. a frozen peer: the other side gives up within the peer timeout"
for who in server client; do
	port=$(free_port)
	start_server "$port" write_bw -D 10
	start_client "$port" write_bw -D 10
	wait_for 20 running_test || fail "write_bw never started"
	if [ $who = server ]; then frozen=$SPID live=$CPID out=c.out; else
		frozen=$CPID live=$SPID out=s.out; fi
	kill -STOP "$frozen"
	reap "$live" $((3 * PT + 10))
	# The silence timeout, or a bootstrap line's, then the close and the
	# EAL's cleanup (seconds on a loaded machine).
	expect_rc "$who frozen: the other side" 1 "$REAP_RC"
	expect_within "$who frozen: the other side" $((3 * PT + 4)) "$REAP_S"
	expect_grep "$who frozen: names what it waited for" "waiting for" "$WORK/$out"
	kill -CONT "$frozen"
	reap "$frozen" 10
	expect_rc "$who frozen, then resumed" 1 "$REAP_RC"
	no_leftovers "$port" "$SPID" "$CPID"
done

# ---------------------------------------------------------------------------
echo "# 7. leftovers of dead processes are removed at start-up"
# A runtime directory of a PID that is gone, one of a live PID (this
# shell's: not scalex-perf, but the test only needs a live PID), and a
# memif socket file nobody listens on.
bash -c 'exit 0' &
dead=$!
wait $dead
mkdir -p "$SX_RUNTIME_BASE/scalex-perf-$dead" "$SX_RUNTIME_BASE/scalex-perf-$$"
echo x >"$SX_RUNTIME_BASE/scalex-perf-$dead/config"
port=$(free_port)
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])' \
	"/tmp/scalex-perf-$port.sock"
# ... and the dead process's control socket (sx_ctl_default_path()).
ctl_dead="${SCALEX_CTL_DIR:-/tmp}/scalex-$dead.sock"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$ctl_dead"
start_server "$port" write_bw -n 100 --verify
start_client "$port" write_bw -n 100 --verify
reap "$CPID" 30
expect_rc "client after a stale socket" 0 "$REAP_RC"
reap "$SPID" $((4 * PT + 10))
expect_rc "server after a stale socket" 0 "$REAP_RC"
expect_grep "stale socket" "removed /tmp/scalex-perf-$port.sock" "$WORK/s.out"
if [ -e "$SX_RUNTIME_BASE/scalex-perf-$dead" ]; then
	fail "the dead process's runtime directory is still there"
else
	ok "dead process's runtime directory removed"
fi
if [ -e "$ctl_dead" ]; then
	fail "the dead process's control socket is still there"
	rm -f "$ctl_dead"
else
	ok "dead process's control socket removed"
fi
if [ -e "$SX_RUNTIME_BASE/scalex-perf-$$" ]; then ok "live process's runtime directory kept"; else
	fail "a live process's runtime directory was removed"; fi
rmdir "$SX_RUNTIME_BASE/scalex-perf-$$"
no_leftovers "$port" "$SPID" "$CPID"

# ---------------------------------------------------------------------------
echo "# issue 9: --server=ADDR and a static neighbor entry"
port=$(free_port)
start_server "$port" write_bw -n 50 -s 4096 --server=127.0.0.1
start_client "$port" write_bw -n 50 -s 4096 --neighbor 10.0.0.1=02:00:00:00:00:99 \
	--pcap "$WORK/n.pcapng"
reap "$CPID" 30
expect_rc "client with a static neighbor" 0 "$REAP_RC"
reap "$SPID" 30
expect_rc "server on 127.0.0.1" 0 "$REAP_RC"
if [ -z "$TSHARK" ] || [ ! -x "$TSHARK" ]; then
	fail "tshark is needed to read the capture back (tools/quickstart installs it)"
else
	# Every frame to the server's IP went to the neighbor's MAC.
	"$TSHARK" -r "$WORK/n.pcapng" -Y "ip.dst == 10.0.0.1" -T fields -e eth.dst \
		2>/dev/null | sort | uniq -c >"$WORK/dst"
	if [ "$(wc -l <"$WORK/dst")" = 1 ] && grep -q " 02:00:00:00:00:99$" "$WORK/dst"; then
		ok "frames to 10.0.0.1 went to 02:00:00:00:00:99 ($(awk '{print $1}' "$WORK/dst") frames)"
	else
		fail "destination MACs of frames to 10.0.0.1:"
		sed 's/^/    /' "$WORK/dst"
	fi
fi
"$PERF" write_bw --neighbor 10.0.0.1=02:00:00:00:0:99 >"$WORK/c.out" 2>&1
expect_rc "--neighbor with a bad MAC" 2 $?

echo "failures: $FAILS"
[ $FAILS = 0 ]
