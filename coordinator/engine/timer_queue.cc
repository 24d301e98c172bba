#include "coordinator/engine/timer_queue.h"

namespace tcc {
namespace {

// Upper bound of one wait, so that a clock that jumped is still noticed.
constexpr absl::Duration kMaxWait = absl::Milliseconds(200);

}  // namespace

TimerQueue::TimerQueue(const Clock* clock) : clock_(clock), thread_([this] { Loop(); }) {}

TimerQueue::~TimerQueue() { Stop(); }

void TimerQueue::Schedule(absl::Time when, std::function<void()> callback) {
  tcc::MutexLock lock(&mu_);
  if (stopping_) return;
  bool earliest = when < timers_.NextDue();
  timers_.Push(when, std::move(callback));
  if (earliest) poked_ = true;
}

void TimerQueue::Stop() {
  {
    tcc::MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    timers_.Clear();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

size_t TimerQueue::pending() const {
  tcc::MutexLock lock(&mu_);
  return timers_.size();
}

void TimerQueue::Loop() {
  tcc::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time now = clock_->Now();
    std::function<void()> callback = timers_.PopDue(now);
    if (!callback) {
      WaitLocked(now);
      continue;
    }
    mu_.Unlock();
    callback();
    mu_.Lock();
  }
}

void TimerQueue::WaitLocked(absl::Time now) {
  absl::Duration wait = std::min(timers_.NextDue() - now, kMaxWait);
  poked_ = false;
  auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return poked_ || stopping_; };
  mu_.AwaitWithTimeout(tcc::Condition(&woken), wait);
}

}  // namespace tcc
