// Several coordinators on one PostgreSQL database, at the store level: the
// fence on owner and epoch, claims of orphaned GTs (dead or departed
// instances only, never a live one's), and a departure handing GTs back.
// The same through real tccd processes is in
// tests/coordinator/server/postgres_takeover_test.cc.
#include <gtest/gtest.h>

#include "coordinator/store/ownership.h"
#include "coordinator/store/postgres_instances.h"
#include "coordinator/store/postgres_store.h"
#include "coordinator/store/store_queue.h"
#include "tcc/common/blocking_counter.h"
#include "tests/coordinator/store/store_test_util.h"
#include "tests/test_util/postgres_cluster.h"
#include "tests/test_util/status_matchers.h"

namespace tcc {
namespace {

using ::tcc::testing::InBatch;
using ::tcc::testing::SampleTransaction;
using ::tcc::testing::StatusIs;

class PostgresOwnershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = ::tcc::testing::NewSchemaForCurrentTest();
    ASSERT_OK(schema);
    uri_ = schema->uri;
    a_ = Open("a");
    b_ = Open("b");
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
  }

  std::unique_ptr<PostgresStore> Open(const std::string& instance) {
    auto store = PostgresStore::Open(
        {.uri = uri_, .instance_id = instance, .lease = absl::Milliseconds(500)});
    EXPECT_OK(store);
    return store.ok() ? std::move(*store) : nullptr;
  }

  // `gt` created by instance `owner` (epoch 0), as its engine would.
  void CreateOwned(PostgresStore& store, GlobalTransaction gt) {
    gt.owner = store.instance_id();
    ASSERT_OK(InBatch(store, [&] { return store.Create(gt).status(); }));
  }

  // A header write of `gt` (as read) moving it to `state`, fenced on what
  // `gt` says and stored as `owner` with `epoch`.
  static absl::Status Write(PostgresStore& store, const GlobalTransaction& gt, TxState state,
                            const std::string& owner, int64_t epoch) {
    GlobalTransaction header = gt;
    header.state = state;
    header.owner = owner;
    header.epoch = epoch;
    TransactionUpdate update{.header = &header};
    update.expected_owner = gt.owner;
    update.expected_epoch = gt.epoch;
    return InBatch(store, [&] { return store.Update(update); });
  }

  GlobalTransaction Stored(PostgresStore& store, const std::string& gid) {
    GlobalTransaction found;
    EXPECT_OK(InBatch(store, [&]() -> absl::Status {
      auto read = store.Find(gid);
      if (!read.ok()) return read.status();
      if (!*read) return absl::NotFoundError(gid);
      found = **read;
      return absl::OkStatus();
    }));
    return found;
  }

  std::vector<GlobalTransaction> Claim(PostgresStore& store) {
    std::vector<GlobalTransaction> claimed;
    EXPECT_OK(InBatch(store, [&]() -> absl::Status {
      auto got = store.ClaimOrphans(100);
      if (!got.ok()) return got.status();
      claimed = *got;
      return absl::OkStatus();
    }));
    return claimed;
  }

  std::string uri_;
  std::unique_ptr<PostgresStore> a_;
  std::unique_ptr<PostgresStore> b_;
};

TEST_F(PostgresOwnershipTest, AStaleOwnersWriteIsRefusedAndChangesNothing) {
  CreateOwned(*a_, SampleTransaction("gt-1"));
  GlobalTransaction as_a_knew = Stored(*a_, "gt-1");
  EXPECT_EQ(as_a_knew.owner, "a");
  // No heartbeat row for "a": b takes it for dead and claims it.
  std::vector<GlobalTransaction> claimed = Claim(*b_);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].owner, "b");
  EXPECT_EQ(claimed[0].epoch, 1);
  ASSERT_EQ(claimed[0].branches.size(), 1u) << "claimed with its branches, ready to drive";

  absl::Status late = Write(*a_, as_a_knew, TxState::kCommitting, "a", 0);
  EXPECT_THAT(late, StatusIs(absl::StatusCode::kAborted, "moved to b (epoch 1)"));
  EXPECT_EQ(MovedTo(late), std::optional<std::string>("b"));
  GlobalTransaction stored = Stored(*b_, "gt-1");
  EXPECT_EQ(stored.state, TxState::kTrying) << "the refused write changed nothing";
  EXPECT_EQ(stored.owner, "b");

  EXPECT_OK(Write(*b_, claimed[0], TxState::kRollingBack, "b", 1)) << "the owner's write passes";
  EXPECT_EQ(Stored(*a_, "gt-1").state, TxState::kRollingBack);
}

TEST_F(PostgresOwnershipTest, AWriteByANonOwnerClaimsInTheSameCompareAndSwap) {
  CreateOwned(*a_, SampleTransaction("gt-2"));
  GlobalTransaction read_by_b = Stored(*b_, "gt-2");
  // A decision reaching b: fenced on a's epoch, it moves ownership to b.
  ASSERT_OK(Write(*b_, read_by_b, TxState::kCommitting, "b", read_by_b.epoch + 1));
  GlobalTransaction stored = Stored(*b_, "gt-2");
  EXPECT_EQ(stored.owner, "b");
  EXPECT_EQ(stored.epoch, 1);
  // a, unaware, tries the opposite decision: refused.
  EXPECT_THAT(Write(*a_, read_by_b, TxState::kRollingBack, "a", 0),
              StatusIs(absl::StatusCode::kAborted, "moved to b"));
  EXPECT_EQ(Stored(*a_, "gt-2").state, TxState::kCommitting);
}

TEST_F(PostgresOwnershipTest, ARefusedOperationLeavesTheRestOfItsBatch) {
  CreateOwned(*a_, SampleTransaction("gt-3"));
  GlobalTransaction stale = Stored(*a_, "gt-3");
  ASSERT_EQ(Claim(*b_).size(), 1u);
  // As the StoreQueue runs a batch: each operation in its own savepoint.
  ASSERT_OK(a_->BeginBatch());
  ASSERT_OK(a_->BeginOperation());
  GlobalTransaction header = stale;
  header.state = TxState::kCommitting;
  TransactionUpdate update{.header = &header, .expected_owner = "a", .expected_epoch = 0};
  EXPECT_THAT(a_->Update(update), StatusIs(absl::StatusCode::kAborted));
  a_->EndOperation(false);
  ASSERT_OK(a_->BeginOperation());
  GlobalTransaction neighbour = SampleTransaction("gt-4");
  neighbour.owner = "a";
  ASSERT_OK(a_->Create(neighbour));
  a_->EndOperation(true);
  ASSERT_OK(a_->CommitBatch());
  EXPECT_EQ(Stored(*b_, "gt-4").owner, "a");
  EXPECT_EQ(Stored(*b_, "gt-3").state, TxState::kTrying);
}

// Runs `operations` in one batch of `queue` (held behind `hold` while they
// queue up) and returns their results.
std::vector<absl::Status> InOneBatch(StoreQueue& queue, ::tcc::testing::WriterHold& hold,
                                     std::vector<StoreQueue::Operation> operations) {
  std::vector<absl::Status> results(operations.size());
  tcc::BlockingCounter done(static_cast<int>(operations.size()));
  EXPECT_OK(hold.Hold(queue));
  for (size_t i = 0; i < operations.size(); ++i) {
    absl::Status submitted =
        queue.Submit(std::move(operations[i]), [&results, &done, i](absl::Status status) {
          results[i] = std::move(status);
          done.DecrementCount();
        });
    if (!submitted.ok()) {
      results[i] = submitted;
      done.DecrementCount();
    }
  }
  hold.Release();
  done.Wait();
  return results;
}

// The StoreQueue's batches send their writes without waiting, presuming
// each succeeds. One whose answer differs (a gid already present, a fence
// that moved) makes the whole batch run again one answer at a time: every
// operation gets its true answer, the refused ones leave nothing, the rest
// commits.
TEST_F(PostgresOwnershipTest, ABatchWithAWrongPresumptionRunsAgainWithTrueAnswers) {
  CreateOwned(*a_, SampleTransaction("moved"));
  GlobalTransaction stale = Stored(*a_, "moved");
  ASSERT_EQ(Claim(*b_).size(), 1u);
  CreateOwned(*a_, SampleTransaction("present"));
  GlobalTransaction present = Stored(*a_, "present");
  ::tcc::testing::WriterHold first, second;  // Before the queue: they outlive the writer.
  StoreQueue queue(std::move(a_));
  // As presumed: one round, no replay.
  std::vector<absl::Status> results = InOneBatch(queue, first, {[&](TransactionStore& store) {
                                                   GlobalTransaction gt = SampleTransaction("new");
                                                   gt.owner = "a";
                                                   return store.Create(gt).status();
                                                 }});
  EXPECT_OK(results[0]);
  EXPECT_EQ(queue.stats().replayed, 0u);

  absl::StatusOr<bool> created_present = true;
  results = InOneBatch(
      queue, second,
      {[&](TransactionStore& store) {
         created_present = store.Create(SampleTransaction("present"));
         return created_present.status();
       },
       [&](TransactionStore& store) {
         GlobalTransaction header = stale;
         header.state = TxState::kCommitting;
         return store.Update({.header = &header, .expected_owner = "a", .expected_epoch = 0});
       },
       [&](TransactionStore& store) {
         GlobalTransaction header = present;
         header.state = TxState::kCommitting;
         return store.Update({.header = &header, .expected_owner = "a", .expected_epoch = 0});
       }});
  EXPECT_EQ(queue.stats().replayed, 1u);
  EXPECT_OK(results[0]);
  ASSERT_OK(created_present);
  EXPECT_FALSE(*created_present) << "the true answer, not the presumed one";
  EXPECT_THAT(results[1], StatusIs(absl::StatusCode::kAborted, "moved to b"));
  EXPECT_OK(results[2]);
  EXPECT_EQ(Stored(*b_, "new").owner, "a");
  EXPECT_EQ(Stored(*b_, "present").state, TxState::kCommitting);
  EXPECT_EQ(Stored(*b_, "moved").state, TxState::kTrying);
  EXPECT_EQ(Stored(*b_, "moved").owner, "b");
}

// Without savepoints, an operation that fails after it wrote cannot be
// undone alone: the batch runs again, and there it leaves nothing.
TEST_F(PostgresOwnershipTest, AnOperationFailingAfterItWroteIsUndoneByTheReplay) {
  ::tcc::testing::WriterHold hold;  // Before the queue: it outlives the writer.
  StoreQueue queue(std::move(a_));
  std::vector<absl::Status> results =
      InOneBatch(queue, hold,
                 {[](TransactionStore& store) -> absl::Status {
                    absl::StatusOr<bool> created = store.Create(SampleTransaction("half-done"));
                    if (!created.ok()) return created.status();
                    return absl::InternalError("failed after writing");
                  },
                  [](TransactionStore& store) {
                    return store.Create(SampleTransaction("neighbour")).status();
                  }});
  EXPECT_THAT(results[0], StatusIs(absl::StatusCode::kInternal, "failed after writing"));
  EXPECT_OK(results[1]);
  EXPECT_EQ(queue.stats().replayed, 1u);
  EXPECT_FALSE(b_->Find("half-done")->has_value()) << "a failed operation leaves nothing";
  EXPECT_TRUE(b_->Find("neighbour")->has_value());
}

TEST_F(PostgresOwnershipTest, ALiveInstanceKeepsItsTransactionsUntilItLeaves) {
  auto instances = PostgresInstances::Open(uri_, "a", "127.0.0.1:1");
  ASSERT_OK(instances);
  CreateOwned(*a_, SampleTransaction("gt-5"));
  GlobalTransaction finished = SampleTransaction("gt-6");
  finished.state = TxState::kCommitted;
  CreateOwned(*a_, finished);
  EXPECT_TRUE(Claim(*b_).empty()) << "a's heartbeat is fresh";

  absl::StatusOr<int64_t> released = (*instances)->Leave();
  ASSERT_OK(released);
  EXPECT_EQ(*released, 1) << "only the unfinished one";
  std::vector<GlobalTransaction> claimed = Claim(*b_);
  ASSERT_EQ(claimed.size(), 1u) << "released: claimed at once, no lease to wait for";
  EXPECT_EQ(claimed[0].gid, "gt-5");
  EXPECT_EQ(claimed[0].epoch, 2) << "the release and the claim each moved the epoch";
}

TEST_F(PostgresOwnershipTest, AnInstanceIsDeadOnceItsHeartbeatIsOlderThanTheLease) {
  auto instances = PostgresInstances::Open(uri_, "a", "127.0.0.1:1");
  ASSERT_OK(instances);
  CreateOwned(*a_, SampleTransaction("gt-7"));
  EXPECT_TRUE(Claim(*b_).empty());
  absl::SleepFor(absl::Milliseconds(700));  // b's lease is 500 ms.
  auto b_alive = PostgresInstances::Open(uri_, "b", "127.0.0.1:2");
  ASSERT_OK(b_alive);
  ASSERT_EQ(Claim(*b_).size(), 1u);
  EXPECT_TRUE(Claim(*b_).empty()) << "b's own are not claimed again";
  EXPECT_TRUE(Claim(*a_).empty()) << "b is live: a cannot take them back";
}

TEST_F(PostgresOwnershipTest, LoadUnfinishedReturnsOwnAndOrphanedTransactionsOnly) {
  auto live = PostgresInstances::Open(uri_, "c", "127.0.0.1:3");
  ASSERT_OK(live);
  auto c = Open("c");
  ASSERT_NE(c, nullptr);
  CreateOwned(*c, SampleTransaction("of-live-c"));
  CreateOwned(*a_, SampleTransaction("of-dead-a"));
  CreateOwned(*b_, SampleTransaction("own"));
  std::vector<GlobalTransaction> loaded;
  ASSERT_OK(InBatch(*b_, [&]() -> absl::Status {
    auto got = b_->LoadUnfinished();
    if (!got.ok()) return got.status();
    loaded = *got;
    return absl::OkStatus();
  }));
  std::vector<std::string> gids;
  for (const GlobalTransaction& gt : loaded) gids.push_back(gt.gid);
  EXPECT_THAT(gids, ::testing::UnorderedElementsAre("of-dead-a", "own"));
}

}  // namespace
}  // namespace tcc
