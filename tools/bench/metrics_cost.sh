#!/usr/bin/env bash
# What tccd's metrics cost on the hot path: the same `tcc_bench run` against
# a tccd with metrics on (the default) and off (--metrics=false), in turn,
# PAIRS times; prints each pair's throughput and tccd CPU per 1000 GTs, the
# ratios on/off, and the ratios' median, minimum and maximum. Ratios pair by
# pair, because this machine's speed drifts between runs.
# Usage: tools/bench/metrics_cost.sh BUILD_DIR [PAIRS] [tcc_bench run args...]
# (default args: --branches 3 --concurrency 64 --seconds 10 --no_ceiling)
set -euo pipefail
build=${1:?build dir}
pairs=${2:-5}
shift $(($# < 2 ? $# : 2))
args=("$@")
if [ ${#args[@]} -eq 0 ]; then args=(--branches 3 --concurrency 64 --seconds 10 --no_ceiling); fi
bench="$build/tools/bench/tcc_bench"

# One run; prints "GT/s CPU-s-per-1000-GTs".
measure() {
  "$bench" run "${args[@]}" "$@" 2>/dev/null |
    awk '/^throughput:/ {t = $2} /^tccd_cpu:/ {c = $2} END {
      if (t == "" || c == "") exit 1
      print t, c
    }'
}

echo "metrics cost: tcc_bench run ${args[*]}; $pairs pairs, metrics on then off; $(uptime | sed 's/.*load/load/')"
printf '%-5s %12s %12s %14s %14s %9s %9s\n' pair "on GT/s" "off GT/s" "on cpu/1000" "off cpu/1000" "thr on/off" "cpu on/off"
ratios=$(mktemp)
trap 'rm -f "$ratios"' EXIT
for i in $(seq 1 "$pairs"); do
  read -r on_t on_c < <(measure)
  read -r off_t off_c < <(measure --tccd_arg=--metrics=false)
  awk -v i="$i" -v a="$on_t" -v b="$off_t" -v c="$on_c" -v d="$off_c" 'BEGIN {
    printf "%-5s %12.1f %12.1f %14.3f %14.3f %9.3f %9.3f\n", i, a, b, c, d, a / b, c / d
  }'
  awk -v a="$on_t" -v b="$off_t" -v c="$on_c" -v d="$off_c" 'BEGIN { print a / b, c / d }' >>"$ratios"
done
summary() {  # column, name
  sort -g -k"$1","$1" "$ratios" | awk -v col="$1" -v name="$2" '{ v[NR] = $col } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%s on/off: median %.3f (min %.3f, max %.3f, %d pairs)\n", name, m, v[1], v[NR], NR
  }'
}
summary 1 "throughput"
summary 2 "tccd CPU per GT"
