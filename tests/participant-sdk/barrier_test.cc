// One test per barrier case (DESIGN "Participant barrier"), on a real SQLite
// file: duplicates, empty compensation and anti-hanging, rollback of a
// failing handler, and the Confirm-without-Try choice.
#include "tcc/sdk/barrier.h"

#include "gtest/gtest.h"
#include "tests/participant-sdk/points_service.h"
#include "tests/participant-sdk/test_db.h"

namespace tcc::sdk::testing {
namespace {

class BarrierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenTestDb(dir_.File("points.db"));
    ASSERT_NE(db_, nullptr);
    ASSERT_OK(CreateBarrierTable(*db_));
    ASSERT_OK(points_.Setup(*db_, "alice", 100));
    handlers_ = points_.Handlers();
  }

  absl::StatusOr<BarrierAnswer> Try(int64_t amount, const std::string& branch = "b1") {
    return RunTry(*db_, PointsService::Request("gid-1", branch, "alice", amount), handlers_.on_try);
  }
  absl::StatusOr<BarrierAnswer> Confirm(int64_t amount, const std::string& branch = "b1") {
    return RunConfirm(*db_, PointsService::Request("gid-1", branch, "alice", amount),
                      handlers_.on_confirm);
  }
  absl::StatusOr<BarrierAnswer> Cancel(int64_t amount, const std::string& branch = "b1") {
    return RunCancel(*db_, PointsService::Request("gid-1", branch, "alice", amount),
                     handlers_.on_cancel);
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  PointsService points_;
  ActionHandlers handlers_;
};

TEST_F(BarrierTest, DuplicateTryHasOneEffectAndTheFirstAnswer) {
  absl::StatusOr<BarrierAnswer> first = Try(30);
  absl::StatusOr<BarrierAnswer> second = Try(30);
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_FALSE(first->refused);
  EXPECT_FALSE(first->duplicate);
  EXPECT_FALSE(second->refused);
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(points_.try_runs, 1);
  EXPECT_EQ(Frozen(*db_, "alice"), 30);
}

TEST_F(BarrierTest, DuplicateRefusedTryGetsTheSameReasonAndReservesNothing) {
  absl::StatusOr<BarrierAnswer> first = Try(500);
  ASSERT_OK(first);
  ASSERT_TRUE(first->refused);
  EXPECT_EQ(first->reason, "not enough points for alice");
  absl::StatusOr<BarrierAnswer> second = Try(500);
  ASSERT_OK(second);
  EXPECT_TRUE(second->refused);
  EXPECT_EQ(second->reason, first->reason);
  EXPECT_EQ(points_.try_runs, 1);
  EXPECT_EQ(Frozen(*db_, "alice"), 0);
}

TEST_F(BarrierTest, DuplicateConfirmHasOneEffect) {
  ASSERT_OK(Try(30));
  absl::StatusOr<BarrierAnswer> first = Confirm(30);
  absl::StatusOr<BarrierAnswer> second = Confirm(30);
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_FALSE(second->refused);
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(points_.confirm_runs, 1);
  EXPECT_EQ(Balance(*db_, "alice"), 70);
  EXPECT_EQ(Frozen(*db_, "alice"), 0);
}

TEST_F(BarrierTest, DuplicateCancelHasOneEffect) {
  ASSERT_OK(Try(30));
  absl::StatusOr<BarrierAnswer> first = Cancel(30);
  absl::StatusOr<BarrierAnswer> second = Cancel(30);
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(points_.cancel_runs, 1);
  EXPECT_EQ(Balance(*db_, "alice"), 100);
  EXPECT_EQ(Frozen(*db_, "alice"), 0);
}

TEST_F(BarrierTest, CancelBeforeTryIsEmptyAndTheLateTryIsRefused) {
  absl::StatusOr<BarrierAnswer> cancel = Cancel(30);
  ASSERT_OK(cancel);
  EXPECT_FALSE(cancel->refused);
  EXPECT_EQ(points_.cancel_runs, 0) << "empty compensation undoes nothing";

  absl::StatusOr<BarrierAnswer> late_try = Try(30);
  ASSERT_OK(late_try);  // A refusal, not an error.
  EXPECT_TRUE(late_try->refused);
  EXPECT_EQ(late_try->reason, kCancelledBeforeTryReason);
  EXPECT_EQ(points_.try_runs, 0);
  EXPECT_EQ(Frozen(*db_, "alice"), 0) << "no hanging reservation";
  EXPECT_EQ(Balance(*db_, "alice"), 100);
}

TEST_F(BarrierTest, CancelAfterRefusedTryIsEmpty) {
  absl::StatusOr<BarrierAnswer> refused = Try(500);
  ASSERT_OK(refused);
  ASSERT_TRUE(refused->refused);
  ASSERT_OK(Cancel(500));
  EXPECT_EQ(points_.cancel_runs, 0) << "a refused try reserved nothing to undo";
  EXPECT_EQ(Frozen(*db_, "alice"), 0);
}

TEST_F(BarrierTest, FailingTryRollsBackItsWritesAndTheBarrierRowSoTheRetryRuns) {
  points_.fail_try = true;
  EXPECT_TRUE(absl::IsUnavailable(Try(30).status()));
  EXPECT_EQ(Frozen(*db_, "alice"), 0);
  EXPECT_EQ(BarrierRows(*db_), 0);

  points_.fail_try = false;
  absl::StatusOr<BarrierAnswer> retry = Try(30);
  ASSERT_OK(retry);
  EXPECT_FALSE(retry->duplicate);
  EXPECT_EQ(points_.try_runs, 2);
  EXPECT_EQ(Frozen(*db_, "alice"), 30);
}

TEST_F(BarrierTest, FailingConfirmRollsBackItsWritesAndTheBarrierRowSoTheRetryRuns) {
  ASSERT_OK(Try(30));
  points_.fail_confirm = true;
  EXPECT_TRUE(absl::IsUnavailable(Confirm(30).status()));
  EXPECT_EQ(Balance(*db_, "alice"), 100);
  EXPECT_EQ(BarrierRows(*db_), 1) << "only the try row";

  points_.fail_confirm = false;
  ASSERT_OK(Confirm(30));
  EXPECT_EQ(points_.confirm_runs, 2);
  EXPECT_EQ(Balance(*db_, "alice"), 70);
  EXPECT_EQ(Frozen(*db_, "alice"), 0);
}

TEST_F(BarrierTest, FailingCancelRollsBackItsWritesAndTheBarrierRowSoTheRetryRuns) {
  ASSERT_OK(Try(30));
  points_.fail_cancel = true;
  EXPECT_TRUE(absl::IsUnavailable(Cancel(30).status()));
  EXPECT_EQ(Frozen(*db_, "alice"), 30);
  EXPECT_EQ(BarrierRows(*db_), 1);

  points_.fail_cancel = false;
  ASSERT_OK(Cancel(30));
  EXPECT_EQ(points_.cancel_runs, 2);
  EXPECT_EQ(Frozen(*db_, "alice"), 0);
}

TEST_F(BarrierTest, ConfirmWithoutTryFailsAndRecordsNothing) {
  absl::StatusOr<BarrierAnswer> confirm = Confirm(30);
  EXPECT_TRUE(absl::IsFailedPrecondition(confirm.status())) << confirm.status();
  EXPECT_EQ(points_.confirm_runs, 0);
  EXPECT_EQ(BarrierRows(*db_), 0) << "the branch stays retryable";
  EXPECT_EQ(Balance(*db_, "alice"), 100);
}

TEST_F(BarrierTest, ConfirmAfterRefusedTryFails) {
  ASSERT_OK(Try(500));
  EXPECT_TRUE(absl::IsFailedPrecondition(Confirm(500).status()));
  EXPECT_EQ(points_.confirm_runs, 0);
}

TEST_F(BarrierTest, ConfirmAfterCancelAndCancelAfterConfirmFail) {
  ASSERT_OK(Try(10, "b1"));
  ASSERT_OK(Cancel(10, "b1"));
  EXPECT_TRUE(absl::IsFailedPrecondition(Confirm(10, "b1").status()));

  ASSERT_OK(Try(10, "b2"));
  ASSERT_OK(Confirm(10, "b2"));
  EXPECT_TRUE(absl::IsFailedPrecondition(Cancel(10, "b2").status()));
  EXPECT_EQ(Balance(*db_, "alice"), 90);
  EXPECT_EQ(Frozen(*db_, "alice"), 0);
}

TEST_F(BarrierTest, BranchesAreIndependent) {
  ASSERT_OK(Try(10, "b1"));
  ASSERT_OK(Try(20, "b2"));
  EXPECT_EQ(points_.try_runs, 2);
  EXPECT_EQ(Frozen(*db_, "alice"), 30);
}

TEST_F(BarrierTest, MalformedIdsAreInvalidArgument) {
  BranchRequest bad = PointsService::Request("gid with spaces", "b1", "alice", 1);
  EXPECT_TRUE(absl::IsInvalidArgument(RunTry(*db_, bad, handlers_.on_try).status()));
  bad = PointsService::Request("gid-1", "", "alice", 1);
  EXPECT_TRUE(absl::IsInvalidArgument(RunCancel(*db_, bad, handlers_.on_cancel).status()));
  bad = PointsService::Request(std::string(129, 'g'), "b1", "alice", 1);
  EXPECT_TRUE(absl::IsInvalidArgument(RunConfirm(*db_, bad, handlers_.on_confirm).status()));
  EXPECT_EQ(BarrierRows(*db_), 0);
}

}  // namespace
}  // namespace tcc::sdk::testing
