#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# NCCL's per-communicator trafficClass on the wire: the harness runs the
# plugin with a class and keeps both ranks' captures, and tshark (which
# shares no code with scalex) reads the DSCP and ECN of every RoCEv2 frame
# (UDP 4791), both directions, in both captures. The expected DSCP is the
# class's top six bits (RFC 2474: the IP traffic class / ToS octet is
# DSCP << 2 | ECN, as NCCL_IB_TC and the GRH's traffic_class take it); the
# ECN bits stay ECT(0) (RFC 3168: 2), the transport's. Runs:
#   v12, class 184 (DSCP 46, EF) from init's config (ncclNetCommConfig_t)
#     on rank 0 only: rank 1's connection takes it from rank 0's listener,
#     and rank 1's QP of rank 0's connection from the handshake;
#   v10, class 40 (DSCP 10) from connect's config;
#   v11, NCCL_NET_TRAFFIC_CLASS_UNDEF: the context's default, DSCP 26.
#
# usage: tclass.sh TSHARK HARNESS PLUGIN
set -u

tshark=${1:?usage: tclass.sh TSHARK HARNESS PLUGIN}
harness=${2:?usage: tclass.sh TSHARK HARNESS PLUGIN}
plugin=${3:?usage: tclass.sh TSHARK HARNESS PLUGIN}
command -v "$tshark" >/dev/null 2>&1 || { echo "FAIL: no tshark (tools/quickstart installs it)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sx-nccl-tc-XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

fail() {
	echo "FAIL: $*"
	exit 1
}

# run VERSION CLASS DSCP [ARGS]: the harness with CLASS (empty: none), then every
# RoCEv2 frame of both captures must carry DSCP and ECT(0), and each
# capture must hold frames from both ranks.
run() {
	v=$1 tc=$2 want=$3
	shift 3
	extra="$*"
	dir=$tmp/v$v
	mkdir "$dir" || fail "mkdir"
	set -- --plugin "$plugin" --version "$v" --timeout 60 --window 8 --max-size 4096 \
		--iters 16 --pcap-dir "$dir"
	[ -n "$tc" ] && set -- "$@" --traffic-class "$tc"
	# shellcheck disable=SC2086
	[ -n "$extra" ] && set -- "$@" $extra
	"$harness" "$@" >"$dir/harness.log" 2>&1 || { cat "$dir/harness.log"; fail "harness v$v"; }
	for r in 0 1; do
		cap=$dir/rank$r.pcapng
		[ -s "$cap" ] || fail "v$v: no capture $cap"
		"$tshark" -r "$cap" -Y 'udp.dstport == 4791' -T fields -e ip.src \
			-e ip.dsfield.dscp -e ip.dsfield.ecn >"$dir/f$r.tsv" 2>"$dir/tshark.err" ||
			{ cat "$dir/tshark.err"; fail "tshark on $cap"; }
		echo "v$v class ${tc:-UNDEF}, rank $r's capture: frames by source, DSCP, ECN"
		sort "$dir/f$r.tsv" | uniq -c
		awk -F'\t' -v want="$want" '
			$2 != want || $3 != 2 { bad++ }
			{ n[$1]++ }
			END {
				if (bad > 0 || n["10.0.0.1"] == 0 || n["10.0.0.2"] == 0) {
					printf "%d frames off DSCP %s/ECT(0); %d from rank 0, %d from rank 1\n",
						bad, want, n["10.0.0.1"], n["10.0.0.2"]
					exit 1
				}
			}' "$dir/f$r.tsv" || fail "v$v class ${tc:-UNDEF}: DSCP on the wire"
	done
}

run 12 184 46 --traffic-class-rank0
run 10 40 10
run 11 "" 26
echo PASS
