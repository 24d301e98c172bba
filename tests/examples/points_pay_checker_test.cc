// The checker must be able to fail: a real run's databases are copied, one
// violation is planted in each copy (an order PAID without a deduction,
// points left frozen, a refund without its refund log, an order PAID with
// its points returned, an order REFUNDED without them, a compensated refund
// saga that left its refund log row, a transaction left undecided, points
// created from nothing, points moved between users, a rolled-back
// transaction that deducted), and points_pay_check must report it with the
// order and gid and exit non-zero. The untouched copy must stay clean.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "examples/points-pay/common/sqlite_file.h"
#include "tests/test_util/command.h"
#include "tests/test_util/temp_dir.h"

namespace pointspay::testing {
namespace {

using ::tcc::testing::CommandResult;
using ::tcc::testing::RunCommandForTest;
using ::tcc::testing::TempDir;

class PointsPayCheckerTest : public ::testing::Test {
 protected:
  // One real run, shared by every test: 40 payments of 50 orders (so some
  // stay unpaid), half of the paid ones refunded.
  static void SetUpTestSuite() {
    run_dir_ = new TempDir();
    CommandResult run =
        RunCommandForTest({POINTS_PAY_PATH, "--data-dir", run_dir_->File("run"), "--keep",
                           "--payments", "40", "--orders", "50", "--users", "10", "--concurrency",
                           "4", "--refund-ratio", "0.5", "--seed", "3"});
    ASSERT_EQ(run.exit_code(), 0) << run.output;
  }
  static void TearDownTestSuite() {
    delete run_dir_;
    run_dir_ = nullptr;
  }

  // A fresh copy of the run's databases.
  std::string Copy() {
    std::string dir = work_.File("copy" + std::to_string(copies_++));
    std::filesystem::copy(run_dir_->File("run"), dir, std::filesystem::copy_options::recursive);
    return dir;
  }

  static void Plant(const std::string& dir, const std::string& db, const std::string& sql) {
    auto file = SqliteFile::Open(dir + "/" + db, SqliteFile::Mode::kReadWrite);
    ASSERT_TRUE(file.ok()) << file.status();
    absl::Status planted = (*file)->Exec(sql);
    ASSERT_TRUE(planted.ok()) << planted;
  }

  static std::string First(const std::string& dir, const std::string& db, const std::string& sql) {
    auto file = SqliteFile::Open(dir + "/" + db);
    EXPECT_TRUE(file.ok()) << file.status();
    auto rows = (*file)->Query(sql);
    EXPECT_TRUE(rows.ok() && !rows->empty()) << sql;
    return rows.ok() && !rows->empty() ? (*rows)[0][0] : "";
  }

  CommandResult Check(const std::string& dir) {
    return RunCommandForTest({POINTS_PAY_CHECK_PATH, "--data-dir", dir});
  }

  static TempDir* run_dir_;
  TempDir work_;
  int copies_ = 0;
};

TempDir* PointsPayCheckerTest::run_dir_ = nullptr;

TEST_F(PointsPayCheckerTest, TheRealRunIsClean) {
  CommandResult check = Check(Copy());
  EXPECT_EQ(check.exit_code(), 0) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "CLEAN")) << check.output;
}

TEST_F(PointsPayCheckerTest, ReportsAnOrderPaidWithoutADeduction) {
  std::string dir = Copy();
  std::string order =
      First(dir, "orders.db", "SELECT order_no FROM orders WHERE status = 'UNPAID'");
  Plant(dir, "orders.db",
        "UPDATE orders SET status = 'PAID', pay_gid = 'pay-planted' WHERE order_no = '" + order +
            "'");
  CommandResult check = Check(dir);
  EXPECT_EQ(check.exit_code(), 1) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "VIOLATION order=" + order + " gid=pay-planted"))
      << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "0 'pay' ledger rows")) << check.output;
}

TEST_F(PointsPayCheckerTest, ReportsPointsLeftFrozen) {
  std::string dir = Copy();
  Plant(dir, "points.db", "UPDATE accounts SET frozen = 7 WHERE user = 'u0001'");
  CommandResult check = Check(dir);
  EXPECT_EQ(check.exit_code(), 1) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "user u0001 has 7 points left frozen"))
      << check.output;
}

TEST_F(PointsPayCheckerTest, ReportsARefundWithoutItsRefundLog) {
  std::string dir = Copy();
  std::string gid =
      First(dir, "orders.db", "SELECT refund_gid FROM orders WHERE status = 'REFUNDED'");
  Plant(dir, "paylog.db", "DELETE FROM refund_log WHERE gid = '" + gid + "'");
  CommandResult check = Check(dir);
  EXPECT_EQ(check.exit_code(), 1) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "gid=" + gid + ": order is REFUNDED but refund_log"))
      << check.output;
}

TEST_F(PointsPayCheckerTest, ReportsAnOrderPaidWithItsPointsReturned) {
  std::string dir = Copy();
  std::string order =
      First(dir, "orders.db", "SELECT order_no FROM orders WHERE status = 'REFUNDED'");
  Plant(dir, "orders.db",
        "UPDATE orders SET status = 'PAID', refund_gid = '' WHERE order_no = '" + order + "'");
  CommandResult check = Check(dir);
  EXPECT_EQ(check.exit_code(), 1) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "VIOLATION order=" + order)) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "order is PAID but points were refunded"))
      << check.output;
}

TEST_F(PointsPayCheckerTest, ReportsAnOrderRefundedWithoutItsPoints) {
  std::string dir = Copy();
  std::string gid =
      First(dir, "orders.db", "SELECT refund_gid FROM orders WHERE status = 'REFUNDED'");
  Plant(dir, "points.db", "DELETE FROM account_log WHERE gid = '" + gid + "'");
  CommandResult check = Check(dir);
  EXPECT_EQ(check.exit_code(), 1) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output,
                                "gid=" + gid + ": order is REFUNDED but has 0 'refund' ledger"))
      << check.output;
}

// A compensation that undid the order and the points but not the pay log.
TEST_F(PointsPayCheckerTest, ReportsACompensatedRefundThatLeftItsLogRow) {
  std::string dir = Copy();
  std::string gid =
      First(dir, "orders.db", "SELECT refund_gid FROM orders WHERE status = 'REFUNDED'");
  Plant(dir, "tccd.db", "UPDATE global_transactions SET state = 5 WHERE gid = '" + gid + "'");
  Plant(dir, "orders.db",
        "UPDATE orders SET status = 'PAID', refund_gid = '' WHERE refund_gid = '" + gid + "'");
  Plant(dir, "points.db",
        "UPDATE accounts SET balance = balance - (SELECT amount FROM account_log WHERE gid = '" +
            gid + "') WHERE user = (SELECT user FROM account_log WHERE gid = '" + gid +
            "'); DELETE FROM account_log WHERE gid = '" + gid + "'");
  CommandResult check = Check(dir);
  EXPECT_EQ(check.exit_code(), 1) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output,
                                "gid=" + gid + ": rolled back, yet its refund_log row is live"))
      << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "order is PAID but a live refund_log row exists"))
      << check.output;
  EXPECT_FALSE(absl::StrContains(check.output, "not conserved")) << check.output;
}

TEST_F(PointsPayCheckerTest, ReportsATransactionThatIsNotFinal) {
  std::string dir = Copy();
  std::string gid = First(dir, "tccd.db", "SELECT gid FROM global_transactions WHERE state = 3");
  Plant(dir, "tccd.db", "UPDATE global_transactions SET state = 2 WHERE gid = '" + gid + "'");
  CommandResult check = Check(dir);
  EXPECT_EQ(check.exit_code(), 1) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "gid=" + gid + ": global transaction is not final"))
      << check.output;
}

TEST_F(PointsPayCheckerTest, ReportsPointsCreatedFromNothing) {
  std::string dir = Copy();
  Plant(dir, "points.db", "UPDATE accounts SET balance = balance + 10 WHERE user = 'u0003'");
  CommandResult check = Check(dir);
  EXPECT_EQ(check.exit_code(), 1) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "points not conserved")) << check.output;
}

// The sum stays right; each user's balance does not.
TEST_F(PointsPayCheckerTest, ReportsPointsMovedBetweenUsers) {
  std::string dir = Copy();
  Plant(dir, "points.db",
        "UPDATE accounts SET balance = balance + 10 WHERE user = 'u0003';"
        " UPDATE accounts SET balance = balance - 10 WHERE user = 'u0004'");
  CommandResult check = Check(dir);
  EXPECT_EQ(check.exit_code(), 1) << check.output;
  EXPECT_FALSE(absl::StrContains(check.output, "not conserved")) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "user u0003 has a balance of")) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "user u0004 has a balance of")) << check.output;
}

TEST_F(PointsPayCheckerTest, ReportsARolledBackTransactionThatDeducted) {
  std::string dir = Copy();
  std::string gid = First(dir, "orders.db", "SELECT pay_gid FROM orders WHERE status = 'PAID'");
  Plant(dir, "tccd.db", "UPDATE global_transactions SET state = 5 WHERE gid = '" + gid + "'");
  CommandResult check = Check(dir);
  EXPECT_EQ(check.exit_code(), 1) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "gid=" + gid + ": rolled back, yet wrote the ledger"))
      << check.output;
}

TEST_F(PointsPayCheckerTest, UnreadableDatabaseIsExitCodeTwo) {
  TempDir empty;
  CommandResult check = Check(empty.path().string());
  EXPECT_EQ(check.exit_code(), 2) << check.output;
}

}  // namespace
}  // namespace pointspay::testing
