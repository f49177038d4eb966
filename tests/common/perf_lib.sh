# SPDX-License-Identifier: BSD-3-Clause
# Shared by the shell tests that start scalex-perf pairs
# (tests/integration/perf_failures.sh, tests/chaos/chaos.sh): free ports,
# waiting on events with deadlines instead of sleeping, and the files a
# scalex-perf process leaves (EAL runtime directory, memif socket).
# Sourced by bash; every wait here has a deadline.

. "$(dirname "${BASH_SOURCE[0]}")/../../tools/common/free_port.sh"

# DPDK's runtime directory (eal_get_runtime_dir()).
if [ "$(id -u)" = 0 ]; then
	SX_RUNTIME_BASE=/var/run/dpdk
else
	SX_RUNTIME_BASE=${XDG_RUNTIME_DIR:-/tmp}/dpdk
fi

# A TCP port nobody uses (tools/common/free_port.sh) whose default memif
# socket does not exist: other test runs may share the machine.
free_port() {
	local p
	while :; do
		p=$(sx_free_port)
		[ -e "/tmp/scalex-perf-$p.sock" ] || break
	done
	echo "$p"
}

# Seconds since the epoch, microsecond resolution.
now_s() {
	echo "$EPOCHREALTIME"
}

# elapsed START: seconds since START (now_s), 3 decimals.
elapsed() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}

# le A B: is A <= B (decimals)?
le() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'
}

# Microseconds since the epoch, without a fork.
now_us() {
	echo "${EPOCHREALTIME/./}"
}

# wait_for SECONDS COMMAND...: run COMMAND every 10 ms until it succeeds;
# 1 if it never did within SECONDS (an integer or a decimal).
wait_for() {
	local limit_us deadline
	limit_us=$(awk -v s="$1" 'BEGIN { printf "%d", s * 1000000 }')
	deadline=$(($(now_us) + limit_us))
	shift
	until "$@"; do
		[ "$(now_us)" -le $deadline ] || return 1
		sleep 0.01
	done
}

# Is the server on port PORT listening for its client (it opened its device
# first, so its memif socket exists too)?
listening() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# The state letter of PID (R, S, T, Z, ...) from /proc, without a fork:
# these are polled every 10 ms. Empty if there is no such process.
proc_state() {
	local line
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	# "pid (comm) S ...": comm may hold spaces, the state follows its ')'.
	line=${line##*) }
	echo "${line%% *}"
}

# Is PID running (not a zombie, not stopped)?
running() {
	local st
	st=$(proc_state "$1") || return 1
	case $st in Z | T | t | X) return 1 ;; esac
}

# Has the child PID exited (reaped or a zombie)?
exited() {
	local st
	st=$(proc_state "$1") || return 0
	case $st in Z | X) return 0 ;; esac
	return 1
}

# reap PID SECONDS: wait for child PID at most SECONDS, then SIGKILL it.
# Sets REAP_RC to its exit status as bash reports it (128+N for signal N),
# 999 if it had to be killed, and REAP_S to the seconds it took. Not in a
# subshell: only this shell can wait for its children.
reap() {
	local pid=$1 limit=$2 start
	start=$(now_s)
	if ! wait_for "$limit" exited "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		REAP_RC=999
	else
		wait "$pid"
		REAP_RC=$?
	fi
	REAP_S=$(elapsed "$start")
}

# The files a scalex-perf process PID of the pair on PORT may leave.
leftovers() {
	local pid port=$1
	shift
	for pid in "$@"; do
		[ -e "$SX_RUNTIME_BASE/scalex-perf-$pid" ] && echo "$SX_RUNTIME_BASE/scalex-perf-$pid"
		# the control socket (sx_ctl_default_path())
		[ -e "${SCALEX_CTL_DIR:-/tmp}/scalex-$pid.sock" ] &&
			echo "${SCALEX_CTL_DIR:-/tmp}/scalex-$pid.sock"
	done
	[ -e "/tmp/scalex-perf-$port.sock" ] && echo "/tmp/scalex-perf-$port.sock"
	return 0
}
