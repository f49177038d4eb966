#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Wireshark interop: tshark must dissect every frame of a `scalex-pcap synth`
# capture as Ethernet/IP/UDP/InfiniBand with a BTH, report no malformed packet
# and no error-level expert item, find every IPv4 header checksum and IPv6
# UDP checksum good (the IPv4 UDP checksum absent), and read the same PSN and
# payload length as `scalex-pcap check`. The capture is also converted to
# pcapng by tshark and must check clean.
#
# usage: check_tshark.sh TSHARK SCALEX_PCAP
set -u

tshark=${1:-}
scalex_pcap=${2:?usage: check_tshark.sh TSHARK SCALEX_PCAP}
if [ -z "$tshark" ] || ! command -v "$tshark" >/dev/null 2>&1; then
	echo "SKIP: tshark not found"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sx-interop-XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
cap=$tmp/synth.pcap

fail() {
	echo "FAIL: $*"
	exit 1
}

"$scalex_pcap" synth "$cap" || fail "scalex-pcap synth"

# RoCE payload is opaque application data: turn off Wireshark's guesses at
# what it holds (RPC-over-RDMA, and the old "payload starts with an EtherType"
# heuristic), which misread arbitrary bytes as a protocol and then call the
# packet malformed.
opts="--disable-protocol rpcordma"
if "$tshark" -r "$cap" -c 1 --disable-heuristic eth_over_ib -T fields \
	-e frame.number >/dev/null 2>&1; then
	opts="$opts --disable-heuristic eth_over_ib"
fi
# shellcheck disable=SC2086
"$tshark" -r "$cap" $opts -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
	-T fields -E separator=/t -E occurrence=a -E aggregator=, \
	-e frame.number -e _ws.malformed -e infiniband.bth.opcode \
	-e infiniband.bth.psn -e infiniband.bth.padcnt -e data.len \
	-e frame.protocols -e ip.checksum.status -e udp.checksum.status \
	-e _ws.expert.severity >"$tmp/fields.tsv" 2>"$tmp/tshark.err" ||
	{ cat "$tmp/tshark.err"; fail "tshark exited non-zero"; }

"$scalex_pcap" check "$cap" >"$tmp/check.txt"
[ $? -eq 0 ] || fail "scalex-pcap check of the synth capture"

# Severity 0x00800000 (8388608) is PI_ERROR. Checksum status: 1 good, 3 absent.
awk -F'\t' '
	FNR == NR {
		# Verdict lines start with the right-aligned frame number.
		if (split($0, f, " +") < 7 || f[1] != "") next
		psn[f[2]] = f[5]; len[f[2]] = f[6]; names[f[3]] = 1
		next
	}
	{
		n++
		if ($2 != "") { malformed++; print "frame " $1 ": malformed" }
		if ($3 == "") { nobth++; print "frame " $1 ": no BTH opcode" }
		else if (!($3 in ops)) { ops[$3] = 1; nops++ }
		if ($10 ~ /8388608/) { experr++; print "frame " $1 ": expert error" }
		if ($7 !~ /^eth:ethertype:(vlan:ethertype:)?ipv?6?:udp:infiniband(:data)?$/) {
			badproto++; print "frame " $1 ": dissected as " $7
		}
		if ($7 ~ /:ip:/ && ($8 != "1" || $9 != "3")) {
			badcsum++; print "frame " $1 ": IPv4 checksum status " $8 ", UDP " $9
		}
		if ($7 ~ /:ipv6:/ && $9 != "1") {
			badcsum++; print "frame " $1 ": IPv6 UDP checksum status " $9
		}
		mypsn = sprintf("0x%06x", $4)
		mylen = ($6 == "" ? 0 : $6) - $5
		# scalex SR opcodes (0xc0 and up, manufacturer-specific) carry
		# headers tshark does not know: it sees them as payload.
		if (psn[$1] != mypsn || (len[$1] != mylen && $3 < 192)) {
			differ++
			print "frame " $1 ": tshark psn " mypsn " payload " mylen \
			      ", scalex-pcap psn " psn[$1] " payload " len[$1]
		}
	}
	END {
		for (k in names) nnames++
		printf "tshark: %d frames, %d with a BTH (%d distinct opcodes; scalex-pcap saw %d), " \
		       "%d malformed, %d expert errors, %d other dissections, %d bad checksums, " \
		       "%d PSN/payload disagreements\n", n, n - nobth, nops, nnames, malformed,
		       experr, badproto, badcsum, differ
		if (n == 0 || nobth || malformed || experr || badproto || badcsum || differ ||
		    nops != nnames)
			exit 1
	}' "$tmp/check.txt" "$tmp/fields.tsv" || fail "tshark disagrees (see above)"

"$tshark" -r "$cap" -F pcapng -w "$tmp/synth.pcapng" 2>"$tmp/tshark.err" ||
	{ cat "$tmp/tshark.err"; fail "tshark could not write pcapng"; }
"$scalex_pcap" check --quiet "$tmp/synth.pcapng" >"$tmp/ng.txt"
rc=$?
cat "$tmp/ng.txt"
[ $rc -eq 0 ] || fail "scalex-pcap check of the pcapng copy exited $rc"
[ "$(tail -n 1 "$tmp/ng.txt")" = "$(tail -n 1 "$tmp/check.txt")" ] ||
	fail "pcapng copy checks differently from the pcap"
echo "PASS"
