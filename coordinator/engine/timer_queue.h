// The real Scheduler: runs callbacks at given times on one background
// thread, reading time from the injected Clock. Callbacks must be short and
// non-blocking (they start asynchronous work). The thread re-reads the
// clock at least every 200 ms, so a clock that jumps forward (or a
// ManualClock moved by a test) is noticed without a new Schedule.
// Thread-safe; mu_ guards the timer heap and the flags, and is never held
// while a callback runs.
#pragma once

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "coordinator/domain/clock.h"
#include "coordinator/domain/scheduler.h"
#include "coordinator/domain/timer_heap.h"
#include "tcc/common/mutex.h"

namespace tcc {

class TimerQueue final : public Scheduler {
 public:
  explicit TimerQueue(const Clock* clock);
  ~TimerQueue() override;

  void Schedule(absl::Time when, std::function<void()> callback) override;
  // Drops pending timers and joins the thread. Idempotent.
  void Stop();
  size_t pending() const;

 private:
  void Loop();
  // Sleeps until the earliest timer is due, a new earliest one arrives, Stop
  // is called, or the re-poll interval passes.
  void WaitLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* clock_;
  mutable tcc::Mutex mu_;
  TimerHeap timers_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool poked_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tcc
