#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The HPCC paper's WebSearch experiment (Li et al., SIGCOMM'19, section 5.1
# and Fig. 11), as closely as scalex-sim allows, for every congestion
# control scalex-sim lists, then the same for the FB_Hadoop distribution.
#
# Paper: a 3-tier FatTree of 320 servers (20 ToRs x 16), 100 Gb/s NICs,
# 400 Gb/s ToR-agg and agg-core links, 1 us per link (12 us base RTT at the
# longest path), 32 MB shared switch buffers, WebSearch flow sizes, Poisson
# arrivals at 30% and 50% load, PFC on (dynamic thresholds); ECN marking
# on dequeue, Kmin 400 KB, Kmax 1600 KB, Pmax 0.2 at 100 Gb/s (their ns-3
# setup scales 100/400 KB per 25 Gb/s; see fabric_of below).
# Here: a 2-tier leaf-spine (scalex-sim has no 3rd tier) of 320 hosts,
# 20 leaves x 16 hosts at 100 Gb/s, 4 spines at 400 Gb/s (non-blocking as
# the paper's fabric), fabric links of 2 us so that the longest base RTT is
# the paper's 12 us (1 + 2 + 2 + 1 us each way), per-egress-port buffers of
# 4 MB (scalex-sim has no shared buffer; 32 MB shared over 20 ports is
# 1.6 MB a port on average, more for a hot port under dynamic thresholds),
# PFC xoff/xon 50/25 KB per ingress link (static, not the paper's dynamic
# thresholds), MTU 1024 (the paper: 1000-byte payloads), selective repeat
# (the paper's NICs go back N), RED 100-400 KB (the ns-3 setup's 25 Gb/s
# marking: 4 times below its 100 Gb/s one) on enqueue, loads 30% and 50%,
# PFC on and off. A flow is short below 100 KB, long from 1 MB.
# Slowdown = FCT / the flow's FCT alone on the empty fabric (docs/sim.md).
# One row differs: dcqcn:hpcc-paper runs DCQCN as the HPCC authors' ns-3 did
# (cc/dcqcn.c, preset hpcc-paper) on their switch settings (fabric_of
# below); the other rows keep the fabric above, on which the earlier
# results were measured (docs/cc.md, "Results").
#
# usage: tools/sim/hpcc-websearch.sh [--quick] [--build DIR] [--out DIR]
#                                    [--jobs N] [--duration-us US] [--report-only]
#                                    [--cc LIST] [--workload LIST] [--load LIST]
#                                    [--pfc LIST] [--set KEY=VALUE]...
#   --quick   16 hosts (2 leaves x 8, 2 spines at 400G), 400 us: the smoke
#             test (tests/sim: hpcc-websearch-quick), about 30 s on 2 cores
#   full      320 hosts, 2 ms of arrivals and up to 2 ms of drain; 72 runs,
#             10-20 s each at 30% load, 1-6 min at 50%: about 90 CPU-minutes,
#             50 min wall with --jobs 2 on this project's 2-core machine
#             shared with other builds (docs/cc.md, "Results"); --jobs N runs
#             N at a time (default: nproc)
#   --report-only  no runs: the tables and plots of OUT's runs again
#   --cc, --workload, --load, --pfc  only these rows (comma-separated, e.g.
#             --cc dcqcn:paper,dcqcn:hpcc-paper --workload websearch
#             --load 0.3); the tables then hold only them
#   --set KEY=VALUE  a scalex-sim key for every run, after the row's own
#             (repeatable; for ablations, e.g. --set transport.reliability=sr)
# Writes OUT/results.md (the tables), OUT/results.csv, OUT/fct-*.png (p50 and
# p99 slowdown by flow size, one line per CC) and OUT/runs/* (scalex-sim's
# outputs). Needs scalex-sim built, python3 and gnuplot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build
out=hpcc-websearch
quick=0
report_only=0
jobs=$(nproc)
duration=
only_cc= only_wl= only_load= only_pfc=
extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--report-only) report_only=1 ;;
	--build) build=$(cd "${2:?--build DIR}" && pwd); shift ;;
	--out) out=${2:?--out DIR}; shift ;;
	--jobs) jobs=${2:?--jobs N}; shift ;;
	--duration-us) duration=${2:?--duration-us US}; shift ;;
	--cc) only_cc=${2:?--cc LIST}; shift ;;
	--workload) only_wl=${2:?--workload LIST}; shift ;;
	--load) only_load=${2:?--load LIST}; shift ;;
	--pfc) only_pfc=${2:?--pfc LIST}; shift ;;
	--set)
		case ${2:?--set KEY=VALUE} in *=*) ;; *) echo "hpcc-websearch.sh: --set needs KEY=VALUE" >&2; exit 1 ;; esac
		case $2 in *[[:space:]]*) echo "hpcc-websearch.sh: --set takes no spaces" >&2; exit 1 ;; esac
		extra+=(-s "$2"); shift ;;
	-h|--help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "hpcc-websearch.sh: unknown argument $1 (--help)" >&2; exit 1 ;;
	esac
	shift
done
case $jobs in ''|*[!0-9]*|0) echo "hpcc-websearch.sh: --jobs needs a positive number" >&2; exit 1 ;; esac
sim=$build/tools/scalex-sim
[ -x "$sim" ] || { echo "hpcc-websearch.sh: $sim not built" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "hpcc-websearch.sh: gnuplot not found" >&2; exit 1; }
mkdir -p "$out/runs"
out=$(cd "$out" && pwd)
# a copy: a rebuild while the runs go on must not change (or break) them
cp "$sim" "$out/scalex-sim"
sim=$out/scalex-sim

if [ "$quick" = 1 ]; then
	topo="hosts_per_leaf = 8
leaves = 2
spines = 2"
	duration=${duration:-400}
else
	topo="hosts_per_leaf = 16
leaves = 20
spines = 4"
	duration=${duration:-2000}
fi
cat > "$out/base.ini" <<INI
# written by tools/sim/hpcc-websearch.sh
[topology]
$topo
host_rate_gbps = 100
fabric_rate_gbps = 400
host_delay_ns = 1000
fabric_delay_ns = 2000

[switch]
buffer_bytes = 4000000
ecn = 1
kmin_bytes = 100000
kmax_bytes = 400000
pmax = 0.2
pfc_xoff_bytes = 50000
pfc_xon_bytes = 25000

[transport]
reliability = sr
mtu = 1024
timeout_us = 1000

[workload]
type = cdf

[sim]
duration_us = $duration
drain_us = $duration
seed = 1
INI

# Every congestion control scalex-sim has (its registry), each with its
# default preset, and DCQCN also with its paper preset (Zhu et al.'s
# SIGCOMM'15 values) and as the HPCC paper ran it (hpcc-paper).
ccs=$("$sim" --help 2>&1 | sed -n 's/^congestion controls: //p' | tr -d ',')
[ -n "$ccs" ] || { echo "hpcc-websearch.sh: scalex-sim --help lists no congestion control" >&2; exit 1; }
variants=""
for cc in $ccs; do
	variants="$variants $cc"
	[ "$cc" = dcqcn ] && variants="$variants dcqcn:paper dcqcn:hpcc-paper"
done

# The switch and transport settings of a row beyond base.ini. Only
# dcqcn:hpcc-paper has any: the HPCC authors' ns-3 setup of their DCQCN
# runs (github.com/alibaba-edu/High-Precision-Congestion-Control at
# 9f4be2a): ECN Kmin 400 KB, Kmax 1600 KB, Pmax 0.2 at 100G (run.py lines
# 96-98: 100 and 400 KB per 25 Gb/s; switch-mmu.cc 111-114: KB), marked on
# dequeue (switch-node.cc 203-213); 32 MB of switch buffer (run.py 83:
# 16 MB per 50 Gb/s) that one egress port may fill (switch-mmu.cc 46-48:
# no egress limit), so 32 MB a port here; PFC at a dynamic threshold of
# 1/8 of the free buffer per 100G ingress (third.cc 825-843, switch-mmu.cc
# 92-93), about 4 MB on an idle switch, resuming 3 KB below it
# (switch-mmu.cc 27, 83): static 4 MB / 3.997 MB here; go-back-N
# (rdma-hw.cc 496: a NACK rewinds snd_nxt to snd_una). The thresholds are
# for a 100G port and scale with the port's rate (ecn_ref_gbps), as theirs
# do: the 400G fabric ports mark from 1600 KB.
fabric_of() {
	case $1 in
	dcqcn:hpcc-paper)
		echo "-s switch.kmin_bytes=400000 -s switch.kmax_bytes=1600000" \
			"-s switch.pmax=0.2 -s switch.ecn_ref_gbps=100 -s switch.ecn_mark=dequeue" \
			"-s switch.buffer_bytes=32000000" \
			"-s switch.pfc_xoff_bytes=4000000 -s switch.pfc_xon_bytes=3997000" \
			"-s transport.reliability=gbn" ;;
	esac
}
export -f fabric_of

# a comma-separated filter: empty passes everything
wanted() {
	[ -z "$1" ] && return 0
	case ",$1," in *",$2,"*) return 0 ;; esac
	return 1
}
for f in "$only_cc" "$only_wl" "$only_load" "$only_pfc"; do
	case $f in *[!A-Za-z0-9_.,:-]*) echo "hpcc-websearch.sh: bad filter '$f'" >&2; exit 1 ;; esac
done
for c in ${only_cc//,/ }; do
	case " $variants " in *" $c "*) ;; *) echo "hpcc-websearch.sh: no row '$c' (rows:$variants)" >&2; exit 1 ;; esac
done

jobsfile=$out/jobs.txt
: > "$jobsfile"
for wl in websearch fb_hadoop; do
	wanted "$only_wl" "$wl" || continue
	for load in 0.3 0.5; do
		wanted "$only_load" "$load" || continue
		for pfc in 0 1; do
			wanted "$only_pfc" "$pfc" || continue
			for v in $variants; do
				wanted "$only_cc" "$v" || continue
				echo "$wl $load $pfc $v" >> "$jobsfile"
			done
		done
	done
done
[ -s "$jobsfile" ] || { echo "hpcc-websearch.sh: the filters leave no row" >&2; exit 1; }

run_one() {
	local wl=$1 load=$2 pfc=$3 v=$4 cc preset name dir rc start
	cc=${v%%:*}
	preset=
	[ "$v" != "$cc" ] && preset=${v#*:}
	name="$wl-$load-pfc$pfc-${v/:/-}"
	dir="$out/runs/$name"
	set -- -q -o "$dir" -s "workload.cdf=$wl.cdf" -s "workload.load=$load" \
		-s "switch.pfc=$pfc" -s "transport.cc=$cc"
	[ -n "$preset" ] && set -- "$@" -s "transport.cc_preset=$preset"
	# shellcheck disable=SC2046 # the row's "-s key=value" words
	set -- "$@" $(fabric_of "$v") $extra_words
	start=$(date +%s.%N)
	rc=0
	"$sim" "$@" "$out/base.ini" > "$dir.log" 2>&1 || rc=$?
	# 2: some flow failed (a DCQCN run without PFC may exhaust its
	# retries); the table says how many completed. Anything else is fatal.
	if [ "$rc" != 0 ] && [ "$rc" != 2 ]; then
		echo "hpcc-websearch.sh: $name failed ($rc):" >&2
		tail -n 5 "$dir.log" >&2
		return 1
	fi
	echo "$name $(echo "$(date +%s.%N) - $start" | bc)" > "$dir.wall"
}
export -f run_one
export sim out
# bash cannot export an array: run_one gets --set's words back from a string
extra_words=${extra[*]:-}
export extra_words

t0=$(date +%s)
if [ "$report_only" = 0 ]; then
	echo "hpcc-websearch.sh: $(wc -l < "$jobsfile") runs, $jobs at a time, ${duration} us each ($( [ "$quick" = 1 ] && echo quick || echo full))" >&2
	xargs -P "$jobs" -L 1 bash -c 'run_one "$@"' _ < "$jobsfile"
fi
t1=$(date +%s)
echo "hpcc-websearch.sh: runs took $((t1 - t0)) s wall" >&2

python3 "$here/hpcc-websearch-table.py" "$out" "$jobsfile" "$((t1 - t0))" "$quick" "$duration"

# FCT slowdown by flow size: one plot per workload, load and PFC setting,
# p50 and p99 side by side, one line per CC.
for f in "$out"/plot-*.dat; do
	[ -e "$f" ] || continue
	key=$(basename "$f" .dat)
	key=${key#plot-}
	cols=$(head -n 1 "$f" | sed "s/^# //")
	p50="" p99=""
	i=0
	for c in $cols; do
		i=$((i + 1))
		[ "$i" -le 1 ] && continue
		j=$(( (i - 2) * 2 + 2 ))
		p50="$p50${p50:+, }\"$f\" using 1:$j with linespoints title \"$c\""
		p99="$p99${p99:+, }\"$f\" using 1:$((j + 1)) with linespoints title \"$c\""
	done
	gnuplot <<GP
set terminal pngcairo size 1400,560 noenhanced
set output "$out/fct-$key.png"
set multiplot layout 1,2 title "FCT slowdown by flow size: $key"
set datafile missing "?"
set logscale x; set logscale y; set grid; set key top left
set xlabel "flow size (bytes, bucket's upper end)"; set ylabel "slowdown"
set title "p50"
plot $p50
set title "p99"
plot $p99
unset multiplot
GP
done
ls "$out"/results.md "$out"/fct-*.png
