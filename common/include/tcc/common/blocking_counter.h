// tcc::BlockingCounter: Wait() returns once DecrementCount() was called the
// given number of times; absl::BlockingCounter's interface on tcc::Mutex,
// which the TSan run can see (tcc/common/mutex.h says why).
//
// Thread-safety: any thread may decrement; one thread waits.
#pragma once

#include "absl/base/thread_annotations.h"
#include "tcc/common/mutex.h"

namespace tcc {

class BlockingCounter {
 public:
  explicit BlockingCounter(int initial_count) : count_(initial_count) {}
  BlockingCounter(const BlockingCounter&) = delete;
  BlockingCounter& operator=(const BlockingCounter&) = delete;

  // True when this call brought the count to zero.
  bool DecrementCount() {
    MutexLock lock(&mu_);
    return --count_ == 0;
  }
  void Wait() {
    MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return count_ <= 0; };
    mu_.Await(Condition(&done));
  }

 private:
  Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tcc
