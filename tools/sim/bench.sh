#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scalex-sim benchmark (not a test): wall time, events per second and
# simulated frames per wall second for
#   (a) 128 hosts at 100G (8 leaves x 16, 8 spines), WebSearch at 50% load,
#       10 ms of virtual time
#   (b) the same fabric, a permutation of long flows, 10 ms
# and the FCT-slowdown table of (a).
# usage: tools/sim/bench.sh [BUILD_DIR] [OUT_DIR] [extra scalex-sim args...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
out=${2:-sim-bench}
shift $(( $# > 2 ? 2 : $# ))
sim="$build/tools/scalex-sim"
[ -x "$sim" ] || { echo "bench.sh: $sim not built" >&2; exit 1; }
mkdir -p "$out"

echo "# machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for run in websearch-128 permutation-128; do
	log="$out/$run.log"
	start=$(date +%s.%N)
	"$sim" -o "$out/$run" "$@" "$here/$run.ini" > "$log" 2>&1 || {
		cat "$log" >&2
		exit 1
	}
	end=$(date +%s.%N)
	echo "## $run: wall $(echo "$end - $start" | bc) s"
	grep -E "^scalex-sim:|flows |window goodput|switch queue|drops " "$log" | sed 's/^/   /'
done

echo "## FCT slowdown, websearch-128 (completed flows)"
python3 - "$out/websearch-128/summary.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("   %-11s %6s %8s %8s %8s %8s %10s %10s" % ("size", "flows", "mean", "p50", "p95",
      "p99", "fct_p50us", "fct_p99us"))
for b in d["fct_slowdown"]:
    print("   %-11s %6d %8.2f %8.2f %8.2f %8.2f %10.1f %10.1f" % (b["bucket"], b["flows"],
          b["slowdown_mean"], b["slowdown_p50"], b["slowdown_p95"], b["slowdown_p99"],
          b["fct_p50_us"], b["fct_p99_us"]))
f = d["flows"]
print("   flows %d, completed %d; goodput %.1f Gb/s" % (f["total"], f["completed"],
      f["goodput_gbps"]))
PY
