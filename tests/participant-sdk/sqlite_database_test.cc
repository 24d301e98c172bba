// The SQLite adapter: bound parameters, rollback, the error codes that the
// barrier and the servers rely on, the statement cache and read-only
// transactions.
#include <fstream>
#include <stdexcept>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tcc/common/notification.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/local_db.h"
#include "tests/participant-sdk/test_db.h"

namespace tcc::sdk::testing {
namespace {

// Every test runs with group commit (the param) and without.
class SqliteDatabaseTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    db_ = Open(/*max_connections=*/8);
    ASSERT_NE(db_, nullptr);
    ASSERT_OK(db_->RunInTransaction([](LocalTx& tx) {
      return tx.Exec("CREATE TABLE t (k TEXT PRIMARY KEY, i INTEGER, r REAL, b BLOB)").status();
    }));
  }

  SqliteOptions Options() const {
    SqliteOptions options;
    options.group_commit = GetParam();
    options.synchronous_full = false;
    options.busy_timeout = absl::Seconds(30);
    return options;
  }

  std::unique_ptr<Database> Open(int max_connections) {
    SqliteOptions options = Options();
    options.max_connections = max_connections;
    return Open(options);
  }

  std::unique_ptr<Database> Open(const SqliteOptions& options) {
    absl::StatusOr<std::unique_ptr<Database>> db = OpenSqliteDatabase(dir_.File("t.db"), options);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
};

INSTANTIATE_TEST_SUITE_P(GroupCommitOnAndOff, SqliteDatabaseTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "GroupCommit" : "NoGroupCommit";
                         });

TEST_P(SqliteDatabaseTest, BindsAndReadsEveryType) {
  std::string blob("a\0b", 3);
  std::vector<Row> rows;
  ASSERT_OK(db_->RunInTransaction([&](LocalTx& tx) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(int64_t changed,
                         tx.Exec("INSERT INTO t VALUES (?, ?, ?, ?)",
                                 {"k1", int64_t{1} << 40, 2.5, SqlValue::Blob(blob)}));
    EXPECT_EQ(changed, 1);
    TCC_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO t VALUES (?, ?, ?, ?)", {"k2", nullptr, 0.0, nullptr}).status());
    TCC_ASSIGN_OR_RETURN(rows, tx.Query("SELECT k, i, r, b FROM t ORDER BY k"));
    return absl::OkStatus();
  }));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0].AsText(), "k1");
  EXPECT_EQ(rows[0][1].AsInt(), int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(rows[0][2].AsReal(), 2.5);
  EXPECT_EQ(rows[0][3].type(), SqlValue::Type::kBlob);
  EXPECT_EQ(rows[0][3].AsText(), blob);
  EXPECT_TRUE(rows[1][1].is_null());
  EXPECT_TRUE(rows[1][3].is_null());
}

TEST_P(SqliteDatabaseTest, EveryIntegerTypeBindsAsAnInteger) {
  long long big = 1LL << 50;
  unsigned short small = 7;
  std::size_t size = 12;
  long plain = -3;
  std::vector<Row> rows;
  ASSERT_OK(db_->RunInTransaction([&](LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(tx.Exec("INSERT INTO t (k, i) VALUES ('a', ?), ('b', ?), ('c', ?), "
                                "('d', ?), ('e', ?)",
                                {big, small, size, plain, true})
                            .status());
    TCC_ASSIGN_OR_RETURN(rows, tx.Query("SELECT i, typeof(i) FROM t ORDER BY k"));
    return absl::OkStatus();
  }));
  ASSERT_EQ(rows.size(), 5u);
  std::vector<int64_t> values;
  for (const Row& row : rows) {
    EXPECT_EQ(row[1].AsText(), "integer");
    values.push_back(row[0].AsInt());
  }
  EXPECT_EQ(values, (std::vector<int64_t>{1LL << 50, 7, 12, -3, 1}));
}

TEST_P(SqliteDatabaseTest, FailedFunctionRollsBackEveryWrite) {
  absl::Status status = db_->RunInTransaction([](LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(tx.Exec("INSERT INTO t (k) VALUES ('k1')").status());
    return absl::AbortedError("changed my mind");
  });
  EXPECT_TRUE(absl::IsAborted(status));
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM t"), 0);
}

TEST_P(SqliteDatabaseTest, ErrorCodes) {
  ASSERT_OK(db_->RunInTransaction(
      [](LocalTx& tx) { return tx.Exec("INSERT INTO t (k) VALUES ('k1')").status(); }));
  absl::Status duplicate = db_->RunInTransaction(
      [](LocalTx& tx) { return tx.Exec("INSERT INTO t (k) VALUES ('k1')").status(); });
  EXPECT_TRUE(absl::IsAlreadyExists(duplicate)) << duplicate;
  absl::Status syntax =
      db_->RunInTransaction([](LocalTx& tx) { return tx.Exec("INSERT INTO nowhere").status(); });
  EXPECT_TRUE(absl::IsInternal(syntax)) << syntax;
  EXPECT_FALSE(OpenSqliteDatabase(dir_.File("missing-dir/x.db")).ok());
  absl::Status extra_parameter = db_->RunInTransaction([](LocalTx& tx) {
    return tx.Exec("INSERT INTO t (k) VALUES (?)", {"k2", 7}).status();
  });
  EXPECT_TRUE(absl::IsInternal(extra_parameter)) << extra_parameter;
  EXPECT_NE(extra_parameter.message().find("bind ?2"), absl::string_view::npos) << extra_parameter;
}

// Neither is fixed by retrying, so neither may come back as UNAVAILABLE.
TEST_P(SqliteDatabaseTest, DamagedOrUnopenableFilesAreNotRetryable) {
  absl::Status missing_dir = OpenSqliteDatabase(dir_.File("missing-dir/x.db"), Options()).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(missing_dir)) << missing_dir;
  std::ofstream(dir_.File("garbage.db")) << std::string(8192, 'x');
  absl::Status garbage = OpenSqliteDatabase(dir_.File("garbage.db"), Options()).status();
  EXPECT_TRUE(absl::IsDataLoss(garbage)) << garbage;
}

TEST_P(SqliteDatabaseTest, ThrowingFunctionRollsBackAndFreesItsConnection) {
  std::unique_ptr<Database> one = Open(/*max_connections=*/1);
  ASSERT_NE(one, nullptr);
  EXPECT_THROW(one->RunInTransaction([](LocalTx& tx) -> absl::Status {
                    tx.Exec("INSERT INTO t (k) VALUES ('k1')").IgnoreError();
                    throw std::runtime_error("handler bug");
                  })
                   .IgnoreError(),
               std::runtime_error);
  // The only connection is usable again, and the write was rolled back.
  EXPECT_EQ(QueryInt(*one, "SELECT COUNT(*) FROM t"), 0);
}

TEST_P(SqliteDatabaseTest, LockHeldTooLongIsUnavailable) {
  SqliteOptions impatient;
  impatient.busy_timeout = absl::Milliseconds(50);
  impatient.synchronous_full = false;
  impatient.group_commit = GetParam();
  absl::StatusOr<std::unique_ptr<Database>> other =
      OpenSqliteDatabase(dir_.File("t.db"), impatient);
  ASSERT_OK(other);
  tcc::Notification holding, release;
  std::thread holder([&] {
    db_->RunInTransaction([&](LocalTx&) {
         holding.Notify();
         release.WaitForNotification();
         return absl::OkStatus();
       })
        .IgnoreError();
  });
  holding.WaitForNotification();
  absl::Status blocked = (*other)->RunInTransaction([](LocalTx&) { return absl::OkStatus(); });
  release.Notify();
  holder.join();
  EXPECT_TRUE(absl::IsUnavailable(blocked)) << blocked;
}

absl::Status Insert(Database& db, std::string_view k, int64_t i) {
  return db.RunInTransaction([&](LocalTx& tx) {
    return tx.Exec("INSERT INTO t (k, i) VALUES (?, ?)", {k, i}).status();
  });
}

absl::StatusOr<int64_t> ReadI(Database& db, std::string_view k) {
  int64_t i = -1;
  TCC_RETURN_IF_ERROR(db.RunReadOnly([&](LocalTx& tx) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT i FROM t WHERE k = ?", {k}));
    if (!rows.empty()) i = rows[0][0].AsInt();
    return absl::OkStatus();
  }));
  return i;
}

TEST_P(SqliteDatabaseTest, RepeatedStatementsComeFromTheCacheWithFreshParameters) {
  ASSERT_OK(Insert(*db_, "k0", 0));
  ASSERT_OK(ReadI(*db_, "k0"));
  SqliteCommitStats before = GetSqliteCommitStats(*db_);
  for (int n = 1; n <= 20; ++n) ASSERT_OK(Insert(*db_, absl::StrCat("k", n), n * 10));
  for (int n = 20; n >= 0; --n) {
    absl::StatusOr<int64_t> i = ReadI(*db_, absl::StrCat("k", n));
    ASSERT_OK(i);
    EXPECT_EQ(*i, n * 10);
  }
  EXPECT_EQ(*ReadI(*db_, "missing"), -1);
  SqliteCommitStats after = GetSqliteCommitStats(*db_);
  // One call at a time reuses one write and one read connection, whose
  // statements (BEGIN, COMMIT, the INSERT, the SELECT and, with group
  // commit, the savepoint's) were all prepared by the first two calls.
  EXPECT_EQ(after.statements_prepared - before.statements_prepared, 0);
  EXPECT_GE(after.statement_cache_hits - before.statement_cache_hits, 42 * 3);
  EXPECT_EQ(after.read_only_calls - before.read_only_calls, 22);
}

TEST_P(SqliteDatabaseTest, EvictedStatementsArePreparedAgain) {
  SqliteOptions options = Options();
  options.statement_cache_size = 2;
  options.max_connections = 1;
  options.max_read_connections = 1;
  std::unique_ptr<Database> small = Open(options);
  ASSERT_NE(small, nullptr);
  ASSERT_OK(Insert(*small, "k1", 1));
  SqliteCommitStats before = GetSqliteCommitStats(*small);
  for (int round = 0; round < 3; ++round) {
    for (int n = 1; n <= 3; ++n) {
      std::vector<Row> rows;
      ASSERT_OK(small->RunReadOnly([&](LocalTx& tx) -> absl::Status {
        TCC_ASSIGN_OR_RETURN(
            rows, tx.Query(absl::StrCat("SELECT i + ", n, " FROM t WHERE k = ?"), {"k1"}));
        return absl::OkStatus();
      }));
      ASSERT_EQ(rows.size(), 1u);
      EXPECT_EQ(rows[0][0].AsInt(), 1 + n);
    }
  }
  // BEGIN, COMMIT and three queries take turns in two slots: nothing stays.
  SqliteCommitStats after = GetSqliteCommitStats(*small);
  EXPECT_GE(after.statements_prepared - before.statements_prepared, 9 * 3);
}

// Fails with "integer overflow" after it returned its first row.
constexpr char kFailsOnSecondRow[] =
    "SELECT CASE WHEN i < ? THEN i ELSE abs(-9223372036854775807 - 1) END FROM t ORDER BY i";

TEST_P(SqliteDatabaseTest, StatementThatFailedMidwayIsResetForTheNextCall) {
  SqliteOptions options = Options();
  options.max_connections = 1;
  options.max_read_connections = 1;
  std::unique_ptr<Database> one = Open(options);
  ASSERT_NE(one, nullptr);
  ASSERT_OK(Insert(*one, "k1", 1));
  ASSERT_OK(Insert(*one, "k2", 2));
  auto query = [](int64_t limit) {
    return [limit](LocalTx& tx) { return tx.Query(kFailsOnSecondRow, {limit}).status(); };
  };
  EXPECT_FALSE(one->RunReadOnly(query(2)).ok());
  EXPECT_FALSE(one->RunInTransaction(query(2)).ok());
  // Another connection writes at once: nothing of the failed calls holds a
  // lock (a reader left open would also pin its old snapshot).
  SqliteOptions impatient = Options();
  impatient.busy_timeout = absl::Milliseconds(50);
  std::unique_ptr<Database> other = Open(impatient);
  ASSERT_NE(other, nullptr);
  ASSERT_OK(Insert(*other, "k3", 3));
  // The same statements, on the same connections, run again from the start.
  EXPECT_OK(one->RunReadOnly(query(10)));
  EXPECT_OK(one->RunInTransaction(query(10)));
  EXPECT_EQ(*ReadI(*one, "k3"), 3);
  EXPECT_EQ(QueryInt(*one, "SELECT COUNT(*) FROM t"), 3);
}

TEST_P(SqliteDatabaseTest, ReadOnlySeesCommittedDataAndRefusesWrites) {
  ASSERT_OK(Insert(*db_, "k1", 7));
  EXPECT_EQ(*ReadI(*db_, "k1"), 7);
  absl::Status write = db_->RunReadOnly(
      [](LocalTx& tx) { return tx.Exec("INSERT INTO t (k) VALUES ('k2')").status(); });
  EXPECT_TRUE(absl::IsInvalidArgument(write)) << write;
  EXPECT_NE(write.message().find("read-only"), absl::string_view::npos) << write;
  absl::Status pragma =
      db_->RunReadOnly([](LocalTx& tx) { return tx.Exec("PRAGMA user_version=3").status(); });
  EXPECT_FALSE(pragma.ok());
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM t"), 1);
  EXPECT_EQ(QueryInt(*db_, "PRAGMA user_version"), 0);
  // A failed function's status comes back as it was.
  absl::Status mine =
      db_->RunReadOnly([](LocalTx&) { return absl::AbortedError("changed my mind"); });
  EXPECT_TRUE(absl::IsAborted(mine)) << mine;
}

TEST_P(SqliteDatabaseTest, ReadOnlyKeepsItsSnapshotAndDoesNotBlockTheWriter) {
  ASSERT_OK(Insert(*db_, "k1", 1));
  SqliteOptions impatient = Options();
  impatient.busy_timeout = absl::Milliseconds(50);
  std::unique_ptr<Database> writer = Open(impatient);
  ASSERT_NE(writer, nullptr);
  tcc::Notification reading, written;
  int64_t first = -1;
  int64_t second = -1;
  std::thread reader([&] {
    EXPECT_OK(db_->RunReadOnly([&](LocalTx& tx) -> absl::Status {
      TCC_ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query("SELECT COUNT(*) FROM t"));
      first = rows[0][0].AsInt();
      reading.Notify();
      written.WaitForNotification();
      TCC_ASSIGN_OR_RETURN(rows, tx.Query("SELECT COUNT(*) FROM t"));
      second = rows[0][0].AsInt();
      return absl::OkStatus();
    }));
  });
  reading.WaitForNotification();
  absl::Status wrote = Insert(*writer, "k2", 2);
  absl::Status wrote_here = Insert(*db_, "k3", 3);
  written.Notify();
  reader.join();
  EXPECT_OK(wrote);
  EXPECT_OK(wrote_here);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);  // the snapshot of its first query
  EXPECT_EQ(*ReadI(*db_, "k2"), 2);
}

TEST_P(SqliteDatabaseTest, CacheAndReadPoolSizesMustBePositive) {
  SqliteOptions no_cache = Options();
  no_cache.statement_cache_size = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(OpenSqliteDatabase(dir_.File("t.db"), no_cache).status()));
  SqliteOptions no_readers = Options();
  no_readers.max_read_connections = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(OpenSqliteDatabase(dir_.File("t.db"), no_readers).status()));
}

}  // namespace
}  // namespace tcc::sdk::testing
