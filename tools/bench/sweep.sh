#!/usr/bin/env bash
# The runs behind docs/benchmarks.md's current figures: 3-branch TCC against
# null participants at several concurrencies (closed loop), then as the SDKs
# run it (Try with begin, Commit) in open loop at fractions of the maximum
# the closed loop reached, one run each; then two PNG plots: throughput and
# p99 against concurrency, and p50 and p99 against the offered rate.
# Usage: tools/bench/sweep.sh BUILD_DIR OUT_DIR [seconds]
set -euo pipefail
build=${1:?build dir}
out=${2:?output dir}
seconds=${3:-10}
bench="$build/tools/bench/tcc_bench"
if ! command -v gnuplot > /dev/null; then
  echo "sweep.sh: gnuplot is needed for the plots (apt-get install gnuplot-nox)" >&2
  exit 2
fi
mkdir -p "$out"

# csv columns: mode,branches,concurrency,rate,GT/s,p50,p95,p99,max,ceiling,RPCs/GT,ratio,CPU/1000,RSS,errors
: > "$out/sweep.csv"
for c in 1 4 16 64 256; do
  uptime | tee -a "$out/sweep.log"
  "$bench" run --branches 3 --concurrency "$c" --seconds "$seconds" --warmup 2 \
    2>>"$out/progress.log" | tee -a "$out/sweep.log" | sed -n 's/^csv: //p' >> "$out/sweep.csv"
done

max=$(cut -d, -f5 "$out/sweep.csv" | sort -g | tail -1)
: > "$out/open.csv"
for percent in 10 25 50 75; do
  rate=$(awk -v m="$max" -v p="$percent" 'BEGIN {printf "%d", m * p / 100}')
  uptime | tee -a "$out/sweep.log"
  "$bench" run --branches 3 --rate "$rate" --seconds "$seconds" --warmup 2 --no_ceiling \
    --begin_in_try 2>>"$out/progress.log" | tee -a "$out/sweep.log" |
    sed -n 's/^csv: //p' >> "$out/open.csv"
done

gnuplot <<GP
set terminal pngcairo size 900,520
set datafile separator ","
set grid
set key top left

set output "$out/bench_concurrency.png"
set title "tccd, 3-branch TCC, null participants, sync=full (2 cores)"
set xlabel "concurrency (GTs in flight, closed loop)"
set logscale x 2
set ylabel "throughput (GT/s)"
set y2label "p99 latency (ms)"
set ytics nomirror
set y2tics
plot "$out/sweep.csv" using 3:5 with linespoints lw 2 title "throughput (GT/s)", \
     "$out/sweep.csv" using 3:8 axes x1y2 with linespoints lw 2 dt 2 title "p99 (ms)"

set output "$out/bench_open_loop.png"
set title "tccd, 3-branch TCC as the SDKs run it (Try with begin, Commit), open loop, sync=full (2 cores)"
unset logscale x
unset y2label
unset y2tics
set ytics mirror
set xlabel "offered rate (GT/s)"
set ylabel "latency from the scheduled send (ms)"
set yrange [0:*]
plot "$out/open.csv" using 4:6 with linespoints lw 2 title "p50", \
     "$out/open.csv" using 4:8 with linespoints lw 2 dt 2 title "p99", \
     5 with lines lw 2 dt 3 lc rgb "red" title "5 ms (issue 18, target 1)"
GP
echo "plots: $out/bench_concurrency.png $out/bench_open_loop.png"
