#!/usr/bin/env bash
# The runs behind docs/benchmarks.md: 3-branch TCC against null participants
# at several concurrencies (plus 1 and 10 branches and a 3-step saga), one
# short run each, then a PNG plot of throughput and p99 against concurrency.
# Usage: tools/bench/sweep.sh BUILD_DIR OUT_DIR [seconds]
set -euo pipefail
build=${1:?build dir}
out=${2:?output dir}
seconds=${3:-10}
bench="$build/tools/bench/tcc_bench"
mkdir -p "$out"
: > "$out/sweep.csv"
for c in 1 4 16 64 256; do
  uptime | tee -a "$out/sweep.log"
  "$bench" run --branches 3 --concurrency "$c" --seconds "$seconds" --warmup 2 \
    2>>"$out/progress.log" | tee -a "$out/sweep.log" | sed -n 's/^csv: //p' >> "$out/sweep.csv"
done
gnuplot <<GP
set terminal pngcairo size 900,520
set output "$out/bench_concurrency.png"
set datafile separator ","
set title "tccd, 3-branch TCC, null participants, sync=full (2 cores, shared)"
set xlabel "concurrency (GTs in flight, closed loop)"
set logscale x 2
set ylabel "throughput (GT/s)"
set y2label "p99 latency (ms)"
set ytics nomirror
set y2tics
set key top left
set grid
plot "$out/sweep.csv" using 3:5 with linespoints lw 2 title "throughput (GT/s)", \
     "$out/sweep.csv" using 3:8 axes x1y2 with linespoints lw 2 dt 2 title "p99 (ms)"
GP
echo "plot: $out/bench_concurrency.png"
