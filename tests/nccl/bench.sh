#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# NCCL plugin bandwidth against scalex-perf write_bw over the same kind of
# memif pair with the same settings: 1 MiB messages, MTU 4096, go-back-N,
# no CC, 8 in flight (NCCL's window of 8 requests; write_bw --tx-depth 8),
# the same bytes (--iters messages after 64 untimed ones that page-fault
# the --no-huge buffers), the same EAL arguments and the same CPUs (the
# receiver on the first CPU this script may use, the sender on the
# second). The plugin's harness streams rank 1 -> rank 0 without touching
# the payload, as NCCL's proxy does not touch it.
#
# Two ratios, plugin / write_bw: bandwidth, and CPU time per byte (both
# processes of a pair together, from the shell's `times` of its children,
# less the CPU of the same run with one message so that start-up, the
# warm-up and the harness' own checks cancel). On a machine shared with
# other work the second is the one that says what the plugin costs: a
# process that backs off to sleep when idle loses its CPU for milliseconds
# when the machine is loaded, so bandwidth there measures how often each
# program sleeps more than what it costs (docs/integrations.md, NCCL,
# Benchmark). The two are measured in alternating rounds (A B, B A, ...)
# with the ratios taken per round; the medians are the result.
#
# Usage: tests/nccl/bench.sh BUILD_DIR   (meson test --benchmark runs it)
# Environment: SX_BENCH_ROUNDS (default 3), SX_BENCH_ITERS (default 1000).
set -u -o pipefail
build=${1:?build dir}
rounds=${SX_BENCH_ROUNDS:-3}
iters=${SX_BENCH_ITERS:-1000}
perf=$build/tools/scalex-perf
harness=$build/tests/nccl/nccl_harness
plugin=$build/adapters/nccl/libnccl-net-scalex.so
work=$(mktemp -d /tmp/sx-nccl-bench.XXXXXX)
. "$(dirname "$0")/../../tools/common/free_port.sh"
port=$(sx_free_port)
spid=
cleanup() {
	[ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# the CPUs the harness pins its ranks to: the first two allowed
read -r cpu0 cpu1 < <(/usr/bin/python3 -c \
	'import os; c = sorted(os.sched_getaffinity(0)); print(c[0], c[min(1, len(c) - 1)])')
eal() { # PREFIX CPU
	echo "--no-huge -m 256 --no-pci --no-telemetry --log-level=error --file-prefix $1 --lcores 0@$2"
}

# CPU seconds (user + system) of the children of the shell `times` ran in
# (its second line): "0m1.234s 0m0.567s" -> 1.801
cpu_of_times() {
	awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] } print n }'
}

# write_bw ITERS -> "Gb/s CPU-seconds" on stdout
write_bw() {
	local n=$1
	local dev="net_memif0,id=0,socket=$work/m.sock,socket-abstract=no"
	local args=(write_bw --boot-port "$port" -s 1M --mtu 4096 --rel gbn --tx-depth 8
		-n "$n" --warmup 64 --ctl-sock none)
	# both processes are children of this subshell, so its `times` counts both
	# shellcheck disable=SC2046
	(
		"$perf" "${args[@]}" --server --dev "$dev,role=server" --json "$work/s.json" \
			-- $(eal "sxb-s-$$" "$cpu0") >"$work/s.log" 2>&1 &
		s=$!
		"$perf" "${args[@]}" --connect 127.0.0.1 --dev "$dev,role=client" \
			--json "$work/c.json" -- $(eal "sxb-c-$$" "$cpu1") >"$work/c.log" 2>&1
		c=$?
		wait "$s" || c=1
		times >"$work/times"
		exit "$c"
	) &
	spid=$!
	if ! wait "$spid"; then
		spid=
		echo "scalex-perf write_bw failed:" >&2; tail -5 "$work/c.log" "$work/s.log" >&2; exit 2
	fi
	spid=
	port=$(sx_free_port)
	echo "$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["bw_avg_gbps"])' "$work/c.json") $(cpu_of_times <"$work/times")"
}

# the plugin harness ITERS -> "Gb/s CPU-seconds" on stdout (the harness
# waits for its two ranks, so the subshell's `times` counts them)
plugin_bw() {
	local out mbps
	out=$( (timeout -k 3 150 "$harness" --plugin "$plugin" --bench --rel gbn --window 8 \
		--bench-size 1048576 --bench-iters "$1" --timeout 120 2>&1; r=$?
		times >"$work/times"; exit $r) ) || {
		echo "harness failed:" >&2; echo "$out" | tail -5 >&2; exit 2; }
	mbps=$(echo "$out" | sed -n 's/^bench: .*: \([0-9.]*\) MB\/s$/\1/p')
	[ -n "$mbps" ] || { echo "no bench line:" >&2; echo "$out" | tail -5 >&2; exit 2; }
	awk -v m="$mbps" -v c="$(cpu_of_times <"$work/times")" 'BEGIN { printf "%.3f %s\n", m * 8 / 1000, c }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# CPU seconds per GiB of the ITERS - 1 messages a full run has over a
# one-message run: FULL_CPU ONE_CPU
per_gib() { awk -v f="$1" -v o="$2" -v n="$iters" 'BEGIN { printf "%.3f", (f - o) / ((n - 1) / 1024) }'; }

echo "1 MiB x $iters, MTU 4096, gbn, 8 in flight, receiver on CPU $cpu0, sender on CPU $cpu1"
bw_ratios=()
cpu_ratios=()
for r in $(seq 1 "$rounds"); do
	if [ $((r % 2)) -eq 1 ]; then
		read -r base base_cpu <<<"$(write_bw "$iters")" || exit 2
		read -r plug plug_cpu <<<"$(plugin_bw "$iters")" || exit 2
	else
		read -r plug plug_cpu <<<"$(plugin_bw "$iters")" || exit 2
		read -r base base_cpu <<<"$(write_bw "$iters")" || exit 2
	fi
	[ -n "$base_cpu" ] && [ -n "$plug_cpu" ] || exit 2
	read -r _ base_one <<<"$(write_bw 1)" || exit 2
	read -r _ plug_one <<<"$(plugin_bw 1)" || exit 2
	base_gib=$(per_gib "$base_cpu" "$base_one")
	plug_gib=$(per_gib "$plug_cpu" "$plug_one")
	bw_ratios+=("$(awk -v a="$plug" -v b="$base" 'BEGIN { printf "%.2f", a / b }')")
	cpu_ratios+=("$(awk -v a="$plug_gib" -v b="$base_gib" 'BEGIN { printf "%.2f", a / b }')")
	printf "round %d: write_bw %7.3f Gb/s %6.3f CPU-s/GiB; plugin %7.3f Gb/s %6.3f CPU-s/GiB\n" \
		"$r" "$base" "$base_gib" "$plug" "$plug_gib"
done
printf "ratio plugin / write_bw, median of %d rounds: bandwidth %s (%s), CPU per byte %s (%s)\n" \
	"$rounds" "$(printf '%s\n' "${bw_ratios[@]}" | median)" "${bw_ratios[*]}" \
	"$(printf '%s\n' "${cpu_ratios[@]}" | median)" "${cpu_ratios[*]}"
