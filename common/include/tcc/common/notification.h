// tcc::Notification: a one-shot event, absl::Notification's interface on
// tcc::Mutex. absl::Notification is built on absl::Mutex, which the TSan run
// cannot see (tcc/common/mutex.h says why); this one it can.
//
// Thread-safety: any thread may notify or wait; notifying twice is harmless.
// A waiter may destroy the Notification as soon as its wait returns.
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "tcc/common/mutex.h"

namespace tcc {

class Notification {
 public:
  Notification() = default;
  Notification(const Notification&) = delete;
  Notification& operator=(const Notification&) = delete;

  void Notify() {
    MutexLock lock(&mu_);
    notified_ = true;
  }
  bool HasBeenNotified() const {
    MutexLock lock(&mu_);
    return notified_;
  }
  void WaitForNotification() const {
    MutexLock lock(&mu_);
    mu_.Await(Condition(&notified_));
  }
  // Whether it was notified within `timeout`.
  bool WaitForNotificationWithTimeout(absl::Duration timeout) const {
    MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(Condition(&notified_), timeout);
  }

 private:
  mutable Mutex mu_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tcc
