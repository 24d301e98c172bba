#!/usr/bin/env bash
# The performance targets of docs/benchmarks.md ("Targets") in one session:
# each figure from tcc_bench on this machine, each run REPEATS times (the
# recovery run once: it takes minutes), with the median and the spread.
#   1. p99 of 3-branch TCC in open loop at half of the measured maximum,
#      as Begin, Try, Commit and as the SDKs run it (Try with begin, Commit)
#   2. 3-branch TCC at 256 in flight: the ratio to the same-run gRPC ceiling
#   3. points payment at 128 in flight (checker), and p99 at 1,000/s open loop
#   4. 100,000 unfinished GTs, kill -9, restart: retried within 5 s, RSS
#   5. SIGTERM with idle connections open: exit time, nothing lost
#   6. 3-step saga at 256 in flight: its own ratio
# Usage: tools/bench/targets.sh BUILD_DIR OUT_DIR [REPEATS] [SECONDS]
set -euo pipefail
build=${1:?build dir}
out=${2:?output dir}
repeats=${3:-3}
seconds=${4:-10}
bench="$build/tools/bench/tcc_bench"
mkdir -p "$out"

# run NAME ARGS...: REPEATS runs; NAME.csv gets each run's csv line, NAME.I.txt
# run I's whole output.
run() {
  local name=$1
  shift
  : > "$out/$name.csv"
  for i in $(seq "$repeats"); do
    echo "== $name $i: $(uptime)" >> "$out/targets.log"
    # A failed run (e.g. the points-payment checker) is logged, and the
    # others still run: its csv line, if any, is kept.
    "$bench" "$@" 2>> "$out/progress.log" | tee "$out/$name.$i.txt" | tee -a "$out/targets.log" |
      sed -n 's/^csv: //p' >> "$out/$name.csv" || echo "== $name $i: FAILED" | tee -a "$out/targets.log"
  done
}

# "median (min-max)" of column COL of NAME.csv.
spread() {
  cut -d, -f"$2" "$out/$1.csv" | sort -g |
    awk '{v[NR]=$1} END {printf "%s (%s-%s)", v[int((NR+1)/2)], v[1], v[NR]}'
}

median() { cut -d, -f"$2" "$out/$1.csv" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# csv columns: mode,branches,concurrency,rate,GT/s,p50,p95,p99,max,ceiling,RPCs/GT,ratio,CPU/1000,RSS,errors
run tcc256 run --branches 3 --concurrency 256 --seconds "$seconds"
half=$(median tcc256 5 | awk '{printf "%d", $1 / 2}')
run tcc_half run --branches 3 --rate "$half" --seconds "$seconds" --no_ceiling
run tcc_half_bt run --branches 3 --rate "$half" --seconds "$seconds" --no_ceiling --begin_in_try
run saga256 run --mode saga --branches 3 --concurrency 256 --seconds "$seconds"
run pp128 run --mode points-pay --concurrency 128 --seconds "$seconds"
run pp1000 run --mode points-pay --rate 1000 --seconds "$seconds"
echo "== unfinished: $(uptime)" >> "$out/targets.log"
"$bench" unfinished --count 100000 2>> "$out/progress.log" | tee "$out/unfinished.txt" >> "$out/targets.log" ||
  echo "== unfinished: FAILED" | tee -a "$out/targets.log"
echo "== shutdown: $(uptime)" >> "$out/targets.log"
"$bench" shutdown --rounds 5 2>> "$out/progress.log" | tee "$out/shutdown.txt" >> "$out/targets.log" ||
  echo "== shutdown: FAILED" | tee -a "$out/targets.log"


{
  echo "machine: $(nproc) cores; $(uptime)"
  echo "median (min-max) of $repeats runs of $seconds s each"
  echo "1. TCC open loop at $half GT/s (half the median maximum): p99 $(spread tcc_half 8) ms;" \
    "as the SDKs run it (Try with begin, Commit): p99 $(spread tcc_half_bt 8) ms"
  echo "2. TCC at 256: $(spread tcc256 5) GT/s, ratio $(spread tcc256 12), p99 $(spread tcc256 8) ms"
  echo "3. points-pay at 128: $(spread pp128 5) payments/s, checker:" \
    "$(grep -c 'points-pay: PASS' "$out/targets.log" || true) PASS and" \
    "$(grep -c 'points-pay: FAIL' "$out/targets.log" || true) FAIL lines in the log;" \
    "at 1,000/s open loop: p99 $(spread pp1000 8) ms"
  echo "   CPU per 1000 payments (the last run at 128):"
  grep '^cpu: ' "$out/pp128.$repeats.txt" | sed 's/^/     /' || true
  echo "4. recovery: $(grep -E '^retried|^tccd_rss|^restart' "$out/unfinished.txt" | tr '\n' ';')"
  echo "5. shutdown: $(grep -E '^shutdown|^acknowledged' "$out/shutdown.txt" | tr '\n' ';')"
  echo "6. saga at 256: $(spread saga256 5) GT/s, ratio $(spread saga256 12), p99 $(spread saga256 8) ms"
} | tee "$out/summary.txt"
