// Time under a test's (or a simulator's) control: a ManualClock that moves
// only when told to, and a ManualScheduler that keeps scheduled callbacks
// until time is advanced past them, then runs them on the advancing thread
// in time order (FIFO among equal times), moving the clock to each one's
// time first. Nothing here starts a thread or reads the wall clock, so a
// run is reproducible. Thread-safe: callbacks may be scheduled from any
// thread; each class guards its state with its own mutex, never held while
// a callback runs.
#pragma once

#include <functional>

#include "absl/base/thread_annotations.h"
#include "coordinator/domain/clock.h"
#include "coordinator/domain/scheduler.h"
#include "coordinator/domain/timer_heap.h"
#include "tcc/common/mutex.h"

namespace tcc {

class ManualClock final : public Clock {
 public:
  // Starts at an arbitrary fixed instant, not at the Unix epoch, so that
  // "0 means unset" timestamps stay distinguishable.
  explicit ManualClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000)) : now_(start) {}

  absl::Time Now() const override;
  // Moves the clock to `when`; never backwards.
  void AdvanceTo(absl::Time when);
  void Advance(absl::Duration by);

 private:
  mutable tcc::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

class ManualScheduler final : public Scheduler {
 public:
  explicit ManualScheduler(ManualClock* clock) : clock_(clock) {}

  void Schedule(absl::Time when, std::function<void()> callback) override;

  // Runs every callback due by `when` (including those they schedule that
  // are due by then), then leaves the clock at `when`. Returns how many ran.
  size_t AdvanceTo(absl::Time when);
  size_t Advance(absl::Duration by);
  // Runs what is due now, without moving the clock.
  size_t RunDue();
  // When the earliest pending callback is due; InfiniteFuture if none.
  absl::Time NextDue() const;
  size_t pending() const;

 private:
  // Removes the earliest callback due by `when`, if any, moving the clock
  // to its time.
  std::function<void()> PopDue(absl::Time when);

  ManualClock* const clock_;
  mutable tcc::Mutex mu_;
  TimerHeap timers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tcc
