// The SQLite wrappers the coordinator's store is built on: a bind that
// fails is an error, not a NULL parameter.
#include "coordinator/store/sqlite_db.h"

#include <gtest/gtest.h>

#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"

namespace tcc::sqlite {
namespace {

using ::tcc::testing::StatusIs;
using ::tcc::testing::TempDir;

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Database> db = Database::Open(dir_.File("t.db"));
    ASSERT_OK(db);
    db_.emplace(std::move(*db));
    ASSERT_OK(db_->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)"));
  }

  int64_t Rows() {
    auto stmt = db_->Prepare("SELECT COUNT(*) FROM t");
    EXPECT_OK(stmt);
    EXPECT_TRUE(*(*stmt)->Step());
    return (*stmt)->Int(0);
  }

  TempDir dir_;
  std::optional<Database> db_;
};

TEST_F(SqliteDbTest, ABindOutOfRangeFailsTheStatementInsteadOfRunningIt) {
  auto stmt = db_->Prepare("INSERT INTO t (k, v) VALUES (?, ?)");
  ASSERT_OK(stmt);
  (*stmt)->Bind(1, "a").Bind(3, "value for a placeholder that is not there");
  EXPECT_THAT((*stmt)->Run(), StatusIs(absl::StatusCode::kInternal, "bind ?3"));
  stmt->reset();
  EXPECT_EQ(Rows(), 0);
}

TEST_F(SqliteDbTest, AValueTooBigIsInvalidArgumentNotANullColumn) {
  sqlite3_limit(db_->raw(), SQLITE_LIMIT_LENGTH, 16);
  auto stmt = db_->Prepare("INSERT INTO t (k, v) VALUES (?, ?)");
  ASSERT_OK(stmt);
  (*stmt)->Bind(1, "a").BindBlob(2, std::string(64, 'x'));
  EXPECT_THAT((*stmt)->Run(), StatusIs(absl::StatusCode::kInvalidArgument, "bind ?2"));
  stmt->reset();
  EXPECT_EQ(Rows(), 0);
}

TEST_F(SqliteDbTest, TheFirstFailedBindIsReportedAndTheCachedStatementRecovers) {
  constexpr absl::string_view kInsert = "INSERT INTO t (k, v) VALUES (?, ?)";
  {
    auto stmt = db_->Prepare(kInsert);
    ASSERT_OK(stmt);
    (*stmt)->Bind(0, "no ?0").Bind(9, "no ?9").Bind(1, "a").Bind(2, "b");
    EXPECT_THAT((*stmt)->Step(), StatusIs(absl::StatusCode::kInternal, "bind ?0"));
  }
  auto stmt = db_->Prepare(kInsert);  // The same cached statement.
  ASSERT_OK(stmt);
  (*stmt)->Bind(1, "a").Bind(2, "b");
  EXPECT_OK((*stmt)->Run());
  stmt->reset();
  EXPECT_EQ(Rows(), 1);
}

TEST(SqliteDb, OpeningWhereNoFileCanBeIsNotRetryable) {
  TempDir dir;
  EXPECT_THAT(Database::Open(dir.File("missing-dir/t.db")).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "open "));
}

}  // namespace
}  // namespace tcc::sqlite
