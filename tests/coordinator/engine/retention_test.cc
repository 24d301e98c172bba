// Retention on manual time: nothing is deleted before the window has
// passed, a backlog goes in back-to-back batches, then one look per
// interval; unfinished GTs stay; Stop stops it.
#include "coordinator/engine/retention.h"

#include <gtest/gtest.h>

#include "coordinator/domain/manual_time.h"
#include "coordinator/store/memory_store.h"
#include "tests/test_util/status_matchers.h"

namespace tcc {
namespace {

class RetentionTest : public ::testing::Test {
 protected:
  RetentionTest() {
    auto store = std::make_unique<MemoryStore>();
    store_ = store.get();
    queue_ = std::make_unique<StoreQueue>(std::move(store));
  }
  ~RetentionTest() override { queue_->Stop(); }

  void Add(const std::string& gid, TxState state) {
    GlobalTransaction gt;
    gt.gid = gid;
    gt.state = state;
    gt.created_ms = gt.updated_ms = clock_.NowMs();
    ASSERT_OK(store_->Create(gt));
  }
  // Runs what is due, then waits until the store work it queued (and the
  // completions that schedule the next look) is done; repeats while that
  // made more work due.
  void Settle() {
    do {
      EXPECT_OK(queue_->RunAndWait([](TransactionStore&) { return absl::OkStatus(); }));
    } while (scheduler_.RunDue() > 0);
  }
  // Lets `minutes` pass one at a time, settling after each.
  void PassMinutes(int minutes) {
    for (int i = 0; i < minutes; ++i) {
      scheduler_.Advance(absl::Minutes(1));
      Settle();
    }
  }
  size_t Stored() {
    size_t count = 0;
    for (const char* gid : {"f1", "f2", "f3", "f4", "f5", "open"}) {
      count += store_->Find(gid)->has_value() ? 1 : 0;
    }
    return count;
  }

  ManualClock clock_;
  ManualScheduler scheduler_{&clock_};
  MemoryStore* store_ = nullptr;
  std::unique_ptr<StoreQueue> queue_;
};

TEST_F(RetentionTest, DeletesFinishedTransactionsOnceTheirWindowHasPassed) {
  for (const char* gid : {"f1", "f2", "f3", "f4", "f5"}) Add(gid, TxState::kCommitted);
  Add("open", TxState::kCommitting);
  Retention retention({.retention = absl::Hours(1), .interval = absl::Minutes(1), .batch = 2},
                      queue_.get(), &scheduler_, &clock_);
  retention.Start();
  scheduler_.RunDue();
  Settle();
  EXPECT_EQ(Stored(), 6u) << "nothing is older than the window yet";
  EXPECT_EQ(retention.stats().deleted, 0u);
  PassMinutes(60);
  EXPECT_EQ(Stored(), 6u) << "exactly one window old is not older than the window";
  PassMinutes(1);
  // Five in batches of two: 2, 2 (full: the next right away), 1 (not full).
  EXPECT_EQ(retention.stats().deleted, 5u);
  EXPECT_EQ(Stored(), 1u) << "the unfinished one stays, however old";
  EXPECT_TRUE(store_->Find("open")->has_value());
  EXPECT_EQ(scheduler_.pending(), 1u) << "the next look, one interval later";
  EXPECT_EQ(scheduler_.NextDue(), clock_.Now() + absl::Minutes(1));
}

TEST_F(RetentionTest, ZeroKeepsEverythingAndStopStops) {
  Add("f1", TxState::kCommitted);
  Retention keep_all({.retention = absl::ZeroDuration()}, queue_.get(), &scheduler_, &clock_);
  keep_all.Start();
  EXPECT_EQ(scheduler_.pending(), 0u);
  Retention stopped({.retention = absl::Seconds(1)}, queue_.get(), &scheduler_, &clock_);
  stopped.Start();
  stopped.Stop();
  scheduler_.Advance(absl::Hours(1));
  Settle();
  EXPECT_TRUE(store_->Find("f1")->has_value());
  EXPECT_EQ(stopped.stats().batches, 0u);
}

}  // namespace
}  // namespace tcc
