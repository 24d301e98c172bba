// What a write contains: a snapshot taken at once (later changes do not
// leak in), progress without payload, new branches whole; and the one
// create-or-load operation.
#include "coordinator/store/transaction_write.h"

#include <gtest/gtest.h>

#include "coordinator/store/memory_store.h"
#include "tests/test_util/status_matchers.h"

namespace tcc {
namespace {

GlobalTransaction Gt() {
  GlobalTransaction gt;
  gt.gid = "g";
  gt.created_ms = gt.updated_ms = 1000;
  gt.branches.push_back(
      {.branch_id = "a", .target = "127.0.0.1:1", .action = "x", .payload = "payload-a"});
  return gt;
}

TEST(TransactionWrite, SnapshotsWhatChangedWhenTaken) {
  MemoryStore store;
  GlobalTransaction gt = Gt();
  ASSERT_OK(store.Create(gt));
  gt.branches.push_back({.branch_id = "b", .target = "127.0.0.1:1", .payload = "payload-b"});
  gt.branches[0].state = BranchState::kTried;
  gt.branches[0].attempts = 2;
  gt.branches[0].action_sent = true;
  TransactionWrite write = TransactionWrite::Of(gt, {1}, {0}, {{1000, "branch", "a tried", "t"}});
  gt.state = TxState::kCommitting;  // After the snapshot: not written.
  gt.branches[0].state = BranchState::kConfirmed;
  ASSERT_OK(write.ApplyTo(store));
  auto stored = store.Find("g");
  ASSERT_OK(stored);
  ASSERT_TRUE(stored->has_value());
  const GlobalTransaction& read = **stored;
  EXPECT_EQ(read.state, TxState::kTrying);
  ASSERT_EQ(read.branches.size(), 2u);
  EXPECT_EQ(read.branches[0].state, BranchState::kTried);
  EXPECT_EQ(read.branches[0].attempts, 2u);
  EXPECT_TRUE(read.branches[0].action_sent);
  EXPECT_EQ(read.branches[0].payload, "payload-a") << "progress writes keep the payload";
  EXPECT_EQ(read.branches[1].payload, "payload-b") << "new branches are written whole";
}

TEST(TransactionWrite, ProgressCarriesNoPayloadAndHeaderNoBranches) {
  GlobalTransaction gt = Gt();
  EXPECT_TRUE(HeaderOf(gt).branches.empty());
  EXPECT_EQ(HeaderOf(gt).gid, "g");
  EXPECT_TRUE(ProgressOf(gt.branches[0]).payload.empty());
  EXPECT_EQ(ProgressOf(gt.branches[0]).branch_id, "a");
}

TEST(CreateOrLoad, CreatesOnceThenReadsTheStoredOneBack) {
  MemoryStore store;
  auto first = CreateOrLoad(store, Gt(), {1000, "begin", "begun", "tccd"});
  ASSERT_OK(first);
  EXPECT_TRUE(first->created);
  GlobalTransaction other = Gt();
  other.timeout_ms = 99;
  auto second = CreateOrLoad(store, other, {1000, "begin", "begun", "tccd"});
  ASSERT_OK(second);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->gt.timeout_ms, 0u) << "the stored GT, for the caller to compare";
}

}  // namespace
}  // namespace tcc
