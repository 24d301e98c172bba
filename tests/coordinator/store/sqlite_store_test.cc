// SQLite-only behaviour: migrations from old schemas, damaged files and rows,
// free pages. What every store must do is in store_contract_test.cc.
#include "coordinator/store/sqlite_store.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coordinator/store/headers_codec.h"
#include "coordinator/store/sqlite_queries.h"
#include "tests/coordinator/store/store_test_util.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"

namespace tcc {
namespace {

using ::tcc::testing::InBatch;
using ::tcc::testing::SampleTransaction;
using ::tcc::testing::StatusIs;
using ::tcc::testing::TempDir;

std::unique_ptr<SqliteStore> OpenAt(const std::string& path, int version = 0) {
  auto store = SqliteStore::Open({.path = path, .migrate_to_version = version});
  EXPECT_OK(store);
  return std::move(*store);
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

TEST(SqliteStore, NoOperationRunsOrCommitsOutsideItsBatch) {
  // As after SQLite rolled a batch back by itself (a full disk, an I/O
  // error): an operation must not commit on its own, nor COMMIT pretend.
  TempDir dir;
  auto store = OpenAt(dir.File("tccd.db"));
  ASSERT_OK(store->BeginBatch());
  ASSERT_OK(store->CommitBatch());
  EXPECT_THAT(store->BeginOperation(),
              StatusIs(absl::StatusCode::kUnavailable, "rolled back by SQLite"));
  EXPECT_THAT(store->CommitBatch(),
              StatusIs(absl::StatusCode::kUnavailable, "nothing of it was written"));
  ASSERT_OK(InBatch(*store, [&] { return store->Create(SampleTransaction("g1")).status(); }));
  EXPECT_TRUE(store->Find("g1")->has_value()) << "a new batch works as before";
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
