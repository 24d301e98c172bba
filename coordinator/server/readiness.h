// tccd's answers to orchestrators' probes: /healthz is 200 while the
// process serves HTTP at all; /readyz is 200 only once recovery finished
// and the gRPC server accepts calls, and the store answers a read through
// the store queue within a deadline (so a stuck writer thread or a full
// queue shows), with a one-line reason otherwise (503). Thread-safe: the
// daemon moves it through its states while the HTTP threads ask.
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/http/http_server.h"
#include "coordinator/store/store_queue.h"
#include "tcc/common/mutex.h"

namespace tcc {

class Readiness {
 public:
  explicit Readiness(absl::Duration store_deadline = absl::Seconds(2))
      : store_deadline_(store_deadline) {}

  // Recovery finished and calls are accepted; `queue` outlives every later
  // probe.
  void MarkServing(StoreQueue* queue);
  void MarkStopping();

  HttpResponse Healthz() const;
  HttpResponse Readyz() const;

 private:
  enum class State { kStarting, kServing, kStopping };

  // A cheap read through the queue, waited for at most store_deadline_.
  absl::Status ProbeStore(StoreQueue* queue) const;

  const absl::Duration store_deadline_;
  mutable tcc::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kStarting;
  StoreQueue* queue_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace tcc
