// What a background pruner reported through PruningOptions::on_pass, so a
// test can wait for a pass (an event) instead of sleeping for an interval.
//
// Thread-safety: Record runs on the pruning thread, the rest on the test's;
// everything is guarded by one mutex.
#pragma once

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tcc/common/mutex.h"

namespace tcc::sdk::testing {

class PassLog {
 public:
  // For PruningOptions::on_pass; the log must outlive the pruner.
  std::function<void(const absl::StatusOr<int64_t>&)> Callback() {
    return [this](const absl::StatusOr<int64_t>& pruned) { Record(pruned); };
  }

  void Record(const absl::StatusOr<int64_t>& pruned) {
    tcc::MutexLock lock(&mu_);
    ++passes_;
    if (pruned.ok()) rows_ += *pruned;
    if (!pruned.ok()) ++failures_;
  }

  // True once at least `passes` passes were reported; false after a
  // generous timeout, so a pruner that never runs fails instead of hanging.
  bool WaitForPasses(int passes) {
    return WaitUntil([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return passes_ >= passes; });
  }
  // True once the passes deleted at least `rows` rows in all.
  bool WaitForRows(int64_t rows) {
    return WaitUntil([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return rows_ >= rows; });
  }

  int passes() const {
    tcc::MutexLock lock(&mu_);
    return passes_;
  }
  int64_t rows() const {
    tcc::MutexLock lock(&mu_);
    return rows_;
  }
  int failures() const {
    tcc::MutexLock lock(&mu_);
    return failures_;
  }

 private:
  template <typename Pred>
  bool WaitUntil(Pred pred) {
    tcc::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(tcc::Condition(&pred), absl::Seconds(30));
  }

  mutable tcc::Mutex mu_;
  int passes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t rows_ ABSL_GUARDED_BY(mu_) = 0;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tcc::sdk::testing
