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
# The two are measured in alternating rounds (A B, B A, A B, ...) and the
# ratio is taken per round, so that the load of other work on a shared
# machine falls on both alike; the median is the result. What the ratio
# shows and what is known of why is in docs/integrations.md (NCCL,
# Benchmark).
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
port=$((20000 + $$ % 20000))
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

# write_bw -> Gb/s on stdout
write_bw() {
	local dev="net_memif0,id=0,socket=$work/m.sock,socket-abstract=no"
	local args=(write_bw --boot-port "$port" -s 1M --mtu 4096 --rel gbn --tx-depth 8
		-n "$iters" --warmup 64 --ctl-sock none)
	# shellcheck disable=SC2046
	timeout -k 3 120 "$perf" "${args[@]}" --server --dev "$dev,role=server" \
		--json "$work/s.json" -- $(eal "sxb-s-$$" "$cpu0") >"$work/s.log" 2>&1 &
	spid=$!
	# shellcheck disable=SC2046
	if ! timeout -k 3 120 "$perf" "${args[@]}" --connect 127.0.0.1 --dev "$dev,role=client" \
		--json "$work/c.json" -- $(eal "sxb-c-$$" "$cpu1") >"$work/c.log" 2>&1; then
		echo "scalex-perf write_bw failed:" >&2; tail -5 "$work/c.log" "$work/s.log" >&2; exit 2
	fi
	wait "$spid"; spid=
	port=$((port + 1))
	/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["bw_avg_gbps"])' "$work/c.json"
}

# the plugin harness -> Gb/s on stdout
plugin_bw() {
	local out mbps
	out=$("$harness" --plugin "$plugin" --bench --rel gbn --window 8 --bench-size 1048576 \
		--bench-iters "$iters" --timeout 120 2>&1) || {
		echo "harness failed:" >&2; echo "$out" | tail -5 >&2; exit 2; }
	mbps=$(echo "$out" | sed -n 's/^bench: .*: \([0-9.]*\) MB\/s$/\1/p')
	[ -n "$mbps" ] || { echo "no bench line:" >&2; echo "$out" | tail -5 >&2; exit 2; }
	awk -v m="$mbps" 'BEGIN { printf "%.3f\n", m * 8 / 1000 }'
}

echo "1 MiB x $iters, MTU 4096, gbn, 8 in flight, receiver on CPU $cpu0, sender on CPU $cpu1"
ratios=()
for r in $(seq 1 "$rounds"); do
	if [ $((r % 2)) -eq 1 ]; then
		base=$(write_bw) || exit 2
		plug=$(plugin_bw) || exit 2
	else
		plug=$(plugin_bw) || exit 2
		base=$(write_bw) || exit 2
	fi
	ratio=$(awk -v a="$plug" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
	ratios+=("$ratio")
	printf "round %d: scalex-perf write_bw %7.3f Gb/s, NCCL plugin %7.3f Gb/s, ratio %s\n" \
		"$r" "$base" "$plug" "$ratio"
done
printf "ratio plugin / write_bw, median of %d rounds: %s (rounds: %s)\n" "$rounds" \
	"$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" \
	"${ratios[*]}"
