// Retention on manual time: nothing is deleted before the window has
// passed, a backlog goes in back-to-back batches, then one look per
// interval; unfinished GTs stay; Stop stops it.
#include "coordinator/engine/retention.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "coordinator/domain/manual_time.h"
#include "coordinator/store/memory_store.h"
#include "coordinator/store/sqlite_queries.h"
#include "coordinator/store/sqlite_store.h"
#include "coordinator/store/transaction_store_wrapper.h"
#include "tcc/common/status_macros.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"

namespace tcc {
namespace {

using ::tcc::testing::TempDir;

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

// A store whose deletes are slow: each takes longer than the budget. The
// budget is real time on the store thread, so the margins are wide: a fast
// in-memory batch must stay under half the budget even under TSan on a
// loaded machine (at 20 ms it did not: 32 stayed 32).
class SlowDeletes : public TransactionStoreWrapper {
 public:
  using TransactionStoreWrapper::TransactionStoreWrapper;
  absl::StatusOr<size_t> DeleteFinishedBefore(int64_t before_ms, size_t limit) override {
    if (slow) absl::SleepFor(absl::Milliseconds(150));
    limits.push_back(limit);
    return TransactionStoreWrapper::DeleteFinishedBefore(before_ms, limit);
  }
  // Only touched on the store thread, or while the queue is idle.
  bool slow = true;
  std::vector<size_t> limits;
};

TEST(RetentionBudgetTest, ASlowBatchHalvesTheNextAndAFastFullOneDoublesIt) {
  ManualClock clock;
  ManualScheduler scheduler(&clock);
  auto memory = std::make_unique<MemoryStore>();
  for (int i = 0; i < 100; ++i) {
    GlobalTransaction gt;
    gt.gid = absl::StrCat("f", i);
    gt.state = TxState::kCommitted;
    gt.created_ms = gt.updated_ms = clock.NowMs();
    ASSERT_OK(memory->Create(gt));
  }
  auto slow = std::make_unique<SlowDeletes>(std::move(memory));
  SlowDeletes* store = slow.get();
  StoreQueue queue(std::move(slow));
  Retention retention({.retention = absl::Seconds(1),
                       .batch = 40,
                       .batch_budget = absl::Milliseconds(100),
                       .min_batch = 8},
                      &queue, &scheduler, &clock);
  auto settle = [&] {
    do {
      EXPECT_OK(queue.RunAndWait([](TransactionStore&) { return absl::OkStatus(); }));
    } while (scheduler.RunDue() > 0);
  };
  retention.Start();
  clock.Advance(absl::Seconds(2));  // Before the first look: everything is due.
  settle();
  // Each delete takes 150 ms against a 100 ms budget: 40, 20, 10, then the
  // floor.
  ASSERT_GE(store->limits.size(), 4u);
  EXPECT_EQ(store->limits[0], 40u);
  EXPECT_EQ(store->limits[1], 20u);
  EXPECT_EQ(store->limits[2], 10u);
  EXPECT_EQ(store->limits[3], 8u);
  EXPECT_EQ(retention.stats().deleted, 100u) << "smaller batches, all of them";
  EXPECT_EQ(retention.stats().batch_limit, 8u);

  // Fast again (well under half the budget): each full batch doubles the
  // next, up to the most.
  ASSERT_OK(queue.RunAndWait([&](TransactionStore& inner) -> absl::Status {
    store->slow = false;
    store->limits.clear();
    for (int i = 0; i < 200; ++i) {
      GlobalTransaction gt;
      gt.gid = absl::StrCat("g", i);
      gt.state = TxState::kCommitted;
      gt.created_ms = gt.updated_ms = clock.NowMs();
      TCC_RETURN_IF_ERROR(inner.Create(gt).status());
    }
    return absl::OkStatus();
  }));
  scheduler.Advance(absl::Minutes(2));
  settle();
  queue.Stop();
  ASSERT_GE(store->limits.size(), 4u);
  EXPECT_EQ(store->limits[0], 8u);
  EXPECT_EQ(store->limits[1], 16u);
  EXPECT_EQ(store->limits[2], 32u);
  EXPECT_EQ(store->limits[3], 40u);
  EXPECT_EQ(retention.stats().deleted, 300u);
}

// With an archive: a batch is read on the queries connection, archived
// (fsynced), then exactly those gids are deleted; a failed archive write
// deletes nothing.
class ArchivingRetentionTest : public ::testing::Test {
 protected:
  ArchivingRetentionTest() {
    auto store = SqliteStore::Open({.path = dir_.File("tccd.db")});
    EXPECT_OK(store);
    queue_ = std::make_unique<StoreQueue>(*std::move(store));
    auto queries = SqliteQueries::Open(dir_.File("tccd.db"));
    EXPECT_OK(queries);
    queries_ = *std::move(queries);
    auto archive = TransactionArchive::Open(dir_.File("archive"));
    EXPECT_OK(archive);
    archive_ = *std::move(archive);
  }
  ~ArchivingRetentionTest() override { queue_->Stop(); }

  void Add(const std::string& gid, TxState state) {
    GlobalTransaction gt;
    gt.gid = gid;
    gt.state = state;
    gt.created_ms = gt.updated_ms = clock_.NowMs();
    gt.branches.push_back({.branch_id = "b1", .target = "t:1", .action = "a"});
    ASSERT_OK(
        queue_->RunAndWait([&](TransactionStore& store) { return store.Create(gt).status(); }));
  }
  bool Stored(const std::string& gid) {
    bool found = false;
    EXPECT_OK(queue_->RunAndWait([&](TransactionStore& store) -> absl::Status {
      auto gt = store.Find(gid);
      found = gt.ok() && gt->has_value();
      return gt.status();
    }));
    return found;
  }
  void Settle() {
    do {
      EXPECT_OK(queue_->RunAndWait([](TransactionStore&) { return absl::OkStatus(); }));
    } while (scheduler_.RunDue() > 0);
  }
  std::string ArchiveFile() {
    return dir_.File("archive/" + TransactionArchive::FileNameFor(clock_.NowMs()));
  }

  TempDir dir_;
  ManualClock clock_;
  ManualScheduler scheduler_{&clock_};
  std::unique_ptr<StoreQueue> queue_;
  std::unique_ptr<TransactionQueries> queries_;
  std::unique_ptr<TransactionArchive> archive_;
};

TEST_F(ArchivingRetentionTest, ArchivesThenDeletesAndAFailedArchiveDeletesNothing) {
  for (const char* gid : {"f1", "f2", "f3"}) Add(gid, TxState::kCommitted);
  Add("open", TxState::kCommitting);
  std::string file = ArchiveFile();
  Retention retention({.retention = absl::Hours(1), .interval = absl::Minutes(1), .batch = 2},
                      queue_.get(), &scheduler_, &clock_, {queries_.get(), archive_.get()});
  retention.Start();
  // The archive directory turns into a file: every append fails.
  std::filesystem::rename(dir_.File("archive"), dir_.File("archive.away"));
  std::ofstream(dir_.File("archive")) << "x";
  scheduler_.Advance(absl::Hours(1) + absl::Minutes(1));
  Settle();
  EXPECT_TRUE(Stored("f1") && Stored("f2") && Stored("f3")) << "not archived: not deleted";
  EXPECT_EQ(retention.stats().archived, 0u);
  EXPECT_EQ(scheduler_.NextDue(), clock_.Now() + absl::Minutes(1)) << "tried again later";

  std::filesystem::remove(dir_.File("archive"));
  std::filesystem::rename(dir_.File("archive.away"), dir_.File("archive"));
  scheduler_.Advance(absl::Minutes(1));
  Settle();
  EXPECT_FALSE(Stored("f1") || Stored("f2") || Stored("f3"));
  EXPECT_TRUE(Stored("open")) << "an unfinished GT is neither archived nor deleted";
  EXPECT_EQ(retention.stats().archived, 3u);
  EXPECT_EQ(retention.stats().deleted, 3u);
  gzFile gz = gzopen(file.c_str(), "rb");
  ASSERT_NE(gz, nullptr) << file;
  std::string text(4096, '\0');
  text.resize(std::max(0, gzread(gz, text.data(), static_cast<unsigned>(text.size()))));
  gzclose(gz);
  for (const char* gid : {"f1", "f2", "f3"}) {
    EXPECT_NE(text.find(absl::StrCat("\"gid\":\"", gid, "\"")), std::string::npos) << gid;
  }
  EXPECT_EQ(text.find("\"open\""), std::string::npos);
}

}  // namespace
}  // namespace tcc
