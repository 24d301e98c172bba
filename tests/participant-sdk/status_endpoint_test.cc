// StatusEndpoint over real gRPC: the back-query's answers and its fence.
#include "tcc/sdk/status_endpoint.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tcc/sdk/decision.h"
#include "tcc/v1/initiator.grpc.pb.h"
#include "tests/participant-sdk/test_db.h"

namespace tcc::sdk::testing {
namespace {

class StatusEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenTestDb(dir_.File("shop.db"));
    ASSERT_NE(db_, nullptr);
    endpoint_ = std::make_unique<StatusEndpoint>(db_);
    ASSERT_OK(endpoint_->Start("127.0.0.1:0"));
    stub_ = tcc::v1::InitiatorStatus::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", endpoint_->port()), grpc::InsecureChannelCredentials()));
  }

  grpc::Status Query(const std::string& gid, tcc::v1::InitiatorDecision* decision) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    tcc::v1::QueryStatusRequest request;
    request.set_gid(gid);
    tcc::v1::QueryStatusReply reply;
    grpc::Status status = stub_->QueryStatus(&ctx, request, &reply);
    *decision = reply.decision();
    return status;
  }

  absl::StatusOr<LocalCommit> CommitNothing(const std::string& gid) {
    return CommitLocally(*db_, gid, [](LocalTx&) { return absl::OkStatus(); });
  }

  TempDir dir_;
  std::shared_ptr<Database> db_;
  std::unique_ptr<StatusEndpoint> endpoint_;
  std::unique_ptr<tcc::v1::InitiatorStatus::Stub> stub_;
};

TEST_F(StatusEndpointTest, CommittedGidAnswersCommitted) {
  ASSERT_OK(CommitNothing("gid-1"));
  tcc::v1::InitiatorDecision decision;
  ASSERT_TRUE(Query("gid-1", &decision).ok());
  EXPECT_EQ(decision, tcc::v1::INITIATOR_DECISION_COMMITTED);
}

TEST_F(StatusEndpointTest, UnknownGidIsFencedAndAnswersRolledBack) {
  tcc::v1::InitiatorDecision decision;
  ASSERT_TRUE(Query("gid-1", &decision).ok());
  EXPECT_EQ(decision, tcc::v1::INITIATOR_DECISION_ROLLED_BACK);
  EXPECT_TRUE(absl::IsFailedPrecondition(CommitNothing("gid-1").status()));
  ASSERT_TRUE(Query("gid-1", &decision).ok());
  EXPECT_EQ(decision, tcc::v1::INITIATOR_DECISION_ROLLED_BACK) << "same answer when asked again";
}

TEST_F(StatusEndpointTest, MalformedGidIsInvalidArgument) {
  tcc::v1::InitiatorDecision decision;
  EXPECT_EQ(Query("", &decision).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Query("a/b", &decision).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace tcc::sdk::testing
