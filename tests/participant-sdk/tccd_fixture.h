// A fixture for SDK tests against a real tccd process on loopback: the
// daemon (fast retries), an SDK participant serving "points.freeze" on its
// own SQLite file (alice holds 100 points), and the initiator's side: a
// shop database with an orders table and the SDK's status endpoint on it.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/process/tccd_process.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/initiator_client.h"
#include "tcc/sdk/participant_server.h"
#include "tcc/sdk/status_endpoint.h"
#include "tests/participant-sdk/points_service.h"
#include "tests/participant-sdk/test_db.h"
#include "tests/test_util/wait.h"

namespace tcc::sdk::testing {

using ::tcc::process::TccdProcess;
using ::tcc::testing::WaitFor;

class TccdFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TccdProcess>> tccd =
        TccdProcess::Start({.binary = TCCD_PATH,
                            .data = dir_.File("tccd.db"),
                            .work_dir = dir_.path().string(),
                            .extra_args = {"--retry_initial_ms=20", "--retry_max_ms=200"}});
    ASSERT_OK(tccd);
    tccd_ = *std::move(tccd);
    tccd_address_ = tccd_->address();
    client_ = std::make_unique<InitiatorClient>(
        grpc::CreateChannel(tccd_address_, grpc::InsecureChannelCredentials()));

    points_db_ = OpenTestDb(dir_.File("points.db"));
    ASSERT_OK(points_.Setup(*points_db_, "alice", 100));
    participant_ = std::make_unique<ParticipantServer>(points_db_);
    ASSERT_OK(participant_->AddAction("points.freeze", points_.Handlers()));
    ASSERT_OK(participant_->Start("127.0.0.1:0"));

    shop_db_ = OpenTestDb(dir_.File("shop.db"));
    ASSERT_OK(shop_db_->RunInTransaction([](LocalTx& tx) {
      return tx.Exec("CREATE TABLE orders (id TEXT PRIMARY KEY, gid TEXT)").status();
    }));
    status_endpoint_ = std::make_unique<StatusEndpoint>(shop_db_);
    ASSERT_OK(status_endpoint_->Start("127.0.0.1:0"));
  }

  void TearDown() override {
    if (participant_) participant_->Shutdown();
    if (status_endpoint_) status_endpoint_->Shutdown();
    if (tccd_) tccd_->Stop();
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
  std::unique_ptr<TccdProcess> tccd_;
  std::string tccd_address_;
  std::unique_ptr<InitiatorClient> client_;
  PointsService points_;
  std::shared_ptr<Database> points_db_;
  std::unique_ptr<ParticipantServer> participant_;
  std::shared_ptr<Database> shop_db_;
  std::unique_ptr<StatusEndpoint> status_endpoint_;
};

}  // namespace tcc::sdk::testing
