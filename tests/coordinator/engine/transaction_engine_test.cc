// The state machine end to end through the engine, on the in-memory store
// and an in-process fake transport, on manual time: every allowed and
// refused transition, backoff, timeouts and back-queries without sleeping.
#include "coordinator/engine/transaction_engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <optional>
#include <set>

#include "coordinator/store/memory_store.h"
#include "coordinator/store/sqlite_store.h"
#include "tcc/common/notification.h"
#include "tests/coordinator/engine/engine_harness.h"
#include "tests/coordinator/engine/failing_store.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::FakeTransport;
using ::tcc::testing::Harness;
using ::tcc::testing::StatusIs;
using ::tcc::testing::WaitFor;
using Code = absl::StatusCode;

Branch Spec(const std::string& id, const std::string& action = "points.freeze") {
  return Branch{
      .branch_id = id, .target = "127.0.0.1:7501", .action = action, .payload = "payload-" + id};
}

class EngineTest : public ::testing::Test {
 protected:
  Harness harness_{std::make_unique<MemoryStore>()};

  std::string BeginTx(const std::string& gid, uint32_t timeout_ms = 0,
                      const std::string& endpoint = "") {
    auto begun = harness_.Begin({gid, timeout_ms, endpoint});
    EXPECT_OK(begun);
    return begun.ok() ? begun->gid : "";
  }
  void TryAll(const std::string& gid, std::vector<Branch> branches) {
    auto tried = harness_.Try(gid, std::move(branches));
    ASSERT_OK(tried);
    for (const auto& outcome : *tried) ASSERT_EQ(outcome.outcome, CallOutcome::kSuccess);
  }
};

TEST_F(EngineTest, BeginIsIdempotentForTheSameParameters) {
  auto first = harness_.Begin({"order-1", 5000, ""});
  ASSERT_OK(first);
  EXPECT_TRUE(first->created);
  auto again = harness_.Begin({"order-1", 5000, ""});
  ASSERT_OK(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->state, TxState::kTrying);
  EXPECT_THAT(harness_.Begin({"order-1", 6000, ""}),
              StatusIs(Code::kAlreadyExists, "already exists with other parameters"));
}

TEST_F(EngineTest, BeginGeneratesAGidAndValidatesInput) {
  auto generated = harness_.Begin({});
  ASSERT_OK(generated);
  EXPECT_OK(ValidateGid(generated->gid));
  EXPECT_THAT(harness_.Begin({"bad gid"}), StatusIs(Code::kInvalidArgument, "gid"));
  EXPECT_THAT(harness_.Begin({"g", 0, "not-an-address"}),
              StatusIs(Code::kInvalidArgument, "status_endpoint"));
  EXPECT_THAT(harness_.Begin({"g", 0xffffffff, ""}), StatusIs(Code::kInvalidArgument, "timeout"));
}

TEST_F(EngineTest, UnknownGidIsNotFoundEverywhere) {
  EXPECT_THAT(harness_.Try("nope", {Spec("a")}), StatusIs(Code::kNotFound, "nope"));
  EXPECT_THAT(harness_.Decide("nope", Decision::kCommit), StatusIs(Code::kNotFound));
  EXPECT_THAT(harness_.Decide("nope", Decision::kRollback), StatusIs(Code::kNotFound));
  EXPECT_THAT(harness_.Get("nope"), StatusIs(Code::kNotFound));
}

TEST_F(EngineTest, BranchesAreDurableBeforeTheParticipantSeesTry) {
  std::string gid = BeginTx("g-wal");
  std::atomic<bool> durable_before_call = true;
  harness_.transport().SetBehavior([&](const BranchCall& call) {
    auto stored = harness_.Get(call.gid);
    if (!stored.ok() || stored->FindBranch(call.branch_id) == nullptr) durable_before_call = false;
    return CallResult{CallOutcome::kSuccess, ""};
  });
  TryAll(gid, {Spec("a"), Spec("b")});
  EXPECT_TRUE(durable_before_call);
  auto stored = harness_.Get(gid);
  ASSERT_OK(stored);
  for (const Branch& branch : stored->branches) EXPECT_EQ(branch.state, BranchState::kTried);
}

TEST_F(EngineTest, CommitConfirmsEveryBranchWithTheTriedPayload) {
  std::string gid = BeginTx("g-commit");
  TryAll(gid, {Spec("a"), Spec("b"), Spec("c")});
  auto committed = harness_.Decide(gid, Decision::kCommit);
  ASSERT_OK(committed);
  EXPECT_EQ(*committed, TxState::kCommitting);
  ASSERT_TRUE(harness_.WaitForState(gid, TxState::kCommitted));
  auto stored = harness_.Get(gid);
  for (const Branch& branch : stored->branches) EXPECT_EQ(branch.state, BranchState::kConfirmed);
  EXPECT_EQ(harness_.transport().CountCalls(Phase::kConfirm), 3);
  for (const BranchCall& call : harness_.transport().calls()) {
    EXPECT_EQ(call.payload, "payload-" + call.branch_id);
  }
  EXPECT_EQ(harness_.engine().ActiveCount(), 0u);
}

TEST_F(EngineTest, RefusedTryBlocksCommitAndRollbackCancelsEveryBranch) {
  std::string gid = BeginTx("g-refuse");
  harness_.transport().SetBehavior([](const BranchCall& call) {
    if (call.phase == Phase::kTry && call.branch_id == "b") {
      return CallResult{CallOutcome::kRefused, "not enough points"};
    }
    return CallResult{CallOutcome::kSuccess, ""};
  });
  auto tried = harness_.Try(gid, {Spec("a"), Spec("b")});
  ASSERT_OK(tried);
  EXPECT_EQ((*tried)[0].outcome, CallOutcome::kSuccess);
  EXPECT_EQ((*tried)[1].outcome, CallOutcome::kRefused);
  EXPECT_EQ((*tried)[1].detail, "not enough points");
  EXPECT_THAT(harness_.Decide(gid, Decision::kCommit),
              StatusIs(Code::kFailedPrecondition, "branch b is TRY_REFUSED"));
  ASSERT_OK(harness_.Decide(gid, Decision::kRollback));
  ASSERT_TRUE(harness_.WaitForState(gid, TxState::kRolledBack));
  EXPECT_EQ(harness_.transport().CountCalls(Phase::kCancel), 2);
  EXPECT_EQ(harness_.transport().CountCalls(Phase::kConfirm), 0);
}

TEST_F(EngineTest, UnknownTryOutcomeIsAskedAgainByCommitOnceThenByTheInitiator) {
  std::string gid = BeginTx("g-unknown");
  std::atomic<int> tries = 0;
  harness_.transport().SetBehavior([&](const BranchCall& call) {
    if (call.phase == Phase::kTry && tries++ < 2) {
      return CallResult{CallOutcome::kUnknown, "deadline exceeded"};
    }
    return CallResult{CallOutcome::kSuccess, ""};
  });
  auto first = harness_.Try(gid, {Spec("a")});
  ASSERT_OK(first);
  EXPECT_EQ((*first)[0].outcome, CallOutcome::kUnknown);
  // Commit asks the unknown Try once more; still unknown: refused.
  EXPECT_THAT(harness_.Decide(gid, Decision::kCommit),
              StatusIs(Code::kFailedPrecondition, "REGISTERED"));
  EXPECT_EQ(tries, 2);
  TryAll(gid, {Spec("a")});  // Same branch again: re-driven, not duplicated.
  ASSERT_OK(harness_.Decide(gid, Decision::kCommit));
  ASSERT_TRUE(harness_.WaitForState(gid, TxState::kCommitted));
  EXPECT_EQ(harness_.Get(gid)->branches.size(), 1u);
  EXPECT_EQ(tries, 3) << "the Commit after a known success asks nothing";

  // An unknown outcome that the Commit's own Try resolves: committed.
  std::string second = BeginTx("g-unknown-2");
  tries = 1;
  auto unknown = harness_.Try(second, {Spec("a")});
  ASSERT_OK(unknown);
  EXPECT_EQ((*unknown)[0].outcome, CallOutcome::kUnknown);
  ASSERT_OK(harness_.Decide(second, Decision::kCommit));
  EXPECT_EQ(tries, 3);
  ASSERT_TRUE(harness_.WaitForState(second, TxState::kCommitted));
}

TEST_F(EngineTest, RepeatedTryOfATriedBranchDoesNotCallAgain) {
  std::string gid = BeginTx("g-repeat");
  TryAll(gid, {Spec("a")});
  TryAll(gid, {Spec("a")});
  EXPECT_EQ(harness_.transport().CountCalls(Phase::kTry), 1);
  Branch conflicting = Spec("a");
  conflicting.payload = "different";
  EXPECT_THAT(harness_.Try(gid, {conflicting}), StatusIs(Code::kAlreadyExists, "branch a"));
}

TEST_F(EngineTest, DecisionsAreIdempotentAndTheOppositeIsRefused) {
  std::string committed = BeginTx("g-c");
  TryAll(committed, {Spec("a")});
  ASSERT_OK(harness_.Decide(committed, Decision::kCommit));
  EXPECT_OK(harness_.Decide(committed, Decision::kCommit));
  EXPECT_THAT(harness_.Decide(committed, Decision::kRollback),
              StatusIs(Code::kFailedPrecondition, "cannot be rolled back"));
  ASSERT_TRUE(harness_.WaitForState(committed, TxState::kCommitted));
  // Final GTs are no longer in memory: the answers come from the store.
  EXPECT_EQ(*harness_.Decide(committed, Decision::kCommit), TxState::kCommitted);
  EXPECT_THAT(harness_.Decide(committed, Decision::kRollback), StatusIs(Code::kFailedPrecondition));
  EXPECT_THAT(harness_.Try(committed, {Spec("b")}),
              StatusIs(Code::kFailedPrecondition, "only allowed while the transaction is TRYING"));

  std::string rolled_back = BeginTx("g-r");
  ASSERT_OK(harness_.Decide(rolled_back, Decision::kRollback));
  EXPECT_OK(harness_.Decide(rolled_back, Decision::kRollback));
  ASSERT_TRUE(harness_.WaitForState(rolled_back, TxState::kRolledBack));
  EXPECT_EQ(*harness_.Decide(rolled_back, Decision::kRollback), TxState::kRolledBack);
  EXPECT_THAT(harness_.Decide(rolled_back, Decision::kCommit),
              StatusIs(Code::kFailedPrecondition, "rolled back by the initiator"));
}

TEST_F(EngineTest, FailingConfirmIsRetriedWithBackoffAndFlaggedStuck) {
  std::string gid = BeginTx("g-retry");
  TryAll(gid, {Spec("a")});
  std::atomic<int> confirms = 0;
  harness_.transport().SetBehavior([&](const BranchCall& call) {
    if (call.phase == Phase::kConfirm && confirms++ < 4) {
      return CallResult{CallOutcome::kUnknown, "participant down"};
    }
    return CallResult{CallOutcome::kSuccess, ""};
  });
  ASSERT_OK(harness_.Decide(gid, Decision::kCommit));
  // Each retry waits for its backoff: without time passing, none is sent.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_TRUE(WaitFor([&] {
      auto gt = harness_.Get(gid);
      return gt.ok() && gt->branches[0].attempts == static_cast<uint32_t>(attempt);
    })) << attempt;
    auto waiting = harness_.Get(gid);
    EXPECT_EQ(waiting->stuck, attempt >= 3) << attempt;
    EXPECT_EQ(harness_.transport().CountCalls(Phase::kConfirm), attempt);
    int64_t retry_at = waiting->branches[0].next_retry_ms;
    EXPECT_GT(retry_at, harness_.clock().NowMs()) << "the retry waits for its backoff";
    if (attempt < 3) harness_.Advance(absl::Milliseconds(retry_at - harness_.clock().NowMs()));
  }
  auto stuck = harness_.Get(gid);
  EXPECT_EQ(stuck->state, TxState::kCommitting);
  EXPECT_NE(stuck->branches[0].last_error.find("participant down"), std::string::npos);
  ASSERT_TRUE(harness_.WaitForState(gid, TxState::kCommitted));
  auto done = harness_.Get(gid);
  EXPECT_EQ(done->branches[0].attempts, 5u);
  EXPECT_EQ(done->branches[0].state, BranchState::kConfirmed);
}

TEST(EngineStuck, AnUnfinishedGtOlderThanTheStuckAgeIsFlaggedOnItsNextRetry) {
  EngineOptions options = ::tcc::testing::FastOptions();
  options.stuck = {.attempts = 1000, .age_ms = 60000};
  options.retry = {absl::Seconds(10), absl::Seconds(10), 1.0, 0.0};  // Every 10 s, no jitter.
  Harness harness(std::make_unique<MemoryStore>(), options);
  ASSERT_OK(harness.Begin({"g-old"}));
  ASSERT_OK(harness.Try("g-old", {Spec("a")}));
  harness.transport().SetBehavior([](const BranchCall& call) {
    if (call.phase == Phase::kConfirm) return CallResult{CallOutcome::kUnknown, "down"};
    return CallResult{CallOutcome::kSuccess, ""};
  });
  ASSERT_OK(harness.Decide("g-old", Decision::kCommit));
  for (uint32_t attempt = 1; attempt <= 7; ++attempt) {
    ASSERT_TRUE(WaitFor([&] {
      auto gt = harness.Get("g-old");
      return gt.ok() && gt->branches[0].attempts == attempt;
    })) << attempt;
    // Attempt N runs at 10 * (N - 1) s: the age reaches 60 s at attempt 7.
    EXPECT_EQ(harness.Get("g-old")->stuck, attempt == 7) << attempt;
    harness.Advance(absl::Seconds(10));
  }
}

// What the store holds for a GT, read past the engine (Get shows memory's
// newer retry state).
absl::StatusOr<GlobalTransaction> Stored(Harness& harness, const std::string& gid) {
  std::optional<GlobalTransaction> found;
  TCC_RETURN_IF_ERROR(harness.InStore([&](TransactionStore& store) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(found, store.Find(gid));
    return absl::OkStatus();
  }));
  if (!found) return absl::NotFoundError(gid);
  return *found;
}

TEST(EngineRetryState, AFailingConfirmIsWrittenAtItsFirstFailureWhenStuckAndOncePerInterval) {
  EngineOptions options = ::tcc::testing::FastOptions();
  options.stuck = {.attempts = 3, .age_ms = 3600000};
  options.retry = {absl::Seconds(1), absl::Seconds(1), 1.0, 0.0};  // Every second, no jitter.
  options.retry_state_write_interval = absl::Seconds(5);
  Harness harness(std::make_unique<MemoryStore>(), options);
  ASSERT_OK(harness.Begin({"g-rs"}));
  ASSERT_OK(harness.Try("g-rs", {Spec("a")}));
  std::atomic<bool> up = false;
  harness.transport().SetBehavior([&](const BranchCall& call) {
    if (call.phase == Phase::kConfirm && !up) return CallResult{CallOutcome::kUnknown, "down"};
    return CallResult{CallOutcome::kSuccess, ""};
  });
  ASSERT_OK(harness.Decide("g-rs", Decision::kCommit));
  // Attempt N fails at N - 1 s. Written: the first failure (t=0), the one
  // that flags the GT stuck (3, t=2), then the first 5 s after that (8, t=7).
  const std::map<uint32_t, uint32_t> stored_after = {{1, 1}, {2, 1}, {3, 3}, {4, 3},
                                                     {5, 3}, {6, 3}, {7, 3}, {8, 8}};
  for (const auto& [attempt_no, written] : stored_after) {
    const uint32_t attempt = attempt_no;  // Lambdas cannot capture a binding.
    ASSERT_TRUE(WaitFor([&] {
      auto gt = harness.Get("g-rs");
      return gt.ok() && gt->branches[0].attempts == attempt;
    })) << attempt;
    harness.Flush();
    auto live = harness.Get("g-rs");
    ASSERT_OK(live);
    EXPECT_EQ(live->branches[0].last_error, "Confirm failed: down");
    EXPECT_GT(live->branches[0].next_retry_ms, harness.clock().NowMs()) << attempt;
    auto stored = Stored(harness, "g-rs");
    ASSERT_OK(stored);
    EXPECT_EQ(stored->branches[0].attempts, written) << "after attempt " << attempt;
    EXPECT_EQ(stored->stuck, attempt >= 3) << attempt;
    // After the last one the participant comes back first: attempt 9 must
    // not be sent (on another thread) while it is still down.
    if (attempt < 8) harness.Advance(absl::Seconds(1));
  }
  up = true;
  ASSERT_TRUE(harness.WaitForState("g-rs", TxState::kCommitted));
  auto done = Stored(harness, "g-rs");
  ASSERT_OK(done);
  EXPECT_EQ(done->branches[0].attempts, 9u);
  EXPECT_EQ(done->branches[0].state, BranchState::kConfirmed);
}

// An engine on SQLite that counts the store updates it sends.
struct CountedHarness {
  ::tcc::testing::TempDir dir;
  std::shared_ptr<std::atomic<int>> updates = std::make_shared<std::atomic<int>>(0);
  Harness harness{Counted()};

  std::unique_ptr<TransactionStore> Counted() {
    auto store = std::make_unique<::tcc::testing::FailingStore>(
        ::tcc::testing::OpenSqliteStore(dir.File("tccd.db")),
        std::make_shared<std::atomic<int>>(-1));
    store->FailWhen([updates = updates](const TransactionUpdate&) {
      ++*updates;
      return false;
    });
    return store;
  }
};

std::vector<std::string> Details(const std::vector<TimelineEvent>& timeline) {
  std::vector<std::string> details;
  for (const TimelineEvent& event : timeline) details.push_back(event.kind + " " + event.detail);
  return details;
}

TEST(EngineWrites, ThreeTryResultsGoWithTheDecisionAndThreeConfirmsWithTheOutcome) {
  CountedHarness counted;
  Harness& harness = counted.harness;
  ASSERT_OK(harness.Begin({"g-w"}));
  const int begun = *counted.updates;
  ASSERT_OK(harness.Try("g-w", {Spec("b1"), Spec("b2"), Spec("b3")}));
  harness.Flush();
  EXPECT_EQ(*counted.updates - begun, 1) << "the registration; the results wait in memory";
  auto tried = Stored(harness, "g-w");
  ASSERT_OK(tried);
  auto live = harness.Get("g-w");
  ASSERT_OK(live);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(tried->branches[i].state, BranchState::kRegistered) << "not written: " << i;
    EXPECT_EQ(live->branches[i].state, BranchState::kTried) << "shown from memory: " << i;
  }
  ASSERT_OK(harness.Decide("g-w", Decision::kCommit));
  ASSERT_TRUE(harness.WaitForState("g-w", TxState::kCommitted));
  harness.Flush();
  EXPECT_EQ(*counted.updates - begun, 3)
      << "then the decision with the results, then the Confirms with COMMITTED";
  EXPECT_EQ(harness.transport().CountCalls(Phase::kTry), 3) << "nothing asked again";
  auto done = Stored(harness, "g-w");
  ASSERT_OK(done);
  EXPECT_EQ(done->state, TxState::kCommitted);
  for (const Branch& branch : done->branches) {
    EXPECT_EQ(branch.state, BranchState::kConfirmed) << branch.branch_id;
    EXPECT_EQ(branch.attempts, 1u) << branch.branch_id;
  }
  // Every result is on the timeline, in the order things happened.
  std::vector<std::string> details = Details(harness.Timeline("g-w"));
  ASSERT_EQ(details.size(), 9u) << ::testing::PrintToString(details);
  EXPECT_EQ(details[1], "branch branch b1 on 127.0.0.1:7501: TRIED");
  EXPECT_EQ(details[4], "state COMMITTING (committed by the initiator)");
  EXPECT_EQ(details[5].rfind("branch branch b", 0), 0u) << details[5];
  EXPECT_NE(details[7].find("CONFIRMED after 1 attempt(s)"), std::string::npos) << details[7];
  EXPECT_EQ(details[8], "state COMMITTED");
}

TEST(EngineWrites, AConfirmThatWaitedInMemoryGoesWithTheNextWrite) {
  CountedHarness counted;
  Harness& harness = counted.harness;
  ASSERT_OK(harness.Begin({"g-wait"}));
  ASSERT_OK(harness.Try("g-wait", {Spec("b1"), Spec("b2")}));
  // b1's Confirm succeeds while b2's is still out, then b2's fails.
  harness.transport().HoldReplies([](const BranchCall& call) {
    return call.phase == Phase::kConfirm && call.branch_id == "b2";
  });
  harness.transport().SetBehavior([](const BranchCall& call) {
    if (call.phase == Phase::kConfirm && call.branch_id == "b2") {
      return CallResult{CallOutcome::kUnknown, "down"};
    }
    return CallResult{CallOutcome::kSuccess, ""};
  });
  ASSERT_OK(harness.Decide("g-wait", Decision::kCommit));
  ASSERT_TRUE(WaitFor([&] {
    auto gt = harness.Get("g-wait");
    return gt.ok() && gt->branches[0].state == BranchState::kConfirmed;
  }));
  harness.Flush();
  const int confirmed = *counted.updates;
  auto waiting = Stored(harness, "g-wait");
  ASSERT_OK(waiting);
  EXPECT_EQ(waiting->branches[0].state, BranchState::kTried) << "b1's success waits in memory";
  harness.transport().HoldReplies(nullptr);
  harness.transport().ReleaseHeld();
  ASSERT_TRUE(WaitFor([&] { return harness.transport().held_replies_handled() == 1; }));
  harness.Flush();
  EXPECT_EQ(*counted.updates - confirmed, 1) << "b2's first failure, with b1's success";
  auto failed = Stored(harness, "g-wait");
  ASSERT_OK(failed);
  EXPECT_EQ(failed->branches[0].state, BranchState::kConfirmed);
  EXPECT_EQ(failed->branches[1].state, BranchState::kTried);
  EXPECT_EQ(failed->branches[1].last_error, "Confirm failed: down");
  harness.transport().SetBehavior(nullptr);
  ASSERT_TRUE(harness.AdvanceUntil([&] {
    auto gt = Stored(harness, "g-wait");
    return gt.ok() && gt->state == TxState::kCommitted;
  }));
}

TEST(EngineBeginAndTry, AnUnknownGidIsBegunWithItsBranchesInOneWrite) {
  CountedHarness counted;
  Harness& harness = counted.harness;
  auto answer =
      harness.BeginAndTry({"g-bt", 0, "127.0.0.1:7600"}, {Spec("b1"), Spec("b2"), Spec("b3")});
  ASSERT_OK(answer);
  ASSERT_EQ(answer->outcomes.size(), 3u);
  for (const auto& outcome : answer->outcomes) EXPECT_EQ(outcome.outcome, CallOutcome::kSuccess);
  EXPECT_TRUE(answer->committable);
  harness.Flush();
  EXPECT_EQ(*counted.updates, 0) << "created with its branches; the results wait for the decision";
  auto stored = Stored(harness, "g-bt");
  ASSERT_OK(stored);
  EXPECT_EQ(stored->state, TxState::kTrying);
  EXPECT_EQ(stored->timeout_ms, 30000u) << "the default timeout";
  EXPECT_EQ(stored->status_endpoint, "127.0.0.1:7600");
  ASSERT_EQ(stored->branches.size(), 3u);
  for (const Branch& branch : stored->branches) EXPECT_EQ(branch.state, BranchState::kRegistered);
  std::vector<std::string> details = Details(harness.Timeline("g-bt"));
  ASSERT_EQ(details.size(), 1u) << "the results' events go with the decision: "
                                << ::testing::PrintToString(details);
  EXPECT_EQ(details[0], "begin begun with timeout 30000ms, status endpoint 127.0.0.1:7600");

  // Again with the same parameters: a plain Try, nothing called twice.
  auto again =
      harness.BeginAndTry({"g-bt", 30000, "127.0.0.1:7600"}, {Spec("b1"), Spec("b2"), Spec("b3")});
  ASSERT_OK(again);
  EXPECT_EQ(harness.transport().CountCalls(Phase::kTry), 3);
  EXPECT_THAT(harness.BeginAndTry({"g-bt", 5000, "127.0.0.1:7600"}, {Spec("b1")}),
              StatusIs(Code::kAlreadyExists, "other parameters"));
  EXPECT_THAT(harness.BeginAndTry({"g-bt-bad", 0, "not a target"}, {Spec("b1")}),
              StatusIs(Code::kInvalidArgument, "status_endpoint"));
  EXPECT_THAT(harness.BeginAndTry({"g-bt-dup", 0, ""}, {Spec("b1"), Spec("b1")}),
              StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(harness.Get("g-bt-dup"), StatusIs(Code::kNotFound)) << "nothing stored";

  ASSERT_OK(harness.Decide("g-bt", Decision::kCommit));
  ASSERT_TRUE(harness.WaitForState("g-bt", TxState::kCommitted));
  EXPECT_THAT(harness.BeginAndTry({"g-bt", 0, "127.0.0.1:7600"}, {Spec("b1")}),
              StatusIs(Code::kFailedPrecondition));
  EXPECT_EQ(harness.transport().CountCalls(Phase::kTry), 3) << "a decided GT is not tried";
}

TEST_F(EngineTest, ATryThatTriedEveryBranchSaysTheGtIsCommittable) {
  const std::string endpoint = "127.0.0.1:7600";
  BeginTx("g-c", 0, endpoint);
  auto first = harness_.TryAnswered("g-c", {Spec("b1")});
  ASSERT_OK(first);
  EXPECT_TRUE(first->committable);
  auto second = harness_.TryAnswered("g-c", {Spec("b2")});
  ASSERT_OK(second);
  EXPECT_FALSE(second->committable) << "b1 is a branch this request did not name";
  auto again = harness_.TryAnswered("g-c", {Spec("b1"), Spec("b2")});
  ASSERT_OK(again);
  EXPECT_FALSE(again->committable) << "no call made, so no write to wait for";

  BeginTx("g-no-endpoint");
  auto no_endpoint = harness_.TryAnswered("g-no-endpoint", {Spec("b1"), Spec("b2")});
  ASSERT_OK(no_endpoint);
  EXPECT_FALSE(no_endpoint->committable) << "a local commit could not be fenced";

  BeginTx("g-refused", 0, endpoint);
  harness_.transport().SetBehavior([](const BranchCall& call) {
    if (call.branch_id == "b2") return CallResult{CallOutcome::kRefused, "no points"};
    return CallResult{CallOutcome::kSuccess, ""};
  });
  auto refused = harness_.TryAnswered("g-refused", {Spec("b1"), Spec("b2")});
  ASSERT_OK(refused);
  EXPECT_FALSE(refused->committable);

  BeginTx("g-all", 0, endpoint);
  auto all = harness_.TryAnswered("g-all", {Spec("b1"), Spec("b3")});
  ASSERT_OK(all);
  EXPECT_TRUE(all->committable);
  EXPECT_EQ(*harness_.Decide("g-all", Decision::kCommit), TxState::kCommitting);
}

TEST_F(EngineTest, TimeoutWithoutStatusEndpointRollsBack) {
  std::string gid = BeginTx("g-timeout", /*timeout_ms=*/300);
  TryAll(gid, {Spec("a")});
  harness_.Advance(absl::Milliseconds(299));
  harness_.Flush();
  EXPECT_EQ(harness_.Get(gid)->state, TxState::kTrying) << "not before the deadline";
  harness_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(harness_.WaitForState(gid, TxState::kRolledBack));
  EXPECT_EQ(harness_.transport().CountCalls(Phase::kCancel), 1);
  EXPECT_THAT(harness_.Decide(gid, Decision::kCommit),
              StatusIs(Code::kFailedPrecondition, "rolled back by timeout"));
}

TEST_F(EngineTest, TimeoutBackQueriesTheInitiatorAndFollowsItsAnswer) {
  harness_.transport().SetInitiatorBehavior(
      [](const std::string& gid) -> absl::StatusOr<InitiatorAnswer> {
        if (gid == "g-yes") return InitiatorAnswer::kCommitted;
        return InitiatorAnswer::kRolledBack;
      });
  std::string yes = BeginTx("g-yes", 300, "127.0.0.1:9999");
  std::string no = BeginTx("g-no", 300, "127.0.0.1:9999");
  TryAll(yes, {Spec("a")});
  TryAll(no, {Spec("a")});
  EXPECT_EQ(harness_.transport().queries(), 0);
  harness_.Advance(absl::Milliseconds(300));
  EXPECT_EQ(harness_.transport().queries(), 2) << "both asked at their deadline";
  ASSERT_TRUE(harness_.WaitForState(yes, TxState::kCommitted));
  ASSERT_TRUE(harness_.WaitForState(no, TxState::kRolledBack));
}

TEST_F(EngineTest, TheInitiatorsTraceparentGoesOnEveryCallAndBackQuery) {
  constexpr char kTrace[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  harness_.transport().SetInitiatorBehavior(
      [](const std::string&) -> absl::StatusOr<InitiatorAnswer> {
        return InitiatorAnswer::kCommitted;
      });
  ASSERT_OK(harness_.Begin({.gid = "g-traced",
                            .timeout_ms = 300,
                            .status_endpoint = "127.0.0.1:9999",
                            .traceparent = kTrace}));
  ASSERT_OK(harness_.Begin({.gid = "g-untraced"}));
  TryAll("g-traced", {Spec("a"), Spec("b")});
  TryAll("g-untraced", {Spec("a")});
  ASSERT_OK(harness_.Decide("g-untraced", Decision::kCommit));
  harness_.Advance(absl::Milliseconds(300));  // The back-query, then the Confirms.
  ASSERT_TRUE(harness_.WaitForState("g-traced", TxState::kCommitted));
  ASSERT_TRUE(harness_.WaitForState("g-untraced", TxState::kCommitted));
  EXPECT_EQ(harness_.Get("g-traced")->traceparent, kTrace);
  int traced_calls = 0;
  for (const BranchCall& call : harness_.transport().calls()) {
    EXPECT_EQ(call.traceparent, call.gid == "g-traced" ? kTrace : "") << call.gid;
    traced_calls += call.gid == "g-traced";
  }
  EXPECT_EQ(traced_calls, 4) << "two Tries and two Confirms";
  EXPECT_EQ(harness_.transport().query_traceparents(), std::vector<std::string>{kTrace});
}

TEST_F(EngineTest, UnreachableStatusEndpointNeverResolvesByGuessing) {
  std::atomic<bool> reachable = false;
  harness_.transport().SetInitiatorBehavior(
      [&](const std::string&) -> absl::StatusOr<InitiatorAnswer> {
        if (!reachable) return absl::UnavailableError("connection refused");
        return InitiatorAnswer::kCommitted;
      });
  std::string gid = BeginTx("g-down", 300, "127.0.0.1:9999");
  TryAll(gid, {Spec("a")});
  ASSERT_TRUE(harness_.AdvanceUntil([&] { return harness_.transport().queries() >= 4; }));
  EXPECT_EQ(harness_.Get(gid)->state, TxState::kTrying);
  EXPECT_TRUE(harness_.Get(gid)->stuck);
  reachable = true;
  ASSERT_TRUE(harness_.WaitForState(gid, TxState::kCommitted));
}

TEST_F(EngineTest, ABranchListedTwiceInOneTryIsRefused) {
  std::string gid = BeginTx("g-twice");
  EXPECT_THAT(harness_.Try(gid, {Spec("a"), Spec("b"), Spec("a")}),
              StatusIs(Code::kInvalidArgument, "branch a is listed more than once"));
  EXPECT_EQ(harness_.transport().CountCalls(Phase::kTry), 0);
  EXPECT_TRUE(harness_.Get(gid)->branches.empty()) << "a refused request registers nothing";
  // Repeating a branch in a later request is the idempotent retry.
  TryAll(gid, {Spec("a")});
  TryAll(gid, {Spec("a"), Spec("b")});
  EXPECT_EQ(harness_.transport().CountCalls(Phase::kTry), 2);
}

TEST_F(EngineTest, GeneratedBranchIdsNeverCollideWithGivenOnes) {
  std::string gid = BeginTx("g-ids");
  TryAll(gid, {Spec("b2")});
  // Unnamed branches at positions 2 and 3: "b2" is taken, so b3 and b4.
  Branch unnamed = Spec("");
  TryAll(gid, {unnamed, unnamed});
  // Within one request a later given id is not taken by an earlier
  // unnamed one: position 4 would be "b4" (taken), "b5" is given below.
  auto tried = harness_.Try(gid, {unnamed, Spec("b5")});
  ASSERT_OK(tried);
  EXPECT_EQ((*tried)[0].branch_id, "b6");
  EXPECT_EQ((*tried)[1].branch_id, "b5");
  auto stored = harness_.Get(gid);
  ASSERT_OK(stored);
  std::vector<std::string> ids;
  for (const Branch& branch : stored->branches) ids.push_back(branch.branch_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"b2", "b3", "b4", "b6", "b5"}));
  EXPECT_EQ(harness_.transport().CountCalls(Phase::kTry), 5) << "every branch was tried";
}

TEST(EngineStoreFailure, AStoreErrorKeepsItsCode) {
  auto budget = std::make_shared<std::atomic<int>>(-1);
  auto store =
      std::make_unique<::tcc::testing::FailingStore>(std::make_unique<MemoryStore>(), budget);
  store->set_error(absl::DataLossError("injected: damaged page"));
  Harness harness(std::move(store));
  ASSERT_OK(harness.Begin({"g-damaged"}));
  *budget = 0;
  // DATA_LOSS must not reach the client as UNAVAILABLE, which it would retry forever.
  EXPECT_THAT(harness.Try("g-damaged", {Spec("a")}),
              StatusIs(Code::kDataLoss, "registering the branches failed: injected: damaged page"));
}

TEST(EngineStoreFailure, AFailedWriteIsReportedAndMemoryFallsBackToTheStore) {
  auto budget = std::make_shared<std::atomic<int>>(-1);
  Harness harness(
      std::make_unique<::tcc::testing::FailingStore>(std::make_unique<MemoryStore>(), budget));
  ASSERT_OK(harness.Begin({"g-disk"}));
  // The branch registration is written; the Try result waits in memory for
  // the decision, whose write fails.
  ASSERT_OK(harness.Try("g-disk", {Spec("a")}));
  *budget = 0;
  EXPECT_THAT(harness.Decide("g-disk", Decision::kCommit),
              StatusIs(Code::kUnavailable, "recording the decision failed"));
  *budget = -1;
  // The engine dropped its ahead-of-disk copy (branch TRIED) and reloaded
  // the stored one (branch REGISTERED): the next Commit asks that Try again
  // before it decides.
  ASSERT_TRUE(harness.AdvanceUntil([&] { return harness.engine().ActiveCount() == 1; }));
  EXPECT_EQ(harness.Get("g-disk")->branches[0].state, BranchState::kRegistered);
  *budget = 0;
  EXPECT_THAT(harness.Decide("g-disk", Decision::kCommit),
              StatusIs(Code::kUnavailable, "recording the decision failed"));
  EXPECT_EQ(harness.transport().CountCalls(Phase::kTry), 2) << "asked again";
  *budget = -1;
  ASSERT_TRUE(harness.AdvanceUntil([&] { return harness.engine().ActiveCount() == 1; }));
  EXPECT_EQ(harness.Get("g-disk")->state, TxState::kTrying);
  EXPECT_EQ(*harness.Decide("g-disk", Decision::kCommit), TxState::kCommitting);
  EXPECT_EQ(harness.transport().CountCalls(Phase::kTry), 3) << "asked again";
  ASSERT_TRUE(harness.WaitForState("g-disk", TxState::kCommitted));
}

TEST(EngineStoreFailure, WritesQueuedBehindALostOneDoNotLandOnTop) {
  // Found by tcc_sim (seed 146 with --write_faults): the write recording
  // b1's Confirm fails while b2's and the final COMMITTED one are queued
  // behind it; had those landed, the store would say COMMITTED with b1
  // still TRIED. They must fail too, and the reloaded GT finish properly.
  auto budget = std::make_shared<std::atomic<int>>(-1);
  auto store =
      std::make_unique<::tcc::testing::FailingStore>(std::make_unique<MemoryStore>(), budget);
  auto failed_once = std::make_shared<std::atomic<bool>>(false);
  store->FailWhen([failed_once](const TransactionUpdate& update) {
    for (const Branch* branch : update.changed_branches) {
      if (branch->branch_id == "b1" && branch->state == BranchState::kConfirmed) {
        return !failed_once->exchange(true);
      }
    }
    return false;
  });
  Harness harness(std::move(store));
  ASSERT_OK(harness.Begin({"g-chain"}));
  ASSERT_OK(harness.Try("g-chain", {Spec("b1"), Spec("b2"), Spec("b3")}));
  ASSERT_OK(harness.Decide("g-chain", Decision::kCommit));
  ASSERT_TRUE(harness.WaitForState("g-chain", TxState::kCommitted));
  EXPECT_TRUE(*failed_once) << "the fault was never injected";
  auto stored = harness.Get("g-chain");
  ASSERT_OK(stored);
  for (const Branch& branch : stored->branches) {
    EXPECT_EQ(branch.state, BranchState::kConfirmed) << branch.branch_id;
  }
}

TEST(EngineStoreFailure, ATryResultThatCannotBeRecordedIsNotReportedAsTried) {
  // Found by tcc_sim (seed 65688 with --write_faults --commit_faults
  // --sagas): b1's Try was out when a write of the same GT failed and the
  // GT left memory; the reply then found no copy to record it in, and the
  // initiator was told "tried". It committed locally, while the store held
  // b1 REGISTERED and refused every Commit of the back-query.
  auto budget = std::make_shared<std::atomic<int>>(-1);
  auto store =
      std::make_unique<::tcc::testing::FailingStore>(std::make_unique<MemoryStore>(), budget);
  store->FailWhen([](const TransactionUpdate& update) {
    for (const Branch* branch : update.new_branches) {
      if (branch->branch_id == "b2") return true;
    }
    return false;
  });
  Harness harness(std::move(store));
  ASSERT_OK(harness.Begin({"g-unrecorded"}));
  harness.transport().HoldReplies(
      [](const BranchCall& call) { return call.phase == Phase::kTry && call.branch_id == "b1"; });
  tcc::Notification first_answered;
  absl::StatusOr<TryAnswer> first;
  harness.engine().Try("g-unrecorded", {Spec("b1")}, [&](auto answer) {
    first = std::move(answer);
    first_answered.Notify();
  });
  ASSERT_TRUE(WaitFor([&] { return harness.transport().CountCalls(Phase::kTry) == 1; }));
  // Registering b2 fails: the GT leaves memory while b1's reply is held.
  EXPECT_THAT(harness.Try("g-unrecorded", {Spec("b2")}),
              StatusIs(Code::kUnavailable, "registering the branches failed"));
  harness.transport().HoldReplies(nullptr);
  harness.transport().ReleaseHeld();
  ASSERT_TRUE(first_answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_THAT(first, StatusIs(Code::kUnavailable, "could not be recorded"));

  // The initiator retries; the reloaded GT calls b1 again and records it.
  ASSERT_TRUE(harness.AdvanceUntil([&] { return harness.engine().ActiveCount() == 1; }));
  auto again = harness.Try("g-unrecorded", {Spec("b1")});
  ASSERT_OK(again);
  EXPECT_EQ((*again)[0].outcome, CallOutcome::kSuccess);
  EXPECT_EQ(*harness.Decide("g-unrecorded", Decision::kCommit), TxState::kCommitting);
  ASSERT_TRUE(harness.WaitForState("g-unrecorded", TxState::kCommitted));
}

TEST(EngineLimits, BackgroundCallsBeyondTheCapWaitForASlotAndAllFinish) {
  EngineOptions options = ::tcc::testing::FastOptions();
  options.max_background_calls = 1;
  Harness harness(std::make_unique<MemoryStore>(), options);
  // The first Confirm / Cancel is held until the test has counted.
  tcc::Notification release;
  harness.transport().SetBehavior([&](const BranchCall& call) {
    if (call.phase != Phase::kTry) release.WaitForNotification();
    return CallResult{CallOutcome::kSuccess, ""};
  });
  // Tries first: the fake transport answers on one thread, which the held
  // call blocks.
  for (int i = 0; i < 10; ++i) {
    std::string gid = absl::StrCat("capped-", i);
    ASSERT_OK(harness.Begin({gid}));
    ASSERT_OK(harness.Try(gid, {Spec("a"), Spec("b"), Spec("c")}));
  }
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK(harness.Decide(absl::StrCat("capped-", i),
                             i % 2 == 0 ? Decision::kCommit : Decision::kRollback));
  }
  harness.Flush();  // Every decision's durable callback (which starts calls) has run.
  auto issued = [&] {
    return harness.transport().CountCalls(Phase::kConfirm) +
           harness.transport().CountCalls(Phase::kCancel);
  };
  EXPECT_EQ(issued(), 1) << "30 are due, but the cap allows one call in flight";
  harness.Advance(absl::Seconds(1));
  EXPECT_EQ(issued(), 1) << "time passing frees no slot";
  release.Notify();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(harness.WaitForState(absl::StrCat("capped-", i),
                                     i % 2 == 0 ? TxState::kCommitted : TxState::kRolledBack));
  }
  EXPECT_EQ(harness.transport().CountCalls(Phase::kConfirm), 15);
  EXPECT_EQ(harness.transport().CountCalls(Phase::kCancel), 15);
}

TEST(EngineRecovery, ARestartedEngineResumesUnfinishedTransactions) {
  ::tcc::testing::TempDir dir;
  std::string path = dir.File("tccd.db");
  auto open = [&] { return ::tcc::testing::OpenSqliteStore(path); };
  {
    Harness first(open());
    ASSERT_OK(first.Begin({"g-resume"}));
    auto tried = first.Try("g-resume", {Spec("a"), Spec("b")});
    ASSERT_OK(tried);
    first.transport().SetBehavior([](const BranchCall&) {
      return CallResult{CallOutcome::kUnknown, "down"};
    });
    ASSERT_OK(first.Decide("g-resume", Decision::kCommit));
  }
  Harness second(open());
  ASSERT_OK(second.engine().Recover());
  ASSERT_TRUE(second.WaitForState("g-resume", TxState::kCommitted));
  EXPECT_EQ(second.transport().CountCalls(Phase::kConfirm), 2);
}

// Many GTs, some with several branches, decided both ways and left
// unfinished: after a restart every branch gets exactly the call it still
// needs (with its own payload) and every GT ends.
TEST(EngineRecovery, ARestartResumesEveryBranchOfManyTransactions) {
  ::tcc::testing::TempDir dir;
  std::string path = dir.File("tccd.db");
  auto open = [&] { return ::tcc::testing::OpenSqliteStore(path); };
  constexpr int kCount = 120;
  auto gid = [](int i) { return absl::StrCat("g-many-", i); };
  {
    Harness first(open());
    for (int i = 0; i < kCount; ++i) {
      ASSERT_OK(first.Begin({gid(i)}));
      std::vector<Branch> branches;
      for (int b = 0; b <= i % 3; ++b) branches.push_back(Spec(absl::StrCat(gid(i), "-", b)));
      ASSERT_OK(first.Try(gid(i), branches));
    }
    first.transport().SetBehavior([](const BranchCall& call) {
      if (call.phase == Phase::kTry) return CallResult{CallOutcome::kSuccess, ""};
      return CallResult{CallOutcome::kUnknown, "down"};
    });
    for (int i = 0; i < kCount; ++i) {
      ASSERT_OK(first.Decide(gid(i), i % 2 == 0 ? Decision::kCommit : Decision::kRollback));
    }
  }
  Harness second(open());
  ASSERT_OK(second.engine().Recover());
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(
        second.WaitForState(gid(i), i % 2 == 0 ? TxState::kCommitted : TxState::kRolledBack))
        << gid(i);
  }
  std::map<std::string, std::set<std::string>> payloads_by_gid;
  for (const BranchCall& call : second.transport().calls()) {
    bool commit = std::stoi(call.gid.substr(call.gid.rfind('-') + 1)) % 2 == 0;
    EXPECT_EQ(call.phase, commit ? Phase::kConfirm : Phase::kCancel) << call.gid;
    payloads_by_gid[call.gid].insert(call.payload);
  }
  for (int i = 0; i < kCount; ++i) {
    std::set<std::string> want;
    for (int b = 0; b <= i % 3; ++b) want.insert(absl::StrCat("payload-", gid(i), "-", b));
    EXPECT_EQ(payloads_by_gid[gid(i)], want) << gid(i);
  }
}

}  // namespace
}  // namespace tcc
