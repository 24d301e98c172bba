// InitiatorClient::SubmitSaga and GetSaga against a real tccd process: a
// saga participant (SagaStepHandlers over its own SQLite file) whose action
// records a credit row and whose compensation deletes it. Covers a saga
// that commits, one whose third step refuses (the first two compensated,
// the refused step named), resubmitting a gid (one effect, the same
// answer), a wait that ends before the saga does, and a conflicting
// resubmit.
#include <atomic>

#include "gmock/gmock.h"
#include "tests/participant-sdk/tccd_fixture.h"

namespace tcc::sdk::testing {
namespace {

using tcc::v1::TRANSACTION_STATE_COMMITTED;
using tcc::v1::TRANSACTION_STATE_ROLLED_BACK;
using tcc::v1::TRANSACTION_STATE_RUNNING;
using ::testing::HasSubstr;

constexpr char kRefusal[] = "credit refused: the payload says so";
constexpr absl::Duration kWait = absl::Seconds(10);

class SagaClientTest : public TccdFixture {
 protected:
  void SetUp() override {
    TccdFixture::SetUp();
    if (HasFatalFailure()) return;
    credits_db_ = OpenTestDb(dir_.File("credits.db"));
    ASSERT_OK(credits_db_->RunInTransaction([](LocalTx& tx) {
      return tx.Exec("CREATE TABLE credits (gid TEXT, step TEXT, PRIMARY KEY (gid, step))")
          .status();
    }));
    credits_ = StartCreditServer("127.0.0.1:0");
    ASSERT_NE(credits_, nullptr);
  }

  void TearDown() override {
    if (credits_) credits_->Shutdown();
    TccdFixture::TearDown();
  }

  // Action: one credit row per (gid, step), refused when the payload is
  // "refuse". Compensation: the row goes.
  ActionHandlers CreditHandlers() {
    return SagaStepHandlers(
        [](LocalTx& tx, const BranchRequest& r) -> TryResult {
          if (r.payload() == "refuse") return TryOutcome::Refused(kRefusal);
          TCC_RETURN_IF_ERROR(
              tx.Exec("INSERT INTO credits VALUES (?, ?)", {r.gid(), r.branch_id()}).status());
          return TryOutcome::Reserved();
        },
        [this](LocalTx& tx, const BranchRequest& r) {
          ++compensations_;
          return tx.Exec("DELETE FROM credits WHERE gid = ? AND step = ?", {r.gid(), r.branch_id()})
              .status();
        });
  }

  std::unique_ptr<ParticipantServer> StartCreditServer(const std::string& address) {
    auto server = std::make_unique<ParticipantServer>(credits_db_);
    if (!server->AddAction("credit", CreditHandlers()).ok()) return nullptr;
    absl::Status started = server->Start(address);
    if (!started.ok()) {
      ADD_FAILURE() << started;
      return nullptr;
    }
    return server;
  }

  tcc::v1::SagaStep Step(const std::string& id, const std::string& payload = "ok", int port = 0) {
    tcc::v1::SagaStep step;
    step.set_step_id(id);
    step.set_target(absl::StrCat("127.0.0.1:", port != 0 ? port : credits_->port()));
    step.set_action("credit");
    step.set_payload(payload);
    return step;
  }

  int64_t Credits(const std::string& gid) {
    return QueryInt(*credits_db_, "SELECT COUNT(*) FROM credits WHERE gid = '" + gid + "'");
  }

  std::shared_ptr<Database> credits_db_;
  std::unique_ptr<ParticipantServer> credits_;
  std::atomic<int> compensations_{0};
};

TEST_F(SagaClientTest, CommitsEveryStepOnceAndAResubmitGetsTheSameAnswer) {
  SagaParams params{.gid = "saga-1", .steps = {Step("a"), Step("b")}, .wait_for_result = kWait};
  absl::StatusOr<SagaOutcome> saga = client_->SubmitSaga(params);
  ASSERT_OK(saga);
  EXPECT_EQ(saga->gid, "saga-1");
  EXPECT_TRUE(saga->created);
  EXPECT_EQ(saga->state, TRANSACTION_STATE_COMMITTED);
  EXPECT_TRUE(saga->reason.empty()) << saga->reason;
  EXPECT_EQ(Credits("saga-1"), 2);

  absl::StatusOr<SagaOutcome> again = client_->SubmitSaga(params);
  ASSERT_OK(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->state, TRANSACTION_STATE_COMMITTED);
  EXPECT_EQ(Credits("saga-1"), 2);
  EXPECT_EQ(compensations_, 0);
}

TEST_F(SagaClientTest, ARefusedStepCompensatesTheCompletedOnesAndIsNamed) {
  absl::StatusOr<SagaOutcome> saga =
      client_->SubmitSaga({.gid = "saga-2",
                           .steps = {Step("a"), Step("b"), Step("c", "refuse"), Step("d")},
                           .wait_for_result = kWait});
  ASSERT_OK(saga);
  EXPECT_EQ(saga->state, TRANSACTION_STATE_ROLLED_BACK);
  EXPECT_EQ(saga->refused_step, "c");
  EXPECT_EQ(saga->refusal, kRefusal);
  EXPECT_THAT(saga->reason, HasSubstr("step c refused"));
  EXPECT_EQ(Credits("saga-2"), 0);
  EXPECT_EQ(compensations_, 2) << "a and b compensated; c refused, d never ran";

  absl::StatusOr<SagaOutcome> read = client_->GetSaga("saga-2");
  ASSERT_OK(read);
  EXPECT_FALSE(read->created);
  EXPECT_EQ(read->state, TRANSACTION_STATE_ROLLED_BACK);
  EXPECT_EQ(read->refused_step, "c");
  EXPECT_EQ(read->refusal, kRefusal);
}

TEST_F(SagaClientTest, WithoutAWaitTheSagaRunsOnAndGetSagaFollowsIt) {
  absl::StatusOr<SagaOutcome> saga = client_->SubmitSaga({.steps = {Step("a")}});
  ASSERT_OK(saga);
  EXPECT_TRUE(saga->created);
  EXPECT_EQ(saga->state, TRANSACTION_STATE_RUNNING);
  EXPECT_FALSE(saga->final());
  ASSERT_TRUE(WaitFor([&] {
    absl::StatusOr<SagaOutcome> now = client_->GetSaga(saga->gid);
    return now.ok() && now->state == TRANSACTION_STATE_COMMITTED;
  }));
  EXPECT_EQ(Credits(saga->gid), 1);
}

TEST_F(SagaClientTest, AWaitThatEndsFirstReportsTheRunningSagaWhichCarriesOn) {
  // A participant that is down: its port is known, nobody listens on it.
  int port = credits_->port();
  credits_->Shutdown();
  credits_.reset();
  SagaParams params{.gid = "saga-3",
                    .steps = {Step("a", "ok", port)},
                    .wait_for_result = absl::Milliseconds(300)};
  params.steps[0].set_max_attempts(1000);  // ride out the outage
  absl::StatusOr<SagaOutcome> saga = client_->SubmitSaga(params);
  ASSERT_OK(saga);
  EXPECT_EQ(saga->state, TRANSACTION_STATE_RUNNING);

  credits_ = StartCreditServer(absl::StrCat("127.0.0.1:", port));
  ASSERT_NE(credits_, nullptr);
  params.wait_for_result = kWait;
  absl::StatusOr<SagaOutcome> again = client_->SubmitSaga(params);
  ASSERT_OK(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->state, TRANSACTION_STATE_COMMITTED);
  EXPECT_EQ(Credits("saga-3"), 1);
}

TEST_F(SagaClientTest, TheSameGidWithOtherStepsIsAlreadyExists) {
  ASSERT_OK(client_->SubmitSaga({.gid = "saga-4", .steps = {Step("a")}}));
  absl::StatusOr<SagaOutcome> other =
      client_->SubmitSaga({.gid = "saga-4", .steps = {Step("a"), Step("b")}});
  EXPECT_TRUE(absl::IsAlreadyExists(other.status())) << other.status();
}

}  // namespace
}  // namespace tcc::sdk::testing
