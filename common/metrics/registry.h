// A set of metric families and their rendering as one Prometheus scrape
// (text format 0.0.4). Owned by whoever serves the scrape (tccd's Daemon;
// tests make their own), not a global, so two daemons in one test process
// keep separate counts.
//
// Registering is for start-up: a name registered twice, an invalid name or
// label name, or unsorted histogram bounds are our bug and abort. Families
// are never removed, so the references returned stay valid for the
// registry's lifetime. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "common/metrics/family.h"
#include "tcc/common/mutex.h"

namespace tcc::metrics {

class Registry {
 public:
  Family<Counter>& AddCounter(std::string name, std::string help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(std::string name, std::string help,
                          std::vector<std::string> label_names = {});
  // `bounds`: the buckets' upper bounds, finite and strictly increasing;
  // the +Inf bucket is implicit.
  Family<Histogram>& AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> label_names, std::vector<double> bounds);
  void AddCallbackGauge(std::string name, std::string help, std::vector<std::string> label_names,
                        CallbackGaugeFamily::Collect collect);

  // Every family with at least one sample, in registration order.
  std::string Render() const;

 private:
  // Checks the names and takes ownership; returns the family.
  template <typename F>
  F& Add(std::unique_ptr<F> family);
  void CheckNames(const FamilyBase& family) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable tcc::Mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> names_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tcc::metrics
