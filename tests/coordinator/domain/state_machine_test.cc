#include "coordinator/domain/state_machine.h"

#include <gtest/gtest.h>

#include "tests/test_util/status_matchers.h"

namespace tcc {
namespace {

using ::tcc::testing::StatusIs;
using Code = absl::StatusCode;

Branch MakeBranch(const std::string& id, BranchState state = BranchState::kRegistered) {
  Branch branch{
      .branch_id = id, .target = "127.0.0.1:7501", .action = "points.freeze", .payload = "p-" + id};
  branch.state = state;
  return branch;
}

GlobalTransaction MakeTx(TxState state, std::vector<Branch> branches = {}) {
  GlobalTransaction gt;
  gt.gid = "g1";
  gt.state = state;
  gt.branches = std::move(branches);
  return gt;
}

TEST(CheckDecision, CommitFromTryingNeedsEveryBranchTried) {
  EXPECT_EQ(*CheckDecision(MakeTx(TxState::kTrying), Decision::kCommit), DecisionCheck::kApply);
  auto tried = MakeTx(TxState::kTrying, {MakeBranch("a", BranchState::kTried)});
  EXPECT_EQ(*CheckDecision(tried, Decision::kCommit), DecisionCheck::kApply);
  for (BranchState bad : {BranchState::kRegistered, BranchState::kTryRefused}) {
    auto gt =
        MakeTx(TxState::kTrying, {MakeBranch("a", BranchState::kTried), MakeBranch("b", bad)});
    EXPECT_THAT(CheckDecision(gt, Decision::kCommit),
                StatusIs(Code::kFailedPrecondition, "branch b is"));
  }
}

TEST(CheckDecision, RollbackFromTryingIsAlwaysAllowed) {
  auto gt = MakeTx(TxState::kTrying, {MakeBranch("a", BranchState::kTryRefused),
                                      MakeBranch("b", BranchState::kRegistered)});
  EXPECT_EQ(*CheckDecision(gt, Decision::kRollback), DecisionCheck::kApply);
}

TEST(CheckDecision, RepeatingTheDecisionIsIdempotent) {
  for (TxState state : {TxState::kCommitting, TxState::kCommitted}) {
    EXPECT_EQ(*CheckDecision(MakeTx(state), Decision::kCommit), DecisionCheck::kAlreadyDecided);
  }
  for (TxState state : {TxState::kRollingBack, TxState::kRolledBack}) {
    EXPECT_EQ(*CheckDecision(MakeTx(state), Decision::kRollback), DecisionCheck::kAlreadyDecided);
  }
}

TEST(CheckDecision, TheOppositeDecisionIsRefused) {
  for (TxState state : {TxState::kCommitting, TxState::kCommitted}) {
    EXPECT_THAT(CheckDecision(MakeTx(state), Decision::kRollback),
                StatusIs(Code::kFailedPrecondition, "cannot be rolled back"));
  }
  for (TxState state : {TxState::kRollingBack, TxState::kRolledBack}) {
    auto gt = MakeTx(state);
    gt.decision_reason = "rolled back by timeout";
    EXPECT_THAT(CheckDecision(gt, Decision::kCommit),
                StatusIs(Code::kFailedPrecondition, "(rolled back by timeout)"));
  }
}

TEST(CheckTryAllowed, OnlyWhileTrying) {
  EXPECT_OK(CheckTryAllowed(MakeTx(TxState::kTrying)));
  for (TxState state :
       {TxState::kCommitting, TxState::kCommitted, TxState::kRollingBack, TxState::kRolledBack}) {
    EXPECT_THAT(CheckTryAllowed(MakeTx(state)), StatusIs(Code::kFailedPrecondition));
  }
}

TEST(PlanTry, RegistersNewBranchesAndNumbersUnnamedOnes) {
  auto gt = MakeTx(TxState::kTrying);
  Branch unnamed = MakeBranch("");
  auto plan = PlanTry(gt, {MakeBranch("x"), unnamed}, Limits{});
  ASSERT_OK(plan);
  ASSERT_EQ(gt.branches.size(), 2u);
  EXPECT_EQ(gt.branches[1].branch_id, "b2");
  EXPECT_EQ(plan->added, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(plan->to_call, (std::vector<size_t>{0, 1}));
}

TEST(PlanTry, RepeatedBranchIsCalledAgainOnlyWhileItsOutcomeIsUnknown) {
  auto gt = MakeTx(TxState::kTrying, {MakeBranch("a", BranchState::kTried), MakeBranch("b")});
  auto plan = PlanTry(gt, {MakeBranch("a"), MakeBranch("b")}, Limits{});
  ASSERT_OK(plan);
  EXPECT_TRUE(plan->added.empty());
  EXPECT_EQ(plan->to_call, (std::vector<size_t>{1}));
}

TEST(PlanTry, RefusesConflictsAndLimitsWithoutChangingTheTransaction) {
  auto gt = MakeTx(TxState::kTrying, {MakeBranch("a")});
  Branch changed = MakeBranch("a");
  changed.payload = "other";
  EXPECT_THAT(PlanTry(gt, {MakeBranch("new"), changed}, Limits{}),
              StatusIs(Code::kAlreadyExists, "branch a"));
  EXPECT_EQ(gt.branches.size(), 1u);

  Limits limits;
  limits.max_branches_per_transaction = 2;
  EXPECT_THAT(PlanTry(gt, {MakeBranch("b"), MakeBranch("c")}, limits),
              StatusIs(Code::kInvalidArgument, "would have 3 branches; the limit is 2"));
  EXPECT_THAT(PlanTry(gt, {}, limits), StatusIs(Code::kInvalidArgument, "at least one"));
  Branch bad = MakeBranch("d");
  bad.target = "";
  EXPECT_THAT(PlanTry(gt, {bad}, limits), StatusIs(Code::kInvalidArgument, "target is empty"));
  EXPECT_EQ(gt.branches.size(), 1u);
}

TEST(PlanTry, GeneratedIdsSkipEveryIdTakenBeforeOrInTheSameRequest) {
  GlobalTransaction gt;
  gt.gid = "g";
  Branch given{.branch_id = "b2", .target = "127.0.0.1:1", .action = "x"};
  Branch unnamed{.target = "127.0.0.1:1", .action = "x"};
  ASSERT_OK(PlanTry(gt, {given}, Limits{}));
  auto plan = PlanTry(gt, {unnamed, unnamed}, Limits{});
  ASSERT_OK(plan);
  EXPECT_EQ(plan->added.size(), 2u) << "an unnamed branch is never merged into a given one";
  EXPECT_EQ(gt.branches[1].branch_id, "b3");
  EXPECT_EQ(gt.branches[2].branch_id, "b4");
  Branch b5{.branch_id = "b5", .target = "127.0.0.1:1", .action = "y"};
  ASSERT_OK(PlanTry(gt, {unnamed, b5}, Limits{}));
  EXPECT_EQ(gt.branches[3].branch_id, "b6");
  EXPECT_EQ(gt.branches[4].branch_id, "b5");
}

TEST(PlanTry, RefusesABranchListedTwiceInOneRequest) {
  GlobalTransaction gt;
  gt.gid = "g";
  Branch a{.branch_id = "a", .target = "127.0.0.1:1", .action = "x"};
  EXPECT_THAT(PlanTry(gt, {a, a}, Limits{}),
              StatusIs(absl::StatusCode::kInvalidArgument, "branch a is listed more than once"));
  EXPECT_TRUE(gt.branches.empty());
}

TEST(PendingPhase, ConfirmOnlyTriedBranchesCancelEveryOther) {
  EXPECT_EQ(PendingPhase(TxState::kCommitting, BranchState::kTried), Phase::kConfirm);
  EXPECT_EQ(PendingPhase(TxState::kCommitting, BranchState::kConfirmed), std::nullopt);
  for (BranchState state :
       {BranchState::kRegistered, BranchState::kTried, BranchState::kTryRefused}) {
    EXPECT_EQ(PendingPhase(TxState::kRollingBack, state), Phase::kCancel);
  }
  EXPECT_EQ(PendingPhase(TxState::kRollingBack, BranchState::kCancelled), std::nullopt);
  EXPECT_EQ(PendingPhase(TxState::kTrying, BranchState::kTried), std::nullopt);
}

TEST(ApplyResults, TryOutcomesAndPhaseRetries) {
  Branch branch = MakeBranch("a");
  ApplyTryResult(branch, {CallOutcome::kUnknown, "deadline"});
  EXPECT_EQ(branch.state, BranchState::kRegistered);
  ApplyTryResult(branch, {CallOutcome::kRefused, "not enough points"});
  EXPECT_EQ(branch.state, BranchState::kTryRefused);
  EXPECT_EQ(branch.last_error, "not enough points");

  Branch tried = MakeBranch("b", BranchState::kTried);
  ApplyPhaseResult(tried, Phase::kConfirm, {CallOutcome::kUnknown, "unavailable"}, 1234);
  EXPECT_EQ(tried.state, BranchState::kTried);
  EXPECT_EQ(tried.attempts, 1u);
  EXPECT_EQ(tried.next_retry_ms, 1234);
  ApplyPhaseResult(tried, Phase::kConfirm, {CallOutcome::kSuccess, ""}, 0);
  EXPECT_EQ(tried.state, BranchState::kConfirmed);
  EXPECT_EQ(tried.attempts, 2u);
  EXPECT_TRUE(tried.last_error.empty());

  // Cancelling a refused branch keeps the reason the rollback happened.
  ApplyPhaseResult(branch, Phase::kCancel, {CallOutcome::kSuccess, ""}, 0);
  EXPECT_EQ(branch.state, BranchState::kCancelled);
  EXPECT_EQ(branch.last_error, "not enough points");
}

TEST(FinalStateIfDone, OnlyWhenEveryBranchReachedItsEnd) {
  auto gt = MakeTx(TxState::kCommitting, {MakeBranch("a", BranchState::kConfirmed),
                                          MakeBranch("b", BranchState::kTried)});
  EXPECT_EQ(FinalStateIfDone(gt), std::nullopt);
  gt.branches[1].state = BranchState::kConfirmed;
  EXPECT_EQ(FinalStateIfDone(gt), TxState::kCommitted);
  EXPECT_EQ(FinalStateIfDone(MakeTx(TxState::kRollingBack)), TxState::kRolledBack);
  EXPECT_EQ(FinalStateIfDone(MakeTx(TxState::kTrying)), std::nullopt);
}

TEST(IsStuck, ByAttemptsOrAge) {
  StuckThreshold threshold{.attempts = 3, .age_ms = 1000};
  auto gt = MakeTx(TxState::kCommitting, {MakeBranch("a", BranchState::kTried)});
  gt.created_ms = 0;
  EXPECT_FALSE(IsStuck(gt, threshold, 10));
  gt.branches[0].attempts = 3;
  EXPECT_TRUE(IsStuck(gt, threshold, 10));
  gt.branches[0].attempts = 0;
  EXPECT_TRUE(IsStuck(gt, threshold, 1000));
  gt.state = TxState::kCommitted;
  EXPECT_FALSE(IsStuck(gt, threshold, 1000000));
}

}  // namespace
}  // namespace tcc
