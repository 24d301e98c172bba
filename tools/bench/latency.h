// Collects per-unit latencies and outcomes of a load run and summarizes them
// (count, errors, percentiles). Thread-safe: Record() is called from gRPC
// callback threads while the driver reads counters for the progress line.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "tcc/common/mutex.h"

namespace tcc::bench {

struct LatencySummary {
  int64_t count = 0;
  int64_t errors = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
  // Error text by gRPC code name, with the first message seen for it.
  std::map<std::string, int64_t> error_counts;
  std::string first_error;
};

class LatencyRecorder {
 public:
  // Only units that complete while recording is on are counted: the driver
  // turns it on after the warm-up and off at the end of the window.
  void set_recording(bool on) { recording_.store(on); }

  void Record(int64_t latency_ns, const absl::Status& status);

  // Every completion, recorded or not (for the progress line).
  int64_t completed() const { return completed_.load(); }
  int64_t failed() const { return failed_.load(); }

  LatencySummary Summarize() const;

 private:
  std::atomic<bool> recording_{false};
  std::atomic<int64_t> completed_{0};
  std::atomic<int64_t> failed_{0};
  mutable tcc::Mutex mu_;
  std::vector<int64_t> latencies_ns_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> errors_ ABSL_GUARDED_BY(mu_);
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tcc::bench
