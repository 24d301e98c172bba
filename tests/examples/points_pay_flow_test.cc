// The order service's API against a real cluster (tccd and the three
// services as processes, each with its own SQLite file): the same request id
// sent twice at once pays once (S5); not enough points is a refusal that
// leaves nothing behind (S1); a refund (a saga: order step, points, pay log)
// returns the points once, however often it is asked (S2); a refund refused
// at its first step (the order is not PAID) compensates nothing, and one
// refused at a later step (a test switch) compensates the steps before it.
// Each test ends with the invariant checker on the stopped cluster's
// databases.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "examples/points-pay/checker/checker.h"
#include "examples/points-pay/cluster/cluster.h"
#include "examples/points-pay/cluster/fault_profile.h"
#include "examples/points-pay/cluster/seed.h"
#include "examples/points-pay/common/sqlite_file.h"
#include "examples/points-pay/launcher/order_client.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace pointspay::testing {
namespace {

using ::tcc::testing::TempDir;
using ::tcc::testing::WaitFor;

// Three users with 1,000 points each, except u0002 who has 5; order o00000i
// belongs to user i % 3.
constexpr char kPoorUser[] = "u0002";
constexpr char kPoorUsersOrder[] = "o000002";

class PointsPayFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<SeedResult> seeded =
        SeedDataDir(dir_.path().string(),
                    {.users = 3, .orders = 12, .poor_ratio = 0, .balances = {{kPoorUser, 5}}});
    ASSERT_TRUE(seeded.ok()) << seeded.status();
    orders_ = seeded->orders;
    cluster_ = std::make_unique<Cluster>(
        ClusterOptions{.data_dir = dir_.path().string(), .faults = Faults()});
    absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << started;
    client_ = std::make_unique<OrderClient>(cluster_->order_address());
  }

  void TearDown() override {
    if (cluster_ == nullptr) return;
    EXPECT_TRUE(WaitUntilAllFinal());
    client_.reset();
    EXPECT_TRUE(cluster_->Stop().ok());
    absl::StatusOr<CheckReport> report = RunChecker(CheckerPaths::InDataDir(dir_.path().string()));
    ASSERT_TRUE(report.ok()) << report.status();
    std::ostringstream text;
    PrintReport(*report, text);
    EXPECT_TRUE(report->clean()) << text.str();
  }

  // The fault switches of the cluster's services: none here.
  virtual ServiceFaults Faults() const { return {}; }

  bool WaitUntilAllFinal() {
    return WaitFor(
        [&] {
          absl::StatusOr<int64_t> n = cluster_->UnfinishedTransactions();
          return n.ok() && *n == 0;
        },
        std::chrono::seconds(30));
  }

  int64_t Query(const std::string& db_name, const std::string& sql,
                const std::vector<std::string>& params = {}) {
    auto db = SqliteFile::Open(dir_.File(db_name));
    EXPECT_TRUE(db.ok()) << db.status();
    if (!db.ok()) return -1;
    absl::StatusOr<int64_t> value = (*db)->QueryInt(sql, params);
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() ? *value : -1;
  }

  int64_t Balance(const std::string& user) {
    return Query("points.db", "SELECT balance FROM accounts WHERE user = ?", {user});
  }
  int64_t Frozen(const std::string& user) {
    return Query("points.db", "SELECT frozen FROM accounts WHERE user = ?", {user});
  }
  int64_t Ledger(const std::string& order, const std::string& op) {
    return Query("points.db", "SELECT COUNT(*) FROM account_log WHERE order_no = ? AND op_type = ?",
                 {order, op});
  }
  int64_t LiveLogRows(const std::string& table, const std::string& order) {
    return Query("paylog.db",
                 "SELECT COUNT(*) FROM " + table + " WHERE order_no = ? AND status != 'VOID'",
                 {order});
  }
  // Barrier rows of `gid` in a service's database (op "try" or "cancel"):
  // whether the saga's action, resp. compensation, reached that service.
  int64_t BarrierRows(const std::string& db_name, const std::string& gid, const std::string& op) {
    return Query(db_name, "SELECT COUNT(*) FROM tcc_barrier WHERE gid = ? AND op = ?", {gid, op});
  }
  int64_t AnyLogRows(const std::string& table, const std::string& order) {
    return Query("paylog.db", "SELECT COUNT(*) FROM " + table + " WHERE order_no = ?", {order});
  }
  CallResult PayOrFail(const SeededOrder& order, const std::string& request_id) {
    CallResult paid = client_->Pay(order.order_no, request_id);
    EXPECT_TRUE(paid.ok) << paid.last_error;
    EXPECT_EQ(paid.reply.outcome(), pointspay::v1::OUTCOME_DONE) << paid.reply.ShortDebugString();
    return paid;
  }
  std::string OrderStatus(const std::string& order) {
    pointspay::v1::Order o;
    grpc::Status status = client_->GetOrder(order, &o);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return pointspay::v1::OrderStatus_Name(o.status());
  }

  TempDir dir_;
  std::vector<SeededOrder> orders_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<OrderClient> client_;
};

TEST_F(PointsPayFlowTest, SameRequestIdTwiceConcurrentlyPaysOnce) {
  // Several orders, each paid by 4 concurrent deliveries of one request.
  for (int i : {0, 1, 3}) {
    const SeededOrder& order = orders_[static_cast<size_t>(i)];
    int64_t before = Balance(order.user);
    std::vector<CallResult> results(4);
    std::vector<std::thread> senders;
    for (CallResult& r : results) {
      senders.emplace_back([&] { r = client_->Pay(order.order_no, "dup-" + order.order_no); });
    }
    for (std::thread& t : senders) t.join();
    for (const CallResult& r : results) {
      ASSERT_TRUE(r.ok) << r.last_error;
      EXPECT_EQ(r.reply.outcome(), pointspay::v1::OUTCOME_DONE) << r.reply.ShortDebugString();
      EXPECT_EQ(r.reply.gid(), "pay-dup-" + order.order_no);
    }
    ASSERT_TRUE(WaitUntilAllFinal());
    EXPECT_EQ(Balance(order.user), before - order.amount) << order.order_no;
    EXPECT_EQ(Frozen(order.user), 0);
    EXPECT_EQ(Ledger(order.order_no, "pay"), 1);
    EXPECT_EQ(LiveLogRows("pay_log", order.order_no), 1);
    EXPECT_EQ(
        Query("paylog.db", "SELECT COUNT(*) FROM pay_log WHERE order_no = ?", {order.order_no}), 1);
    EXPECT_EQ(OrderStatus(order.order_no), "ORDER_STATUS_PAID");
  }
  // A late duplicate is answered from what was done.
  CallResult late = client_->Pay(orders_[0].order_no, "dup-" + orders_[0].order_no);
  ASSERT_TRUE(late.ok) << late.last_error;
  EXPECT_EQ(late.reply.outcome(), pointspay::v1::OUTCOME_DONE);
  EXPECT_TRUE(late.reply.replayed());
  EXPECT_EQ(Ledger(orders_[0].order_no, "pay"), 1);
}

TEST_F(PointsPayFlowTest, InsufficientPointsIsARefusalThatLeavesNothingBehind) {
  CallResult r = client_->Pay(kPoorUsersOrder, "poor-1");
  ASSERT_TRUE(r.ok) << r.last_error;
  EXPECT_EQ(r.reply.outcome(), pointspay::v1::OUTCOME_REFUSED);
  EXPECT_NE(r.reply.detail().find("not enough points"), std::string::npos) << r.reply.detail();
  EXPECT_EQ(r.reply.order_status(), pointspay::v1::ORDER_STATUS_UNPAID);
  ASSERT_TRUE(WaitUntilAllFinal());
  EXPECT_EQ(OrderStatus(kPoorUsersOrder), "ORDER_STATUS_UNPAID");
  EXPECT_EQ(Balance(kPoorUser), 5);
  EXPECT_EQ(Frozen(kPoorUser), 0);
  EXPECT_EQ(Ledger(kPoorUsersOrder, "pay"), 0);
  EXPECT_EQ(LiveLogRows("pay_log", kPoorUsersOrder), 0);
  // The same request again gets the same answer, and still changes nothing.
  CallResult again = client_->Pay(kPoorUsersOrder, "poor-1");
  ASSERT_TRUE(again.ok) << again.last_error;
  EXPECT_EQ(again.reply.outcome(), pointspay::v1::OUTCOME_REFUSED);
  EXPECT_NE(again.reply.detail().find("not enough points"), std::string::npos);
}

TEST_F(PointsPayFlowTest, RefundReturnsPointsOnceEvenWhenAskedTwice) {
  const SeededOrder& order = orders_[4];
  int64_t before = Balance(order.user);
  PayOrFail(order, "pay-then-refund");
  CallResult refund = client_->Refund(order.order_no, "refund-1");
  ASSERT_TRUE(refund.ok) << refund.last_error;
  EXPECT_EQ(refund.reply.outcome(), pointspay::v1::OUTCOME_DONE) << refund.reply.detail();
  EXPECT_EQ(refund.reply.gid(), "refund-refund-1");
  EXPECT_EQ(refund.reply.order_status(), pointspay::v1::ORDER_STATUS_REFUNDED);
  EXPECT_EQ(Balance(order.user), before);
  // Another request: refused by the order step, before any points move.
  CallResult second = client_->Refund(order.order_no, "refund-2");
  ASSERT_TRUE(second.ok) << second.last_error;
  EXPECT_EQ(second.reply.outcome(), pointspay::v1::OUTCOME_REFUSED);
  EXPECT_NE(second.reply.detail().find("refunded already (by refund-refund-1)"), std::string::npos)
      << second.reply.detail();
  EXPECT_EQ(BarrierRows("points.db", "refund-refund-2", "try"), 0);
  // The first request again, e.g. a retry after a lost reply: the same answer.
  CallResult again = client_->Refund(order.order_no, "refund-1");
  ASSERT_TRUE(again.ok) << again.last_error;
  EXPECT_EQ(again.reply.outcome(), pointspay::v1::OUTCOME_DONE);
  EXPECT_TRUE(again.reply.replayed());
  ASSERT_TRUE(WaitUntilAllFinal());
  EXPECT_EQ(Balance(order.user), before);
  EXPECT_EQ(Ledger(order.order_no, "refund"), 1);
  EXPECT_EQ(LiveLogRows("refund_log", order.order_no), 1);
  EXPECT_EQ(OrderStatus(order.order_no), "ORDER_STATUS_REFUNDED");
}

TEST_F(PointsPayFlowTest, SameRefundTwiceConcurrentlyReturnsPointsOnce) {
  const SeededOrder& order = orders_[7];
  int64_t before = Balance(order.user);
  PayOrFail(order, "pay-7");
  std::vector<CallResult> results(3);
  std::vector<std::thread> senders;
  for (CallResult& r : results) {
    senders.emplace_back([&] { r = client_->Refund(order.order_no, "dup-refund"); });
  }
  for (std::thread& t : senders) t.join();
  for (const CallResult& r : results) {
    ASSERT_TRUE(r.ok) << r.last_error;
    EXPECT_EQ(r.reply.outcome(), pointspay::v1::OUTCOME_DONE) << r.reply.ShortDebugString();
  }
  ASSERT_TRUE(WaitUntilAllFinal());
  EXPECT_EQ(Balance(order.user), before);
  EXPECT_EQ(Ledger(order.order_no, "refund"), 1);
  EXPECT_EQ(OrderStatus(order.order_no), "ORDER_STATUS_REFUNDED");
}

TEST_F(PointsPayFlowTest, RefundOfAnUnpaidOrderIsRefusedAtTheOrderStepAndMovesNothing) {
  const SeededOrder& order = orders_[5];
  int64_t before = Balance(order.user);
  CallResult r = client_->Refund(order.order_no, "unpaid-1");
  ASSERT_TRUE(r.ok) << r.last_error;
  EXPECT_EQ(r.reply.outcome(), pointspay::v1::OUTCOME_REFUSED);
  EXPECT_NE(r.reply.detail().find("is UNPAID; only a PAID order is refunded"), std::string::npos)
      << r.reply.detail();
  EXPECT_EQ(r.reply.order_status(), pointspay::v1::ORDER_STATUS_UNPAID);
  ASSERT_TRUE(WaitUntilAllFinal());
  // Neither later step ran, so there was nothing to compensate.
  for (const char* db : {"points.db", "paylog.db"}) {
    EXPECT_EQ(BarrierRows(db, "refund-unpaid-1", "try"), 0) << db;
    EXPECT_EQ(BarrierRows(db, "refund-unpaid-1", "cancel"), 0) << db;
  }
  EXPECT_EQ(BarrierRows("orders.db", "refund-unpaid-1", "cancel"), 0);
  EXPECT_EQ(Balance(order.user), before);
  EXPECT_EQ(Ledger(order.order_no, "refund"), 0);
  EXPECT_EQ(AnyLogRows("refund_log", order.order_no), 0);
  EXPECT_EQ(OrderStatus(order.order_no), "ORDER_STATUS_UNPAID");
  // The same request again: the same answer, from the same saga.
  CallResult again = client_->Refund(order.order_no, "unpaid-1");
  ASSERT_TRUE(again.ok) << again.last_error;
  EXPECT_EQ(again.reply.outcome(), pointspay::v1::OUTCOME_REFUSED);
  EXPECT_EQ(again.reply.detail(), r.reply.detail());
  EXPECT_TRUE(again.reply.replayed());
}

// The pay log refuses every refund (its refuse_refund switch): only the
// order step is undone, and the points step after it never runs.
class PaylogRefusesRefundsTest : public PointsPayFlowTest {
 protected:
  ServiceFaults Faults() const override {
    ServiceFaults faults;
    faults.paylog.refuse_refund = 1;
    return faults;
  }
};

TEST_F(PaylogRefusesRefundsTest, ARefusalAtThePaylogStepCompensatesTheOrderStepOnly) {
  const SeededOrder& order = orders_[4];
  int64_t before = Balance(order.user);
  PayOrFail(order, "pay-4");
  CallResult r = client_->Refund(order.order_no, "refused-late");
  ASSERT_TRUE(r.ok) << r.last_error;
  EXPECT_EQ(r.reply.outcome(), pointspay::v1::OUTCOME_REFUSED) << r.reply.ShortDebugString();
  EXPECT_NE(r.reply.detail().find("refuse_refund: paylog.refund refused"), std::string::npos)
      << r.reply.detail();
  EXPECT_EQ(r.reply.order_status(), pointspay::v1::ORDER_STATUS_PAID);
  ASSERT_TRUE(WaitUntilAllFinal());
  const std::string gid = "refund-refused-late";
  EXPECT_EQ(BarrierRows("orders.db", gid, "cancel"), 1);
  EXPECT_EQ(BarrierRows("paylog.db", gid, "cancel"), 0) << "a refused step has nothing to undo";
  EXPECT_EQ(BarrierRows("points.db", gid, "try"), 0) << "the step after a refusal never runs";
  EXPECT_EQ(OrderStatus(order.order_no), "ORDER_STATUS_PAID");
  EXPECT_EQ(Balance(order.user), before - order.amount);
  EXPECT_EQ(Ledger(order.order_no, "refund"), 0);
  EXPECT_EQ(LiveLogRows("refund_log", order.order_no), 0);
  pointspay::v1::Order o;
  ASSERT_TRUE(client_->GetOrder(order.order_no, &o).ok());
  EXPECT_EQ(o.refund_gid(), "");
}

// The points service (the last step) refuses every refund: the saga
// compensates the pay-log step and then the order step.
class PointsRefusesRefundsTest : public PointsPayFlowTest {
 protected:
  ServiceFaults Faults() const override {
    ServiceFaults faults;
    faults.points.refuse_refund = 1;
    return faults;
  }
};

TEST_F(PointsRefusesRefundsTest, ALastStepRefusalCompensatesThePaylogAndTheOrderStep) {
  const SeededOrder& order = orders_[3];
  int64_t before = Balance(order.user);
  PayOrFail(order, "pay-3");
  CallResult r = client_->Refund(order.order_no, "refused-points");
  ASSERT_TRUE(r.ok) << r.last_error;
  EXPECT_EQ(r.reply.outcome(), pointspay::v1::OUTCOME_REFUSED) << r.reply.ShortDebugString();
  EXPECT_NE(r.reply.detail().find("refuse_refund: points.refund refused"), std::string::npos)
      << r.reply.detail();
  ASSERT_TRUE(WaitUntilAllFinal());
  const std::string gid = "refund-refused-points";
  EXPECT_EQ(BarrierRows("orders.db", gid, "cancel"), 1);
  EXPECT_EQ(BarrierRows("paylog.db", gid, "cancel"), 1);
  EXPECT_EQ(BarrierRows("points.db", gid, "cancel"), 0) << "a refused step has nothing to undo";
  EXPECT_EQ(OrderStatus(order.order_no), "ORDER_STATUS_PAID");
  EXPECT_EQ(Balance(order.user), before - order.amount);
  EXPECT_EQ(Ledger(order.order_no, "refund"), 0);
  EXPECT_EQ(LiveLogRows("refund_log", order.order_no), 0);
}

}  // namespace
}  // namespace pointspay::testing
