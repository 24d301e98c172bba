#include "tcc/common/sqlite_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "tests/test_util/status_matchers.h"

namespace tcc {
namespace {

using ::tcc::testing::StatusIs;
using Code = absl::StatusCode;

struct Mapping {
  int rc;
  Code code;
};

class SqliteStatusCodeTest : public ::testing::TestWithParam<Mapping> {};

TEST_P(SqliteStatusCodeTest, MapsThePrimaryCode) {
  EXPECT_EQ(SqliteStatusCode(GetParam().rc), GetParam().code) << "sqlite code " << GetParam().rc;
}

INSTANTIATE_TEST_SUITE_P(
    Codes, SqliteStatusCodeTest,
    ::testing::Values(
        // Transient: retry the call.
        Mapping{SQLITE_BUSY, Code::kUnavailable}, Mapping{SQLITE_BUSY_SNAPSHOT, Code::kUnavailable},
        Mapping{SQLITE_LOCKED, Code::kUnavailable}, Mapping{SQLITE_IOERR, Code::kUnavailable},
        Mapping{SQLITE_IOERR_FSYNC, Code::kUnavailable},
        Mapping{SQLITE_PROTOCOL, Code::kUnavailable},
        // Out of space.
        Mapping{SQLITE_FULL, Code::kResourceExhausted},
        Mapping{SQLITE_NOMEM, Code::kResourceExhausted},
        // Damaged: never retry.
        Mapping{SQLITE_CORRUPT, Code::kDataLoss}, Mapping{SQLITE_CORRUPT_INDEX, Code::kDataLoss},
        Mapping{SQLITE_NOTADB, Code::kDataLoss},
        // Constraints: a key conflict, or a write that does not fit.
        Mapping{SQLITE_CONSTRAINT_UNIQUE, Code::kAlreadyExists},
        Mapping{SQLITE_CONSTRAINT_PRIMARYKEY, Code::kAlreadyExists},
        Mapping{SQLITE_CONSTRAINT_ROWID, Code::kAlreadyExists},
        Mapping{SQLITE_CONSTRAINT_NOTNULL, Code::kFailedPrecondition},
        Mapping{SQLITE_CONSTRAINT_FOREIGNKEY, Code::kFailedPrecondition},
        Mapping{SQLITE_CONSTRAINT_CHECK, Code::kFailedPrecondition},
        Mapping{SQLITE_CONSTRAINT, Code::kFailedPrecondition},
        // The file cannot be opened or written.
        Mapping{SQLITE_READONLY, Code::kFailedPrecondition},
        Mapping{SQLITE_READONLY_DBMOVED, Code::kFailedPrecondition},
        Mapping{SQLITE_PERM, Code::kFailedPrecondition},
        Mapping{SQLITE_CANTOPEN, Code::kFailedPrecondition},
        Mapping{SQLITE_AUTH, Code::kPermissionDenied},
        // Bad values, whatever the state.
        Mapping{SQLITE_TOOBIG, Code::kInvalidArgument},
        Mapping{SQLITE_MISMATCH, Code::kInvalidArgument}, Mapping{SQLITE_ABORT, Code::kAborted},
        Mapping{SQLITE_INTERRUPT, Code::kCancelled},
        // Our own bugs.
        Mapping{SQLITE_ERROR, Code::kInternal}, Mapping{SQLITE_MISUSE, Code::kInternal},
        Mapping{SQLITE_RANGE, Code::kInternal}, Mapping{SQLITE_SCHEMA, Code::kInternal},
        Mapping{SQLITE_INTERNAL, Code::kInternal}));

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

class SqliteErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
    db_.reset(raw);
    sqlite3_extended_result_codes(raw, 1);
    ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
  }

  int Exec(const char* sql) { return sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr); }

  std::unique_ptr<sqlite3, DbCloser> db_;
};

TEST_F(SqliteErrorTest, SaysWhatFailedWhySqliteRefusedAndWhatToDo) {
  ASSERT_EQ(Exec("INSERT INTO t VALUES ('a', 'x')"), SQLITE_OK);
  int rc = Exec("INSERT INTO t VALUES ('a', 'y')");  // PRIMARY KEY: 1555
  absl::Status status = SqliteError(rc, db_.get(), "insert a");
  EXPECT_THAT(status, StatusIs(Code::kAlreadyExists, "sqlite: insert a: UNIQUE constraint failed"));
  EXPECT_THAT(status, StatusIs(Code::kAlreadyExists, "(sqlite code 1555)"));
  EXPECT_THAT(status, StatusIs(Code::kAlreadyExists, "already exists"));
}

TEST_F(SqliteErrorTest, UsesTheConnectionsExtendedCode) {
  // The call returned the primary code; the connection knows which
  // constraint it was.
  int rc = Exec("INSERT INTO t VALUES ('b', NULL)");
  ASSERT_EQ(rc, SQLITE_CONSTRAINT_NOTNULL);
  EXPECT_THAT(SqliteError(SQLITE_CONSTRAINT, db_.get(), "insert b"),
              StatusIs(Code::kFailedPrecondition, "NOT NULL constraint failed"));
  EXPECT_THAT(SqliteError(SQLITE_CONSTRAINT, db_.get(), "insert b"),
              StatusIs(Code::kFailedPrecondition, "conflicts with the stored data"));
}

TEST_F(SqliteErrorTest, ABadBindIndexIsInternal) {
  sqlite3_stmt* raw = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_.get(), "SELECT v FROM t WHERE k = ?", -1, &raw, nullptr),
            SQLITE_OK);
  std::unique_ptr<sqlite3_stmt, StmtFinalizer> stmt(raw);
  int rc = sqlite3_bind_int64(stmt.get(), 2, 7);
  EXPECT_THAT(SqliteError(rc, db_.get(), "bind ?2"),
              StatusIs(Code::kInternal, "sqlite: bind ?2: column index out of range"));
}

TEST_F(SqliteErrorTest, ATooBigValueIsInvalidArgument) {
  sqlite3_limit(db_.get(), SQLITE_LIMIT_LENGTH, 8);
  sqlite3_stmt* raw = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_.get(), "INSERT INTO t VALUES ('c', ?)", -1, &raw, nullptr),
            SQLITE_OK);
  std::unique_ptr<sqlite3_stmt, StmtFinalizer> stmt(raw);
  int rc = sqlite3_bind_text(stmt.get(), 1, "more than eight bytes", -1, SQLITE_TRANSIENT);
  EXPECT_THAT(SqliteError(rc, db_.get(), "bind ?1"), StatusIs(Code::kInvalidArgument, "too big"));
}

TEST_F(SqliteErrorTest, IgnoresAnOlderErrorOfTheConnection) {
  ASSERT_NE(Exec("SELECT * FROM missing"), SQLITE_OK);  // Leaves "no such table".
  absl::Status status = SqliteError(SQLITE_FULL, db_.get(), "commit");
  EXPECT_THAT(status,
              StatusIs(Code::kResourceExhausted, "sqlite: commit: database or disk is full"));
  EXPECT_THAT(status.message(), ::testing::Not(::testing::HasSubstr("no such table")));
}

TEST(SqliteError, SaysWhatAFullDiskAndAnIoErrorAskOfTheOperator) {
  absl::Status full = SqliteError(SQLITE_FULL, nullptr, "commit");
  EXPECT_THAT(full, StatusIs(Code::kResourceExhausted, "database or disk is full"));
  EXPECT_THAT(full, StatusIs(Code::kResourceExhausted, "free space, then retry"));
  absl::Status io = SqliteError(SQLITE_IOERR_WRITE, nullptr, "commit");
  EXPECT_THAT(io, StatusIs(Code::kUnavailable, "disk I/O error"));
  EXPECT_THAT(io, StatusIs(Code::kUnavailable, "check the disk and the kernel log (dmesg)"));
  EXPECT_THAT(io.message(), ::testing::Not(::testing::HasSubstr("busy")));
}

TEST(SqliteError, WorksWithoutAConnection) {
  EXPECT_THAT(SqliteError(SQLITE_CANTOPEN, nullptr, "open /nowhere/x.db"),
              StatusIs(Code::kFailedPrecondition, "sqlite: open /nowhere/x.db: unable to open"));
  EXPECT_THAT(SqliteError(SQLITE_CANTOPEN, nullptr, "open /nowhere/x.db"),
              StatusIs(Code::kFailedPrecondition, "check its path, permissions and mount"));
  EXPECT_THAT(SqliteError(SQLITE_NOTADB, nullptr, "read"), StatusIs(Code::kDataLoss, "backup"));
}

}  // namespace
}  // namespace tcc
