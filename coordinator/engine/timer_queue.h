// Runs callbacks at given times on one background thread: the retry and
// timeout scheduler. Callbacks must be short and non-blocking (they start
// asynchronous work). Time comes from the injected Clock. Thread-safe.
#pragma once

#include <functional>
#include <queue>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "coordinator/domain/clock.h"

namespace tcc {

class TimerQueue {
 public:
  explicit TimerQueue(const Clock* clock);
  ~TimerQueue();

  void Schedule(absl::Time when, std::function<void()> callback);
  // Drops pending timers and joins the thread. Idempotent.
  void Stop();
  size_t pending() const;

 private:
  struct Timer {
    absl::Time when;
    uint64_t sequence;  // FIFO among equal times.
    std::function<void()> callback;
    bool operator>(const Timer& other) const {
      return when != other.when ? when > other.when : sequence > other.sequence;
    }
  };

  void Loop();

  const Clock* clock_;
  mutable absl::Mutex mu_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool poked_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tcc
