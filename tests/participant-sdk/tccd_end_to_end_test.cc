// The SDK end to end with a real tccd process on loopback: an SDK
// participant (points, on its own SQLite file) and an SDK initiator with its
// status endpoint (orders plus the decision table, on another file).
// Covers the commit path, a business refusal, and the back-query after an
// initiator that stopped before or after its local commit.
#include <gtest/gtest.h>

#include "tcc/sdk/decision.h"
#include "tests/participant-sdk/tccd_fixture.h"
#include "tests/test_util/temp_dir.h"

namespace tcc::sdk::testing {
namespace {

using ::tcc::testing::ReadFile;
using TccdEndToEndTest = TccdFixture;

TEST_F(TccdEndToEndTest, PaymentCommitsLocallyAndEverywhere) {
  auto gt = client_->BeginGuarded(Params("pay-1"));
  ASSERT_OK(gt);
  auto tried = gt->Try({Freeze(30)});
  ASSERT_OK(tried);
  ASSERT_TRUE(AllTriesSucceeded(*tried));
  EXPECT_EQ(Frozen(*points_db_, "alice"), 30);
  auto committed = gt->CommitWithLocalTransaction(
      *shop_db_, [&](LocalTx& tx) { return InsertOrder(tx, "pay-1"); });
  ASSERT_OK(committed);
  ASSERT_TRUE(WaitForState("pay-1", tcc::v1::TRANSACTION_STATE_COMMITTED));
  EXPECT_EQ(Balance(*points_db_, "alice"), 70);
  EXPECT_EQ(Frozen(*points_db_, "alice"), 0);
  EXPECT_EQ(QueryInt(*shop_db_, "SELECT COUNT(*) FROM orders"), 1);
  EXPECT_EQ(points_.confirm_runs, 1);
}

TEST_F(TccdEndToEndTest, TheInitiatorsTraceContextReachesEveryHandlerAndTheLog) {
  constexpr char kTrace[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  BeginParams params = Params("pay-traced");
  params.traceparent = kTrace;
  points_.fail_confirm = true;  // A failing Confirm makes tccd log about the GT.
  auto gt = client_->BeginGuarded(params);
  ASSERT_OK(gt);
  auto tried = gt->Try({Freeze(30)});
  ASSERT_OK(tried);
  auto committed = gt->CommitWithLocalTransaction(
      *shop_db_, [&](LocalTx& tx) { return InsertOrder(tx, "pay-traced"); });
  ASSERT_OK(committed);
  ASSERT_TRUE(WaitFor([&] { return points_.confirm_runs >= 2; }));
  points_.fail_confirm = false;
  ASSERT_TRUE(WaitForState("pay-traced", tcc::v1::TRANSACTION_STATE_COMMITTED));
  std::vector<std::string> runs = points_.traced_runs();
  ASSERT_GE(runs.size(), 3u) << "a Try and at least two Confirms";
  EXPECT_EQ(runs[0], absl::StrCat("try pay-traced ", kTrace));
  EXPECT_EQ(runs.back(), absl::StrCat("confirm pay-traced ", kTrace));
  auto stored = client_->Get("pay-traced");
  ASSERT_OK(stored);
  EXPECT_EQ(stored->traceparent(), kTrace);
  std::string log = ReadFile(tccd_->log_path());
  EXPECT_NE(log.find("gid=pay-traced trace=4bf92f3577b34da6a3ce929d0e0e4736 branch="),
            std::string::npos)
      << "tccd's warning about the failing Confirm names the trace:\n"
      << log;
}

TEST_F(TccdEndToEndTest, AMalformedTraceparentIsIgnoredNotAnError) {
  BeginParams params = Params("pay-badtrace");
  params.traceparent = "not-a-traceparent";
  auto gt = client_->BeginGuarded(params);
  ASSERT_OK(gt);
  ASSERT_OK(gt->Try({Freeze(10)}));
  ASSERT_OK(gt->CommitWithLocalTransaction(
      *shop_db_, [&](LocalTx& tx) { return InsertOrder(tx, "pay-badtrace"); }));
  ASSERT_TRUE(WaitForState("pay-badtrace", tcc::v1::TRANSACTION_STATE_COMMITTED));
  EXPECT_EQ(client_->Get("pay-badtrace")->traceparent(), "");
  EXPECT_TRUE(points_.traced_runs().empty());
}

TEST_F(TccdEndToEndTest, RefusedPaymentRollsBackWithAnEmptyCompensation) {
  {
    auto gt = client_->BeginGuarded(Params("pay-2"));
    ASSERT_OK(gt);
    auto tried = gt->Try({Freeze(500)});
    ASSERT_OK(tried);
    EXPECT_EQ(tried->results(0).result(), tcc::v1::TRY_RESULT_REFUSED);
    // The guard rolls the undecided transaction back when it goes away.
  }
  ASSERT_TRUE(WaitForState("pay-2", tcc::v1::TRANSACTION_STATE_ROLLED_BACK));
  EXPECT_EQ(Balance(*points_db_, "alice"), 100);
  EXPECT_EQ(Frozen(*points_db_, "alice"), 0);
  EXPECT_EQ(points_.cancel_runs, 0);  // Nothing was frozen, so nothing to undo.
}

TEST_F(TccdEndToEndTest, InitiatorStoppedAfterLocalCommitIsCommittedByBackQuery) {
  ASSERT_OK(client_->Begin(Params("pay-3", absl::Milliseconds(300))));
  auto tried = client_->Try("pay-3", {Freeze(40)});
  ASSERT_OK(tried);
  ASSERT_TRUE(AllTriesSucceeded(*tried));
  // The local commit happens; the Commit call never does (the process
  // "died"). The coordinator times out and asks the status endpoint.
  ASSERT_OK(
      CommitLocally(*shop_db_, "pay-3", [&](LocalTx& tx) { return InsertOrder(tx, "pay-3"); }));
  ASSERT_TRUE(WaitForState("pay-3", tcc::v1::TRANSACTION_STATE_COMMITTED));
  EXPECT_EQ(Balance(*points_db_, "alice"), 60);
  EXPECT_EQ(Frozen(*points_db_, "alice"), 0);
}

TEST_F(TccdEndToEndTest, InitiatorStoppedBeforeLocalCommitIsFencedAndRolledBack) {
  ASSERT_OK(client_->Begin(Params("pay-4", absl::Milliseconds(300))));
  auto tried = client_->Try("pay-4", {Freeze(40)});
  ASSERT_OK(tried);
  ASSERT_TRUE(AllTriesSucceeded(*tried));
  ASSERT_TRUE(WaitForState("pay-4", tcc::v1::TRANSACTION_STATE_ROLLED_BACK));
  EXPECT_EQ(Balance(*points_db_, "alice"), 100);
  EXPECT_EQ(Frozen(*points_db_, "alice"), 0);
  // The initiator comes back and tries to commit locally: the fence wins.
  auto late =
      CommitLocally(*shop_db_, "pay-4", [&](LocalTx& tx) { return InsertOrder(tx, "pay-4"); });
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition) << late.status();
  EXPECT_EQ(QueryInt(*shop_db_, "SELECT COUNT(*) FROM orders"), 0);
}

}  // namespace
}  // namespace tcc::sdk::testing
