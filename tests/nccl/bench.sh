#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# NCCL plugin bandwidth against scalex-perf write_bw, same run, same kind of
# memif pair, same settings (1 MiB messages, MTU 4096, go-back-N, no CC):
# the plugin's harness streams rank 1 -> rank 0 with NCCL's window of 8
# requests (payload not touched, as NCCL's proxy does not touch it);
# write_bw streams WRITEs with the same depth of 8 (the baseline of the
# ratio) and with its default depth of 128 (printed: a deep queue of 1 MiB
# WRITEs overflows the memif ring and go-back-N resends, so it is slower).
#
# Usage: tests/nccl/bench.sh BUILD_DIR   (meson test --benchmark runs it)
# Environment: SX_BENCH_SECONDS (default 5) for write_bw.
set -u -o pipefail
build=${1:?build dir}
secs=${SX_BENCH_SECONDS:-5}
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

# write_bw DEPTH -> Gb/s on stdout
write_bw() {
	local depth=$1
	timeout -k 3 $((secs + 60)) "$perf" write_bw --server --boot-port "$port" \
		--dev "net_memif0,role=server,socket=$work/m.sock" -s 1M --mtu 4096 -D "$secs" \
		--tx-depth "$depth" --json "$work/s.json" >"$work/s.log" 2>&1 &
	spid=$!
	if ! timeout -k 3 $((secs + 60)) "$perf" write_bw --connect 127.0.0.1 --boot-port "$port" \
		--dev "net_memif0,role=client,socket=$work/m.sock" -s 1M --mtu 4096 -D "$secs" \
		--tx-depth "$depth" --json "$work/c.json" >"$work/c.log" 2>&1; then
		echo "scalex-perf write_bw failed:" >&2; tail -5 "$work/c.log" "$work/s.log" >&2; exit 2
	fi
	wait "$spid"; spid=
	port=$((port + 1))
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["bw_avg_gbps"])' "$work/c.json"
}
perf8_gbps=$(write_bw 8) || exit 2
perf_gbps=$(write_bw 128) || exit 2

out=$("$harness" --plugin "$plugin" --bench --rel gbn --window 8 --bench-size 1048576 \
	--bench-iters 2000 --timeout 120 2>&1) || { echo "harness failed:"; echo "$out" | tail -5; exit 2; }
plugin_mbps=$(echo "$out" | sed -n 's/^bench: .*: \([0-9.]*\) MB\/s$/\1/p')
[ -n "$plugin_mbps" ] || { echo "no bench line:"; echo "$out" | tail -5; exit 2; }
plugin_gbps=$(awk -v m="$plugin_mbps" 'BEGIN { printf "%.3f", m * 8 / 1000 }')
printf "scalex-perf write_bw, 1 MiB, MTU 4096, gbn, depth 8:    %.3f Gb/s\n" "$perf8_gbps"
printf "scalex-perf write_bw, 1 MiB, MTU 4096, gbn, depth 128:  %.3f Gb/s\n" "$perf_gbps"
printf "NCCL plugin harness, 1 MiB, MTU 4096, gbn, window 8:    %.3f Gb/s\n" "$plugin_gbps"
printf "ratio plugin / write_bw depth 8: %.2f\n" "$(awk -v a="$plugin_gbps" -v b="$perf8_gbps" 'BEGIN { print a / b }')"
