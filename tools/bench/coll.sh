#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# coll.sh [BUILD] — all-reduce busbw of scalex-coll-perf (hierarchical,
# leader mode; and the flat ring) against Open MPI's MPI_Allreduce, the
# same process count under the same mpirun on this machine, as a ratio per
# size; then the NIC bytes per node of hierarchical against flat.
#
# Environment: NODES (2), LOCAL (2): emulated nodes x ranks per node;
# MAX (256M), ITERS (5), WARMUP (2), OUT (out/coll): JSON and the table.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$here/build}
nodes=${NODES:-2}
local_size=${LOCAL:-2}
max=${MAX:-256M}
iters=${ITERS:-5}
warmup=${WARMUP:-2}
out=${OUT:-$here/out/coll}
n=$((nodes * local_size))
mkdir -p "$out"

mpi=(mpirun --allow-run-as-root --oversubscribe -n "$n" --bind-to none
	-x SCALEX_LOCAL_SIZE="$local_size" -x MASTER_ADDR=127.0.0.1
	-x SCALEX_COLL_TIMEOUT_MS=120000)
. "$here/tools/common/free_port.sh"

run_perf() { # algo json
	"${mpi[@]}" -x MASTER_PORT="$(sx_free_port)" "$build/tools/scalex-coll-perf" \
		-b 8 -e "$max" -f 2 -n "$iters" -w "$warmup" -c 1 -a "$1" --json "$2"
}

echo "== scalex-coll-perf all_reduce, hierarchical (leader), $nodes nodes x $local_size ranks"
run_perf leader "$out/hier.json" | tee "$out/hier.txt"
echo "== scalex-coll-perf all_reduce, flat ring"
run_perf flat "$out/flat.json" | tee "$out/flat.txt"
echo "== Open MPI MPI_Allreduce, same $n processes"
max_bytes=$(numfmt --from=iec "$max")
"${mpi[@]}" "$build/tools/mpi_allreduce" 8 "$max_bytes" "$iters" "$warmup" | tee "$out/mpi.txt"

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
h = json.load(open(f"{out}/hier.json"))
f = json.load(open(f"{out}/flat.json"))
mpi = {}
for line in open(f"{out}/mpi.txt"):
    p = line.split()
    if p and p[0].isdigit():
        mpi[int(p[0])] = float(p[4])
fl = {r["size"]: r["out_of_place"]["busbw_gbps"] for r in f["rows"]}
print()
print("# all-reduce busbw (GB/s), out-of-place; ratio = scalex hierarchical / MPI_Allreduce")
print(f"# {'size':>10} {'hier':>8} {'flat':>8} {'mpi':>8} {'hier/mpi':>9} {'hier/flat':>9}")
rows = []
for r in h["rows"]:
    s = r["size"]
    hb = r["out_of_place"]["busbw_gbps"]
    fb = fl.get(s, 0)
    mb = mpi.get(s, 0)
    rows.append((s, hb, fb, mb))
    print(f"  {s:>10} {hb:8.3f} {fb:8.3f} {mb:8.3f} {hb / mb if mb else 0:9.3f} "
          f"{hb / fb if fb else 0:9.2f}")
with open(f"{out}/busbw.dat", "w") as d:
    for s, hb, fb, mb in rows:
        d.write(f"{s} {hb} {fb} {mb}\n")
print()
print("# NIC payload bytes per node over the whole sweep (inter-node links)")
for a, b in zip(h["nic"], f["nic"]):
    print(f"  node {a['node']}: hierarchical {a['nic_tx_bytes']} B, flat {b['nic_tx_bytes']} B "
          f"(flat/hier {b['nic_tx_bytes'] / a['nic_tx_bytes']:.2f})")
PY
if command -v gnuplot > /dev/null; then
	gnuplot <<EOF2
set terminal pngcairo size 900,500
set output "$out/busbw.png"
set logscale xy
set xlabel "message size (bytes)"
set ylabel "bus bandwidth (GB/s)"
set key top left
set title "all-reduce, $nodes emulated nodes x $local_size ranks, one machine"
plot "$out/busbw.dat" using 1:2 with linespoints title "scalex hierarchical (leader)", \
     "$out/busbw.dat" using 1:3 with linespoints title "scalex flat ring", \
     "$out/busbw.dat" using 1:4 with linespoints title "Open MPI MPI_Allreduce"
EOF2
	echo "plot: $out/busbw.png"
fi
