#include "tcc/common/mutex.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/container/inlined_vector.h"
#include "absl/time/clock.h"

namespace tcc {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Beyond this a wait counts as unbounded (steady_clock's range is ~292 years).
constexpr absl::Duration kForever = absl::Hours(24 * 365 * 100);

std::optional<SteadyClock::time_point> DeadlineAfter(absl::Duration timeout) {
  if (timeout >= kForever) return std::nullopt;
  timeout = std::max(timeout, absl::ZeroDuration());
  return SteadyClock::now() + absl::ToChronoNanoseconds(timeout);
}

// absl::Time is wall-clock time; waiting on the steady clock keeps a wait
// from stretching or shrinking when the wall clock is set.
std::optional<SteadyClock::time_point> DeadlineAt(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return std::nullopt;
  return DeadlineAfter(deadline - absl::Now());
}

}  // namespace

Condition::Condition(const bool* flag) : eval_(&ReadFlag), arg_(flag) {}

bool Condition::ReadFlag(const Condition& c) { return *static_cast<const bool*>(c.arg_); }

void Mutex::Lock() {
  mu_.lock();
  AfterAcquire();
}

void Mutex::Unlock() {
  BeforeRelease();
  mu_.unlock();
}

bool Mutex::TryLock() {
  if (!mu_.try_lock()) return false;
  AfterAcquire();
  return true;
}

void Mutex::AssertHeld() const {
  if (owner_.load(std::memory_order_relaxed) == std::this_thread::get_id()) return;
  std::fprintf(stderr, "tcc::Mutex %p: AssertHeld failed, the calling thread does not hold it\n",
               static_cast<const void*>(this));
  std::abort();
}

void Mutex::Await(const Condition& cond) { AwaitUntil(cond, std::nullopt); }

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  return AwaitUntil(cond, DeadlineAfter(timeout));
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  return AwaitUntil(cond, DeadlineAt(deadline));
}

bool Mutex::AwaitUntil(const Condition& cond, Deadline deadline) {
  while (!cond.Eval()) {
    Waiter me{&cond};
    if (!Sleep(me, deadline)) return cond.Eval();
  }
  return true;
}

bool Mutex::Sleep(Waiter& me, Deadline deadline) {
  BeforeRelease();
  waiters_.push_back(&me);
  std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
  auto woken = [&me] { return me.woken; };
  if (deadline.has_value()) {
    me.cv.wait_until(lock, *deadline, woken);
  } else {
    me.cv.wait(lock, woken);
  }
  lock.release();
  AfterAcquire();
  if (!me.woken) std::erase(waiters_, &me);
  return me.woken;
}

// Runs with mu_ held, so the conditions read their state safely; a woken
// waiter leaves waiters_ here, so its Waiter may go as soon as it runs.
//
// Of the waiters with the same condition code it wakes one: every waiter
// takes the mutex exclusively, so a second one woken now could only queue
// on mu_ behind the first, and when the first releases mu_ (Unlock, or Await
// again) this runs again and wakes the next whose condition holds. Waking
// them all made a pool of N idle threads switch N times per task (a
// thundering herd). Waiters with different code wait for different things
// and are all woken, so that one (the store's writer, say) does not wait for
// another (its completion thread) to be scheduled and release the mutex.
// The most recent waiter goes first: in a pool, the thread that slept last
// is the one whose stack and caches are still warm, and the rest sleep on.
void Mutex::BeforeRelease() {
  absl::InlinedVector<const Condition*, 4> woken;  // one per condition code
  for (auto it = waiters_.rbegin(); it != waiters_.rend();) {
    Waiter* w = *it;
    bool seen = std::any_of(woken.begin(), woken.end(),
                            [w](const Condition* c) { return c->SameCode(*w->cond); });
    if (seen || !w->cond->Eval()) {
      ++it;
      continue;
    }
    woken.push_back(w->cond);
    w->woken = true;
    w->cv.notify_one();
    it = std::make_reverse_iterator(waiters_.erase(std::next(it).base()));
  }
  owner_.store(std::thread::id(), std::memory_order_relaxed);
}

void CondVar::Wait(Mutex* mu) { WaitUntil(mu, std::nullopt); }

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  return WaitUntil(mu, DeadlineAfter(timeout));
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  return WaitUntil(mu, DeadlineAt(deadline));
}

bool CondVar::WaitUntil(Mutex* mu, Mutex::Deadline deadline) {
  mu->BeforeRelease();
  std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
  bool timed_out = false;
  if (deadline.has_value()) {
    timed_out = cv_.wait_until(lock, *deadline) == std::cv_status::timeout;
  } else {
    cv_.wait(lock);
  }
  lock.release();
  mu->AfterAcquire();
  return timed_out;
}

}  // namespace tcc
