#!/usr/bin/env bash
# The PostgreSQL runs behind docs/benchmarks.md: 3-branch TCC on a private
# cluster with 1 and 3 tccd instances at several concurrencies, each
# repeated (the machine is shared and noisy), then the median and the
# spread (min-max) of every figure per configuration.
# Usage: tools/bench/pg_sweep.sh BUILD_DIR OUT_DIR [seconds] [repeats] [tcc_bench flag...]
# (e.g. --tccd OTHER_BUILD/coordinator/tccd to sweep another build's tccd).
set -euo pipefail
build=${1:?build dir}
out=${2:?output dir}
seconds=${3:-5}
repeats=${4:-3}
shift $(($# < 4 ? $# : 4))
extra=("$@")
bench="$build/tools/bench/tcc_bench"
mkdir -p "$out"
: > "$out/pg_sweep.csv"
for r in $(seq "$repeats"); do
  for n in 1 3; do
    for c in 16 64 256; do
      uptime | tee -a "$out/pg_sweep.log"
      "$bench" run --store postgres --instances "$n" --branches 3 --concurrency "$c" \
        --seconds "$seconds" --warmup 1 "${extra[@]}" 2>>"$out/progress.log" | tee -a "$out/pg_sweep.log" |
        sed -n 's/^pg_csv: //p' >> "$out/pg_sweep.csv"
    done
  done
done
# pg_csv: mode,branches,concurrency,instances,GT/s,p99 ms,PG commits/s,
# commits per GT,WAL flushes per GT,ratio,rows per GT,row ratio,
# store operations per GT,operation ratio
python3 - "$out/pg_sweep.csv" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.strip().split(",")
    runs[(int(f[3]), int(f[2]))].append([float(x) for x in f[4:]] + [0.0] * (16 - len(f)))
names = ["GT/s", "p99 ms", "PG commits/s", "commits/GT", "WAL flushes/GT", "ratio",
         "rows/GT", "row ratio", "ops/GT", "op ratio"]
print("| instances | concurrency | runs | " + " | ".join(names) + " |")
print("| ---: | ---: | ---: |" + " ---: |" * len(names))
for (n, c), rows in sorted(runs.items()):
    cells = []
    for i in range(len(names)):
        values = [row[i] for row in rows]
        fmt = ("%.3f" if names[i] in ("commits/GT", "WAL flushes/GT", "ratio", "row ratio",
                                      "op ratio")
               else "%.1f" if names[i] in ("rows/GT", "ops/GT") else "%.0f")
        cells.append((fmt + " (" + fmt + "–" + fmt + ")") %
                     (statistics.median(values), min(values), max(values)))
    print("| %d | %d | %d | %s |" % (n, c, len(rows), " | ".join(cells)))
PY
