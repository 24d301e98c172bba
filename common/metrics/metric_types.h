// The values behind Prometheus samples: Counter, Gauge and Histogram with
// fixed buckets. Each is lock-free (relaxed atomics), so updating one on a
// request path costs a few atomic operations; a scrape reads them without
// stopping writers, so a histogram's sum may trail its buckets by the
// observations in flight. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace tcc::metrics {

// Only goes up (from 0, at creation).
class Counter {
 public:
  void Increment(uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets with fixed upper bounds (an observation
// equal to a bound counts in that bound's bucket, as Prometheus' `le` says),
// plus the implicit +Inf bucket.
class Histogram {
 public:
  // `bounds`: finite and strictly increasing (checked by the registry).
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);

  void Observe(double value);

  struct Snapshot {
    // Cumulative counts: one per bound, then +Inf (== count).
    std::vector<uint64_t> cumulative;
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  // Per bucket (not cumulative), the last one for +Inf.
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

}  // namespace tcc::metrics
