// Saga mode through the engine on the in-memory store and a fake transport:
// order, refusal and compensation, retries, DAG order, in-doubt steps,
// refused submits, and resuming after a restart.
#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_join.h"
#include "coordinator/store/memory_store.h"
#include "coordinator/store/sqlite_store.h"
#include "tests/coordinator/engine/engine_harness.h"
#include "tests/coordinator/engine/failing_store.h"
#include "tests/test_util/temp_dir.h"

namespace tcc {
namespace {

using ::tcc::testing::FakeTransport;
using ::tcc::testing::Harness;
using ::tcc::testing::StatusIs;
using ::tcc::testing::WaitFor;
using Code = absl::StatusCode;

Branch Step(const std::string& id, std::vector<std::string> depends_on = {}) {
  Branch step{
      .branch_id = id, .target = "127.0.0.1:7501", .action = "act-" + id, .payload = "p-" + id};
  step.depends_on = std::move(depends_on);
  return step;
}

// "Try:a", "Cancel:b", ... in the order the fake transport saw them.
std::vector<std::string> CallLog(Harness& harness) {
  std::vector<std::string> log;
  for (const BranchCall& call : harness.transport().calls()) {
    log.push_back(absl::StrCat(PhaseName(call.phase), ":", call.branch_id));
  }
  return log;
}

class SagaTest : public ::testing::Test {
 protected:
  Harness harness_{std::make_unique<MemoryStore>()};

  SagaResult Run(const std::string& gid, std::vector<Branch> steps, bool concurrent = false) {
    auto result = harness_.Submit(
        {.gid = gid, .steps = std::move(steps), .concurrent = concurrent, .wait_for_result = true});
    EXPECT_OK(result);
    return result.ok() ? *result : SagaResult{};
  }
};

TEST_F(SagaTest, HappyPathRunsStepsInOrder) {
  SagaResult result = Run("saga-1", {Step("a"), Step("b"), Step("c")});
  EXPECT_EQ(result.state, TxState::kCommitted);
  EXPECT_TRUE(result.created);
  EXPECT_EQ(CallLog(harness_), (std::vector<std::string>{"Try:a", "Try:b", "Try:c"}));
  auto stored = harness_.Get("saga-1");
  ASSERT_OK(stored);
  EXPECT_EQ(stored->mode, TxMode::kSaga);
  for (const Branch& step : stored->branches) EXPECT_EQ(step.state, BranchState::kTried);
}

TEST_F(SagaTest, RefusalAtStepKCompensatesEarlierStepsInReverseAndSkipsLaterOnes) {
  harness_.transport().SetBehavior([](const BranchCall& call) {
    if (call.phase == Phase::kTry && call.branch_id == "c") {
      return CallResult{CallOutcome::kRefused, "not enough points"};
    }
    return CallResult{CallOutcome::kSuccess, ""};
  });
  SagaResult result = Run("saga-2", {Step("a"), Step("b"), Step("c"), Step("d")});
  EXPECT_EQ(result.state, TxState::kRolledBack);
  EXPECT_EQ(result.reason, "step c refused: not enough points");
  EXPECT_EQ(CallLog(harness_),
            (std::vector<std::string>{"Try:a", "Try:b", "Try:c", "Cancel:b", "Cancel:a"}));
  auto stored = harness_.Get("saga-2");
  EXPECT_EQ(stored->branches[0].state, BranchState::kCancelled);
  EXPECT_EQ(stored->branches[2].state, BranchState::kTryRefused);
  EXPECT_EQ(stored->branches[3].state, BranchState::kRegistered);
  EXPECT_EQ(stored->branches[3].attempts, 0u);
}

TEST(SagaStoreFailure, NoCompensationIsSentBeforeCompensatingIsDurable) {
  // Found by tcc_sim (seed 32551 of 100,000 with --write_faults
  // --commit_faults --sagas): compensations went out at once while the
  // COMPENSATING write was lost; reloaded RUNNING, the saga retried an
  // action whose duplicate the barrier answered "done", and it COMMITTED
  // with its steps undone at the participant.
  auto budget = std::make_shared<std::atomic<int>>(-1);
  auto store =
      std::make_unique<::tcc::testing::FailingStore>(std::make_unique<MemoryStore>(), budget);
  auto failed_once = std::make_shared<std::atomic<bool>>(false);
  auto compensating_stored = std::make_shared<std::atomic<bool>>(false);
  store->FailWhen([failed_once, compensating_stored](const TransactionUpdate& update) {
    if (update.header->state != TxState::kCompensating) return false;
    if (!failed_once->exchange(true)) return true;
    *compensating_stored = true;
    return false;
  });
  Harness harness(std::move(store));
  std::atomic<int> early_cancels = 0;
  harness.transport().SetBehavior([&](const BranchCall& call) {
    if (call.phase == Phase::kCancel && !*compensating_stored) ++early_cancels;
    if (call.phase == Phase::kTry && call.branch_id == "b") {
      return CallResult{CallOutcome::kRefused, "not enough points"};
    }
    return CallResult{CallOutcome::kSuccess, ""};
  });
  ASSERT_OK(harness.Submit({.gid = "saga-lost", .steps = {Step("a"), Step("b")}}));
  ASSERT_TRUE(harness.WaitForState("saga-lost", TxState::kRolledBack));
  EXPECT_TRUE(*failed_once) << "the fault was never injected";
  EXPECT_EQ(early_cancels, 0) << "a compensation went out before COMPENSATING was durable";
  EXPECT_EQ(harness.Get("saga-lost")->branches[0].state, BranchState::kCancelled);
}

TEST(SagaStoreFailure, ALateReplyToAFinishedSagaCompensatesNothing) {
  // Found by tcc_sim (seed 26190 with --write_faults --commit_faults
  // --sagas): a copy of the saga was dropped after a lost write while its
  // Try of a step was out; the reply reached the reloaded copy after it was
  // COMMITTED in memory but before that write was durable, and the drive it
  // caused took "not running" for "compensating": every step of a
  // committed saga was cancelled.
  auto budget = std::make_shared<std::atomic<int>>(-1);
  auto store =
      std::make_unique<::tcc::testing::FailingStore>(std::make_unique<MemoryStore>(), budget);
  ::tcc::testing::FailingStore* failing = store.get();
  Harness harness(std::move(store));
  FakeTransport& transport = harness.transport();
  std::atomic<bool> lost_write = false;
  std::atomic<bool> committed_writing = false;
  failing->FailWhen([&](const TransactionUpdate& update) {
    if (update.header->state == TxState::kCommitted) {
      committed_writing = true;  // Held until the late reply is handled.
      WaitFor([&] { return transport.held_replies_handled() >= 1; }, std::chrono::seconds(5));
      return false;
    }
    for (const Branch* step : update.changed_branches) {
      if (step->branch_id == "b" && step->state == BranchState::kTried) {
        return !lost_write.exchange(true);  // Drops this copy of the saga.
      }
    }
    return false;
  });
  std::atomic<bool> held_one = false;
  transport.HoldReplies([&](const BranchCall& call) {
    return call.phase == Phase::kTry && call.branch_id == "a" && !held_one.exchange(true);
  });
  ASSERT_OK(
      harness.Submit({.gid = "saga-late", .steps = {Step("a"), Step("b")}, .concurrent = true}));
  ASSERT_TRUE(harness.AdvanceUntil([&] { return committed_writing.load(); }))
      << absl::StrJoin(CallLog(harness), " ");
  transport.ReleaseHeld();
  ASSERT_TRUE(harness.WaitForState("saga-late", TxState::kCommitted));
  EXPECT_TRUE(lost_write) << "the fault was never injected";
  EXPECT_EQ(transport.held_replies_handled(), 1);
  EXPECT_EQ(transport.CountCalls(Phase::kCancel), 0) << absl::StrJoin(CallLog(harness), " ");
  auto stored = harness.Get("saga-late");
  ASSERT_OK(stored);
  for (const Branch& step : stored->branches) {
    EXPECT_EQ(step.state, BranchState::kTried) << step.branch_id;
  }
}

TEST_F(SagaTest, TransportErrorsAreRetriedThenSucceed) {
  std::atomic<int> failures = 0;
  harness_.transport().SetBehavior([&](const BranchCall& call) {
    if (call.branch_id == "b" && failures++ < 2) return CallResult{CallOutcome::kUnknown, "down"};
    return CallResult{CallOutcome::kSuccess, ""};
  });
  SagaResult result = Run("saga-3", {Step("a"), Step("b")});
  EXPECT_EQ(result.state, TxState::kCommitted);
  EXPECT_EQ(harness_.Get("saga-3")->branches[1].attempts, 3u);
}

TEST_F(SagaTest, AStepFailingPastItsLimitIsCompensatedAsInDoubt) {
  harness_.transport().SetBehavior([](const BranchCall& call) {
    if (call.phase == Phase::kTry && call.branch_id == "b") {
      return CallResult{CallOutcome::kUnknown, "timeout"};
    }
    return CallResult{CallOutcome::kSuccess, ""};
  });
  Branch limited = Step("b");
  limited.max_attempts = 2;
  SagaResult result = Run("saga-4", {Step("a"), limited, Step("c")});
  EXPECT_EQ(result.state, TxState::kRolledBack);
  EXPECT_EQ(result.reason, "step b failed 2 times: timeout");
  // b may have acted before its replies were lost: it is compensated too.
  EXPECT_EQ(CallLog(harness_),
            (std::vector<std::string>{"Try:a", "Try:b", "Try:b", "Cancel:b", "Cancel:a"}));
}

TEST_F(SagaTest, ConcurrentStepsRespectTheirDependencies) {
  // a -> (b, c) -> d, and e independent.
  SagaResult result = Run(
      "saga-5", {Step("a"), Step("b", {"a"}), Step("c", {"a"}), Step("d", {"b", "c"}), Step("e")},
      /*concurrent=*/true);
  EXPECT_EQ(result.state, TxState::kCommitted);
  std::vector<std::string> log = CallLog(harness_);
  auto at = [&](const std::string& call) {
    return std::find(log.begin(), log.end(), call) - log.begin();
  };
  ASSERT_EQ(log.size(), 5u);
  EXPECT_LT(at("Try:a"), at("Try:b"));
  EXPECT_LT(at("Try:a"), at("Try:c"));
  EXPECT_LT(at("Try:b"), at("Try:d"));
  EXPECT_LT(at("Try:c"), at("Try:d"));
}

TEST_F(SagaTest, ConcurrentCompensationWaitsForDependents) {
  harness_.transport().SetBehavior([](const BranchCall& call) {
    if (call.phase == Phase::kTry && call.branch_id == "d") {
      return CallResult{CallOutcome::kRefused, "no"};
    }
    return CallResult{CallOutcome::kSuccess, ""};
  });
  SagaResult result =
      Run("saga-6", {Step("a"), Step("b", {"a"}), Step("c", {"a"}), Step("d", {"b", "c"})}, true);
  EXPECT_EQ(result.state, TxState::kRolledBack);
  std::vector<std::string> log = CallLog(harness_);
  auto at = [&](const std::string& call) {
    return std::find(log.begin(), log.end(), call) - log.begin();
  };
  EXPECT_LT(at("Cancel:b"), at("Cancel:a"));
  EXPECT_LT(at("Cancel:c"), at("Cancel:a"));
  EXPECT_EQ(std::count(log.begin(), log.end(), "Cancel:d"), 0);
}

TEST_F(SagaTest, RefusesMalformedSagasAndStoresNothing) {
  EXPECT_THAT(harness_.Submit({.gid = "bad-1"}), StatusIs(Code::kInvalidArgument, "at least one"));
  EXPECT_THAT(
      harness_.Submit(
          {.gid = "bad-2", .steps = {Step("a", {"b"}), Step("b", {"a"})}, .concurrent = true}),
      StatusIs(Code::kInvalidArgument, "cycle"));
  EXPECT_THAT(harness_.Submit({.gid = "bad-3", .steps = {Step("a", {"zz"})}, .concurrent = true}),
              StatusIs(Code::kInvalidArgument, "unknown step zz"));
  EXPECT_THAT(harness_.Submit({.gid = "bad-4", .steps = {Step("a"), Step("a")}}),
              StatusIs(Code::kInvalidArgument, "used twice"));
  EXPECT_THAT(harness_.Submit({.gid = "bad-5", .steps = {Step("a"), Step("b", {"a"})}}),
              StatusIs(Code::kInvalidArgument, "needs concurrent mode"));
  std::vector<Branch> many;
  for (int i = 0; i < 65; ++i) many.push_back(Step(absl::StrCat("s", i)));
  EXPECT_THAT(harness_.Submit({.gid = "bad-6", .steps = many}),
              StatusIs(Code::kInvalidArgument, "65 steps; the limit is 64"));
  for (const char* gid : {"bad-1", "bad-2", "bad-3", "bad-4", "bad-5", "bad-6"}) {
    EXPECT_THAT(harness_.Get(gid), StatusIs(Code::kNotFound));
  }
}

TEST_F(SagaTest, AStepsTimeoutIsTheDeadlineOfItsActionAndCompensation) {
  harness_.transport().SetBehavior([](const BranchCall& call) {
    if (call.phase == Phase::kTry && call.branch_id == "b") {
      return CallResult{CallOutcome::kRefused, "no"};
    }
    return CallResult{CallOutcome::kSuccess, ""};
  });
  Branch quick = Step("a");
  quick.timeout_ms = 400;
  SagaResult result = Run("saga-deadline", {quick, Step("b")});
  EXPECT_EQ(result.state, TxState::kRolledBack);
  std::map<std::string, absl::Duration> deadlines;
  for (const BranchCall& call : harness_.transport().calls()) {
    deadlines[absl::StrCat(PhaseName(call.phase), ":", call.branch_id)] = call.timeout;
  }
  EXPECT_EQ(deadlines["Try:a"], absl::Milliseconds(400));
  EXPECT_EQ(deadlines["Cancel:a"], absl::Milliseconds(400));
  EXPECT_EQ(deadlines["Try:b"], EngineOptions().call_timeout) << "no timeout_ms: the default";
}

TEST_F(SagaTest, ACompensatedStepCountsOnlyItsCompensationAttempts) {
  std::atomic<int> cancels_of_a = 0;
  harness_.transport().SetBehavior([&](const BranchCall& call) {
    if (call.phase == Phase::kTry && call.branch_id == "b") {
      return CallResult{CallOutcome::kRefused, "no"};
    }
    if (call.phase == Phase::kCancel && call.branch_id == "a" && cancels_of_a++ == 0) {
      return CallResult{CallOutcome::kUnknown, "down"};
    }
    return CallResult{CallOutcome::kSuccess, ""};
  });
  SagaResult result = Run("saga-attempts", {Step("a"), Step("b")});
  EXPECT_EQ(result.state, TxState::kRolledBack);
  auto stored = harness_.Get("saga-attempts");
  ASSERT_OK(stored);
  EXPECT_EQ(stored->branches[0].state, BranchState::kCancelled);
  EXPECT_EQ(stored->branches[0].attempts, 2u) << "two Cancels; the action is not counted";
  EXPECT_EQ(stored->branches[1].attempts, 1u) << "a refused step keeps its action's count";
}

TEST_F(SagaTest, ResubmitIsIdempotentAndConflictsAreRefused) {
  Run("saga-7", {Step("a")});
  auto again = harness_.Submit({.gid = "saga-7", .steps = {Step("a")}});
  ASSERT_OK(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->state, TxState::kCommitted);
  EXPECT_THAT(harness_.Submit({.gid = "saga-7", .steps = {Step("b")}}),
              StatusIs(Code::kAlreadyExists, "other steps"));
  EXPECT_THAT(harness_.Decide("saga-7", Decision::kRollback), StatusIs(Code::kFailedPrecondition));
}

TEST_F(SagaTest, SubmitWithoutWaitingAnswersOnceDurable) {
  auto submitted = harness_.Submit({.gid = "saga-8", .steps = {Step("a"), Step("b")}});
  ASSERT_OK(submitted);
  EXPECT_TRUE(submitted->created);
  ASSERT_TRUE(harness_.WaitForState("saga-8", TxState::kCommitted));
}

TEST(SagaRecovery, ARestartedEngineResumesWhereTheSagaStopped) {
  ::tcc::testing::TempDir dir;
  std::string path = dir.File("tccd.db");
  auto open = [&] { return ::tcc::testing::OpenSqliteStore(path); };
  {
    Harness first(open());
    first.transport().SetBehavior([](const BranchCall& call) {
      if (call.branch_id == "b") return CallResult{CallOutcome::kUnknown, "participant down"};
      return CallResult{CallOutcome::kSuccess, ""};
    });
    ASSERT_OK(first.Submit({.gid = "saga-r", .steps = {Step("a"), Step("b"), Step("c")}}));
    ASSERT_TRUE(first.AdvanceUntil([&] { return first.transport().CountCalls(Phase::kTry) >= 2; }));
  }
  Harness second(open());
  ASSERT_OK(second.engine().Recover());
  ASSERT_TRUE(second.WaitForState("saga-r", TxState::kCommitted));
  // a had completed and is not run again; b (in doubt) and c run now.
  std::vector<std::string> log = CallLog(second);
  EXPECT_EQ(std::count(log.begin(), log.end(), "Try:a"), 0);
  EXPECT_EQ(std::count(log.begin(), log.end(), "Try:c"), 1);
}

// Compensation restarts a step's attempt count; the durable "action sent"
// mark still tells a restarted engine that the in-doubt step must be
// compensated.
TEST(SagaRecovery, AnInDoubtStepIsCompensatedAfterARestartMidCompensation) {
  ::tcc::testing::TempDir dir;
  std::string path = dir.File("tccd.db");
  {
    Harness first(::tcc::testing::OpenSqliteStore(path));
    first.transport().SetBehavior([](const BranchCall& call) {
      if (call.phase == Phase::kTry && call.branch_id == "a") {
        return CallResult{CallOutcome::kSuccess, ""};
      }
      return CallResult{CallOutcome::kUnknown, "participant down"};
    });
    Branch in_doubt = Step("b");
    in_doubt.max_attempts = 1;
    ASSERT_OK(first.Submit({.gid = "saga-d", .steps = {Step("a"), in_doubt}}));
    ASSERT_TRUE(first.WaitForState("saga-d", TxState::kCompensating));
    ASSERT_TRUE(first.AdvanceUntil([&] { return first.transport().CountCalls(Phase::kCancel); }));
    first.Flush();
  }
  Harness second(::tcc::testing::OpenSqliteStore(path));
  auto stored = second.Get("saga-d");
  ASSERT_OK(stored);
  EXPECT_EQ(stored->branches[1].state, BranchState::kRegistered);
  EXPECT_TRUE(stored->branches[1].action_sent);
  ASSERT_OK(second.engine().Recover());
  ASSERT_TRUE(second.WaitForState("saga-d", TxState::kRolledBack));
  std::vector<std::string> log = CallLog(second);
  EXPECT_EQ(std::count(log.begin(), log.end(), "Cancel:b"), 1) << absl::StrJoin(log, " ");
  EXPECT_EQ(std::count(log.begin(), log.end(), "Cancel:a"), 1);
}

}  // namespace
}  // namespace tcc
