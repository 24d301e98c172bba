// An engine over an in-memory or SQLite store with an in-process fake
// transport, on manual time: the harness of the engine's unit tests. Time
// moves only when a test says so (Advance), or while a test waits for
// background work that needs it (AdvanceUntil, WaitForState, awaiting a
// saga's result); scheduled retries and timeouts run on the test's thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "coordinator/domain/manual_time.h"
#include "coordinator/engine/transaction_engine.h"
#include "coordinator/store/sqlite_store.h"
#include "coordinator/store/store_queue.h"
#include "tcc/common/notification.h"
#include "tcc/common/status_macros.h"
#include "tests/coordinator/fake_transport.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/wait.h"

namespace tcc::testing {

inline EngineOptions FastOptions() {
  EngineOptions options;
  options.retry = {absl::Milliseconds(2), absl::Milliseconds(20), 2.0, 0.5};
  options.stuck = {.attempts = 3, .age_ms = 60000};
  options.default_timeout = absl::Seconds(30);
  options.random_seed = 42;
  return options;
}

// Opens (or reopens) the SQLite store at `path`, failing the test if it
// cannot: for tests that restart an engine on the same file.
inline std::unique_ptr<TransactionStore> OpenSqliteStore(const std::string& path) {
  auto store = SqliteStore::Open({.path = path});
  EXPECT_OK(store);
  if (!store.ok()) return nullptr;
  return std::unique_ptr<TransactionStore>(std::move(*store));
}

// An engine over a store that outlives it, so tests can restart engines.
class Harness {
 public:
  explicit Harness(std::unique_ptr<TransactionStore> store, EngineOptions options = FastOptions())
      : queue_(std::move(store)),
        scheduler_(&clock_),
        engine_(std::make_unique<TransactionEngine>(options, &queue_, &transport_, &scheduler_,
                                                    &clock_)) {}
  ~Harness() {
    engine_->Shutdown(absl::Seconds(5));
    queue_.Stop();
  }

  TransactionEngine& engine() { return *engine_; }
  FakeTransport& transport() { return transport_; }
  ManualClock& clock() { return clock_; }
  ManualScheduler& scheduler() { return scheduler_; }

  // Moves time forward, running every retry and timeout due meanwhile.
  void Advance(absl::Duration by) { scheduler_.Advance(by); }
  // Waits until every store write queued so far is durable and its
  // completion (which may start calls) has run.
  void Flush() {
    EXPECT_OK(queue_.RunAndWait([](TransactionStore&) { return absl::OkStatus(); }));
  }
  // Runs `operation` on the store thread, as another coordinator sharing
  // the store would change it.
  absl::Status InStore(std::function<absl::Status(TransactionStore&)> operation) {
    return queue_.RunAndWait(std::move(operation));
  }
  // Polls `condition`, letting time pass in `step`s between polls, for
  // background work that needs retries or timeouts to happen.
  bool AdvanceUntil(const std::function<bool()>& condition,
                    absl::Duration step = absl::Milliseconds(10)) {
    return WaitFor([&] {
      if (condition()) return true;
      Advance(step);
      return false;
    });
  }

  absl::StatusOr<BeginResult> Begin(BeginParams params) {
    return Await<BeginResult>([&](auto done) { engine_->Begin(params, done); });
  }
  // The outcomes of a Try; TryAnswered gives the whole answer.
  absl::StatusOr<std::vector<BranchTryOutcome>> Try(const std::string& gid,
                                                    std::vector<Branch> branches) {
    absl::StatusOr<::tcc::TryAnswer> answer = TryAnswered(gid, std::move(branches));
    if (!answer.ok()) return answer.status();
    return std::move(answer->outcomes);
  }
  absl::StatusOr<::tcc::TryAnswer> BeginAndTry(BeginParams params, std::vector<Branch> branches) {
    return Await<::tcc::TryAnswer>(
        [&](auto done) { engine_->BeginAndTry(params, branches, done); });
  }
  absl::StatusOr<::tcc::TryAnswer> TryAnswered(const std::string& gid,
                                               std::vector<Branch> branches) {
    return Await<::tcc::TryAnswer>([&](auto done) { engine_->Try(gid, branches, done); });
  }
  absl::StatusOr<TxState> Decide(const std::string& gid, Decision decision) {
    return Await<TxState>([&](auto done) { engine_->Decide(gid, decision, done); });
  }
  // A saga that waits for its result lets time pass for its retries.
  absl::StatusOr<SagaResult> Submit(SagaParams params) {
    return Await<SagaResult>([&](auto done) { engine_->SubmitSaga(params, done); },
                             params.wait_for_result);
  }
  absl::StatusOr<uint32_t> RetryNow(const std::string& gid, const std::string& target = "") {
    return Await<uint32_t>([&](auto done) { engine_->RetryNow(gid, target, "ops", done); });
  }
  absl::StatusOr<GlobalTransaction> Get(const std::string& gid) {
    return Await<GlobalTransaction>([&](auto done) { engine_->Get(gid, done); });
  }
  // The stored timeline of `gid`; needs a store with read queries (SQLite).
  std::vector<TimelineEvent> Timeline(const std::string& gid) {
    std::vector<TimelineEvent> events;
    EXPECT_OK(queue_.RunAndWait([&](TransactionStore& store) -> absl::Status {
      TCC_ASSIGN_OR_RETURN(std::unique_ptr<TransactionQueries> queries, store.OpenQueries());
      TCC_ASSIGN_OR_RETURN(events, queries->Timeline(gid));
      return absl::OkStatus();
    }));
    return events;
  }
  bool WaitForState(const std::string& gid, TxState state) {
    return AdvanceUntil([&] {
      auto gt = Get(gid);
      return gt.ok() && gt->state == state;
    });
  }

 private:
  // Starts a call and waits for its callback, running what falls due
  // meanwhile (and moving time on if `advance`).
  template <typename T>
  absl::StatusOr<T> Await(const std::function<void(TransactionEngine::Callback<T>)>& start,
                          bool advance = false) {
    auto done = std::make_shared<tcc::Notification>();
    auto result = std::make_shared<absl::StatusOr<T>>(absl::UnknownError("not called"));
    start([done, result](absl::StatusOr<T> value) {
      *result = std::move(value);
      done->Notify();
    });
    while (!done->WaitForNotificationWithTimeout(absl::Milliseconds(1))) {
      if (advance) {
        Advance(absl::Milliseconds(10));
      } else {
        scheduler_.RunDue();
      }
    }
    return std::move(*result);
  }

  ManualClock clock_;
  StoreQueue queue_;
  FakeTransport transport_;
  ManualScheduler scheduler_;
  std::unique_ptr<TransactionEngine> engine_;
};

}  // namespace tcc::testing
