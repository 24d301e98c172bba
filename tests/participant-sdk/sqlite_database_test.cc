// The SQLite adapter: bound parameters, rollback, and the error codes that
// the barrier and the servers rely on.
#include <stdexcept>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "participant-sdk/test_util.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/local_db.h"

namespace tcc::sdk::testing {
namespace {

// Every test runs with group commit (the param) and without.
class SqliteDatabaseTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    db_ = Open(/*max_connections=*/8);
    ASSERT_NE(db_, nullptr);
    TCC_ASSERT_OK(db_->RunInTransaction([](LocalTx& tx) {
      return tx.Exec("CREATE TABLE t (k TEXT PRIMARY KEY, i INTEGER, r REAL, b BLOB)").status();
    }));
  }

  std::unique_ptr<Database> Open(int max_connections) {
    SqliteOptions options;
    options.group_commit = GetParam();
    options.synchronous_full = false;
    options.busy_timeout = absl::Seconds(30);
    options.max_connections = max_connections;
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
  TCC_ASSERT_OK(db_->RunInTransaction([&](LocalTx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(int64_t changed, tx.Exec("INSERT INTO t VALUES (?, ?, ?, ?)",
                                              {"k1", int64_t{1} << 40, 2.5, SqlValue::Blob(blob)}));
    EXPECT_EQ(changed, 1);
    RETURN_IF_ERROR(
        tx.Exec("INSERT INTO t VALUES (?, ?, ?, ?)", {"k2", nullptr, 0.0, nullptr}).status());
    ASSIGN_OR_RETURN(rows, tx.Query("SELECT k, i, r, b FROM t ORDER BY k"));
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

TEST_P(SqliteDatabaseTest, FailedFunctionRollsBackEveryWrite) {
  absl::Status status = db_->RunInTransaction([](LocalTx& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO t (k) VALUES ('k1')").status());
    return absl::AbortedError("changed my mind");
  });
  EXPECT_TRUE(absl::IsAborted(status));
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM t"), 0);
}

TEST_P(SqliteDatabaseTest, ErrorCodes) {
  TCC_ASSERT_OK(db_->RunInTransaction(
      [](LocalTx& tx) { return tx.Exec("INSERT INTO t (k) VALUES ('k1')").status(); }));
  absl::Status duplicate = db_->RunInTransaction(
      [](LocalTx& tx) { return tx.Exec("INSERT INTO t (k) VALUES ('k1')").status(); });
  EXPECT_TRUE(absl::IsAlreadyExists(duplicate)) << duplicate;
  absl::Status syntax =
      db_->RunInTransaction([](LocalTx& tx) { return tx.Exec("INSERT INTO nowhere").status(); });
  EXPECT_TRUE(absl::IsInternal(syntax)) << syntax;
  EXPECT_FALSE(OpenSqliteDatabase(dir_.File("missing-dir/x.db")).ok());
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
  TCC_ASSERT_OK(other);
  absl::Notification holding, release;
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

}  // namespace
}  // namespace tcc::sdk::testing
