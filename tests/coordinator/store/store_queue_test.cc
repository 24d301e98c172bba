#include "coordinator/store/store_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "coordinator/domain/manual_time.h"
#include "coordinator/store/memory_store.h"
#include "coordinator/store/sqlite_store.h"
#include "coordinator/store/transaction_store_wrapper.h"
#include "tcc/common/blocking_counter.h"
#include "tcc/common/notification.h"
#include "tests/coordinator/store/store_test_util.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"

namespace tcc {
namespace {

using ::tcc::testing::StatusIs;

GlobalTransaction Tx(const std::string& gid) {
  GlobalTransaction gt;
  gt.gid = gid;
  return gt;
}

TEST(StoreQueue, ConcurrentWritersShareBatchesAndAllBecomeDurable) {
  ::tcc::testing::TempDir dir;
  std::string path = dir.File("tccd.db");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 250;
  StoreQueue::Stats stats;
  {
    auto store = SqliteStore::Open({.path = path});
    ASSERT_OK(store);
    StoreQueue queue(std::move(*store));
    tcc::BlockingCounter done(kThreads * kPerThread);
    std::atomic<int> failures = 0;
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::string gid = "g" + std::to_string(t) + "-" + std::to_string(i);
          absl::Status submitted =
              queue.Submit([gid](TransactionStore& s) { return s.Create(Tx(gid)).status(); },
                           [&](absl::Status status) {
                             if (!status.ok()) ++failures;
                             done.DecrementCount();
                           });
          if (!submitted.ok()) ++failures, done.DecrementCount();
        }
      });
    }
    for (auto& writer : writers) writer.join();
    done.Wait();
    EXPECT_EQ(failures, 0);
    stats = queue.stats();
  }
  EXPECT_EQ(stats.operations, static_cast<uint64_t>(kThreads * kPerThread));
  // Group commit: many operations per batch (one fsync each).
  EXPECT_LT(stats.batches, stats.operations);
  auto reopened = SqliteStore::Open({.path = path});
  ASSERT_OK(reopened);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE((*(*reopened)->Find("g" + std::to_string(t) + "-" + std::to_string(kPerThread - 1)))
                    .has_value());
  }
}

TEST(StoreQueue, AFailingOperationLeavesNoWritesAndDoesNotSinkTheBatch) {
  ::tcc::testing::TempDir dir;
  auto store = SqliteStore::Open({.path = dir.File("tccd.db")});
  ASSERT_OK(store);
  SqliteStore* raw = store->get();
  StoreQueue queue(std::move(*store));
  absl::Status failed = queue.RunAndWait([](TransactionStore& s) -> absl::Status {
    if (absl::Status created = s.Create(Tx("half")).status(); !created.ok()) return created;
    return absl::InternalError("fails after writing");
  });
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kInternal));
  ASSERT_OK(queue.RunAndWait([](TransactionStore& s) { return s.Create(Tx("whole")).status(); }));
  queue.Stop();
  EXPECT_FALSE((*raw->Find("half")).has_value());
  EXPECT_TRUE((*raw->Find("whole")).has_value());
}

// An operation's status is the answer a client gets: the queue must not
// turn DATA_LOSS (never retry) into something a client would retry.
TEST(StoreQueue, CompletionsGetTheOperationsOwnCode) {
  StoreQueue queue(std::make_unique<MemoryStore>());
  for (absl::Status status :
       {absl::DataLossError("damaged row"), absl::ResourceExhaustedError("disk full"),
        absl::FailedPreconditionError("read-only file"), absl::AlreadyExistsError("duplicate"),
        absl::UnavailableError("busy"), absl::OkStatus()}) {
    EXPECT_EQ(queue.RunAndWait([status](TransactionStore&) { return status; }), status);
  }
}

// Wraps a MemoryStore and fails every COMMIT with `commit_error`.
class CommitFailingStore final : public TransactionStore {
 public:
  explicit CommitFailingStore(absl::Status commit_error) : commit_error_(commit_error) {}

  absl::Status BeginBatch() override { return inner_.BeginBatch(); }
  absl::Status CommitBatch() override { return commit_error_; }
  void AbortBatch() override { inner_.AbortBatch(); }
  absl::Status BeginOperation() override { return inner_.BeginOperation(); }
  void EndOperation(bool keep) override { inner_.EndOperation(keep); }
  absl::StatusOr<bool> Create(const GlobalTransaction& gt) override { return inner_.Create(gt); }
  absl::Status Update(const TransactionUpdate& update) override { return inner_.Update(update); }
  absl::StatusOr<std::optional<GlobalTransaction>> Find(absl::string_view gid) override {
    return inner_.Find(gid);
  }
  absl::StatusOr<std::vector<GlobalTransaction>> LoadUnfinished() override {
    return inner_.LoadUnfinished();
  }
  absl::Status AppendEvents(absl::string_view gid,
                            const std::vector<TimelineEvent>& events) override {
    return inner_.AppendEvents(gid, events);
  }

 private:
  const absl::Status commit_error_;
  MemoryStore inner_;
};

TEST(StoreQueue, AFailedCommitDoesNotHideAnOperationsOwnError) {
  StoreQueue queue(std::make_unique<CommitFailingStore>(absl::UnavailableError("commit: busy")));
  // A failed operation wrote nothing, so the commit was not its outcome.
  EXPECT_THAT(
      queue.RunAndWait([](TransactionStore&) { return absl::DataLossError("damaged row"); }),
      StatusIs(absl::StatusCode::kDataLoss, "damaged row"));
  // One that succeeded lost its writes with the batch: the commit's error.
  EXPECT_THAT(queue.RunAndWait([](TransactionStore& s) { return s.Create(Tx("g")).status(); }),
              StatusIs(absl::StatusCode::kUnavailable, "commit: busy"));
}

TEST(StoreQueue, AFailedCommitKeepsItsOwnCode) {
  StoreQueue queue(std::make_unique<CommitFailingStore>(absl::DataLossError("commit: corrupt")));
  EXPECT_THAT(queue.RunAndWait([](TransactionStore& s) { return s.Create(Tx("g")).status(); }),
              StatusIs(absl::StatusCode::kDataLoss, "commit: corrupt"));
}

TEST(StoreQueue, AFailedBatchsCompletionsRunBeforeTheNextBatch) {
  tcc::Notification first_running;  // Before the queue: they outlive its threads.
  tcc::Notification second_queued;
  std::atomic<bool> first_completed = false;
  std::atomic<bool> completed_before_second_ran = false;
  tcc::Notification second_done;
  StoreQueue queue(std::make_unique<CommitFailingStore>(absl::UnavailableError("commit: busy")));
  // The first operation holds its batch open until the second is queued,
  // so the second runs in a later batch; the first's completion is slow.
  ASSERT_OK(queue.Submit(
      [&](TransactionStore&) {
        first_running.Notify();
        second_queued.WaitForNotification();
        return absl::OkStatus();
      },
      [&](absl::Status status) {
        EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable, "commit: busy"));
        absl::SleepFor(absl::Milliseconds(50));
        first_completed = true;
      }));
  first_running.WaitForNotification();
  ASSERT_OK(queue.Submit(
      [&](TransactionStore&) {
        completed_before_second_ran = first_completed.load();
        return absl::OkStatus();
      },
      [&](absl::Status) { second_done.Notify(); }));
  second_queued.Notify();
  second_done.WaitForNotification();
  EXPECT_TRUE(completed_before_second_ran)
      << "a caller must hear of a lost batch before its later operations run";
}

TEST(StoreQueue, RefusesWorkBeyondItsBound) {
  ::tcc::testing::WriterHold hold;  // Before the queue: it outlives the writer.
  StoreQueue queue(std::make_unique<MemoryStore>(), {.max_pending = 2, .max_batch = 1});
  // The first operation blocks the writer so that the queue fills up.
  ASSERT_OK(hold.Hold(queue));
  auto noop = [](TransactionStore&) { return absl::OkStatus(); };
  EXPECT_OK(queue.Submit(noop, [](absl::Status) {}));
  EXPECT_OK(queue.Submit(noop, [](absl::Status) {}));
  EXPECT_THAT(queue.Submit(noop, [](absl::Status) {}),
              StatusIs(absl::StatusCode::kResourceExhausted, "store queue is full"));
  hold.Release();
}

// Records what the queue reports per batch.
class RecordingBatchObserver final : public StoreQueueObserver {
 public:
  struct Batch {
    size_t operations;
    absl::Duration commit;
    absl::StatusCode code;
  };
  void BatchFinished(size_t operations, absl::Duration commit,
                     const absl::Status& status) override {
    tcc::MutexLock lock(&mu_);
    batches_.push_back({operations, commit, status.code()});
  }
  std::vector<Batch> batches() const {
    tcc::MutexLock lock(&mu_);
    return batches_;
  }

 private:
  mutable tcc::Mutex mu_;
  std::vector<Batch> batches_ ABSL_GUARDED_BY(mu_);
};

// A commit that takes 5ms of manual time, or fails.
class TimedCommitStore final : public TransactionStoreWrapper {
 public:
  TimedCommitStore(ManualClock* clock, absl::Status commit)
      : TransactionStoreWrapper(std::make_unique<MemoryStore>()), clock_(clock), commit_(commit) {}
  absl::Status CommitBatch() override {
    clock_->Advance(absl::Milliseconds(5));
    return commit_.ok() ? TransactionStoreWrapper::CommitBatch() : commit_;
  }

 private:
  ManualClock* const clock_;
  const absl::Status commit_;
};

TEST(StoreQueue, ReportsEachBatchsSizeCommitTimeAndResult) {
  ManualClock clock;
  RecordingBatchObserver observer;
  ::tcc::testing::WriterHold hold;  // Before the queue: it outlives the writer.
  StoreQueue queue(std::make_unique<TimedCommitStore>(&clock, absl::OkStatus()),
                   {.observer = &observer, .clock = &clock});
  // The first batch holds the writer while three operations queue behind it.
  ASSERT_OK(hold.Hold(queue));
  tcc::BlockingCounter done(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(queue.Submit([](TransactionStore&) { return absl::OkStatus(); },
                           [&](absl::Status) { done.DecrementCount(); }));
  }
  EXPECT_EQ(queue.depth(), 3u);
  hold.Release();
  done.Wait();
  std::vector<RecordingBatchObserver::Batch> batches = observer.batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].operations, 1u);
  EXPECT_EQ(batches[1].operations, 3u);
  EXPECT_EQ(batches[1].commit, absl::Milliseconds(5));
  EXPECT_EQ(batches[1].code, absl::StatusCode::kOk);
}

// A store that wants small batches (PostgreSQL: each operation is a
// subtransaction) gets no more operations per batch than it asks for.
class SmallBatchStore final : public TransactionStoreWrapper {
 public:
  SmallBatchStore() : TransactionStoreWrapper(std::make_unique<MemoryStore>()) {}
  size_t MaxOperationsPerBatch() const override { return 2; }
};

TEST(StoreQueue, ABatchHoldsNoMoreOperationsThanTheStoreTakes) {
  RecordingBatchObserver observer;
  ::tcc::testing::WriterHold hold;  // Before the queue: it outlives the writer.
  StoreQueue queue(std::make_unique<SmallBatchStore>(), {.max_batch = 100, .observer = &observer});
  ASSERT_OK(hold.Hold(queue));
  tcc::BlockingCounter done(5);
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(queue.Submit([](TransactionStore&) { return absl::OkStatus(); },
                           [&](absl::Status) { done.DecrementCount(); }));
  }
  hold.Release();
  done.Wait();
  std::vector<size_t> sizes;
  for (const RecordingBatchObserver::Batch& batch : observer.batches()) {
    sizes.push_back(batch.operations);
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 2, 2, 1}));
}

TEST(StoreQueue, ReportsAFailedCommit) {
  ManualClock clock;
  RecordingBatchObserver observer;
  StoreQueue queue(std::make_unique<TimedCommitStore>(&clock, absl::UnavailableError("disk")),
                   {.observer = &observer, .clock = &clock});
  EXPECT_THAT(queue.RunAndWait([](TransactionStore&) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kUnavailable));
  std::vector<RecordingBatchObserver::Batch> batches = observer.batches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].code, absl::StatusCode::kUnavailable);
}

// A store (SQLite underneath, which can undo a batch) whose replayable
// batches presume every Create succeeds: a replayable batch that created a
// gid already present fails at commit and asks for the replay, as the
// PostgreSQL store does with its sent writes.
class PresumingStore final : public TransactionStoreWrapper {
 public:
  explicit PresumingStore(std::unique_ptr<TransactionStore> inner)
      : TransactionStoreWrapper(std::move(inner)) {}

  absl::Status BeginReplayableBatch() override {
    presuming_ = true;
    presumed_wrong_ = false;
    ++replayable_batches_;
    return TransactionStoreWrapper::BeginBatch();
  }
  absl::Status BeginBatch() override {
    presuming_ = false;
    presumed_wrong_ = false;
    return TransactionStoreWrapper::BeginBatch();
  }
  bool ReplayBatch() const override { return presumed_wrong_; }
  absl::StatusOr<bool> Create(const GlobalTransaction& gt) override {
    absl::StatusOr<bool> created = TransactionStoreWrapper::Create(gt);
    if (!presuming_ || !created.ok()) return created;
    if (!*created) presumed_wrong_ = true;
    return true;
  }
  absl::Status CommitBatch() override {
    if (presumed_wrong_) return absl::AbortedError("presumed wrong");
    return TransactionStoreWrapper::CommitBatch();
  }
  int replayable_batches() const { return replayable_batches_; }

 private:
  bool presuming_ = false;
  bool presumed_wrong_ = false;
  int replayable_batches_ = 0;
};

TEST(StoreQueue, ABatchWhosePresumedAnswerWasWrongRunsAgainAndAnswersTruly) {
  ::tcc::testing::TempDir dir;
  auto sqlite = SqliteStore::Open({.path = dir.File("tccd.db")});
  ASSERT_OK(sqlite);
  RecordingBatchObserver observer;
  ::tcc::testing::WriterHold hold;  // Before the queue: it outlives the writer.
  auto owned = std::make_unique<PresumingStore>(std::move(*sqlite));
  PresumingStore* store = owned.get();
  StoreQueue queue(std::move(owned), {.observer = &observer});
  ASSERT_OK(queue.RunAndWait([](TransactionStore& s) { return s.Create(Tx("old")).status(); }));
  ASSERT_OK(hold.Hold(queue));
  // One batch: a new gid, one already present, and an operation counting
  // its runs.
  std::vector<absl::StatusOr<bool>> created(2, false);
  std::atomic<int> runs = 0;
  tcc::BlockingCounter done(3);
  const std::vector<std::string> gids = {"new", "old"};
  for (size_t i = 0; i < gids.size(); ++i) {
    ASSERT_OK(queue.Submit(
        [&, i](TransactionStore& s) {
          created[i] = s.Create(Tx(gids[i]));
          return created[i].status();
        },
        [&](absl::Status) { done.DecrementCount(); }));
  }
  ASSERT_OK(queue.Submit(
      [&](TransactionStore&) {
        ++runs;
        return absl::OkStatus();
      },
      [&](absl::Status) { done.DecrementCount(); }));
  hold.Release();
  done.Wait();
  ASSERT_OK(created[0]);
  ASSERT_OK(created[1]);
  EXPECT_TRUE(*created[0]);
  EXPECT_FALSE(*created[1]) << "the replay's true answer, not the presumed one";
  EXPECT_EQ(runs.load(), 2) << "every operation of the batch ran again";
  EXPECT_EQ(queue.stats().replayed, 1u);
  EXPECT_EQ(store->replayable_batches(), 3) << "the replay itself was an ordinary batch";
  std::vector<RecordingBatchObserver::Batch> batches = observer.batches();
  ASSERT_EQ(batches.size(), 3u) << "the replayed batch reported once";
  EXPECT_EQ(batches[2].operations, 3u);
  EXPECT_EQ(batches[2].code, absl::StatusCode::kOk);
}

}  // namespace
}  // namespace tcc
