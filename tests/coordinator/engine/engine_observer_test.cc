// What the engine tells its observer (tccd's metrics), on manual time: one
// start and one finish per GT with its age, every participant call and
// back-query with its outcome and latency, and the unfinished summary.
#include "coordinator/engine/engine_observer.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coordinator/store/memory_store.h"
#include "tcc/common/mutex.h"
#include "tests/coordinator/engine/engine_harness.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::FastOptions;
using ::tcc::testing::Harness;

// Records every report as a line of text, and the durations apart: only
// tests that move time themselves (and never wait by advancing it) can
// expect exact ones.
class RecordingObserver final : public EngineObserver {
 public:
  void TransactionStarted(TxMode mode) override { Add(absl::StrCat("started ", Mode(mode))); }
  void TransactionFinished(TxMode mode, TxState state, absl::Duration age) override {
    Add(absl::StrCat("finished ", Mode(mode), " ", TxStateName(state)), age);
  }
  void ParticipantCallFinished(Phase phase, CallOutcome outcome, absl::Duration latency) override {
    Add(absl::StrCat(PhaseName(phase), " ", Outcome(outcome)), latency);
  }
  void BackQueryFinished(BackQueryOutcome outcome, absl::Duration latency) override {
    Add(absl::StrCat("query ", Answer(outcome)), latency);
  }

  std::vector<std::string> lines() const {
    tcc::MutexLock lock(&mu_);
    return lines_;
  }
  std::vector<absl::Duration> durations() const {
    tcc::MutexLock lock(&mu_);
    return durations_;
  }

 private:
  static std::string Mode(TxMode mode) { return mode == TxMode::kTcc ? "tcc" : "saga"; }
  static std::string Outcome(CallOutcome outcome) {
    return outcome == CallOutcome::kSuccess   ? "success"
           : outcome == CallOutcome::kRefused ? "refused"
                                              : "unknown";
  }
  static std::string Answer(BackQueryOutcome outcome) {
    return outcome == BackQueryOutcome::kCommitted    ? "committed"
           : outcome == BackQueryOutcome::kRolledBack ? "rolled back"
                                                      : "failed";
  }
  void Add(std::string line, std::optional<absl::Duration> duration = std::nullopt) {
    tcc::MutexLock lock(&mu_);
    lines_.push_back(std::move(line));
    if (duration) durations_.push_back(*duration);
  }

  mutable tcc::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> durations_ ABSL_GUARDED_BY(mu_);
};

EngineOptions Observed(EngineObserver* observer) {
  EngineOptions options = FastOptions();
  options.observer = observer;
  return options;
}

Branch Spec(const std::string& id) {
  return Branch{.branch_id = id, .target = "127.0.0.1:7501", .action = "act", .payload = "p"};
}

class EngineObserverTest : public ::testing::Test {
 protected:
  RecordingObserver observer_;
  Harness harness_{std::make_unique<MemoryStore>(), Observed(&observer_)};
};

TEST_F(EngineObserverTest, ReportsATccCommitWithCallLatenciesAndAge) {
  // Each participant call takes 7ms of manual time.
  harness_.transport().SetBehavior([this](const BranchCall&) {
    harness_.clock().Advance(absl::Milliseconds(7));
    return CallResult{CallOutcome::kSuccess, ""};
  });
  ASSERT_OK(harness_.Begin({"g1", 5000, ""}));
  ASSERT_OK(harness_.Begin({"g1", 5000, ""}));  // Idempotent repeat: no second start.
  ASSERT_OK(harness_.Try("g1", {Spec("a")}));
  harness_.clock().Advance(absl::Milliseconds(100));
  ASSERT_OK(harness_.Decide("g1", Decision::kCommit));
  // Waits without moving time (WaitForState would), so the age is exact.
  ASSERT_TRUE(::tcc::testing::WaitFor([&] { return observer_.lines().size() == 4; }));
  EXPECT_EQ(observer_.lines(),
            (std::vector<std::string>{"started tcc", "Try success", "Confirm success",
                                      "finished tcc COMMITTED"}));
  EXPECT_EQ(observer_.durations(),
            (std::vector<absl::Duration>{absl::Milliseconds(7), absl::Milliseconds(7),
                                         absl::Milliseconds(114)}));
}

TEST_F(EngineObserverTest, ReportsARefusedTryAndTheRollback) {
  harness_.transport().SetBehavior([](const BranchCall& call) {
    if (call.phase == Phase::kTry) return CallResult{CallOutcome::kRefused, "no funds"};
    return CallResult{CallOutcome::kSuccess, ""};
  });
  ASSERT_OK(harness_.Begin({"g2", 5000, ""}));
  ASSERT_OK(harness_.Try("g2", {Spec("a")}));
  ASSERT_OK(harness_.Decide("g2", Decision::kRollback));
  ASSERT_TRUE(::tcc::testing::WaitFor([&] { return observer_.lines().size() == 4; }));
  EXPECT_EQ(observer_.lines(),
            (std::vector<std::string>{"started tcc", "Try refused", "Cancel success",
                                      "finished tcc ROLLED_BACK"}));
}

TEST_F(EngineObserverTest, ReportsBackQueriesByAnswer) {
  int asked = 0;
  harness_.transport().SetInitiatorBehavior(
      [&](const std::string&) -> absl::StatusOr<InitiatorAnswer> {
        if (++asked == 1) return absl::UnavailableError("down");
        return InitiatorAnswer::kCommitted;
      });
  ASSERT_OK(harness_.Begin({"g3", 300, "127.0.0.1:9999"}));
  ASSERT_TRUE(harness_.WaitForState("g3", TxState::kCommitted));
  EXPECT_EQ(observer_.lines(),
            (std::vector<std::string>{"started tcc", "query failed", "query committed",
                                      "finished tcc COMMITTED"}));
}

TEST_F(EngineObserverTest, ReportsASaga) {
  auto result =
      harness_.Submit({.gid = "s1", .steps = {Spec("a"), Spec("b")}, .wait_for_result = true});
  ASSERT_OK(result);
  ASSERT_EQ(result->state, TxState::kCommitted);
  EXPECT_EQ(observer_.lines(),
            (std::vector<std::string>{"started saga", "Try success", "Try success",
                                      "finished saga COMMITTED"}));
}

TEST_F(EngineObserverTest, SummarizesUnfinishedTransactions) {
  EXPECT_TRUE(harness_.engine().Unfinished().by_state.empty());
  const int64_t first = harness_.clock().NowMs();
  ASSERT_OK(harness_.Begin({"t1", 5000, ""}));
  harness_.clock().Advance(absl::Seconds(1));
  ASSERT_OK(harness_.Begin({"t2", 5000, ""}));
  ASSERT_OK(harness_.Try("t2", {Spec("a")}));
  harness_.transport().SetBehavior([](const BranchCall&) {
    return CallResult{CallOutcome::kUnknown, "down"};
  });
  ASSERT_OK(harness_.Decide("t2", Decision::kCommit));
  ASSERT_TRUE(harness_.AdvanceUntil([&] { return harness_.engine().Unfinished().stuck == 1; }));
  UnfinishedSummary summary = harness_.engine().Unfinished();
  EXPECT_EQ(summary.by_state,
            (std::map<TxState, size_t>{{TxState::kTrying, 1}, {TxState::kCommitting, 1}}));
  EXPECT_EQ(summary.oldest_created_ms, first);
}

}  // namespace
}  // namespace tcc
