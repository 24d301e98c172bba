// The store contract: one suite, run unchanged against every
// TransactionStore (in-memory, SQLite, PostgreSQL on a private cluster).
// What a store cannot do is skipped by asking it (OpenQueries answering
// UNIMPLEMENTED), never by its name.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "coordinator/store/memory_store.h"
#include "coordinator/store/postgres_store.h"
#include "coordinator/store/sqlite_store.h"
#include "tests/coordinator/store/store_test_util.h"
#include "tests/test_util/postgres_cluster.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"

namespace tcc {
namespace {

using ::tcc::testing::InBatch;
using ::tcc::testing::SampleTransaction;
using ::tcc::testing::StatusIs;

// One kind of store with its data: the store open on it, and a restart.
class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  // Opens the store (fails the test if it cannot).
  virtual void Init() {}
  virtual TransactionStore& store() = 0;
  // Closes the store and opens it again on the same data, as a restart of
  // tccd does. The in-memory store keeps its one instance.
  virtual void Reopen() = 0;
};

class MemoryHarness final : public StoreHarness {
 public:
  TransactionStore& store() override { return store_; }
  void Reopen() override {}

 private:
  MemoryStore store_;
};

class SqliteHarness final : public StoreHarness {
 public:
  void Init() override { Reopen(); }
  TransactionStore& store() override { return *store_; }
  void Reopen() override {
    store_.reset();
    auto opened = SqliteStore::Open({.path = dir_.File("tccd.db")});
    ASSERT_OK(opened);
    store_ = std::move(*opened);
  }

 private:
  ::tcc::testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

class PostgresHarness final : public StoreHarness {
 public:
  void Init() override {
    // Not skipped when PostgreSQL is missing: that is a failure to fix.
    auto schema = ::tcc::testing::NewSchemaForCurrentTest();
    ASSERT_OK(schema);
    uri_ = schema->uri;
    Reopen();
  }
  TransactionStore& store() override { return *store_; }
  void Reopen() override {
    store_.reset();
    auto opened = PostgresStore::Open({.uri = uri_});
    ASSERT_OK(opened);
    store_ = std::move(*opened);
  }

 private:
  std::string uri_;
  std::unique_ptr<PostgresStore> store_;
};

struct StoreKind {
  std::string name;
  std::function<std::unique_ptr<StoreHarness>()> make;
};

// One operation inside an open batch, as the StoreQueue runs it.
absl::Status InOperation(TransactionStore& store, const std::function<absl::Status()>& work) {
  if (absl::Status begun = store.BeginOperation(); !begun.ok()) return begun;
  absl::Status result = work();
  store.EndOperation(result.ok());
  return result;
}

class StoreContract : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make();
    harness_->Init();
    ASSERT_FALSE(HasFatalFailure());
  }

  TransactionStore& store() { return harness_->store(); }

  absl::Status Create(const GlobalTransaction& gt) {
    return InBatch(store(), [&] { return store().Create(gt).status(); });
  }

  GlobalTransaction MustFind(const std::string& gid) {
    auto found = store().Find(gid);
    EXPECT_OK(found);
    if (!found.ok() || !found->has_value()) {
      ADD_FAILURE() << gid << " not found";
      return {};
    }
    return **found;
  }

  // The store's queries, or a skip if it offers none.
  std::unique_ptr<TransactionQueries> QueriesOrSkip() {
    auto queries = store().OpenQueries();
    if (queries.status().code() == absl::StatusCode::kUnimplemented) return nullptr;
    EXPECT_OK(queries);
    return queries.ok() ? std::move(*queries) : nullptr;
  }

  std::unique_ptr<StoreHarness> harness_;
};

#define QUERIES_OR_SKIP(name)                                          \
  std::unique_ptr<TransactionQueries> name = QueriesOrSkip();          \
  if (name == nullptr) {                                               \
    if (!HasFailure()) GTEST_SKIP() << "this store offers no queries"; \
    return;                                                            \
  }

TEST_P(StoreContract, WritesSurviveReopen) {
  GlobalTransaction gt = SampleTransaction("g1");
  ASSERT_OK(Create(gt));
  gt.state = TxState::kCommitting;
  gt.updated_ms = 2000;
  gt.decision_reason = "committed by the initiator";
  gt.branches[0].state = BranchState::kTried;
  gt.branches[0].attempts = 2;
  gt.branches[0].last_error = "Confirm failed: unavailable";
  gt.branches[0].next_retry_ms = 7777;
  Branch added{.branch_id = "b2", .target = "127.0.0.1:7502", .action = "log.write"};
  added.depends_on = {"b1", "b0"};
  added.max_attempts = 4000000000u;  // Past INT32_MAX: a uint32 survives.
  added.timeout_ms = 250;
  added.action_sent = true;
  added.payload = std::string("\0\"{a,b}\\\xff\x01", 10);  // Array and escape syntax too.
  added.headers = {{"k\"ey", "v\\al,ue"}, {"empty", ""}};
  gt.branches.push_back(added);
  TransactionUpdate update{.header = &gt,
                           .new_branches = {&gt.branches[1]},
                           .first_new_position = 1,
                           .changed_branches = {&gt.branches[0]}};
  ASSERT_OK(InBatch(store(), [&] { return store().Update(update); }));
  harness_->Reopen();
  GlobalTransaction read = MustFind("g1");
  EXPECT_EQ(read.state, TxState::kCommitting);
  EXPECT_EQ(read.updated_ms, 2000);
  EXPECT_EQ(read.decision_reason, "committed by the initiator");
  EXPECT_EQ(read.timeout_ms, 5000u);
  EXPECT_EQ(read.deadline_ms, 6000);
  EXPECT_EQ(read.status_endpoint, "127.0.0.1:9000");
  ASSERT_EQ(read.branches.size(), 2u);
  EXPECT_EQ(read.branches[0].payload, gt.branches[0].payload) << "binary, NUL included";
  EXPECT_EQ(read.branches[0].headers, gt.branches[0].headers);
  EXPECT_EQ(read.branches[0].state, BranchState::kTried);
  EXPECT_EQ(read.branches[0].attempts, 2u);
  EXPECT_EQ(read.branches[0].last_error, "Confirm failed: unavailable");
  EXPECT_EQ(read.branches[0].next_retry_ms, 7777);
  EXPECT_EQ(read.branches[1].branch_id, "b2");
  EXPECT_EQ(read.branches[1].depends_on, added.depends_on);
  EXPECT_EQ(read.branches[1].max_attempts, 4000000000u);
  EXPECT_EQ(read.branches[1].timeout_ms, 250u);
  EXPECT_TRUE(read.branches[1].action_sent);
  EXPECT_EQ(read.branches[1].payload, added.payload) << "a new branch's payload, byte for byte";
  EXPECT_EQ(read.branches[1].headers, added.headers);
  EXPECT_EQ(*store().Find("missing"), std::nullopt);
}

TEST_P(StoreContract, KeepsASagasModeAndStuckMark) {
  GlobalTransaction gt = SampleTransaction("saga");
  gt.mode = TxMode::kSaga;
  gt.state = TxState::kRunning;
  ASSERT_OK(Create(gt));
  gt.stuck = true;
  TransactionUpdate update{.header = &gt};
  ASSERT_OK(InBatch(store(), [&] { return store().Update(update); }));
  GlobalTransaction read = MustFind("saga");
  EXPECT_EQ(read.mode, TxMode::kSaga);
  EXPECT_EQ(read.state, TxState::kRunning);
  EXPECT_TRUE(read.stuck);
}

TEST_P(StoreContract, KeepsTheTraceparentThroughUpdatesAndRecovery) {
  GlobalTransaction gt = SampleTransaction("traced");
  gt.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  ASSERT_OK(Create(gt));
  gt.state = TxState::kCommitting;
  TransactionUpdate update{.header = &gt};
  ASSERT_OK(InBatch(store(), [&] { return store().Update(update); }));
  harness_->Reopen();
  EXPECT_EQ(MustFind("traced").traceparent, gt.traceparent);
  auto unfinished = store().LoadUnfinished();
  ASSERT_OK(unfinished);
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ((*unfinished)[0].traceparent, gt.traceparent);
}

TEST_P(StoreContract, CreateRefusesAnExistingGidWithoutOverwriting) {
  GlobalTransaction first = SampleTransaction("g1");
  GlobalTransaction second = SampleTransaction("g1");
  second.timeout_ms = 1;
  absl::StatusOr<bool> created;
  ASSERT_OK(InBatch(store(), [&] {
    created = store().Create(first);
    return created.status();
  }));
  EXPECT_TRUE(*created);
  ASSERT_OK(InBatch(store(), [&] {
    created = store().Create(second);
    return created.status();
  }));
  EXPECT_FALSE(*created);
  EXPECT_EQ(MustFind("g1").timeout_ms, 5000u);
}

TEST_P(StoreContract, UpdatingAnUnknownTransactionIsNotFound) {
  GlobalTransaction gt = SampleTransaction("ghost");
  TransactionUpdate update{.header = &gt};
  EXPECT_THAT(InBatch(store(), [&] { return store().Update(update); }),
              StatusIs(absl::StatusCode::kNotFound, "ghost"));
  ASSERT_OK(Create(gt));
  Branch unknown{.branch_id = "nope"};
  TransactionUpdate branch_update{.header = &gt, .changed_branches = {&unknown}};
  EXPECT_THAT(InBatch(store(), [&] { return store().Update(branch_update); }),
              StatusIs(absl::StatusCode::kNotFound, "nope"));
}

TEST_P(StoreContract, LoadUnfinishedSkipsFinalTransactions) {
  ASSERT_OK(InBatch(store(), [&]() -> absl::Status {
    for (auto [gid, state] :
         {std::pair{"open", TxState::kTrying}, std::pair{"committing", TxState::kCommitting},
          std::pair{"done", TxState::kCommitted}, std::pair{"undone", TxState::kRolledBack}}) {
      GlobalTransaction gt = SampleTransaction(gid);
      gt.state = state;
      if (absl::Status s = store().Create(gt).status(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  auto unfinished = store().LoadUnfinished();
  ASSERT_OK(unfinished);
  std::vector<std::string> gids;
  for (const auto& gt : *unfinished) gids.push_back(gt.gid);
  std::sort(gids.begin(), gids.end());
  EXPECT_EQ(gids, (std::vector<std::string>{"committing", "open"}));
  EXPECT_EQ((*unfinished)[0].branches.size(), 1u);
}

// Recovery reads every unfinished GT: each must get exactly its own
// branches, in position order, whatever the mix of branch counts (none
// included), creation-time ties and finished GTs.
TEST_P(StoreContract, LoadUnfinishedReturnsEveryBranchOfEveryGtInOrder) {
  constexpr int kCount = 600;
  std::map<std::string, GlobalTransaction> expected;
  ASSERT_OK(InBatch(store(), [&]() -> absl::Status {
    for (int i = 0; i < kCount; ++i) {
      GlobalTransaction gt = SampleTransaction(absl::StrFormat("gt-%04d", (i * 7919) % kCount));
      gt.created_ms = 1000 + i / 3;  // Three GTs share each creation time.
      gt.state = i % 5 == 0 ? TxState::kCommitted : TxState::kCommitting;
      gt.branches.clear();
      for (int b = 0; b < i % 4; ++b) {
        Branch branch{.branch_id = absl::StrCat("b", b),
                      .target = absl::StrCat("t", b),
                      .action = "a",
                      .payload = absl::StrCat(gt.gid, "/", b)};
        branch.headers = {{"n", absl::StrCat(b)}};
        branch.attempts = static_cast<uint32_t>(b);
        branch.depends_on = b == 0 ? std::vector<std::string>{} : std::vector<std::string>{"b0"};
        gt.branches.push_back(branch);
      }
      if (absl::Status s = store().Create(gt).status(); !s.ok()) return s;
      if (!IsFinal(gt.state)) expected[gt.gid] = gt;
    }
    return absl::OkStatus();
  }));
  auto unfinished = store().LoadUnfinished();
  ASSERT_OK(unfinished);
  ASSERT_EQ(unfinished->size(), expected.size());
  for (const GlobalTransaction& read : *unfinished) {
    ASSERT_TRUE(expected.contains(read.gid)) << read.gid;
    const GlobalTransaction& want = expected[read.gid];
    EXPECT_EQ(read.created_ms, want.created_ms);
    EXPECT_EQ(read.state, want.state);
    ASSERT_EQ(read.branches.size(), want.branches.size()) << read.gid;
    for (size_t b = 0; b < want.branches.size(); ++b) {
      EXPECT_EQ(read.branches[b].branch_id, want.branches[b].branch_id);
      EXPECT_EQ(read.branches[b].target, want.branches[b].target);
      EXPECT_EQ(read.branches[b].payload, want.branches[b].payload);
      EXPECT_EQ(read.branches[b].headers, want.branches[b].headers);
      EXPECT_EQ(read.branches[b].attempts, want.branches[b].attempts);
      EXPECT_EQ(read.branches[b].depends_on, want.branches[b].depends_on);
    }
  }
}

TEST_P(StoreContract, AnUpdateToAFinalStateTakesTheGtOutOfRecovery) {
  GlobalTransaction gt = SampleTransaction("g1");
  gt.state = TxState::kCommitting;
  ASSERT_OK(Create(gt));
  gt.branches[0].attempts = 3;
  TransactionUpdate progress{.header = &gt, .changed_branches = {&gt.branches[0]}};
  ASSERT_OK(InBatch(store(), [&] { return store().Update(progress); }));
  auto unfinished = store().LoadUnfinished();
  ASSERT_OK(unfinished);
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ((*unfinished)[0].branches[0].attempts, 3u);
  gt.state = TxState::kCommitted;
  TransactionUpdate finished{.header = &gt};
  ASSERT_OK(InBatch(store(), [&] { return store().Update(finished); }));
  EXPECT_TRUE(store().LoadUnfinished()->empty());
  EXPECT_EQ(MustFind("g1").state, TxState::kCommitted);
}

// Group commit: one batch, many operations; an operation that fails half
// way leaves none of its writes, and the others in the batch commit.
TEST_P(StoreContract, AFailedOperationLeavesNoneOfItsWritesWhileTheRestCommits) {
  GlobalTransaction kept = SampleTransaction("kept");
  ASSERT_OK(Create(kept));
  ASSERT_OK(store().BeginBatch());
  EXPECT_OK(
      InOperation(store(), [&] { return store().Create(SampleTransaction("before")).status(); }));
  EXPECT_THAT(
      InOperation(
          store(),
          [&]() -> absl::Status {
            auto created = store().Create(SampleTransaction("half"));
            if (!created.ok()) return created.status();
            GlobalTransaction changed = kept;
            changed.state = TxState::kRollingBack;
            TransactionUpdate update{.header = &changed, .events = {{5, "state", "x", "t"}}};
            if (absl::Status s = store().Update(update); !s.ok()) return s;
            return absl::InternalError("fails after writing");
          }),
      StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(InOperation(store(),
                          [&] {
                            GlobalTransaction ghost = SampleTransaction("ghost");
                            return store().Update({.header = &ghost});
                          }),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_OK(
      InOperation(store(), [&] { return store().Create(SampleTransaction("after")).status(); }));
  ASSERT_OK(store().CommitBatch());
  harness_->Reopen();
  EXPECT_TRUE(store().Find("before")->has_value());
  EXPECT_TRUE(store().Find("after")->has_value());
  EXPECT_FALSE(store().Find("half")->has_value()) << "the failed operation's insert";
  EXPECT_EQ(MustFind("kept").state, TxState::kTrying) << "the failed operation's update";
}

TEST_P(StoreContract, AppendedEventsAreTheTimelineInOrder) {
  ASSERT_OK(Create(SampleTransaction("g1")));
  ASSERT_OK(InBatch(store(), [&] {
    return store().AppendEvents("g1", {{1, "begin", "began", "tccd"}, {2, "state", "a", "op"}});
  }));
  GlobalTransaction gt = SampleTransaction("g1");
  TransactionUpdate update{.header = &gt, .events = {{3, "operator", "resolved", "alice"}}};
  ASSERT_OK(InBatch(store(), [&] { return store().Update(update); }));
  QUERIES_OR_SKIP(queries);
  auto timeline = queries->Timeline("g1");
  ASSERT_OK(timeline);
  ASSERT_EQ(timeline->size(), 3u);
  EXPECT_EQ((*timeline)[0].kind, "begin");
  EXPECT_EQ((*timeline)[1].actor, "op");
  EXPECT_EQ((*timeline)[2].at_ms, 3);
  EXPECT_EQ((*timeline)[2].detail, "resolved");
  EXPECT_TRUE(queries->Timeline("missing")->empty());
}

// One update with several events and several changed branches (the
// PostgreSQL store writes each group in one statement): every event, in
// order, text kept byte for byte, and every branch's progress.
// An operation that writes nothing (it succeeds or fails before its first
// statement) must not disturb its neighbours: the failing one after it
// takes back only its own writes.
TEST_P(StoreContract, OperationsWithoutWritesLeaveTheirNeighboursIntact) {
  ASSERT_OK(store().BeginBatch());
  EXPECT_OK(InOperation(store(), [&] { return store().Create(SampleTransaction("a")).status(); }));
  EXPECT_OK(InOperation(store(), [] { return absl::OkStatus(); }));
  EXPECT_THAT(InOperation(store(), [] { return absl::InternalError("fails first"); }),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(InOperation(store(),
                          [&]() -> absl::Status {
                            auto created = store().Create(SampleTransaction("b"));
                            if (!created.ok()) return created.status();
                            return absl::InternalError("fails after writing");
                          }),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_OK(InOperation(store(), [] { return absl::OkStatus(); }));
  ASSERT_OK(store().CommitBatch());
  harness_->Reopen();
  EXPECT_TRUE(store().Find("a")->has_value()) << "kept by its operation";
  EXPECT_FALSE(store().Find("b")->has_value()) << "taken back by its operation";
}

TEST_P(StoreContract, AnUpdatesEventsAndChangedBranchesAreAllWrittenInOrder) {
  GlobalTransaction gt = SampleTransaction("g1");
  for (const char* id : {"b2", "b3"}) {
    Branch branch = gt.branches.front();
    branch.branch_id = id;
    gt.branches.push_back(branch);
  }
  ASSERT_OK(Create(gt));
  const std::string awkward = "a,b {c} \"quoted\" back\\slash NULL \u00e9";
  gt.state = TxState::kCommitting;
  for (size_t i = 0; i < gt.branches.size(); ++i) {
    Branch& branch = gt.branches[i];
    branch.state = i == 1 ? BranchState::kTried : BranchState::kConfirmed;
    branch.attempts = static_cast<uint32_t>(i + 2);
    branch.last_error = awkward + std::to_string(i);
    branch.next_retry_ms = 9000 + static_cast<int64_t>(i);
    branch.action_sent = i != 1;
  }
  std::vector<const Branch*> changed = {&gt.branches[2], &gt.branches[0], &gt.branches[1]};
  TransactionUpdate update{.header = &gt,
                           .changed_branches = changed,
                           .events = {{7, "state", awkward, "tccd"},
                                      {8, "branch", "b1 confirmed", "tccd"},
                                      {9, "branch", "", "a \"b\""}}};
  ASSERT_OK(InBatch(store(),
                    [&] { return InOperation(store(), [&] { return store().Update(update); }); }));
  harness_->Reopen();
  GlobalTransaction found = MustFind("g1");
  EXPECT_EQ(found.state, TxState::kCommitting);
  ASSERT_EQ(found.branches.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(found.branches[i].branch_id, gt.branches[i].branch_id);
    EXPECT_EQ(found.branches[i].state, gt.branches[i].state) << i;
    EXPECT_EQ(found.branches[i].attempts, gt.branches[i].attempts) << i;
    EXPECT_EQ(found.branches[i].last_error, gt.branches[i].last_error) << i;
    EXPECT_EQ(found.branches[i].next_retry_ms, gt.branches[i].next_retry_ms) << i;
    EXPECT_EQ(found.branches[i].action_sent, gt.branches[i].action_sent) << i;
  }
  QUERIES_OR_SKIP(queries);
  auto timeline = queries->Timeline("g1");
  ASSERT_OK(timeline);
  ASSERT_EQ(timeline->size(), 3u);
  EXPECT_EQ((*timeline)[0].detail, awkward);
  EXPECT_EQ((*timeline)[1].at_ms, 8);
  EXPECT_EQ((*timeline)[1].detail, "b1 confirmed");
  EXPECT_EQ((*timeline)[2].detail, "");
  EXPECT_EQ((*timeline)[2].actor, "a \"b\"");
}

// An update naming a branch the GT does not have is NOT_FOUND, and its
// operation leaves nothing: not the header, the events, nor the branches
// that do exist.
TEST_P(StoreContract, ABranchChangedTwiceInOneUpdateKeepsItsLastValues) {
  GlobalTransaction gt = SampleTransaction("g1");
  ASSERT_OK(Create(gt));
  GlobalTransaction changed = gt;
  changed.state = TxState::kCommitting;
  Branch first = changed.branches[0];
  first.state = BranchState::kTried;
  first.attempts = 1;
  Branch last = first;
  last.state = BranchState::kConfirmed;
  last.attempts = 2;
  last.last_error = "second";
  Branch added{.branch_id = "b2", .target = "127.0.0.1:7502", .action = "log.write"};
  added.payload = std::string("\0two", 4);
  TransactionUpdate update{.header = &changed,
                           .new_branches = {&added},
                           .first_new_position = 1,
                           .changed_branches = {&first, &last},
                           .events = {{5, "state", "x", "t"}}};
  ASSERT_OK(InBatch(store(), [&] { return store().Update(update); }));
  harness_->Reopen();
  GlobalTransaction found = MustFind("g1");
  EXPECT_EQ(found.state, TxState::kCommitting);
  ASSERT_EQ(found.branches.size(), 2u);
  EXPECT_EQ(found.branches[0].state, BranchState::kConfirmed);
  EXPECT_EQ(found.branches[0].attempts, 2u);
  EXPECT_EQ(found.branches[0].last_error, "second");
  EXPECT_EQ(found.branches[1].payload, added.payload);
  QUERIES_OR_SKIP(queries);
  EXPECT_EQ(queries->Timeline("g1")->size(), 1u);
}

TEST_P(StoreContract, AnUpdateNamingAMissingBranchWritesNothing) {
  GlobalTransaction gt = SampleTransaction("g1");
  ASSERT_OK(Create(gt));
  GlobalTransaction changed = gt;
  changed.state = TxState::kRollingBack;
  changed.branches[0].state = BranchState::kCancelled;
  Branch ghost = changed.branches[0];
  ghost.branch_id = "ghost";
  TransactionUpdate update{.header = &changed,
                           .changed_branches = {&changed.branches[0], &ghost},
                           .events = {{5, "state", "x", "t"}}};
  ASSERT_OK(store().BeginBatch());
  EXPECT_THAT(InOperation(store(), [&] { return store().Update(update); }),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(store().CommitBatch());
  harness_->Reopen();
  GlobalTransaction found = MustFind("g1");
  EXPECT_EQ(found.state, gt.state);
  EXPECT_EQ(found.branches[0].state, gt.branches[0].state);
  QUERIES_OR_SKIP(queries);
  EXPECT_TRUE(queries->Timeline("g1")->empty());
}

// Retention's store half: only final GTs older than the cutoff go, oldest
// first, with their branches and timeline; an unfinished GT stays however
// old.
TEST_P(StoreContract, RetentionDeletesOnlyOldFinishedTransactionsWithTheirRows) {
  auto make = [&](const std::string& gid, TxState state, int64_t updated_ms) {
    GlobalTransaction gt = SampleTransaction(gid);
    gt.state = state;
    gt.updated_ms = updated_ms;
    ASSERT_OK(Create(gt));
    ASSERT_OK(InBatch(store(), [&] {
      return store().AppendEvents(gid, {{1, "state", "x", "t"}});
    }));
  };
  make("old-1", TxState::kCommitted, 100);
  make("old-2", TxState::kRolledBack, 200);
  make("old-3", TxState::kCommitted, 300);
  make("old-unfinished", TxState::kCommitting, 50);
  make("new", TxState::kCommitted, 5000);
  absl::StatusOr<size_t> first;
  ASSERT_OK(InBatch(store(), [&] {
    first = store().DeleteFinishedBefore(/*before_ms=*/1000, /*limit=*/2);
    return first.status();
  }));
  EXPECT_EQ(*first, 2u);
  EXPECT_FALSE(store().Find("old-1")->has_value()) << "oldest first";
  EXPECT_FALSE(store().Find("old-2")->has_value());
  EXPECT_TRUE(store().Find("old-3")->has_value()) << "the limit holds";
  absl::StatusOr<size_t> second;
  ASSERT_OK(InBatch(store(), [&] {
    second = store().DeleteFinishedBefore(1000, 10);
    return second.status();
  }));
  EXPECT_EQ(*second, 1u);
  EXPECT_TRUE(store().Find("old-unfinished")->has_value()) << "never an unfinished GT";
  EXPECT_TRUE(store().Find("new")->has_value());
  // By gid (after archiving): unknown and unfinished gids are skipped.
  absl::StatusOr<size_t> by_gid;
  ASSERT_OK(InBatch(store(), [&] {
    by_gid = store().DeleteFinished({"old-unfinished", "no-such-gid", "new"});
    return by_gid.status();
  }));
  EXPECT_EQ(*by_gid, 1u);
  EXPECT_FALSE(store().Find("new")->has_value());
  auto unfinished = store().LoadUnfinished();
  ASSERT_OK(unfinished);
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ((*unfinished)[0].branches.size(), 1u);
  // A GT created again under a deleted gid inherits no orphaned row.
  GlobalTransaction reborn = SampleTransaction("old-1");
  reborn.branches.clear();
  ASSERT_OK(Create(reborn));
  EXPECT_TRUE(MustFind("old-1").branches.empty()) << "no orphaned branch";
  std::unique_ptr<TransactionQueries> queries = QueriesOrSkip();
  if (queries == nullptr) return;  // The rest is checked; there is no timeline to read.
  EXPECT_TRUE(queries->Timeline("old-1")->empty()) << "no orphaned timeline";
  EXPECT_TRUE(queries->Timeline("new")->empty());
  EXPECT_EQ(queries->Timeline("old-unfinished")->size(), 1u);
}

// Writes a mix of GTs for the query cases: gids, ages, states, targets.
void WriteQueryFixture(TransactionStore& store) {
  ASSERT_OK(InBatch(store, [&]() -> absl::Status {
    for (int i = 0; i < 12; ++i) {
      GlobalTransaction gt = SampleTransaction(absl::StrFormat("%s-%02d", i % 2 ? "b" : "a", i));
      gt.created_ms = 1000 + i / 2;  // Pairs share a creation time: the gid breaks ties.
      gt.updated_ms = 2000 + i;
      gt.state = i % 3 == 0 ? TxState::kCommitted : TxState::kCommitting;
      gt.stuck = i == 4;
      gt.branches[0].target = i % 4 == 0 ? "t:1" : "t:2";
      if (i == 4) {
        gt.branches[0].state = BranchState::kTried;
        gt.branches[0].attempts = 5;
        gt.branches[0].last_error = "unavailable";
      }
      if (absl::Status s = store.Create(gt).status(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
}

std::vector<std::string> Gids(const std::vector<GlobalTransaction>& gts) {
  std::vector<std::string> gids;
  for (const auto& gt : gts) gids.push_back(gt.gid);
  return gids;
}

TEST_P(StoreContract, ListFiltersAndOrders) {
  WriteQueryFixture(store());
  QUERIES_OR_SKIP(queries);
  auto all = queries->List({.limit = 100});
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 12u);
  EXPECT_EQ(all->front().gid, "b-11") << "newest first, gid descending on ties";
  EXPECT_EQ((*all)[1].gid, "a-10");
  EXPECT_EQ(all->front().branches.size(), 1u) << "with branches";
  auto oldest = queries->List({.oldest_first = true, .limit = 2});
  ASSERT_OK(oldest);
  EXPECT_EQ(Gids(*oldest), (std::vector<std::string>{"a-00", "b-01"}));
  auto committed = queries->List({.states = {TxState::kCommitted}, .limit = 100});
  ASSERT_OK(committed);
  EXPECT_EQ(committed->size(), 4u);
  auto stuck = queries->List({.stuck_only = true, .limit = 100});
  ASSERT_OK(stuck);
  EXPECT_EQ(Gids(*stuck), (std::vector<std::string>{"a-04"}));
  auto prefix = queries->List({.gid_prefix = "b-0", .oldest_first = true, .limit = 100});
  ASSERT_OK(prefix);
  EXPECT_EQ(Gids(*prefix), (std::vector<std::string>{"b-01", "b-03", "b-05", "b-07", "b-09"}));
  auto target = queries->List({.target = "t:1", .oldest_first = true, .limit = 100});
  ASSERT_OK(target);
  EXPECT_EQ(Gids(*target), (std::vector<std::string>{"a-00", "a-04", "a-08"}));
  auto aged = queries->List({.created_at_or_before_ms = 1001, .oldest_first = true, .limit = 100});
  ASSERT_OK(aged);
  EXPECT_EQ(Gids(*aged), (std::vector<std::string>{"a-00", "b-01", "a-02", "b-03"}));
}

TEST_P(StoreContract, ListPagesWithACursorInBothDirections) {
  WriteQueryFixture(store());
  QUERIES_OR_SKIP(queries);
  for (bool oldest_first : {true, false}) {
    std::vector<std::string> paged;
    ListQuery query{.oldest_first = oldest_first, .limit = 5};
    for (int page = 0; page < 5; ++page) {
      auto rows = queries->List(query);
      ASSERT_OK(rows);
      if (rows->empty()) break;
      for (const auto& gt : *rows) paged.push_back(gt.gid);
      query.after = ListCursor{rows->back().created_ms, rows->back().gid};
    }
    auto whole = queries->List({.oldest_first = oldest_first, .limit = 100});
    ASSERT_OK(whole);
    EXPECT_EQ(paged, Gids(*whole)) << "oldest_first=" << oldest_first;
  }
}

TEST_P(StoreContract, QueriesFindAndStatsAndFinishedBefore) {
  WriteQueryFixture(store());
  QUERIES_OR_SKIP(queries);
  auto found = queries->Find("a-04");
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->branches[0].attempts, 5u);
  EXPECT_EQ(*queries->Find("missing"), std::nullopt);
  auto stats = queries->Stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->by_state[TxState::kCommitted], 4u);
  EXPECT_EQ(stats->by_state[TxState::kCommitting], 8u);
  EXPECT_EQ(stats->stuck, 1u);
  EXPECT_EQ(stats->oldest_unfinished_created_ms, 1000);  // a-01 ... b-01 is the first.
  EXPECT_EQ(stats->oldest_finished_updated_ms, 2000);    // a-00.
  ASSERT_EQ(stats->failing_targets.size(), 1u);
  EXPECT_EQ(stats->failing_targets[0].target, "t:1");
  EXPECT_EQ(stats->failing_targets[0].failed_attempts, 5u);
  EXPECT_EQ(stats->failing_targets[0].last_error, "unavailable");
  EXPECT_GT(stats->store_bytes, 0u);
  auto next = queries->FinishedBefore(/*before_ms=*/2007, /*limit=*/10);
  ASSERT_OK(next);
  EXPECT_EQ(*next, (std::vector<std::string>{"a-00", "b-03", "a-06"}));
  EXPECT_EQ(queries->FinishedBefore(10000, 2)->size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    AllStores, StoreContract,
    ::testing::Values(StoreKind{"Memory", [] { return std::make_unique<MemoryHarness>(); }},
                      StoreKind{"Sqlite", [] { return std::make_unique<SqliteHarness>(); }},
                      StoreKind{"Postgres", [] { return std::make_unique<PostgresHarness>(); }}),
    [](const ::testing::TestParamInfo<StoreKind>& info) { return info.param.name; });

}  // namespace
}  // namespace tcc
