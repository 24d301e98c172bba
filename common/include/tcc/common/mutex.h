// tcc::Mutex, tcc::MutexLock, tcc::ReaderMutexLock, tcc::Condition and
// tcc::CondVar: the lock our code uses everywhere, with absl::Mutex's
// interface (the subset we use) and its annotations for clang's
// -Wthread-safety, built on std::mutex and std::condition_variable.
//
// Why not absl::Mutex: Debian's Abseil is not built with ThreadSanitizer, and
// absl::Mutex synchronizes with atomics and futexes inside that uninstrumented
// library, so TSan cannot see its lock and unlock and reports every access it
// guards as a race. std::mutex and std::condition_variable go through pthread,
// which TSan intercepts, so with this type the TSan run sees our locks.
//
// Semantics follow absl::Mutex: Await(cond) releases the mutex until `cond`
// holds; conditions are evaluated with the mutex held, by whichever thread
// releases it (not necessarily the waiter), so they must only read state the
// mutex guards. A release wakes, of the waiters whose condition holds, one
// per condition code (Condition::SameCode: the idle threads of a pool wait
// with the same lambda), the one that began waiting last; that waiter's own
// release wakes the next, so every waiter whose condition stays true is
// woken in turn, without a herd of threads that would only queue for the
// mutex, while waiters for different things (a writer and a completion
// thread) still wake together. ReaderLock takes the mutex exclusively
// (there is no shared mode); the annotations still treat it as shared. Not
// recursive. Lock and AssertHeld are cheap: the owner thread is kept for
// AssertHeld, which aborts with a message when the caller does not hold the
// mutex.
//
// Thread-safety: every member may be called from any thread; a CondVar may
// be signalled with or without its mutex held.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace tcc {

// A predicate over state guarded by a Mutex: a pointer to a bool, a pointer
// to a callable returning bool (a lambda), or (as absl::Condition has it) a
// function and the pointer it is called with. Holds the pointers only: what
// they point to must outlive the wait.
class Condition {
 public:
  explicit Condition(const bool* flag);
  template <typename T>
  requires std::is_invocable_r_v<bool, const T&>
  explicit Condition(const T* callable) : eval_(&Call<T>), arg_(callable) {}
  template <typename T>
  Condition(bool (*func)(T*), T* arg)
      : eval_(&CallFunction<T>), arg_(arg), func_(reinterpret_cast<void (*)()>(func)) {}

  bool Eval() const { return eval_(*this); }
  // Whether two conditions are the same code (the same lambda or function,
  // whatever it captures or is called with): threads that wait for the same
  // thing, such as the idle workers of a pool. Conditions on a bool flag
  // are all one code, whichever flag they read.
  bool SameCode(const Condition& other) const {
    return eval_ == other.eval_ && func_ == other.func_;
  }

 private:
  // The callable's own annotations name the mutex its caller holds, which
  // the analysis cannot follow through this indirection.
  template <typename T>
  static bool Call(const Condition& c) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return (*static_cast<const T*>(c.arg_))();
  }
  // func_ goes back to the very type it was cast from, which is defined.
  template <typename T>
  static bool CallFunction(const Condition& c) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto func = reinterpret_cast<bool (*)(T*)>(c.func_);
    return func(static_cast<T*>(const_cast<void*>(c.arg_)));
  }
  static bool ReadFlag(const Condition& c);

  bool (*eval_)(const Condition&);
  const void* arg_;
  void (*func_)() = nullptr;  // only for the function-and-argument form
};

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION();
  void Unlock() ABSL_UNLOCK_FUNCTION();
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true);
  // Exclusive underneath (see above).
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() { Lock(); }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() { Unlock(); }

  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK();
  void AssertReaderHeld() const ABSL_ASSERT_SHARED_LOCK() { AssertHeld(); }

  // Releases the mutex until `cond` holds, then returns with it held again.
  void Await(const Condition& cond) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);
  // The same, giving up after `timeout` (or at `deadline`); returns whether
  // `cond` holds. The mutex is held again on return either way.
  bool AwaitWithTimeout(const Condition& cond, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);
  bool AwaitWithDeadline(const Condition& cond, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);

 private:
  friend class CondVar;
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;
  // A thread blocked in Await, on its own stack, listed in waiters_.
  struct Waiter {
    const Condition* cond;
    std::condition_variable cv;
    bool woken = false;
  };

  bool AwaitUntil(const Condition& cond, Deadline deadline);
  // Releases mu_ until `me` is woken or `deadline` passes; false on timeout.
  bool Sleep(Waiter& me, Deadline deadline);
  // Every release of mu_ goes through these two: the releasing thread wakes
  // the waiters whose condition now holds, then gives up ownership.
  void BeforeRelease();
  void AfterAcquire() { owner_.store(std::this_thread::get_id(), std::memory_order_relaxed); }

  std::mutex mu_;
  std::atomic<std::thread::id> owner_{};
  std::vector<Waiter*> waiters_;  // guarded by mu_
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

class ABSL_SCOPED_LOCKABLE ReaderMutexLock {
 public:
  explicit ReaderMutexLock(Mutex* mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) { mu_->ReaderLock(); }
  ~ReaderMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable over a tcc::Mutex. Waits may wake spuriously: callers
// loop on their predicate.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // True when the wait ended because the timeout (deadline) passed.
  bool WaitWithTimeout(Mutex* mu, absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  bool WaitWithDeadline(Mutex* mu, absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  bool WaitUntil(Mutex* mu, Mutex::Deadline deadline);

  std::condition_variable cv_;
};

}  // namespace tcc
