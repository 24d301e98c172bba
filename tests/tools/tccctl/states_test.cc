// State names as operators type them, and what "done" means per phase.
#include "tools/tccctl/states.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util/status_matchers.h"

namespace tcc::tccctl {
namespace {

using ::tcc::testing::StatusIs;

TEST(ParseTransactionStateTest, AnyCaseDashOrUnderscoreOrFullEnumName) {
  EXPECT_EQ(*ParseTransactionState("committing"), v1::TRANSACTION_STATE_COMMITTING);
  EXPECT_EQ(*ParseTransactionState("ROLLING_BACK"), v1::TRANSACTION_STATE_ROLLING_BACK);
  EXPECT_EQ(*ParseTransactionState("rolling-back"), v1::TRANSACTION_STATE_ROLLING_BACK);
  EXPECT_EQ(*ParseTransactionState("Rolled-Back"), v1::TRANSACTION_STATE_ROLLED_BACK);
  EXPECT_EQ(*ParseTransactionState(" trying "), v1::TRANSACTION_STATE_TRYING);
  EXPECT_EQ(*ParseTransactionState("TRANSACTION_STATE_COMMITTED"), v1::TRANSACTION_STATE_COMMITTED);
}

TEST(ParseTransactionStateTest, UnknownNamesListTheValidOnes) {
  EXPECT_THAT(ParseTransactionState("pending"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown state \"pending\" (valid: trying, committing, committed, "
                       "rolling-back, rolled-back, running, compensating)"));
  EXPECT_THAT(ParseTransactionState("unspecified"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTransactionState(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(StateNameTest, ShortUpperCaseNames) {
  EXPECT_EQ(StateName(v1::TRANSACTION_STATE_ROLLING_BACK), "ROLLING_BACK");
  EXPECT_EQ(StateName(v1::TRANSACTION_STATE_UNSPECIFIED), "UNSPECIFIED");
  EXPECT_EQ(StateName(static_cast<v1::TransactionState>(99)), "UNSPECIFIED");
  EXPECT_EQ(StateName(v1::BRANCH_STATE_TRY_REFUSED), "TRY_REFUSED");
}

// A transaction in `state` (of `mode`) with one branch in `branch_state`.
bool Done(v1::TransactionState state, v1::BranchState branch_state, const std::string& mode = "") {
  v1::Transaction gt;
  gt.set_state(state);
  gt.set_mode(mode);
  v1::Branch* branch = gt.add_branches();
  branch->set_state(branch_state);
  return IsBranchDone(gt, *branch);
}

TEST(IsBranchDoneTest, DependsOnThePhase) {
  EXPECT_TRUE(Done(v1::TRANSACTION_STATE_TRYING, v1::BRANCH_STATE_TRIED));
  EXPECT_FALSE(Done(v1::TRANSACTION_STATE_TRYING, v1::BRANCH_STATE_REGISTERED));
  EXPECT_FALSE(Done(v1::TRANSACTION_STATE_COMMITTING, v1::BRANCH_STATE_TRIED));
  EXPECT_TRUE(Done(v1::TRANSACTION_STATE_COMMITTED, v1::BRANCH_STATE_CONFIRMED));
  EXPECT_TRUE(Done(v1::TRANSACTION_STATE_ROLLING_BACK, v1::BRANCH_STATE_CANCELLED));
  EXPECT_FALSE(Done(v1::TRANSACTION_STATE_ROLLED_BACK, v1::BRANCH_STATE_TRY_REFUSED));
  EXPECT_TRUE(IsFinal(v1::TRANSACTION_STATE_ROLLED_BACK));
  EXPECT_FALSE(IsFinal(v1::TRANSACTION_STATE_ROLLING_BACK));
}

TEST(IsBranchDoneTest, SagaStepsAreDoneOnceTheirActionOrCompensationIs) {
  EXPECT_TRUE(Done(v1::TRANSACTION_STATE_RUNNING, v1::BRANCH_STATE_TRIED, "SAGA"));
  EXPECT_FALSE(Done(v1::TRANSACTION_STATE_RUNNING, v1::BRANCH_STATE_REGISTERED, "SAGA"));
  EXPECT_TRUE(Done(v1::TRANSACTION_STATE_COMMITTED, v1::BRANCH_STATE_TRIED, "SAGA"));
  EXPECT_TRUE(Done(v1::TRANSACTION_STATE_COMPENSATING, v1::BRANCH_STATE_CANCELLED, "SAGA"));
  EXPECT_FALSE(Done(v1::TRANSACTION_STATE_COMPENSATING, v1::BRANCH_STATE_TRIED, "SAGA"));
}

// A refused step, or one never started, has nothing to compensate: a
// compensated saga is all done, not "1/2" as if something were left.
TEST(IsBranchDoneTest, SagaStepsWithNothingToCompensateAreDone) {
  EXPECT_TRUE(Done(v1::TRANSACTION_STATE_ROLLED_BACK, v1::BRANCH_STATE_TRY_REFUSED, "SAGA"));
  EXPECT_TRUE(Done(v1::TRANSACTION_STATE_COMPENSATING, v1::BRANCH_STATE_TRY_REFUSED, "SAGA"));
  EXPECT_TRUE(Done(v1::TRANSACTION_STATE_ROLLED_BACK, v1::BRANCH_STATE_REGISTERED, "SAGA"));
  // While compensating, a REGISTERED step may be in doubt (its action sent):
  // it is compensated, so it is not done yet.
  EXPECT_FALSE(Done(v1::TRANSACTION_STATE_COMPENSATING, v1::BRANCH_STATE_REGISTERED, "SAGA"));
}

}  // namespace
}  // namespace tcc::tccctl
