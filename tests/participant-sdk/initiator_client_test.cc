// InitiatorClient against a fake coordinator on 127.0.0.1:0: retries,
// TransactionGuard, CommitWithLocalTransaction with its fence, and the saga
// calls' transport behaviour (their semantics against a real tccd are in
// saga_client_test.cc).
#include "tcc/sdk/initiator_client.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tcc/common/notification.h"
#include "tcc/sdk/status_endpoint.h"
#include "tcc/v1/initiator.grpc.pb.h"
#include "tests/participant-sdk/fake_coordinator.h"
#include "tests/participant-sdk/test_db.h"

namespace tcc::sdk::testing {
namespace {

using tcc::v1::TRANSACTION_STATE_COMMITTED;
using tcc::v1::TRANSACTION_STATE_ROLLED_BACK;
using ::testing::HasSubstr;

tcc::v1::BranchSpec Branch(const std::string& id, const std::string& action = "points.freeze") {
  tcc::v1::BranchSpec b;
  b.set_branch_id(id);
  b.set_target("127.0.0.1:1");
  b.set_action(action);
  b.set_payload("alice:10");
  return b;
}

tcc::v1::SagaStep Step(const std::string& action) {
  tcc::v1::SagaStep step;
  step.set_target("127.0.0.1:1");
  step.set_action(action);
  step.set_payload("alice:10");
  return step;
}

class InitiatorClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenTestDb(dir_.File("shop.db"));
    ASSERT_NE(db_, nullptr);
    ASSERT_OK(db_->RunInTransaction([](LocalTx& tx) {
      return tx.Exec("CREATE TABLE orders (gid TEXT PRIMARY KEY, state TEXT)").status();
    }));
    InitiatorClientOptions options;
    options.call_timeout = absl::Seconds(5);
    options.initial_backoff = absl::Milliseconds(1);
    options.hooks = &hooks_;
    client_ = std::make_unique<InitiatorClient>(coordinator_.channel(), options);
  }

  // Begin + a successful Try of one branch, with a status endpoint.
  std::string BeginAndTry(const std::string& gid) {
    absl::StatusOr<tcc::v1::BeginReply> begun =
        client_->Begin({.gid = gid, .status_endpoint = "127.0.0.1:1"});
    EXPECT_TRUE(begun.ok()) << begun.status();
    EXPECT_TRUE(client_->Try(gid, {Branch("b1")}).ok());
    return gid;
  }

  absl::StatusOr<LocalCommitResult> PayOrder(const std::string& gid) {
    return client_->CommitWithLocalTransaction(*db_, gid, [&](LocalTx& tx) {
      return tx.Exec("INSERT INTO orders VALUES (?, 'PAID')", {gid}).status();
    });
  }

  int64_t Orders() { return QueryInt(*db_, "SELECT COUNT(*) FROM orders"); }

  TempDir dir_;
  std::shared_ptr<Database> db_;
  FakeCoordinator coordinator_;
  HookRegistry hooks_;
  std::unique_ptr<InitiatorClient> client_;
};

TEST_F(InitiatorClientTest, BeginGeneratesAGidAndRetriesTransportErrors) {
  coordinator_.FailNext("Begin", 2);
  absl::StatusOr<tcc::v1::BeginReply> begun = client_->Begin({});
  ASSERT_OK(begun);
  EXPECT_FALSE(begun->gid().empty());
  EXPECT_TRUE(begun->created());
  EXPECT_EQ(coordinator_.Calls("Begin"), 3);
}

TEST_F(InitiatorClientTest, RetriesAreBounded) {
  coordinator_.FailNext("Commit", 100);
  absl::StatusOr<tcc::v1::TransactionState> state = client_->Commit("gid-1");
  EXPECT_TRUE(absl::IsUnavailable(state.status()));
  EXPECT_THAT(std::string(state.status().message()), HasSubstr("4 attempt(s)"));
  EXPECT_EQ(coordinator_.Calls("Commit"), 4);
}

TEST_F(InitiatorClientTest, NonTransientErrorsAreNotRetried) {
  absl::StatusOr<tcc::v1::TransactionState> state = client_->Commit("gid-unknown");
  EXPECT_TRUE(absl::IsNotFound(state.status()));
  EXPECT_EQ(coordinator_.Calls("Commit"), 1);
}

TEST_F(InitiatorClientTest, TryIsRetriedOnlyWhenEveryBranchHasAnId) {
  ASSERT_OK(client_->Begin({.gid = "gid-1"}));
  coordinator_.FailNext("Try", 1);
  absl::StatusOr<tcc::v1::TryReply> tried = client_->Try("gid-1", {Branch("b1"), Branch("b2")});
  ASSERT_OK(tried);
  EXPECT_TRUE(AllTriesSucceeded(*tried));
  EXPECT_EQ(coordinator_.Calls("Try"), 2);

  coordinator_.FailNext("Try", 1);
  EXPECT_TRUE(absl::IsUnavailable(client_->Try("gid-1", {Branch("")}).status()));
  EXPECT_EQ(coordinator_.Calls("Try"), 3) << "a retry could register a second branch";
  EXPECT_EQ(coordinator_.Branches("gid-1"), 2);
}

TEST_F(InitiatorClientTest, MalformedGidFailsBeforeAnyCall) {
  EXPECT_TRUE(absl::IsInvalidArgument(client_->Commit("bad gid").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(client_->Begin({.gid = std::string(200, 'x')}).status()));
  EXPECT_EQ(coordinator_.Calls("Commit") + coordinator_.Calls("Begin"), 0);
}

TEST_F(InitiatorClientTest, GuardRollsBackAnUndecidedTransaction) {
  {
    absl::StatusOr<TransactionGuard> gt = client_->BeginGuarded({.gid = "gid-1"});
    ASSERT_OK(gt);
    absl::StatusOr<tcc::v1::TryReply> tried = gt->Try({Branch("b1", "refuse")});
    ASSERT_OK(tried);
    EXPECT_FALSE(AllTriesSucceeded(*tried));
  }  // No decision: the guard rolls back.
  EXPECT_EQ(coordinator_.State("gid-1"), TRANSACTION_STATE_ROLLED_BACK);
}

TEST_F(InitiatorClientTest, GuardLeavesACommittedTransactionAlone) {
  {
    absl::StatusOr<TransactionGuard> gt = client_->BeginGuarded({.gid = "gid-1"});
    ASSERT_OK(gt);
    ASSERT_OK(gt->Try({Branch("b1")}));
    ASSERT_OK(gt->Commit());
  }
  EXPECT_EQ(coordinator_.State("gid-1"), TRANSACTION_STATE_COMMITTED);
  EXPECT_EQ(coordinator_.Calls("Rollback"), 0);
}

TEST_F(InitiatorClientTest, CommitWithLocalTransactionCommitsLocallyThenOnTheCoordinator) {
  BeginAndTry("gid-1");
  absl::StatusOr<LocalCommitResult> result = PayOrder("gid-1");
  ASSERT_OK(result);
  EXPECT_EQ(result->local, LocalCommit::kCommitted);
  EXPECT_EQ(result->state, TRANSACTION_STATE_COMMITTED);
  EXPECT_EQ(Orders(), 1);

  // Again: the writes do not run twice, Commit is re-sent.
  result = PayOrder("gid-1");
  ASSERT_OK(result);
  EXPECT_EQ(result->local, LocalCommit::kAlreadyCommitted);
  EXPECT_EQ(Orders(), 1);
  EXPECT_EQ(coordinator_.Calls("Commit"), 2);
}

TEST_F(InitiatorClientTest, BeginAndTryFallsBackToBeginThenTryOnAnOlderCoordinator) {
  // The fake knows no TryRequest.begin, as a tccd before it: NOT_FOUND.
  auto tried = client_->BeginAndTry({.gid = "gid-old", .status_endpoint = "127.0.0.1:1"},
                                    {Branch("b1"), Branch("b2")});
  ASSERT_OK(tried);
  EXPECT_EQ(tried->results_size(), 2);
  EXPECT_EQ(coordinator_.Calls("Try"), 2);
  EXPECT_EQ(coordinator_.Calls("Begin"), 1);
  EXPECT_EQ(coordinator_.Branches("gid-old"), 2);
  EXPECT_THAT(std::string(client_->BeginAndTry({}, {Branch("b1")}).status().message()),
              HasSubstr("needs BeginParams.gid"));
  EXPECT_EQ(coordinator_.Calls("Try"), 2) << "refused before any call";
}

TEST_F(InitiatorClientTest, ACommittableTryReplySavesTheGetAndAnOlderReplyDoesNot) {
  auto pay = [&](const std::string& gid, const tcc::v1::TryReply& tried) {
    return client_->CommitWithLocalTransaction(*db_, gid, tried, [&](LocalTx& tx) {
      return tx.Exec("INSERT INTO orders VALUES (?, 'PAID')", {gid}).status();
    });
  };
  BeginAndTry("gid-old");
  tcc::v1::TryReply without_field;  // A coordinator older than the field.
  ASSERT_OK(pay("gid-old", without_field));
  EXPECT_EQ(coordinator_.Calls("GetTransaction"), 1);

  BeginAndTry("gid-new");
  tcc::v1::TryReply committable;
  committable.set_committable(true);
  absl::StatusOr<LocalCommitResult> result = pay("gid-new", committable);
  ASSERT_OK(result);
  EXPECT_EQ(result->local, LocalCommit::kCommitted);
  EXPECT_EQ(coordinator_.Calls("GetTransaction"), 1) << "no Get after a committable reply";
  EXPECT_EQ(coordinator_.State("gid-new"), TRANSACTION_STATE_COMMITTED);
  EXPECT_EQ(Orders(), 2);

  // The fence still decides: a committable reply does not outrun the back-query.
  BeginAndTry("gid-fenced");
  ASSERT_OK(FenceOrReadDecision(*db_, "gid-fenced"));
  EXPECT_TRUE(absl::IsFailedPrecondition(pay("gid-fenced", committable).status()));
  EXPECT_EQ(Orders(), 2);
  EXPECT_EQ(coordinator_.Calls("Commit"), 2);
}

TEST_F(InitiatorClientTest, FencedGidDiscardsTheLocalWritesAndSkipsCommit) {
  BeginAndTry("gid-1");
  ASSERT_OK(FenceOrReadDecision(*db_, "gid-1"));
  absl::StatusOr<LocalCommitResult> result = PayOrder("gid-1");
  EXPECT_TRUE(absl::IsFailedPrecondition(result.status()));
  EXPECT_EQ(result.status().message(),
            "transaction gid-1 was rolled back by the coordinator's back-query; local changes "
            "discarded");
  EXPECT_EQ(Orders(), 0);
  EXPECT_EQ(coordinator_.Calls("Commit"), 0);
}

TEST_F(InitiatorClientTest, RefusesToCommitWhatCannotCommit) {
  ASSERT_OK(client_->Begin({.gid = "no-endpoint"}));
  ASSERT_OK(client_->Try("no-endpoint", {Branch("b1")}));
  EXPECT_THAT(std::string(PayOrder("no-endpoint").status().message()),
              HasSubstr("no status endpoint"));

  ASSERT_OK(client_->Begin({.gid = "refused", .status_endpoint = "127.0.0.1:1"}));
  ASSERT_OK(client_->Try("refused", {Branch("b1", "refuse")}));
  EXPECT_THAT(std::string(PayOrder("refused").status().message()), HasSubstr("TRY_REFUSED"));

  BeginAndTry("timed-out");
  coordinator_.SetState("timed-out", TRANSACTION_STATE_ROLLED_BACK);
  EXPECT_TRUE(absl::IsFailedPrecondition(PayOrder("timed-out").status()));
  EXPECT_EQ(Orders(), 0);
}

// A crash between the local commit and Commit (injected with a hook): the
// guard must not roll back what was committed locally.
TEST_F(InitiatorClientTest, GuardNeverRollsBackAfterALocalCommit) {
  hooks_.Set(kHookAfterLocalCommit,
             [](std::string_view) { return absl::UnavailableError("crashed after local commit"); });
  {
    absl::StatusOr<TransactionGuard> gt =
        client_->BeginGuarded({.gid = "gid-1", .status_endpoint = "127.0.0.1:1"});
    ASSERT_OK(gt);
    ASSERT_OK(gt->Try({Branch("b1")}));
    absl::StatusOr<LocalCommitResult> result =
        gt->CommitWithLocalTransaction(*db_, [](LocalTx& tx) {
          return tx.Exec("INSERT INTO orders VALUES ('gid-1', 'PAID')").status();
        });
    EXPECT_TRUE(absl::IsUnavailable(result.status()));
    EXPECT_TRUE(gt->decided());
  }
  EXPECT_EQ(coordinator_.Calls("Rollback"), 0);
  EXPECT_EQ(Orders(), 1);
  hooks_.Clear(kHookAfterLocalCommit);
  ASSERT_OK(PayOrder("gid-1"));  // The retry only re-sends Commit.
  EXPECT_EQ(coordinator_.State("gid-1"), TRANSACTION_STATE_COMMITTED);
}

// Scenario S4's slow initiator, end to end through the real status endpoint:
// the commit is held (hook) while the back-query answers; it then fails.
TEST_F(InitiatorClientTest, SlowInitiatorLosesToTheBackQuery) {
  StatusEndpoint endpoint(db_);
  ASSERT_OK(endpoint.Start("127.0.0.1:0"));
  BeginAndTry("gid-1");
  tcc::Notification reached, release;
  hooks_.Set(kHookBeforeLocalTransaction, [&](std::string_view) {
    reached.Notify();
    release.WaitForNotification();
    return absl::OkStatus();
  });
  absl::StatusOr<LocalCommitResult> result;
  std::thread initiator([&] { result = PayOrder("gid-1"); });
  reached.WaitForNotification();

  auto stub = tcc::v1::InitiatorStatus::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", endpoint.port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  tcc::v1::QueryStatusRequest request;
  request.set_gid("gid-1");
  tcc::v1::QueryStatusReply reply;
  grpc::Status status = stub->QueryStatus(&ctx, request, &reply);
  release.Notify();
  initiator.join();

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.decision(), tcc::v1::INITIATOR_DECISION_ROLLED_BACK);
  EXPECT_TRUE(absl::IsFailedPrecondition(result.status()));
  EXPECT_EQ(Orders(), 0);
  EXPECT_EQ(coordinator_.Calls("Commit"), 0);
}

TEST_F(InitiatorClientTest, SubmitSagaGeneratesAGidAndRetriesTransportErrors) {
  coordinator_.FailNext("SubmitSaga", 2);
  absl::StatusOr<SagaOutcome> saga = client_->SubmitSaga({.steps = {Step("a"), Step("b")}});
  ASSERT_OK(saga);
  EXPECT_FALSE(saga->gid.empty());
  EXPECT_TRUE(saga->created);
  EXPECT_EQ(saga->state, TRANSACTION_STATE_COMMITTED);
  EXPECT_TRUE(saga->final());
  EXPECT_TRUE(saga->refused_step.empty());
  EXPECT_EQ(coordinator_.Calls("SubmitSaga"), 3);
  EXPECT_EQ(coordinator_.LastSagaWaitMs(), 0u);
}

TEST_F(InitiatorClientTest, SubmitSagaRetriesAreBounded) {
  coordinator_.FailNext("SubmitSaga", 100);
  absl::StatusOr<SagaOutcome> saga = client_->SubmitSaga({.gid = "saga-1", .steps = {Step("a")}});
  EXPECT_TRUE(absl::IsUnavailable(saga.status())) << saga.status();
  EXPECT_THAT(std::string(saga.status().message()), HasSubstr("SubmitSaga (4 attempt(s))"));
  EXPECT_EQ(coordinator_.Calls("SubmitSaga"), 4);
}

TEST_F(InitiatorClientTest, SubmitSagaNamesTheRefusedStepAndResubmitsIdempotently) {
  SagaParams params{.gid = "saga-1",
                    .steps = {Step("a"), Step("refuse"), Step("c")},
                    .wait_for_result = absl::Milliseconds(2500)};
  absl::StatusOr<SagaOutcome> saga = client_->SubmitSaga(params);
  ASSERT_OK(saga);
  EXPECT_EQ(coordinator_.LastSagaWaitMs(), 2500u);
  EXPECT_EQ(saga->state, TRANSACTION_STATE_ROLLED_BACK);
  EXPECT_TRUE(saga->created);
  EXPECT_EQ(saga->refused_step, "s2");
  EXPECT_EQ(saga->refusal, "refused by the fake");
  EXPECT_EQ(saga->reason, "step s2 refused: refused by the fake");
  EXPECT_EQ(coordinator_.Calls("GetTransaction"), 1) << "read back to name the refused step";

  absl::StatusOr<SagaOutcome> again = client_->SubmitSaga(params);
  ASSERT_OK(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->refused_step, "s2");

  absl::StatusOr<SagaOutcome> read = client_->GetSaga("saga-1");
  ASSERT_OK(read);
  EXPECT_EQ(read->state, TRANSACTION_STATE_ROLLED_BACK);
  EXPECT_EQ(read->refusal, "refused by the fake");
}

TEST_F(InitiatorClientTest, SagaInputIsCheckedBeforeAnyCall) {
  EXPECT_TRUE(absl::IsInvalidArgument(client_->SubmitSaga({.gid = "saga-1"}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      client_->SubmitSaga({.gid = "bad gid", .steps = {Step("a")}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      client_->SubmitSaga({.steps = {Step("a")}, .wait_for_result = absl::Hours(25)}).status()));
  EXPECT_EQ(coordinator_.Calls("SubmitSaga"), 0);
}

TEST_F(InitiatorClientTest, GetSagaOfATccTransactionIsFailedPrecondition) {
  ASSERT_OK(client_->Begin({.gid = "gid-1"}));
  EXPECT_TRUE(absl::IsFailedPrecondition(client_->GetSaga("gid-1").status()));
  EXPECT_TRUE(absl::IsNotFound(client_->GetSaga("gid-unknown").status()));
}

}  // namespace
}  // namespace tcc::sdk::testing
