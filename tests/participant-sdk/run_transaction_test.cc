// The idempotent initiator against a real tccd process: RunTransaction run
// once and then repeated with the same gid replays the first answer
// (committed, refused) without running Try or the local writes again,
// continues a GT whose Try outcome was unknown, and refuses malformed
// requests; BeginGuarded tells whether Begin created the GT and never rolls
// back one that is already decided.
#include <gtest/gtest.h>

#include "tests/participant-sdk/tccd_fixture.h"

namespace tcc::sdk::testing {
namespace {

using RunTransactionTest = TccdFixture;
using ::testing::HasSubstr;

TEST_F(RunTransactionTest, RepeatAfterCommitAnswersCommittedWithoutTryingAgain) {
  TransactionRequest request{.begin = Params("order-1"), .branches = {Freeze(30)}};
  auto first = client_->RunTransaction(request);
  ASSERT_OK(first);
  EXPECT_TRUE(first->committed());
  EXPECT_FALSE(first->replayed);
  EXPECT_EQ(first->gid, "order-1");
  ASSERT_TRUE(WaitForState("order-1", tcc::v1::TRANSACTION_STATE_COMMITTED));

  auto again = client_->RunTransaction(request);
  ASSERT_OK(again);
  EXPECT_TRUE(again->committed());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->state, tcc::v1::TRANSACTION_STATE_COMMITTED);
  EXPECT_EQ(points_.try_runs, 1);
  EXPECT_EQ(points_.confirm_runs, 1);
  EXPECT_EQ(Balance(*points_db_, "alice"), 70);
}

TEST_F(RunTransactionTest, RepeatAfterRefusalAnswersTheSameRefusal) {
  TransactionRequest request{.begin = Params("order-2"), .branches = {Freeze(500)}};
  auto first = client_->RunTransaction(request);
  ASSERT_OK(first);
  EXPECT_FALSE(first->committed());
  EXPECT_FALSE(first->replayed);
  EXPECT_EQ(first->refused_branch, "points");
  EXPECT_THAT(first->refusal, HasSubstr("not enough points for alice"));
  ASSERT_TRUE(WaitForState("order-2", tcc::v1::TRANSACTION_STATE_ROLLED_BACK));

  auto again = client_->RunTransaction(request);
  ASSERT_OK(again);
  EXPECT_FALSE(again->committed());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->state, tcc::v1::TRANSACTION_STATE_ROLLED_BACK);
  EXPECT_EQ(again->refused_branch, first->refused_branch);
  EXPECT_EQ(again->refusal, first->refusal);
  EXPECT_EQ(again->reason, "rolled back by the initiator");
  EXPECT_EQ(points_.try_runs, 1);
  EXPECT_EQ(Balance(*points_db_, "alice"), 100);
}

TEST_F(RunTransactionTest, UnknownTryLeavesItTryingAndARepeatFinishesIt) {
  points_.fail_try = true;
  TransactionRequest request{.begin = Params("order-3"), .branches = {Freeze(20)}};
  auto first = client_->RunTransaction(request);
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(first.status().message(), HasSubstr("order-3 is still TRYING"));
  EXPECT_THAT(first.status().message(), HasSubstr("repeat the request with the same gid"));

  points_.fail_try = false;
  auto again = client_->RunTransaction(request);
  ASSERT_OK(again);
  EXPECT_TRUE(again->committed());
  EXPECT_FALSE(again->replayed);  // this run decided it
  ASSERT_TRUE(WaitForState("order-3", tcc::v1::TRANSACTION_STATE_COMMITTED));
  EXPECT_EQ(Balance(*points_db_, "alice"), 80);
}

TEST_F(RunTransactionTest, LocalWritesRunOnceAcrossRepeats) {
  int writes = 0;
  TransactionRequest request{.begin = Params("order-4"),
                             .branches = {Freeze(10)},
                             .local_db = shop_db_.get(),
                             .local_writes = [&](LocalTx& tx) {
                               ++writes;
                               return InsertOrder(tx, "order-4");
                             }};
  auto first = client_->RunTransaction(request);
  ASSERT_OK(first);
  EXPECT_TRUE(first->committed());
  EXPECT_FALSE(first->replayed);
  for (int i = 0; i < 2; ++i) {
    auto again = client_->RunTransaction(request);
    ASSERT_OK(again);
    EXPECT_TRUE(again->committed());
    EXPECT_TRUE(again->replayed);
  }
  EXPECT_EQ(writes, 1);
  EXPECT_EQ(points_.try_runs, 1);
  EXPECT_EQ(QueryInt(*shop_db_, "SELECT COUNT(*) FROM orders"), 1);
  ASSERT_TRUE(WaitForState("order-4", tcc::v1::TRANSACTION_STATE_COMMITTED));
}

TEST_F(RunTransactionTest, FailedLocalWritesRollBackAndReturnTheirError) {
  TransactionRequest request{
      .begin = Params("order-5"),
      .branches = {Freeze(10)},
      .local_db = shop_db_.get(),
      .local_writes = [](LocalTx&) { return absl::FailedPreconditionError("order is paid"); }};
  auto first = client_->RunTransaction(request);
  EXPECT_EQ(first.status(), absl::FailedPreconditionError("order is paid"));
  ASSERT_TRUE(WaitForState("order-5", tcc::v1::TRANSACTION_STATE_ROLLED_BACK));
  EXPECT_EQ(Frozen(*points_db_, "alice"), 0);
  EXPECT_EQ(Balance(*points_db_, "alice"), 100);

  auto again = client_->RunTransaction(request);
  ASSERT_OK(again);
  EXPECT_TRUE(again->replayed);
  EXPECT_FALSE(again->committed());
  EXPECT_EQ(again->reason, "rolled back by the initiator");
}

TEST_F(RunTransactionTest, MalformedRequestsAreRefusedBeforeAnyCall) {
  tcc::v1::BranchSpec unnamed = Freeze(1);
  unnamed.clear_branch_id();
  struct Case {
    TransactionRequest request;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({{.begin = Params(""), .branches = {Freeze(1)}}, "begin.gid is required"});
  cases.push_back({{.begin = Params("order-6")}, "at least one branch"});
  cases.push_back({{.begin = Params("order-6"), .branches = {unnamed}}, "needs a branch_id"});
  cases.push_back({{.begin = Params("order-6"),
                    .branches = {Freeze(1)},
                    .local_writes = [](LocalTx&) { return absl::OkStatus(); }},
                   "needs local_db"});
  for (const Case& c : cases) {
    auto outcome = client_->RunTransaction(c.request);
    EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(outcome.status().message(), HasSubstr(c.message));
  }
  EXPECT_EQ(client_->Get("order-6").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RunTransactionTest, GuardTellsCreatedAndLeavesADecidedTransactionAlone) {
  {
    auto gt = client_->BeginGuarded(Params("order-7"));
    ASSERT_OK(gt);
    EXPECT_TRUE(gt->created());
    EXPECT_EQ(gt->state(), tcc::v1::TRANSACTION_STATE_TRYING);
    EXPECT_FALSE(gt->decided());
    ASSERT_OK(gt->Try({Freeze(5)}));
    // Committed behind the guard's back (as a duplicate request would): the
    // guard's rollback is refused and must leave the GT committed.
    ASSERT_OK(client_->Commit("order-7"));
  }
  ASSERT_TRUE(WaitForState("order-7", tcc::v1::TRANSACTION_STATE_COMMITTED));

  auto repeat = client_->BeginGuarded(Params("order-7"));
  ASSERT_OK(repeat);
  EXPECT_FALSE(repeat->created());
  EXPECT_EQ(repeat->state(), tcc::v1::TRANSACTION_STATE_COMMITTED);
  EXPECT_TRUE(repeat->decided());
  auto outcome = client_->Outcome("order-7");
  ASSERT_OK(outcome);
  EXPECT_TRUE(outcome->committed());
}

}  // namespace
}  // namespace tcc::sdk::testing
