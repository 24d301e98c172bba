// Drives a Workload: closed loop (N units always in flight, a new one
// starting as each finishes) or open loop (units started on a fixed
// schedule of R per second whatever the latency; each latency is measured
// from the unit's scheduled time, so a stalled server is charged for the
// sends it delayed: no coordinated omission). Prints a progress line to
// stderr every second. The calling thread paces and waits; completions run
// on gRPC threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/time/time.h"
#include "tools/bench/latency.h"
#include "tools/bench/workloads.h"

namespace tcc::bench {

struct DriveOptions {
  int concurrency = 64;
  double rate = 0;  // > 0: open loop
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration measure = absl::Seconds(10);
  // > 0: stop starting units after this many (the warm-up is then skipped
  // and the whole run is measured).
  int64_t max_units = 0;
  int max_in_flight = 20000;
  std::string label;
  // Called once the warm-up ends and once the window ends (e.g. to sample
  // tccd's CPU time at the same instants).
  std::function<void()> on_window_start = [] {};
  std::function<void()> on_window_end = [] {};
};

struct DriveResult {
  LatencySummary latency;
  double seconds = 0;     // measured window
  double per_second = 0;  // successful units per second in the window
  int64_t dropped = 0;    // open loop: sends skipped at max_in_flight
  // Every unit that succeeded, warm-up and after the window included (what
  // the server did work for while the driver ran).
  int64_t succeeded_total = 0;
};

DriveResult Drive(Workload& workload, const DriveOptions& options);

}  // namespace tcc::bench
