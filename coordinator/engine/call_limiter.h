// Counts the engine's participant calls and bounds the background ones
// (Confirm, Cancel, saga actions and compensations), so that a restart with
// many due retries cannot flood participants, or tccd itself, with calls
// that would only time out. A GT that finds no free slot is queued by gid,
// once, and handed back when a slot frees up; the limiter knows nothing
// else of GTs. Foreground calls (Try, answered to a waiting initiator) are
// counted for shutdown but never limited. Thread-safe: mu_ guards
// everything; it is a leaf lock (the engine may hold its own while calling
// in, never the other way round).
#pragma once

#include <deque>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "tcc/common/mutex.h"

namespace tcc {

class CallLimiter {
 public:
  explicit CallLimiter(int max_background_calls) : max_background_(max_background_calls) {}

  // Takes a background slot for a call of `gid`. When none is free, queues
  // `gid` (if it is not queued already) and returns false.
  bool TryAcquire(const std::string& gid);
  // Gives a background slot back.
  void Release();
  // The longest-waiting gid, removed from the queue; nullopt when none waits
  // or no slot is free. The caller drives it (it may have finished meanwhile:
  // then the caller asks for the next).
  std::optional<std::string> PopWaiting();

  // Every call, background or not, between its start and its answer.
  void CallStarted();
  void CallFinished();
  // Waits up to `grace` for every started call to finish; true if they did.
  bool WaitUntilIdle(absl::Duration grace);

  int background_in_use() const;
  size_t waiting() const;

 private:
  const int max_background_;
  mutable tcc::Mutex mu_;
  int background_ ABSL_GUARDED_BY(mu_) = 0;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> queued_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tcc
