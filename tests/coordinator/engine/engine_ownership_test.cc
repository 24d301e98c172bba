// The engine's side of ownership among several coordinators, on the
// in-memory store and manual time: a write refused by the fence drops the
// GT (no reload, no further calls) while its neighbours go on; a decision
// reaching a non-owner claims the GT and drives it; a request that only
// reads a GT another instance owns leaves it there. The store's fence
// itself is tested on PostgreSQL (postgres_ownership_test.cc).
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "coordinator/engine/transaction_engine.h"
#include "coordinator/store/memory_store.h"
#include "coordinator/store/ownership.h"
#include "coordinator/store/transaction_store_wrapper.h"
#include "tcc/common/mutex.h"
#include "tests/coordinator/engine/engine_harness.h"
#include "tests/test_util/status_matchers.h"

namespace tcc {
namespace {

using ::tcc::testing::Harness;
using ::tcc::testing::StatusIs;

// Refuses Update of the gids in `moved` as a fenced store would, and
// counts Find calls (a reload would show as one).
class MovedStore final : public TransactionStoreWrapper {
 public:
  explicit MovedStore(std::unique_ptr<TransactionStore> inner)
      : TransactionStoreWrapper(std::move(inner)) {}

  void Move(const std::string& gid) {
    tcc::MutexLock lock(&mu_);
    moved_.insert(gid);
  }
  int finds() const { return finds_; }

  absl::Status Update(const TransactionUpdate& update) override {
    {
      tcc::MutexLock lock(&mu_);
      if (moved_.contains(update.header->gid)) {
        return OwnershipMovedError(update.header->gid, "other", 7);
      }
      last_expected_ = update.expected_owner + "/" + std::to_string(update.expected_epoch);
      last_written_ = update.header->owner + "/" + std::to_string(update.header->epoch);
      writes_.push_back(last_expected_ + " -> " + last_written_);
    }
    return TransactionStoreWrapper::Update(update);
  }
  absl::StatusOr<std::optional<GlobalTransaction>> Find(absl::string_view gid) override {
    ++finds_;
    return TransactionStoreWrapper::Find(gid);
  }

  // The fence of the last write that passed: "owner/epoch" expected, written.
  std::string last_expected() const {
    tcc::MutexLock lock(&mu_);
    return last_expected_;
  }
  std::string last_written() const {
    tcc::MutexLock lock(&mu_);
    return last_written_;
  }
  // Every header write, "expected owner/epoch -> written owner/epoch", in order.
  std::vector<std::string> writes() const {
    tcc::MutexLock lock(&mu_);
    return writes_;
  }

 private:
  mutable tcc::Mutex mu_;
  std::set<std::string> moved_ ABSL_GUARDED_BY(mu_);
  std::string last_expected_ ABSL_GUARDED_BY(mu_);
  std::string last_written_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> writes_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> finds_ = 0;
};

class CountingObserver final : public EngineObserver {
 public:
  void WriteFenced() override { ++fenced; }
  void TransactionClaimed() override { ++claimed; }
  std::atomic<int> fenced = 0;
  std::atomic<int> claimed = 0;
};

Branch Spec(const std::string& id) {
  return Branch{.branch_id = id, .target = "127.0.0.1:7501", .action = "a", .payload = id};
}

EngineOptions Options(CountingObserver* observer) {
  EngineOptions options = ::tcc::testing::FastOptions();
  options.instance_id = "me";
  options.observer = observer;
  return options;
}

TEST(EngineOwnershipTest, AFencedWriteDropsTheTransactionAndSparesItsNeighbours) {
  CountingObserver observer;
  auto owned = std::make_unique<MovedStore>(std::make_unique<MemoryStore>());
  MovedStore* store = owned.get();
  Harness harness(std::move(owned), Options(&observer));
  for (const std::string gid : {"moved", "kept"}) {
    ASSERT_OK(harness.Begin({gid}));
    ASSERT_OK(harness.Try(gid, {Spec("b1")}));
  }
  store->Move("moved");

  EXPECT_THAT(harness.Decide("moved", Decision::kCommit),
              StatusIs(absl::StatusCode::kAborted, "ownership of moved moved to other (epoch 7)"));
  ASSERT_OK(harness.Decide("kept", Decision::kCommit));
  ASSERT_TRUE(harness.WaitForState("kept", TxState::kCommitted));
  EXPECT_EQ(store->last_expected(), "me/0") << "created here: owned, epoch 0";

  const int finds = store->finds();
  harness.Advance(absl::Seconds(5));  // A reload after a store error would come within 1 s.
  harness.Flush();
  EXPECT_EQ(store->finds(), finds) << "the new owner drives it; no reload here";
  EXPECT_EQ(harness.engine().ActiveCount(), 0u);
  // Refused on its copy, then once more after reloading it from the store
  // (RetryOnceIfFencedAway): this store refuses every write of it, as a
  // real race would, so the second refusal is the caller's ABORTED.
  EXPECT_EQ(observer.fenced, 2);
  for (const BranchCall& call : harness.transport().calls()) {
    EXPECT_FALSE(call.gid == "moved" && call.phase != Phase::kTry) << "no Confirm after the fence";
  }
}

// A store holding `gt`.
std::unique_ptr<MemoryStore> StoreWith(const GlobalTransaction& gt) {
  auto store = std::make_unique<MemoryStore>();
  EXPECT_OK(store->BeginBatch());
  EXPECT_OK(store->Create(gt));
  EXPECT_OK(store->CommitBatch());
  return store;
}

// A GT created by another instance, as the store holds it.
std::unique_ptr<MemoryStore> StoreWithForeign(const std::string& gid, TxState state) {
  GlobalTransaction gt;
  gt.gid = gid;
  gt.state = state;
  gt.owner = "other";
  gt.epoch = 3;
  gt.timeout_ms = 30000;  // The engine's default: a repeated Begin matches it.
  gt.deadline_ms = 1;     // Long past: only its owner may time it out.
  Branch branch = Spec("b1");
  branch.state = BranchState::kTried;
  gt.branches.push_back(branch);
  return StoreWith(gt);
}

TEST(EngineOwnershipTest, ADecisionAtANonOwnerClaimsAndDrives) {
  CountingObserver observer;
  auto owned = std::make_unique<MovedStore>(StoreWithForeign("theirs", TxState::kTrying));
  MovedStore* store = owned.get();
  Harness harness(std::move(owned), Options(&observer));
  ASSERT_OK(harness.Decide("theirs", Decision::kCommit));
  // The Confirm and the final write may already have followed: look at the
  // first write, the decision.
  ASSERT_FALSE(store->writes().empty());
  EXPECT_EQ(store->writes().front(), "other/3 -> me/4")
      << "one compare-and-swap: decision and claim";
  ASSERT_TRUE(harness.WaitForState("theirs", TxState::kCommitted));
  EXPECT_EQ(store->last_expected(), "me/4") << "later writes are fenced on the new claim";
  EXPECT_EQ(harness.transport().CountCalls(Phase::kConfirm), 1);
  EXPECT_EQ(observer.claimed, 1);
}

TEST(EngineOwnershipTest, ARequestThatOnlyReadsLeavesTheTransactionToItsOwner) {
  CountingObserver observer;
  Harness harness(StoreWithForeign("theirs", TxState::kCommitting), Options(&observer));
  auto repeated = harness.Decide("theirs", Decision::kCommit);
  ASSERT_OK(repeated);
  EXPECT_EQ(*repeated, TxState::kCommitting);
  auto begun = harness.Begin({"theirs"});  // A repeated Begin: the same parameters.
  ASSERT_OK(begun);
  EXPECT_FALSE(begun->created);
  harness.Advance(absl::Seconds(5));
  harness.Flush();
  EXPECT_EQ(harness.engine().ActiveCount(), 0u) << "not kept in memory";
  EXPECT_EQ(harness.transport().CountCalls(Phase::kConfirm), 0) << "its owner drives it";
  EXPECT_EQ(observer.claimed, 0);
}

// A one-step saga RUNNING, owned by "other".
GlobalTransaction ForeignSaga(const std::string& gid) {
  GlobalTransaction saga;
  saga.gid = gid;
  saga.mode = TxMode::kSaga;
  saga.state = TxState::kRunning;
  saga.owner = "other";
  saga.epoch = 2;
  saga.branches = {Spec("s1")};
  return saga;
}

TEST(EngineOwnershipTest, ARepeatedSagaAtANonOwnerWaitsForItsOwnerToFinishIt) {
  CountingObserver observer;
  GlobalTransaction saga = ForeignSaga("their-saga");
  Harness harness(StoreWith(saga), Options(&observer));

  std::atomic<bool> answered = false;
  absl::StatusOr<SagaResult> result;
  SagaParams params{.gid = "their-saga",
                    .steps = {Spec("s1")},
                    .wait_for_result = true,
                    .wait_timeout = absl::Seconds(30)};
  harness.engine().SubmitSaga(params, [&](absl::StatusOr<SagaResult> saga) {
    result = std::move(saga);
    answered = true;
  });
  for (int i = 0; i < 50; ++i) {  // 10 s of polls, each read finished before the next.
    harness.Advance(absl::Milliseconds(200));
    harness.Flush();
  }
  EXPECT_FALSE(answered) << "answered before its owner finished it";
  EXPECT_EQ(harness.transport().CountCalls(Phase::kTry), 0) << "its owner drives it";

  // The owner finishes it.
  saga.state = TxState::kCommitted;
  saga.branches[0].state = BranchState::kTried;
  TransactionUpdate update{.header = &saga, .changed_branches = {&saga.branches[0]}};
  ASSERT_OK(harness.InStore([&](TransactionStore& s) { return s.Update(update); }));
  ASSERT_TRUE(harness.AdvanceUntil([&] { return answered.load(); }));
  ASSERT_OK(result);
  EXPECT_EQ(result->state, TxState::kCommitted);
  EXPECT_FALSE(result->created);
}

TEST(EngineOwnershipTest, ARepeatedSagaAtANonOwnerAnswersItsStateAtTheWaitTimeout) {
  CountingObserver observer;
  Harness harness(StoreWith(ForeignSaga("slow-saga")), Options(&observer));
  auto result = harness.Submit({.gid = "slow-saga",
                                .steps = {Spec("s1")},
                                .wait_for_result = true,
                                .wait_timeout = absl::Seconds(3)});
  ASSERT_OK(result);
  EXPECT_EQ(result->state, TxState::kRunning);
  EXPECT_EQ(harness.transport().CountCalls(Phase::kTry), 0);
}

}  // namespace
}  // namespace tcc
