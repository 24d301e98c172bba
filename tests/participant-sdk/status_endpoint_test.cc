// StatusEndpoint over real gRPC: the back-query's answers and its fence.
#include "tcc/sdk/status_endpoint.h"

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tcc/sdk/decision.h"
#include "tcc/v1/initiator.grpc.pb.h"
#include "tests/participant-sdk/pass_log.h"
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

// The endpoint owns the decision table, so it prunes it: in the background,
// and on demand, on a clock the test moves forward.
class StatusEndpointPruningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenTestDb(dir_.File("shop.db"));
    ASSERT_NE(db_, nullptr);
  }

  void Start(absl::Duration interval, absl::Duration retention = kDefaultRetention) {
    endpoint_ = std::make_unique<StatusEndpoint>(
        db_, StatusEndpointOptions{
                 .pruning = {.retention = retention,
                             .interval = interval,
                             .clock = [this] { return absl::Now() + absl::Hours(ahead_h_.load()); },
                             .on_pass = passes_.Callback()}});
    ASSERT_OK(endpoint_->Start("127.0.0.1:0"));
  }

  int64_t DecisionRows() { return QueryInt(*db_, "SELECT COUNT(*) FROM tcc_decision"); }

  TempDir dir_;
  std::shared_ptr<Database> db_;
  // Used by the endpoint's pruning thread: declared before endpoint_.
  std::atomic<int64_t> ahead_h_{0};
  PassLog passes_;
  std::unique_ptr<StatusEndpoint> endpoint_;
};

TEST_F(StatusEndpointPruningTest, PrunesOldDecisionRowsInTheBackground) {
  Start(absl::Milliseconds(1));
  ASSERT_OK(CommitLocally(*db_, "gid-1", [](LocalTx&) { return absl::OkStatus(); }));
  ASSERT_TRUE(passes_.WaitForPasses(passes_.passes() + 2));
  EXPECT_EQ(DecisionRows(), 1) << "a young row survives the passes";

  ahead_h_ = 8 * 24;
  ASSERT_TRUE(passes_.WaitForRows(1));
  EXPECT_EQ(DecisionRows(), 0);
  endpoint_->Shutdown();
  EXPECT_EQ(passes_.failures(), 0);
}

TEST_F(StatusEndpointPruningTest, ShutdownStopsThePrunerWithoutWaitingForItsInterval) {
  Start(absl::Hours(1));
  absl::Time before = absl::Now();
  endpoint_->Shutdown();  // Would wait an hour (the test times out) otherwise.
  EXPECT_LT(absl::Now() - before, absl::Seconds(20));
  EXPECT_EQ(passes_.passes(), 0) << "the first pass waits one interval";
}

TEST_F(StatusEndpointPruningTest, PruneDecisionsNowUsesTheRetentionAndTheClock) {
  Start(absl::InfiniteDuration());
  ASSERT_OK(CommitLocally(*db_, "gid-1", [](LocalTx&) { return absl::OkStatus(); }));
  ASSERT_OK(FenceOrReadDecision(*db_, "gid-2"));
  absl::StatusOr<int64_t> young = endpoint_->PruneDecisionsNow();
  ASSERT_OK(young);
  EXPECT_EQ(*young, 0);
  ahead_h_ = 8 * 24;
  absl::StatusOr<int64_t> old = endpoint_->PruneDecisionsNow();
  ASSERT_OK(old);
  EXPECT_EQ(*old, 2);
  EXPECT_EQ(DecisionRows(), 0);
}

TEST_F(StatusEndpointPruningTest, RetentionZeroKeepsEveryDecisionRow) {
  Start(absl::InfiniteDuration(), absl::ZeroDuration());
  ASSERT_OK(CommitLocally(*db_, "gid-1", [](LocalTx&) { return absl::OkStatus(); }));
  ahead_h_ = 24 * 365;
  absl::StatusOr<int64_t> pruned = endpoint_->PruneDecisionsNow();
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, 0);
  EXPECT_EQ(DecisionRows(), 1);
}

}  // namespace
}  // namespace tcc::sdk::testing
