// PruneDecisions on a real SQLite file: old decision rows go ('committed'
// and 'rolled_back' alike), younger ones keep answering, batches, retention
// zero, and a database made before pruning existed. Row ages are set by
// hand; `now` is passed in.
#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/decision.h"
#include "tests/participant-sdk/test_db.h"

namespace tcc::sdk::testing {
namespace {

constexpr absl::Duration kRetention = absl::Hours(7 * 24);

// The decision table exactly as the SDK created it before pruning existed.
constexpr char kOldSchema[] =
    "CREATE TABLE tcc_decision ("
    " gid TEXT NOT NULL PRIMARY KEY,"
    " decision TEXT NOT NULL,"
    " created_unix_ms BIGINT NOT NULL)";

absl::Status CommitNothing(Database& db, const std::string& gid) {
  return CommitLocally(db, gid, [](LocalTx&) { return absl::OkStatus(); }).status();
}

class DecisionPruningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenTestDb(dir_.File("shop.db"));
    ASSERT_NE(db_, nullptr);
    ASSERT_OK(CreateDecisionTable(*db_));
  }

  void Age(const std::string& gid, absl::Duration age) {
    ASSERT_OK(db_->RunInTransaction([&](LocalTx& tx) -> absl::Status {
      TCC_ASSIGN_OR_RETURN(int64_t changed,
                           tx.Exec("UPDATE tcc_decision SET created_unix_ms = ? WHERE gid = ?",
                                   {absl::ToUnixMillis(now_ - age), gid}));
      if (changed != 1) return absl::NotFoundError("no decision row for " + gid);
      return absl::OkStatus();
    }));
  }

  bool HasRow(const std::string& gid) {
    return QueryInt(*db_, "SELECT COUNT(*) FROM tcc_decision WHERE gid = '" + gid + "'") == 1;
  }

  absl::StatusOr<int64_t> Prune(PruningOptions options = {}) {
    return PruneDecisions(*db_, now_, options);
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  const absl::Time now_ = absl::Now() + absl::Seconds(1);
};

TEST_F(DecisionPruningTest, DeletesRowsOlderThanTheRetentionAndKeepsYoungerOnes) {
  ASSERT_OK(CommitNothing(*db_, "old-committed"));
  ASSERT_OK(FenceOrReadDecision(*db_, "old-fenced"));
  ASSERT_OK(CommitNothing(*db_, "almost"));
  ASSERT_OK(CommitNothing(*db_, "young"));
  Age("old-committed", kRetention + absl::Minutes(1));
  Age("old-fenced", kRetention + absl::Minutes(1));
  Age("almost", kRetention - absl::Minutes(1));

  absl::StatusOr<int64_t> pruned = Prune();
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, 2);
  EXPECT_FALSE(HasRow("old-committed"));
  EXPECT_FALSE(HasRow("old-fenced"));
  absl::StatusOr<LocalDecision> almost = FenceOrReadDecision(*db_, "almost");
  ASSERT_OK(almost);
  EXPECT_EQ(*almost, LocalDecision::kCommitted);
  absl::StatusOr<LocalDecision> young = FenceOrReadDecision(*db_, "young");
  ASSERT_OK(young);
  EXPECT_EQ(*young, LocalDecision::kCommitted);
}

TEST_F(DecisionPruningTest, RepeatedBatchesDeleteEveryOldRow) {
  for (int i = 0; i < 5; ++i) {
    std::string gid = "gid-" + std::to_string(i);
    ASSERT_OK(CommitNothing(*db_, gid));
    Age(gid, kRetention + absl::Minutes(1));
  }
  ASSERT_OK(CommitNothing(*db_, "young"));
  int64_t calls_before = GetSqliteCommitStats(*db_).calls;

  absl::StatusOr<int64_t> pruned = Prune({.batch = 2});
  ASSERT_OK(pruned);
  int64_t calls = GetSqliteCommitStats(*db_).calls - calls_before;
  EXPECT_EQ(*pruned, 5);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM tcc_decision"), 1);
  // Creating the table (a no-op here), then batches of 2, 2 and 1 rows,
  // each its own transaction.
  EXPECT_EQ(calls, 4);
}

TEST_F(DecisionPruningTest, RetentionZeroKeepsEverything) {
  ASSERT_OK(CommitNothing(*db_, "old"));
  Age("old", absl::Hours(24 * 365));
  absl::StatusOr<int64_t> pruned = Prune({.retention = absl::ZeroDuration()});
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, 0);
  EXPECT_TRUE(HasRow("old"));
}

TEST(DecisionPruningUpgradeTest, ADatabaseFromBeforePruningGainsTheIndexAndKeepsWorking) {
  TempDir dir;
  absl::Time now = absl::Now() + absl::Seconds(1);
  {
    std::unique_ptr<Database> db = OpenTestDb(dir.File("old.db"));
    ASSERT_NE(db, nullptr);
    ASSERT_OK(db->RunInTransaction([&](LocalTx& tx) -> absl::Status {
      TCC_RETURN_IF_ERROR(tx.Exec(kOldSchema).status());
      return tx
          .Exec(
              "INSERT INTO tcc_decision VALUES ('gid-old', 'committed', ?),"
              " ('gid-new', 'committed', ?)",
              {absl::ToUnixMillis(now - absl::Hours(24 * 30)), absl::ToUnixMillis(now)})
          .status();
    }));
  }
  std::unique_ptr<Database> db = OpenTestDb(dir.File("old.db"));
  ASSERT_NE(db, nullptr);
  const std::string index_count =
      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'tcc_decision_by_age'";
  ASSERT_EQ(QueryInt(*db, index_count), 0);

  ASSERT_OK(CreateDecisionTable(*db));
  EXPECT_EQ(QueryInt(*db, index_count), 1);
  absl::StatusOr<int64_t> pruned = PruneDecisions(*db, now);
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, 1);
  absl::StatusOr<LocalDecision> kept = FenceOrReadDecision(*db, "gid-new");
  ASSERT_OK(kept);
  EXPECT_EQ(*kept, LocalDecision::kCommitted);
  // Both writers still work on the upgraded table, and still exclude each
  // other.
  ASSERT_OK(CommitNothing(*db, "gid-later"));
  ASSERT_OK(FenceOrReadDecision(*db, "gid-fenced"));
  EXPECT_TRUE(absl::IsFailedPrecondition(CommitNothing(*db, "gid-fenced")));
}

}  // namespace
}  // namespace tcc::sdk::testing
