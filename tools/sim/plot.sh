#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# PNG plots of a scalex-sim output directory with gnuplot:
#   fct.png     FCT slowdown CDF (flows.csv)
#   queues.png  queue depth of the busiest switch ports over time (queues.csv)
#   rates.png   CC rate and goodput of up to 8 QP pairs over time (rates.csv)
# usage: tools/sim/plot.sh OUTDIR
set -euo pipefail
dir=${1:?usage: plot.sh OUTDIR}
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot not found" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Slowdown CDF of completed flows.
awk -F, 'NR > 1 && $9 == "ok" { print $8 }' "$dir/flows.csv" | sort -g > "$tmp/sd"
n=$(wc -l < "$tmp/sd")
if [ "$n" -gt 0 ]; then
	awk -v n="$n" '{ print $1, NR / n }' "$tmp/sd" > "$tmp/sd.cdf"
	gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set output "$dir/fct.png"
set title "FCT slowdown (FCT / ideal FCT), $n flows"
set xlabel "slowdown"; set ylabel "CDF"; set logscale x; set grid
plot "$tmp/sd.cdf" using 1:2 with lines lw 2 title "all flows"
GP
fi

if [ -f "$dir/queues.csv" ] && [ "$(wc -l < "$dir/queues.csv")" -gt 1 ]; then
	# the 6 ports with the deepest queue seen
	awk -F, 'NR > 1 { if ($3 > m[$2]) m[$2] = $3 } END { for (p in m) print m[p], p }' \
		"$dir/queues.csv" | sort -rn | head -6 | awk '{ print $2 }' > "$tmp/ports"
	plots=""
	while read -r p; do
		awk -F, -v p="$p" 'NR > 1 && $2 == p { print $1, $3 / 1000 }' "$dir/queues.csv" \
			> "$tmp/q.$p"
		plots="$plots${plots:+, }\"$tmp/q.$p\" using 1:2 with lines title \"$p\""
	done < "$tmp/ports"
	gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set output "$dir/queues.png"
set title "switch egress queues"
set xlabel "time (us)"; set ylabel "queue (KB)"; set grid
plot $plots
GP
fi

if [ -f "$dir/rates.csv" ] && [ "$(wc -l < "$dir/rates.csv")" -gt 1 ]; then
	awk -F, 'NR > 1 { k = $2 ">" $3; if (!(k in s)) { s[k] = 1; print k } }' \
		"$dir/rates.csv" | head -8 > "$tmp/pairs"
	plots=""
	while IFS='>' read -r a b; do
		awk -F, -v a="$a" -v b="$b" 'NR > 1 && $2 == a && $3 == b { print $1, $4, $5 }' \
			"$dir/rates.csv" > "$tmp/r.$a.$b"
		plots="$plots${plots:+, }\"$tmp/r.$a.$b\" using 1:2 with lines title \"$a>$b cc\""
		plots="$plots, \"$tmp/r.$a.$b\" using 1:3 with points pt 7 ps 0.4 title \"$a>$b goodput\""
	done < "$tmp/pairs"
	gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set output "$dir/rates.png"
set title "per-pair CC rate (lines) and goodput (points)"
set xlabel "time (us)"; set ylabel "Gb/s"; set grid
plot $plots
GP
fi
ls "$dir"/*.png 2>/dev/null
