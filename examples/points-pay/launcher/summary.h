// The launcher's closing report: what the load did, what the faults and the
// supervisor did, how fast it went, and the checker's verdict. Fault counts
// come from the services' logs, where every fault that fires leaves one
// "FAULT <switch> service=<name> ..." line (see common/faults.h); injected
// latency logs such lines too ("latency"), but is reported apart: it delays
// calls, it breaks nothing.
//
// Thread-safety: plain values and functions.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "examples/points-pay/checker/checker.h"
#include "examples/points-pay/launcher/load_generator.h"
#include "examples/points-pay/launcher/takeover_watch.h"

namespace pointspay {

// service -> switch -> times fired.
using FaultCounts = std::map<std::string, std::map<std::string, int>>;

FaultCounts CountFaults(const std::string& log_dir);

struct RunSummary {
  int payments = 0;
  int concurrency = 0;
  bool faults = false;
  const LoadStats* stats = nullptr;
  std::vector<std::string> error_samples;
  absl::Duration load_time;
  absl::Duration settle_time;
  int64_t unfinished = 0;  // GTs not final when the wait ended
  // Restarts of services that died on their own (crash faults), not those
  // after chaos kills (see kills).
  std::map<std::string, int> restarts_after_crash;
  FaultCounts fault_counts;
  absl::Status stop_status;
  std::optional<CheckReport> check;  // nullopt: the checker could not run
  absl::Status check_status;
  std::string data_dir;
  // Chaos mode (see chaos.h): the seed, kills per process, and scheduled
  // kills that never fired.
  bool chaos = false;
  uint64_t seed = 0;
  std::map<std::string, int> kills;
  std::map<std::string, int> pauses;  // SIGSTOP past the lease, then SIGCONT
  size_t kills_not_fired = 0;
  // The coordinators when not one tccd on SQLite, e.g. "3 tccd on
  // PostgreSQL, lease 2000 ms"; and with several of them in chaos mode, the
  // takeover after each kill or pause (takeover_watch.h).
  std::string coordinators;
  std::optional<TakeoverStats> takeover_stats;
  std::vector<TakeoverSample> takeovers;

  // Exit code 0 only when this holds.
  bool success() const;
};

void PrintSummary(const RunSummary& summary, std::ostream& out);

}  // namespace pointspay
