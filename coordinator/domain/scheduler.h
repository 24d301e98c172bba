// Runs callbacks at given times: the seam through which the engine's
// retries, timeouts and back-queries are scheduled. The daemon uses the
// TimerQueue (a thread on the real clock); tests and the simulator use a
// ManualScheduler that runs what is due only when told to, on the caller's
// thread. Implementations are thread-safe.
#pragma once

#include <functional>

#include "absl/time/time.h"

namespace tcc {

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Runs `callback` once at or after `when`. Callbacks must be short and
  // must not block: they start asynchronous work. Callbacks due at the same
  // time run in the order they were scheduled.
  virtual void Schedule(absl::Time when, std::function<void()> callback) = 0;
};

}  // namespace tcc
