#include "tools/bench/latency.h"

#include <algorithm>
#include <numeric>

#include "absl/status/status.h"

namespace tcc::bench {
namespace {

double Percentile(const std::vector<int64_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  auto index = static_cast<size_t>(fraction * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(index, sorted.size() - 1)]) / 1e6;
}

}  // namespace

void LatencyRecorder::Record(int64_t latency_ns, const absl::Status& status) {
  completed_.fetch_add(1, std::memory_order_relaxed);
  if (!status.ok()) failed_.fetch_add(1, std::memory_order_relaxed);
  if (!recording_.load(std::memory_order_relaxed)) return;
  tcc::MutexLock lock(&mu_);
  if (status.ok()) {
    latencies_ns_.push_back(latency_ns);
    return;
  }
  ++errors_[absl::StatusCodeToString(status.code())];
  if (first_error_.empty()) first_error_ = status.ToString();
}

LatencySummary LatencyRecorder::Summarize() const {
  std::vector<int64_t> sorted;
  LatencySummary summary;
  {
    tcc::MutexLock lock(&mu_);
    sorted = latencies_ns_;
    summary.error_counts = errors_;
    summary.first_error = first_error_;
  }
  std::sort(sorted.begin(), sorted.end());
  summary.count = static_cast<int64_t>(sorted.size());
  for (const auto& [code, count] : summary.error_counts) summary.errors += count;
  summary.p50_ms = Percentile(sorted, 0.50);
  summary.p95_ms = Percentile(sorted, 0.95);
  summary.p99_ms = Percentile(sorted, 0.99);
  summary.max_ms = sorted.empty() ? 0 : static_cast<double>(sorted.back()) / 1e6;
  if (!sorted.empty()) {
    summary.mean_ms = static_cast<double>(std::accumulate(sorted.begin(), sorted.end(), 0.0)) /
                      static_cast<double>(sorted.size()) / 1e6;
  }
  return summary;
}

}  // namespace tcc::bench
