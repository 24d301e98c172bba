// The SDK end to end with a real tccd process on loopback: an SDK
// participant (points, on its own SQLite file) and an SDK initiator with its
// status endpoint (orders plus the decision table, on another file).
// Covers the commit path, a business refusal, and the back-query after an
// initiator that stopped before or after its local commit.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "participant-sdk/points_service.h"
#include "participant-sdk/test_util.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/decision.h"
#include "tcc/sdk/initiator_client.h"
#include "tcc/sdk/participant_server.h"
#include "tcc/sdk/status_endpoint.h"
#include "test_util/subprocess.h"
#include "test_util/wait.h"

namespace tcc::sdk::testing {
namespace {

using ::tcc::testing::Subprocess;
using ::tcc::testing::WaitFor;

class TccdEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string port_file = dir_.File("tccd.port");
    tccd_ = std::make_unique<Subprocess>(std::vector<std::string>{
        TCCD_PATH, "--listen=127.0.0.1:0", "--data=" + dir_.File("tccd.db"),
        "--port_file=" + port_file, "--retry_initial_ms=20", "--retry_max_ms=200",
        "--log_level=warn"});
    ASSERT_TRUE(tccd_->Start());
    int port = ::tcc::testing::WaitForPortFile(port_file);
    ASSERT_GT(port, 0) << "tccd did not start";
    client_ = std::make_unique<InitiatorClient>(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));

    points_db_ = OpenTestDb(dir_.File("points.db"));
    TCC_ASSERT_OK(points_.Setup(*points_db_, "alice", 100));
    participant_ = std::make_unique<ParticipantServer>(points_db_);
    TCC_ASSERT_OK(participant_->AddAction("points.freeze", points_.Handlers()));
    TCC_ASSERT_OK(participant_->Start("127.0.0.1:0"));

    shop_db_ = OpenTestDb(dir_.File("shop.db"));
    TCC_ASSERT_OK(shop_db_->RunInTransaction([](LocalTx& tx) {
      return tx.Exec("CREATE TABLE orders (id TEXT PRIMARY KEY, gid TEXT)").status();
    }));
    status_endpoint_ = std::make_unique<StatusEndpoint>(shop_db_);
    TCC_ASSERT_OK(status_endpoint_->Start("127.0.0.1:0"));
  }

  void TearDown() override {
    if (participant_) participant_->Shutdown();
    if (status_endpoint_) status_endpoint_->Shutdown();
    if (tccd_) tccd_->Kill(SIGTERM);
  }

  tcc::v1::BranchSpec Freeze(int64_t amount) {
    tcc::v1::BranchSpec spec;
    spec.set_branch_id("points");
    spec.set_target(absl::StrCat("127.0.0.1:", participant_->port()));
    spec.set_action("points.freeze");
    spec.set_payload(absl::StrCat("alice:", amount));
    return spec;
  }
  BeginParams Params(const std::string& gid, absl::Duration timeout = absl::Seconds(30)) {
    return {.gid = gid,
            .timeout = timeout,
            .status_endpoint = absl::StrCat("127.0.0.1:", status_endpoint_->port())};
  }
  bool WaitForState(const std::string& gid, tcc::v1::TransactionState state) {
    return WaitFor([&] {
      auto gt = client_->Get(gid);
      return gt.ok() && gt->state() == state;
    });
  }
  absl::Status InsertOrder(LocalTx& tx, const std::string& gid) {
    return tx.Exec("INSERT INTO orders VALUES ('order-1', ?)", {gid}).status();
  }

  TempDir dir_;
  std::unique_ptr<Subprocess> tccd_;
  std::unique_ptr<InitiatorClient> client_;
  PointsService points_;
  std::shared_ptr<Database> points_db_;
  std::unique_ptr<ParticipantServer> participant_;
  std::shared_ptr<Database> shop_db_;
  std::unique_ptr<StatusEndpoint> status_endpoint_;
};

TEST_F(TccdEndToEndTest, PaymentCommitsLocallyAndEverywhere) {
  auto gt = client_->BeginGuarded(Params("pay-1"));
  TCC_ASSERT_OK(gt);
  auto tried = gt->Try({Freeze(30)});
  TCC_ASSERT_OK(tried);
  ASSERT_TRUE(AllTriesSucceeded(*tried));
  EXPECT_EQ(Frozen(*points_db_, "alice"), 30);
  auto committed = gt->CommitWithLocalTransaction(
      *shop_db_, [&](LocalTx& tx) { return InsertOrder(tx, "pay-1"); });
  TCC_ASSERT_OK(committed);
  ASSERT_TRUE(WaitForState("pay-1", tcc::v1::TRANSACTION_STATE_COMMITTED));
  EXPECT_EQ(Balance(*points_db_, "alice"), 70);
  EXPECT_EQ(Frozen(*points_db_, "alice"), 0);
  EXPECT_EQ(QueryInt(*shop_db_, "SELECT COUNT(*) FROM orders"), 1);
  EXPECT_EQ(points_.confirm_runs, 1);
}

TEST_F(TccdEndToEndTest, RefusedPaymentRollsBackWithAnEmptyCompensation) {
  {
    auto gt = client_->BeginGuarded(Params("pay-2"));
    TCC_ASSERT_OK(gt);
    auto tried = gt->Try({Freeze(500)});
    TCC_ASSERT_OK(tried);
    EXPECT_EQ(tried->results(0).result(), tcc::v1::TRY_RESULT_REFUSED);
    // The guard rolls the undecided transaction back when it goes away.
  }
  ASSERT_TRUE(WaitForState("pay-2", tcc::v1::TRANSACTION_STATE_ROLLED_BACK));
  EXPECT_EQ(Balance(*points_db_, "alice"), 100);
  EXPECT_EQ(Frozen(*points_db_, "alice"), 0);
  EXPECT_EQ(points_.cancel_runs, 0);  // Nothing was frozen, so nothing to undo.
}

TEST_F(TccdEndToEndTest, InitiatorStoppedAfterLocalCommitIsCommittedByBackQuery) {
  TCC_ASSERT_OK(client_->Begin(Params("pay-3", absl::Milliseconds(300))));
  auto tried = client_->Try("pay-3", {Freeze(40)});
  TCC_ASSERT_OK(tried);
  ASSERT_TRUE(AllTriesSucceeded(*tried));
  // The local commit happens; the Commit call never does (the process
  // "died"). The coordinator times out and asks the status endpoint.
  TCC_ASSERT_OK(
      CommitLocally(*shop_db_, "pay-3", [&](LocalTx& tx) { return InsertOrder(tx, "pay-3"); }));
  ASSERT_TRUE(WaitForState("pay-3", tcc::v1::TRANSACTION_STATE_COMMITTED));
  EXPECT_EQ(Balance(*points_db_, "alice"), 60);
  EXPECT_EQ(Frozen(*points_db_, "alice"), 0);
}

TEST_F(TccdEndToEndTest, InitiatorStoppedBeforeLocalCommitIsFencedAndRolledBack) {
  TCC_ASSERT_OK(client_->Begin(Params("pay-4", absl::Milliseconds(300))));
  auto tried = client_->Try("pay-4", {Freeze(40)});
  TCC_ASSERT_OK(tried);
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
