// The initiator's decision row against the back-query's fence (scenario S4):
// exactly one of a local commit and a fence wins, and both sides agree.
#include <iostream>
#include <latch>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tcc/common/notification.h"
#include "tcc/sdk/decision.h"
#include "tests/participant-sdk/test_db.h"

namespace tcc::sdk::testing {
namespace {

constexpr int kRounds = 1000;
constexpr char kFencedMessage[] =
    "transaction gid-1 was rolled back by the coordinator's back-query; local changes discarded";

absl::Status CreateOrders(Database& db) {
  return db.RunInTransaction([](LocalTx& tx) {
    return tx.Exec("CREATE TABLE IF NOT EXISTS orders (gid TEXT PRIMARY KEY, state TEXT)").status();
  });
}

absl::Status PayOrder(LocalTx& tx, std::string_view gid) {
  return tx.Exec("INSERT INTO orders (gid, state) VALUES (?, 'PAID')", {gid}).status();
}

int64_t Orders(Database& db) { return QueryInt(db, "SELECT COUNT(*) FROM orders"); }

class DecisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenTestDb(dir_.File("shop.db"));
    ASSERT_NE(db_, nullptr);
    ASSERT_OK(CreateOrders(*db_));
  }

  absl::StatusOr<LocalCommit> Commit(const std::string& gid, const HookRegistry* hooks = nullptr) {
    return CommitLocally(
        *db_, gid, [&](LocalTx& tx) { return PayOrder(tx, gid); }, hooks);
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(DecisionTest, CommittedGidAnswersCommitted) {
  absl::StatusOr<LocalCommit> commit = Commit("gid-1");
  ASSERT_OK(commit);
  EXPECT_EQ(*commit, LocalCommit::kCommitted);
  absl::StatusOr<LocalDecision> decision = FenceOrReadDecision(*db_, "gid-1");
  ASSERT_OK(decision);
  EXPECT_EQ(*decision, LocalDecision::kCommitted);
}

TEST_F(DecisionTest, FenceMakesTheLateCommitFailAndDiscardsItsWrites) {
  absl::StatusOr<LocalDecision> decision = FenceOrReadDecision(*db_, "gid-1");
  ASSERT_OK(decision);
  EXPECT_EQ(*decision, LocalDecision::kRolledBack);

  absl::StatusOr<LocalCommit> commit = Commit("gid-1");
  EXPECT_TRUE(absl::IsFailedPrecondition(commit.status()));
  EXPECT_EQ(commit.status().message(), kFencedMessage);
  EXPECT_EQ(Orders(*db_), 0);
  // The fence stays: asking again gives the same answer.
  decision = FenceOrReadDecision(*db_, "gid-1");
  ASSERT_OK(decision);
  EXPECT_EQ(*decision, LocalDecision::kRolledBack);
}

TEST_F(DecisionTest, RepeatedCommitDoesNotRunTheWritesTwice) {
  ASSERT_OK(Commit("gid-1"));
  absl::StatusOr<LocalCommit> again = Commit("gid-1");  // Would hit orders' key if it ran.
  ASSERT_OK(again);
  EXPECT_EQ(*again, LocalCommit::kAlreadyCommitted);
  EXPECT_EQ(Orders(*db_), 1);
}

TEST_F(DecisionTest, FailingWritesLeaveNoDecisionRow) {
  absl::StatusOr<LocalCommit> failed = CommitLocally(
      *db_, "gid-1", [](LocalTx& tx) { return absl::UnavailableError("payment service down"); });
  EXPECT_TRUE(absl::IsUnavailable(failed.status()));
  absl::StatusOr<LocalDecision> decision = FenceOrReadDecision(*db_, "gid-1");
  ASSERT_OK(decision);
  EXPECT_EQ(*decision, LocalDecision::kRolledBack);
}

// The slow initiator, made deterministic with a hook: the commit is held
// before its local transaction while the back-query fences the gid.
TEST_F(DecisionTest, HookHoldsTheCommitUntilTheBackQueryFenced) {
  HookRegistry hooks;
  tcc::Notification reached, release;
  hooks.Set(kHookBeforeLocalTransaction, [&](std::string_view) {
    reached.Notify();
    release.WaitForNotification();
    return absl::OkStatus();
  });
  absl::StatusOr<LocalCommit> commit;
  std::thread initiator([&] { commit = Commit("gid-1", &hooks); });
  reached.WaitForNotification();
  absl::StatusOr<LocalDecision> decision = FenceOrReadDecision(*db_, "gid-1");
  release.Notify();
  initiator.join();
  ASSERT_OK(decision);
  EXPECT_EQ(*decision, LocalDecision::kRolledBack);
  EXPECT_EQ(commit.status().message(), kFencedMessage);
  EXPECT_EQ(Orders(*db_), 0);
}

TEST_F(DecisionTest, HookFailureBeforeLocalCommitRollsBack) {
  HookRegistry hooks;
  hooks.Set(kHookBeforeLocalCommit,
            [](std::string_view) { return absl::AbortedError("crash before commit"); });
  EXPECT_TRUE(absl::IsAborted(Commit("gid-1", &hooks).status()));
  EXPECT_EQ(Orders(*db_), 0);
  hooks.Clear(kHookBeforeLocalCommit);
  ASSERT_OK(Commit("gid-1", &hooks));
  EXPECT_EQ(Orders(*db_), 1);
}

TEST_F(DecisionTest, MalformedGidIsInvalidArgument) {
  EXPECT_TRUE(absl::IsInvalidArgument(FenceOrReadDecision(*db_, "").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Commit("bad gid").status()));
}

// The race itself: a local commit and a QueryStatus for the same gid from two
// threads (each with its own connection), released together, 1,000 times.
TEST_F(DecisionTest, LocalCommitRacingTheFenceHasExactlyOneWinner) {
  std::unique_ptr<Database> initiator_db = OpenTestDb(dir_.File("shop.db"), 1);
  std::unique_ptr<Database> endpoint_db = OpenTestDb(dir_.File("shop.db"), 1);
  int commits_won = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::string gid = absl::StrCat("race-", round);
    std::latch start(2);
    absl::StatusOr<LocalCommit> commit;
    absl::StatusOr<LocalDecision> decision;
    // Left alone, the fence (less work) nearly always wins; staggering one
    // side by a few tens of microseconds makes both orders, and the
    // overlapping ones, common.
    absl::Duration initiator_delay =
        round % 3 == 1 ? absl::Microseconds(round % 7 * 30) : absl::ZeroDuration();
    absl::Duration endpoint_delay =
        round % 3 == 2 ? absl::Microseconds(round % 7 * 30) : absl::ZeroDuration();
    std::thread initiator([&] {
      start.arrive_and_wait();
      absl::SleepFor(initiator_delay);
      commit = CommitLocally(*initiator_db, gid, [&](LocalTx& tx) { return PayOrder(tx, gid); });
    });
    std::thread endpoint([&] {
      start.arrive_and_wait();
      absl::SleepFor(endpoint_delay);
      decision = FenceOrReadDecision(*endpoint_db, gid);
    });
    initiator.join();
    endpoint.join();

    ASSERT_TRUE(decision.ok()) << decision.status();
    ASSERT_TRUE(commit.ok() || absl::IsFailedPrecondition(commit.status())) << commit.status();
    bool commit_won = commit.ok();
    bool answered_committed = *decision == LocalDecision::kCommitted;
    ASSERT_EQ(commit_won, answered_committed) << "round " << round << ": both sides must agree";
    commits_won += commit_won;
  }
  EXPECT_EQ(Orders(*db_), commits_won) << "local writes exist exactly for the commits that won";
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM tcc_decision"), kRounds);
  std::cout << "local commits won " << commits_won << " of " << kRounds << " rounds\n";
  EXPECT_GT(commits_won, 0) << "the race never went the initiator's way";
  EXPECT_LT(commits_won, kRounds) << "the race never went the fence's way";
}

}  // namespace
}  // namespace tcc::sdk::testing
