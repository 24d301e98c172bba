// Concurrent duplicates: N threads, each on its own connection, deliver the
// same phase of the same branch at the same moment. The unique key on
// (gid, branch_id, op) must leave exactly one effect.
#include <latch>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tcc/sdk/barrier.h"
#include "tests/participant-sdk/points_service.h"
#include "tests/participant-sdk/test_db.h"

namespace tcc::sdk::testing {
namespace {

constexpr int kThreads = 8;
constexpr int kRounds = 10;

class BarrierConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("points.db");
    std::unique_ptr<Database> db = OpenTestDb(path_);
    ASSERT_NE(db, nullptr);
    ASSERT_OK(CreateBarrierTable(*db));
    ASSERT_OK(points_.Setup(*db, "alice", 1000));
    // One Database (so one connection pool) per thread: nothing in this
    // process serializes them, only SQLite and the unique key.
    for (int i = 0; i < kThreads; ++i) {
      dbs_.push_back(OpenTestDb(path_, 1));
      ASSERT_NE(dbs_.back(), nullptr);
    }
  }

  // Runs call(thread_index) on every thread, released at once.
  template <typename Fn>
  void RunTogether(Fn call) {
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        call(i);
      });
    }
    for (std::thread& t : threads) t.join();
  }

  TempDir dir_;
  std::string path_;
  PointsService points_;
  std::vector<std::unique_ptr<Database>> dbs_;
};

TEST_F(BarrierConcurrencyTest, ConcurrentConfirmsHaveExactlyOneEffect) {
  ActionHandlers h = points_.Handlers();
  for (int round = 0; round < kRounds; ++round) {
    BranchRequest r = PointsService::Request(absl::StrCat("gid-", round), "b1", "alice", 10);
    absl::StatusOr<BarrierAnswer> tried = RunTry(*dbs_[0], r, h.on_try);
    ASSERT_OK(tried);
    ASSERT_FALSE(tried->refused);

    std::atomic<int> ok{0};
    std::atomic<int> firsts{0};
    RunTogether([&](int i) {
      absl::StatusOr<BarrierAnswer> answer = RunConfirm(*dbs_[i], r, h.on_confirm);
      EXPECT_TRUE(answer.ok()) << answer.status();
      if (!answer.ok()) return;
      ++ok;
      EXPECT_FALSE(answer->refused);
      if (!answer->duplicate) ++firsts;
    });
    EXPECT_EQ(ok, kThreads);
    EXPECT_EQ(firsts, 1) << "round " << round;
  }
  EXPECT_EQ(points_.confirm_runs, kRounds);
  EXPECT_EQ(Balance(*dbs_[0], "alice"), 1000 - 10 * kRounds);
  EXPECT_EQ(Frozen(*dbs_[0], "alice"), 0);
}

TEST_F(BarrierConcurrencyTest, ConcurrentTriesReserveOnce) {
  ActionHandlers h = points_.Handlers();
  for (int round = 0; round < kRounds; ++round) {
    BranchRequest r = PointsService::Request(absl::StrCat("gid-", round), "b1", "alice", 10);
    RunTogether([&](int i) {
      absl::StatusOr<BarrierAnswer> answer = RunTry(*dbs_[i], r, h.on_try);
      EXPECT_TRUE(answer.ok()) << answer.status();
      if (answer.ok()) EXPECT_FALSE(answer->refused);
    });
  }
  EXPECT_EQ(points_.try_runs, kRounds);
  EXPECT_EQ(Frozen(*dbs_[0], "alice"), 10 * kRounds);
}

// Half the threads Try, half Cancel, at once: whatever the order, nothing
// stays frozen (Try then Cancel undoes; Cancel then Try refuses).
TEST_F(BarrierConcurrencyTest, TryRacingCancelNeverLeavesAHangingReservation) {
  ActionHandlers h = points_.Handlers();
  for (int round = 0; round < kRounds; ++round) {
    BranchRequest r = PointsService::Request(absl::StrCat("gid-", round), "b1", "alice", 10);
    RunTogether([&](int i) {
      absl::StatusOr<BarrierAnswer> answer =
          i % 2 == 0 ? RunTry(*dbs_[i], r, h.on_try) : RunCancel(*dbs_[i], r, h.on_cancel);
      EXPECT_TRUE(answer.ok()) << answer.status();
    });
    EXPECT_EQ(Frozen(*dbs_[0], "alice"), 0) << "round " << round;
  }
  EXPECT_LE(points_.try_runs, kRounds);
  EXPECT_EQ(points_.cancel_runs, points_.try_runs) << "every reservation made was undone";
  EXPECT_EQ(Balance(*dbs_[0], "alice"), 1000);
}

}  // namespace
}  // namespace tcc::sdk::testing
