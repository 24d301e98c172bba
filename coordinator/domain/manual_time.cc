#include "coordinator/domain/manual_time.h"

#include <algorithm>
#include <utility>

namespace tcc {

absl::Time ManualClock::Now() const {
  tcc::MutexLock lock(&mu_);
  return now_;
}

void ManualClock::AdvanceTo(absl::Time when) {
  tcc::MutexLock lock(&mu_);
  now_ = std::max(now_, when);
}

void ManualClock::Advance(absl::Duration by) { AdvanceTo(Now() + by); }

void ManualScheduler::Schedule(absl::Time when, std::function<void()> callback) {
  tcc::MutexLock lock(&mu_);
  timers_.Push(when, std::move(callback));
}

std::function<void()> ManualScheduler::PopDue(absl::Time when) {
  tcc::MutexLock lock(&mu_);
  absl::Time due = timers_.NextDue();
  std::function<void()> callback = timers_.PopDue(when);
  // The clock reaches each timer's time before it runs, as a real one would.
  if (callback) clock_->AdvanceTo(due);
  return callback;
}

size_t ManualScheduler::AdvanceTo(absl::Time when) {
  size_t ran = 0;
  while (std::function<void()> callback = PopDue(when)) {
    callback();  // Without the lock: it may schedule more.
    ++ran;
  }
  clock_->AdvanceTo(when);
  return ran;
}

size_t ManualScheduler::Advance(absl::Duration by) { return AdvanceTo(clock_->Now() + by); }

size_t ManualScheduler::RunDue() { return AdvanceTo(clock_->Now()); }

absl::Time ManualScheduler::NextDue() const {
  tcc::MutexLock lock(&mu_);
  return timers_.NextDue();
}

size_t ManualScheduler::pending() const {
  tcc::MutexLock lock(&mu_);
  return timers_.size();
}

}  // namespace tcc
