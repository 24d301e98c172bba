// An engine over an in-memory or SQLite store with an in-process fake
// transport, and blocking wrappers for its callback API: the harness of
// the engine's unit tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "coordinator/engine/transaction_engine.h"
#include "tests/coordinator/fake_transport.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/wait.h"

namespace tcc::testing {

template <typename T>
absl::StatusOr<T> Await(const std::function<void(TransactionEngine::Callback<T>)>& start) {
  absl::Notification done;
  absl::StatusOr<T> result = absl::UnknownError("not called");
  start([&](absl::StatusOr<T> value) {
    result = std::move(value);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

inline EngineOptions FastOptions() {
  EngineOptions options;
  options.retry = {absl::Milliseconds(2), absl::Milliseconds(20), 2.0, 0.5};
  options.stuck = {.attempts = 3, .age_ms = 60000};
  options.default_timeout = absl::Seconds(30);
  return options;
}

// An engine over a store that outlives it, so tests can restart engines.
class Harness {
 public:
  explicit Harness(std::unique_ptr<TransactionStore> store, EngineOptions options = FastOptions())
      : queue_(std::move(store)),
        timers_(&clock_),
        engine_(std::make_unique<TransactionEngine>(options, &queue_, &transport_, &timers_,
                                                    &clock_)) {}
  ~Harness() {
    engine_->Shutdown(absl::Seconds(5));
    timers_.Stop();
    queue_.Stop();
  }

  TransactionEngine& engine() { return *engine_; }
  FakeTransport& transport() { return transport_; }

  absl::StatusOr<BeginResult> Begin(BeginParams params) {
    return Await<BeginResult>([&](auto done) { engine_->Begin(params, done); });
  }
  absl::StatusOr<std::vector<BranchTryOutcome>> Try(const std::string& gid,
                                                    std::vector<Branch> branches) {
    return Await<std::vector<BranchTryOutcome>>(
        [&](auto done) { engine_->Try(gid, branches, done); });
  }
  absl::StatusOr<TxState> Decide(const std::string& gid, Decision decision) {
    return Await<TxState>([&](auto done) { engine_->Decide(gid, decision, done); });
  }
  absl::StatusOr<SagaResult> Submit(SagaParams params) {
    return Await<SagaResult>([&](auto done) { engine_->SubmitSaga(params, done); });
  }
  absl::StatusOr<GlobalTransaction> Get(const std::string& gid) {
    return Await<GlobalTransaction>([&](auto done) { engine_->Get(gid, done); });
  }
  bool WaitForState(const std::string& gid, TxState state) {
    return WaitFor([&] {
      auto gt = Get(gid);
      return gt.ok() && gt->state == state;
    });
  }

 private:
  RealClock clock_;
  StoreQueue queue_;
  FakeTransport transport_;
  TimerQueue timers_;
  std::unique_ptr<TransactionEngine> engine_;
};

}  // namespace tcc::testing
