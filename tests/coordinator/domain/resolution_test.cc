// The rules of resolving by hand: what an operator may apply in each state,
// and the refusals that say why not.
#include "coordinator/domain/resolution.h"

#include <gtest/gtest.h>

#include "tests/test_util/status_matchers.h"

namespace tcc {
namespace {

using ::tcc::testing::StatusIs;
using Code = absl::StatusCode;

GlobalTransaction Gt(TxMode mode, TxState state, BranchState branch = BranchState::kTried) {
  GlobalTransaction gt;
  gt.gid = "g";
  gt.mode = mode;
  gt.state = state;
  gt.branches.push_back({.branch_id = "a", .state = branch, .last_error = "no points"});
  return gt;
}

TEST(CheckResolution, AFinalTransactionCannotBeResolved) {
  for (Resolution r : {Resolution::kCommit, Resolution::kRollback, Resolution::kMarkCommitted,
                       Resolution::kMarkRolledBack}) {
    EXPECT_THAT(CheckResolution(Gt(TxMode::kTcc, TxState::kCommitted), r),
                StatusIs(Code::kFailedPrecondition, "already COMMITTED"));
  }
}

TEST(CheckResolution, TccIsDrivenOnlyTowardsTheSideItIsOn) {
  EXPECT_OK(CheckResolution(Gt(TxMode::kTcc, TxState::kTrying), Resolution::kCommit));
  EXPECT_OK(CheckResolution(Gt(TxMode::kTcc, TxState::kTrying), Resolution::kRollback));
  EXPECT_OK(CheckResolution(Gt(TxMode::kTcc, TxState::kCommitting), Resolution::kCommit));
  EXPECT_THAT(CheckResolution(Gt(TxMode::kTcc, TxState::kCommitting), Resolution::kRollback),
              StatusIs(Code::kFailedPrecondition, "Confirms may already have run"));
  EXPECT_THAT(CheckResolution(Gt(TxMode::kTcc, TxState::kRollingBack), Resolution::kCommit),
              StatusIs(Code::kFailedPrecondition, "Cancels may already have run"));
  // Marking by hand is the way out of either side.
  EXPECT_OK(CheckResolution(Gt(TxMode::kTcc, TxState::kRollingBack), Resolution::kMarkCommitted));
}

TEST(CheckResolution, ARefusedBranchIsNeverCommitted) {
  EXPECT_THAT(CheckResolution(Gt(TxMode::kTcc, TxState::kTrying, BranchState::kTryRefused),
                              Resolution::kCommit),
              StatusIs(Code::kFailedPrecondition, "branch a of g was refused"));
  EXPECT_OK(CheckResolution(Gt(TxMode::kTcc, TxState::kTrying, BranchState::kRegistered),
                            Resolution::kCommit))
      << "an unknown Try outcome is taken as tried on the operator's word";
}

TEST(CheckResolution, ASagaRunsForwardOnlyWhileItRuns) {
  EXPECT_OK(CheckResolution(Gt(TxMode::kSaga, TxState::kRunning), Resolution::kCommit));
  EXPECT_OK(CheckResolution(Gt(TxMode::kSaga, TxState::kRunning), Resolution::kRollback));
  EXPECT_OK(CheckResolution(Gt(TxMode::kSaga, TxState::kCompensating), Resolution::kRollback));
  EXPECT_THAT(CheckResolution(Gt(TxMode::kSaga, TxState::kCompensating), Resolution::kCommit),
              StatusIs(Code::kFailedPrecondition, "COMPENSATING"));
}

}  // namespace
}  // namespace tcc
