#include "coordinator/store/sqlite_store.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "coordinator/store/headers_codec.h"
#include "coordinator/store/memory_store.h"
#include "coordinator/store/sqlite_queries.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"

namespace tcc {
namespace {

using ::tcc::testing::StatusIs;
using ::tcc::testing::TempDir;

GlobalTransaction SampleTransaction(const std::string& gid) {
  GlobalTransaction gt;
  gt.gid = gid;
  gt.created_ms = 1000;
  gt.updated_ms = 1001;
  gt.timeout_ms = 5000;
  gt.deadline_ms = 6000;
  gt.status_endpoint = "127.0.0.1:9000";
  Branch branch{.branch_id = "b1", .target = "127.0.0.1:7501", .action = "points.freeze"};
  branch.payload = std::string("\0binary\xff", 8);
  branch.headers = {{"trace", "abc"}, {"tenant", ""}};
  gt.branches.push_back(branch);
  return gt;
}

std::unique_ptr<SqliteStore> OpenAt(const std::string& path, int version = 0) {
  auto store = SqliteStore::Open({.path = path, .migrate_to_version = version});
  EXPECT_OK(store);
  return std::move(*store);
}

absl::Status InBatch(TransactionStore& store, const std::function<absl::Status()>& work) {
  if (absl::Status begun = store.BeginBatch(); !begun.ok()) return begun;
  absl::Status result = work();
  if (!result.ok()) {
    store.AbortBatch();
    return result;
  }
  return store.CommitBatch();
}

TEST(SqliteStore, WritesSurviveReopen) {
  TempDir dir;
  std::string path = dir.File("tccd.db");
  GlobalTransaction gt = SampleTransaction("g1");
  {
    auto store = OpenAt(path);
    ASSERT_OK(InBatch(*store, [&] { return store->Create(gt).status(); }));
    gt.state = TxState::kCommitting;
    gt.decision_reason = "committed by the initiator";
    gt.branches[0].state = BranchState::kTried;
    gt.branches[0].attempts = 2;
    gt.branches[0].last_error = "Confirm failed: unavailable";
    gt.branches[0].next_retry_ms = 7777;
    Branch added{.branch_id = "b2", .target = "127.0.0.1:7502", .action = "log.write"};
    gt.branches.push_back(added);
    TransactionUpdate update{.header = &gt,
                             .new_branches = {&gt.branches[1]},
                             .first_new_position = 1,
                             .changed_branches = {&gt.branches[0]}};
    ASSERT_OK(InBatch(*store, [&] { return store->Update(update); }));
  }
  auto reopened = OpenAt(path);
  auto found = reopened->Find("g1");
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  const GlobalTransaction& read = **found;
  EXPECT_EQ(read.state, TxState::kCommitting);
  EXPECT_EQ(read.decision_reason, "committed by the initiator");
  EXPECT_EQ(read.deadline_ms, 6000);
  EXPECT_EQ(read.status_endpoint, "127.0.0.1:9000");
  ASSERT_EQ(read.branches.size(), 2u);
  EXPECT_EQ(read.branches[0].payload, gt.branches[0].payload);
  EXPECT_EQ(read.branches[0].headers, gt.branches[0].headers);
  EXPECT_EQ(read.branches[0].attempts, 2u);
  EXPECT_EQ(read.branches[0].last_error, "Confirm failed: unavailable");
  EXPECT_EQ(read.branches[0].next_retry_ms, 7777);
  EXPECT_EQ(read.branches[1].branch_id, "b2");
  EXPECT_EQ(*reopened->Find("missing"), std::nullopt);
}

TEST(SqliteStore, CreateRefusesAnExistingGidWithoutOverwriting) {
  TempDir dir;
  auto store = OpenAt(dir.File("tccd.db"));
  GlobalTransaction first = SampleTransaction("g1");
  GlobalTransaction second = SampleTransaction("g1");
  second.timeout_ms = 1;
  absl::StatusOr<bool> created;
  ASSERT_OK(InBatch(*store, [&] {
    created = store->Create(first);
    return created.status();
  }));
  EXPECT_TRUE(*created);
  ASSERT_OK(InBatch(*store, [&] {
    created = store->Create(second);
    return created.status();
  }));
  EXPECT_FALSE(*created);
  EXPECT_EQ((*store->Find("g1"))->timeout_ms, 5000u);
}

TEST(SqliteStore, LoadUnfinishedSkipsFinalTransactions) {
  TempDir dir;
  auto store = OpenAt(dir.File("tccd.db"));
  ASSERT_OK(InBatch(*store, [&]() -> absl::Status {
    for (auto [gid, state] :
         {std::pair{"open", TxState::kTrying}, std::pair{"committing", TxState::kCommitting},
          std::pair{"done", TxState::kCommitted}, std::pair{"undone", TxState::kRolledBack}}) {
      GlobalTransaction gt = SampleTransaction(gid);
      gt.state = state;
      if (absl::Status s = store->Create(gt).status(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  auto unfinished = store->LoadUnfinished();
  ASSERT_OK(unfinished);
  std::vector<std::string> gids;
  for (const auto& gt : *unfinished) gids.push_back(gt.gid);
  std::sort(gids.begin(), gids.end());
  EXPECT_EQ(gids, (std::vector<std::string>{"committing", "open"}));
  EXPECT_EQ((*unfinished)[0].branches.size(), 1u);
}

// Recovery reads every unfinished GT with one ordered join: each GT must
// get exactly its own branches, in position order, whatever the mix of
// branch counts (none included), creation-time ties and finished GTs.
TEST(SqliteStore, LoadUnfinishedReturnsEveryBranchOfEveryGtInOrder) {
  TempDir dir;
  auto store = OpenAt(dir.File("tccd.db"));
  constexpr int kCount = 600;
  std::map<std::string, GlobalTransaction> expected;
  ASSERT_OK(InBatch(*store, [&]() -> absl::Status {
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
      if (absl::Status s = store->Create(gt).status(); !s.ok()) return s;
      if (!IsFinal(gt.state)) expected[gt.gid] = gt;
    }
    return absl::OkStatus();
  }));
  auto unfinished = store->LoadUnfinished();
  ASSERT_OK(unfinished);
  ASSERT_EQ(unfinished->size(), expected.size());
  for (size_t i = 0; i < unfinished->size(); ++i) {
    const GlobalTransaction& read = (*unfinished)[i];
    if (i > 0) {
      const GlobalTransaction& before = (*unfinished)[i - 1];
      EXPECT_LT(std::pair(before.created_ms, before.gid), std::pair(read.created_ms, read.gid));
    }
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

TEST(SqliteStore, AnUpdateToAFinalStateTakesTheGtOutOfRecovery) {
  TempDir dir;
  auto store = OpenAt(dir.File("tccd.db"));
  GlobalTransaction gt = SampleTransaction("g1");
  gt.state = TxState::kCommitting;
  ASSERT_OK(InBatch(*store, [&] { return store->Create(gt).status(); }));
  gt.branches[0].attempts = 3;
  TransactionUpdate progress{.header = &gt, .changed_branches = {&gt.branches[0]}};
  ASSERT_OK(InBatch(*store, [&] { return store->Update(progress); }));
  auto unfinished = store->LoadUnfinished();
  ASSERT_OK(unfinished);
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ((*unfinished)[0].branches[0].attempts, 3u);
  gt.state = TxState::kCommitted;
  TransactionUpdate finished{.header = &gt};
  ASSERT_OK(InBatch(*store, [&] { return store->Update(finished); }));
  EXPECT_TRUE(store->LoadUnfinished()->empty());
  EXPECT_EQ((*store->Find("g1"))->state, TxState::kCommitted);
}

TEST(SqliteStore, LoadUnfinishedReportsDamagedBranchesAsDataLoss) {
  TempDir dir;
  std::string path = dir.File("tccd.db");
  auto store = OpenAt(path);
  GlobalTransaction gt = SampleTransaction("g1");
  gt.state = TxState::kCommitting;
  ASSERT_OK(InBatch(*store, [&] { return store->Create(gt).status(); }));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "UPDATE branches SET state = 99 WHERE gid = 'g1'", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_THAT(store->LoadUnfinished(),
              StatusIs(absl::StatusCode::kDataLoss, "branch b1 of g1 has unknown state 99"));
}

TEST(SqliteStore, MigrationFiveIndexesTheRecoveryOrder) {
  TempDir dir;
  std::string path = dir.File("tccd.db");
  { OpenAt(path, /*version=*/4); }
  auto store = OpenAt(path);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto has_index = [&](const char* name) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", -1,
                       &stmt, nullptr);
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    bool found = sqlite3_step(stmt) == SQLITE_ROW;
    sqlite3_finalize(stmt);
    return found;
  };
  EXPECT_TRUE(has_index("global_transactions_unfinished_by_age"));
  EXPECT_FALSE(has_index("global_transactions_unfinished"));
  sqlite3_close(db);
}

TEST(SqliteStore, MigratesAnOldSchemaKeepingItsData) {
  TempDir dir;
  std::string path = dir.File("tccd.db");
  {
    auto old_store = OpenAt(path, /*version=*/1);
    EXPECT_EQ(*old_store->SchemaVersion(), 1);
  }
  {
    // A version-1 row written the way version-1 code wrote it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "INSERT INTO global_transactions (gid, state, finished, created_ms, "
                           "updated_ms, timeout_ms, deadline_ms, status_endpoint, stuck) VALUES "
                           "('old', 2, 0, 1, 1, 1000, 1001, '', 0)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = OpenAt(path);
  EXPECT_EQ(*store->SchemaVersion(), SqliteStore::LatestSchemaVersion());
  auto found = store->Find("old");
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->state, TxState::kCommitting);
  EXPECT_EQ((*found)->decision_reason, "");
}

// Before migration 6 a saga step's attempts > 0 meant "its action was
// sent"; the migration keeps that knowledge in the new mark, for sagas only.
TEST(SqliteStore, MigrationSixMarksSentSagaStepsFromTheirAttempts) {
  TempDir dir;
  std::string path = dir.File("tccd.db");
  { OpenAt(path, /*version=*/5); }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(
            db,
            "INSERT INTO global_transactions (gid, state, finished, created_ms, updated_ms, "
            "timeout_ms, deadline_ms, status_endpoint, stuck, mode) VALUES "
            "('saga', 6, 0, 1, 1, 0, 0, '', 0, 1), ('tcc', 2, 0, 1, 1, 1000, 1001, '', 0, 0);"
            "INSERT INTO branches (gid, branch_id, position, target, action, payload, headers, "
            "state, attempts, last_error, next_retry_ms) VALUES "
            "('saga', 'sent', 0, 't:1', 'a', '', '', 1, 2, '', 0),"
            "('saga', 'unsent', 1, 't:1', 'a', '', '', 1, 0, '', 0),"
            "('tcc', 'b1', 0, 't:1', 'a', '', '', 2, 3, '', 0);",
            nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = OpenAt(path);
  auto saga = store->Find("saga");
  ASSERT_OK(saga);
  ASSERT_TRUE(saga->has_value());
  EXPECT_TRUE((*saga)->branches[0].action_sent);
  EXPECT_FALSE((*saga)->branches[1].action_sent);
  auto tcc = store->Find("tcc");
  ASSERT_OK(tcc);
  EXPECT_FALSE((*tcc)->branches[0].action_sent) << "TCC attempts count Confirm/Cancel calls";
}

// Retention's store half, on the SQLite and the in-memory store alike:
// only final GTs older than the cutoff go, oldest first, with their
// branches and timeline; an unfinished GT stays however old.
void ExpectRetentionDeletesOnlyOldFinished(TransactionStore& store) {
  auto make = [&](const std::string& gid, TxState state, int64_t updated_ms) {
    GlobalTransaction gt = SampleTransaction(gid);
    gt.state = state;
    gt.updated_ms = updated_ms;
    ASSERT_OK(InBatch(store, [&] { return store.Create(gt).status(); }));
    ASSERT_OK(InBatch(store, [&] { return store.AppendEvents(gid, {{1, "state", "x", "t"}}); }));
  };
  make("old-1", TxState::kCommitted, 100);
  make("old-2", TxState::kRolledBack, 200);
  make("old-3", TxState::kCommitted, 300);
  make("old-unfinished", TxState::kCommitting, 50);
  make("new", TxState::kCommitted, 5000);
  absl::StatusOr<size_t> first;
  ASSERT_OK(InBatch(store, [&] {
    first = store.DeleteFinishedBefore(/*before_ms=*/1000, /*limit=*/2);
    return first.status();
  }));
  EXPECT_EQ(*first, 2u);
  EXPECT_FALSE(store.Find("old-1")->has_value()) << "oldest first";
  EXPECT_FALSE(store.Find("old-2")->has_value());
  EXPECT_TRUE(store.Find("old-3")->has_value()) << "the limit holds";
  absl::StatusOr<size_t> second;
  ASSERT_OK(InBatch(store, [&] {
    second = store.DeleteFinishedBefore(1000, 10);
    return second.status();
  }));
  EXPECT_EQ(*second, 1u);
  EXPECT_TRUE(store.Find("old-unfinished")->has_value()) << "never an unfinished GT";
  EXPECT_TRUE(store.Find("new")->has_value());
  // By gid (after archiving): unknown and unfinished gids are skipped.
  absl::StatusOr<size_t> by_gid;
  ASSERT_OK(InBatch(store, [&] {
    by_gid = store.DeleteFinished({"old-unfinished", "no-such-gid", "new"});
    return by_gid.status();
  }));
  EXPECT_EQ(*by_gid, 1u);
  EXPECT_FALSE(store.Find("new")->has_value());
  auto unfinished = store.LoadUnfinished();
  ASSERT_OK(unfinished);
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ((*unfinished)[0].branches.size(), 1u);
}

TEST(SqliteStore, RetentionDeletesOnlyOldFinishedTransactionsWithTheirRows) {
  TempDir dir;
  std::string path = dir.File("tccd.db");
  auto store = OpenAt(path);
  ExpectRetentionDeletesOnlyOldFinished(*store);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto count = [&](const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    sqlite3_step(stmt);
    int64_t n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
  };
  EXPECT_EQ(count("SELECT COUNT(*) FROM branches WHERE gid LIKE 'old-_'"), 0)
      << "no orphaned branch";
  EXPECT_EQ(count("SELECT COUNT(*) FROM transaction_events WHERE gid LIKE 'old-_'"), 0)
      << "no orphaned timeline";
  EXPECT_EQ(count("SELECT COUNT(*) FROM branches WHERE gid = 'new'"), 0) << "deleted by gid";
  EXPECT_EQ(count("SELECT COUNT(*) FROM transaction_events"), 1) << "old-unfinished's";
  sqlite3_close(db);
}

// Retention's read half on the queries connection: the next gids to go,
// and the figures `tccctl stats` shows.
TEST(SqliteQueries, FinishedBeforeAndStatsShowWhatRetentionSees) {
  TempDir dir;
  std::string path = dir.File("tccd.db");
  auto store = OpenAt(path);
  for (int i = 0; i < 200; ++i) {
    GlobalTransaction gt = SampleTransaction(absl::StrCat("f-", i));
    gt.state = TxState::kCommitted;
    gt.updated_ms = 100 + i;
    gt.branches[0].payload = std::string(2000, 'p');
    ASSERT_OK(InBatch(*store, [&] { return store->Create(gt).status(); }));
  }
  GlobalTransaction open = SampleTransaction("open");
  open.updated_ms = 1;
  ASSERT_OK(InBatch(*store, [&] { return store->Create(open).status(); }));
  auto queries = SqliteQueries::Open(path);
  ASSERT_OK(queries);
  auto next = (*queries)->FinishedBefore(/*before_ms=*/103, /*limit=*/10);
  ASSERT_OK(next);
  EXPECT_EQ(*next, (std::vector<std::string>{"f-0", "f-1", "f-2"}))
      << "final ones only, oldest first, before the cutoff";
  auto limited = (*queries)->FinishedBefore(1000, 2);
  ASSERT_OK(limited);
  EXPECT_EQ(limited->size(), 2u);

  auto before = (*queries)->Stats();
  ASSERT_OK(before);
  EXPECT_EQ(before->oldest_finished_updated_ms, 100);
  EXPECT_GT(before->store_bytes, 200u * 2000u) << "the payloads are on disk";
  std::vector<std::string> all;
  for (int i = 0; i < 200; ++i) all.push_back(absl::StrCat("f-", i));
  ASSERT_OK(InBatch(*store, [&] { return store->DeleteFinished(all).status(); }));
  auto after = (*queries)->Stats();
  ASSERT_OK(after);
  EXPECT_EQ(after->oldest_finished_updated_ms, 0) << "none left";
  EXPECT_GT(after->free_bytes, 100u * 2000u) << "deleted rows' pages are free for reuse";
}

TEST(MemoryStore, RetentionDeletesOnlyOldFinishedTransactions) {
  MemoryStore store;
  ExpectRetentionDeletesOnlyOldFinished(store);
}

TEST(SqliteStore, RefusesADatabaseFromANewerVersion) {
  TempDir dir;
  std::string path = dir.File("tccd.db");
  { OpenAt(path); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "INSERT INTO schema_version VALUES (999)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_THAT(SqliteStore::Open({.path = path}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "schema version 999"));
}

TEST(SqliteStore, ReportsDamagedRowsInsteadOfResumingThem) {
  TempDir dir;
  std::string path = dir.File("tccd.db");
  auto store = OpenAt(path);
  ASSERT_OK(InBatch(*store, [&] { return store->Create(SampleTransaction("g1")).status(); }));
  ASSERT_OK(InBatch(*store, [&] { return store->Create(SampleTransaction("g2")).status(); }));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "UPDATE global_transactions SET state = 42 WHERE gid = 'g1'", nullptr, nullptr,
               nullptr);
  sqlite3_exec(db, "UPDATE branches SET headers = x'ffffff7f' WHERE gid = 'g2'", nullptr, nullptr,
               nullptr);
  sqlite3_close(db);
  EXPECT_THAT(store->Find("g1"), StatusIs(absl::StatusCode::kDataLoss, "unknown state 42"));
  EXPECT_THAT(store->Find("g2"), StatusIs(absl::StatusCode::kDataLoss, "stored headers"));
}

// Overwrites the root pages of `table` and of its indexes with bytes that
// are no b-tree page, the way a bad disk sector would.
void DamagePagesOf(const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::vector<int64_t> pages;
  int64_t page_size = 0;
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE tbl_name = ?", -1,
                               &stmt, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(stmt, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(stmt) == SQLITE_ROW) pages.push_back(sqlite3_column_int64(stmt, 0));
  sqlite3_finalize(stmt);
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  page_size = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);  // The last connection: the WAL is checkpointed into the file.
  ASSERT_FALSE(pages.empty());
  std::FILE* file = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(file, nullptr);
  std::string garbage(page_size, '\xee');
  for (int64_t page : pages) {
    ASSERT_EQ(std::fseek(file, (page - 1) * page_size, SEEK_SET), 0);
    ASSERT_EQ(std::fwrite(garbage.data(), 1, garbage.size(), file), garbage.size());
  }
  std::fclose(file);
}

TEST(SqliteStore, ADamagedFileIsDataLossNotARetryableError) {
  TempDir dir;
  std::string path = dir.File("tccd.db");
  {
    auto store = OpenAt(path);
    ASSERT_OK(InBatch(*store, [&] { return store->Create(SampleTransaction("g1")).status(); }));
  }
  DamagePagesOf(path, "branches");
  auto store = OpenAt(path);
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->Find("g1"), StatusIs(absl::StatusCode::kDataLoss, "malformed"));
  EXPECT_THAT(store->LoadUnfinished(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(SqliteStore, AMigrationThatMeetsADamagedFileIsDataLoss) {
  TempDir dir;
  std::string path = dir.File("tccd.db");
  { OpenAt(path, /*version=*/2); }
  DamagePagesOf(path, "global_transactions");  // Migration 3 indexes this table.
  EXPECT_THAT(SqliteStore::Open({.path = path}),
              StatusIs(absl::StatusCode::kDataLoss, "migration to schema version 3 failed"));
}

TEST(SqliteStore, AFileThatIsNoDatabaseIsDataLoss) {
  TempDir dir;
  std::string path = dir.File("tccd.db");
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  std::string garbage(8192, 'x');
  std::fwrite(garbage.data(), 1, garbage.size(), file);
  std::fclose(file);
  EXPECT_THAT(SqliteStore::Open({.path = path}), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(HeadersCodec, RoundTripsAndRejectsTruncation) {
  Headers headers{{"k", "v"}, {"", ""}, {"bin", std::string("\0\1", 2)}};
  std::string encoded = EncodeHeaders(headers);
  EXPECT_EQ(*DecodeHeaders(encoded), headers);
  EXPECT_THAT(DecodeHeaders(encoded.substr(0, encoded.size() - 1)),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeHeaders("ab"), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace tcc
