// The Admin API against an in-process tccd on loopback with a real SQLite
// file: lists and their filters and pages, timelines, RetryNow, Resolve,
// Stats (a failing back-query's status endpoint beside the participants),
// and the refusals of bad requests.
#include "coordinator/server/admin_service.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "tests/coordinator/coordinator_client.h"
#include "tests/coordinator/fake_initiator.h"
#include "tests/coordinator/fake_participant.h"
#include "tests/coordinator/server/test_daemon.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::CoordinatorClient;
using ::tcc::testing::FakeInitiator;
using ::tcc::testing::FakeParticipant;
using ::tcc::testing::MakeTry;
using ::tcc::testing::StatusIs;
using ::tcc::testing::WaitFor;
using Code = absl::StatusCode;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto [daemon, client] = ::tcc::testing::StartTestDaemon(dir_, [](DaemonConfig& config) {
      // Slow retries: only RetryNow can make a failed branch go again soon.
      config.engine.retry = {absl::Seconds(30), absl::Seconds(60), 2.0, 0.0};
      config.engine.stuck.attempts = 1;
    });
    ASSERT_NE(daemon, nullptr);
    daemon_ = std::move(daemon);
    client_ = std::move(client);
    admin_ = v1::Admin::NewStub(client_->channel());
    up_.Start();
    // "down_" accepts Try but fails Confirm and Cancel while `failing_`.
    down_.SetBehavior([this](const auto& call, v1::BranchReply&) {
      if (call.phase != "Try" && failing_) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "db locked");
      }
      return grpc::Status::OK;
    });
    down_.Start();
  }

  template <typename Request, typename Reply>
  absl::StatusOr<Reply> Call(grpc::Status (v1::Admin::Stub::*method)(grpc::ClientContext*,
                                                                     const Request&, Reply*),
                             const Request& request) {
    grpc::ClientContext context;
    Reply reply;
    grpc::Status status = (admin_.get()->*method)(&context, request, &reply);
    if (!status.ok()) return FromGrpcStatus(status);
    return reply;
  }
  absl::StatusOr<v1::ListTransactionsReply> List(const v1::ListTransactionsRequest& request) {
    return Call(&v1::Admin::Stub::ListTransactions, request);
  }
  absl::StatusOr<v1::TransactionDetail> Describe(const std::string& gid) {
    v1::DescribeTransactionRequest request;
    request.set_gid(gid);
    return Call(&v1::Admin::Stub::DescribeTransaction, request);
  }
  absl::StatusOr<v1::ResolveReply> Resolve(const std::string& gid, v1::ResolveAction action,
                                           const std::string& reason) {
    v1::ResolveRequest request;
    request.set_gid(gid);
    request.set_action(action);
    request.set_reason(reason);
    request.set_operator_("alice");
    return Call(&v1::Admin::Stub::Resolve, request);
  }

  // A GT committed with one branch on `participant`.
  void Committed(const std::string& gid, FakeParticipant& participant) {
    ASSERT_OK(client_->Begin(gid));
    ASSERT_OK(client_->Try(MakeTry(gid, {{"p", participant.address()}})));
    ASSERT_OK(client_->Commit(gid));
  }
  // A GT stuck in COMMITTING: its participant is down at Confirm time.
  void StuckCommitting(const std::string& gid) {
    Committed(gid, down_);
    ASSERT_TRUE(WaitFor([&] {
      auto gt = client_->Get(gid);
      return gt.ok() && gt->stuck();
    }));
  }
  bool WaitForState(const std::string& gid, v1::TransactionState state) {
    return WaitFor([&] {
      auto gt = client_->Get(gid);
      return gt.ok() && gt->state() == state;
    });
  }
  std::vector<std::string> Gids(const v1::ListTransactionsReply& reply) {
    std::vector<std::string> gids;
    for (const auto& gt : reply.transactions()) gids.push_back(gt.gid());
    return gids;
  }

  ::tcc::testing::TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<CoordinatorClient> client_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  FakeParticipant up_;
  FakeParticipant down_;
  std::atomic<bool> failing_ = true;
};

TEST_F(AdminTest, ListFiltersAndPages) {
  for (int i = 0; i < 3; ++i) Committed(absl::StrCat("ok-", i), up_);
  StuckCommitting("stuck-0");
  ASSERT_OK(client_->Begin("open-0"));
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(WaitForState(absl::StrCat("ok-", i), v1::TRANSACTION_STATE_COMMITTED));

  v1::ListTransactionsRequest all;
  auto everything = List(all);
  ASSERT_OK(everything);
  EXPECT_EQ(everything->transactions_size(), 5);
  EXPECT_EQ(everything->transactions(0).gid(), "open-0");  // Newest first.

  v1::ListTransactionsRequest stuck;
  stuck.set_stuck_only(true);
  auto stuck_page = List(stuck);
  ASSERT_OK(stuck_page);
  ASSERT_EQ(Gids(*stuck_page), std::vector<std::string>{"stuck-0"});
  EXPECT_NE(stuck_page->transactions(0).branches(0).last_error().find("db locked"),
            std::string::npos);

  v1::ListTransactionsRequest by_state;
  by_state.add_states(v1::TRANSACTION_STATE_TRYING);
  by_state.add_states(v1::TRANSACTION_STATE_COMMITTING);
  by_state.set_order(v1::LIST_ORDER_OLDEST_FIRST);
  EXPECT_EQ(Gids(*List(by_state)), (std::vector<std::string>{"stuck-0", "open-0"}));

  v1::ListTransactionsRequest by_target;
  by_target.set_target(down_.address());
  EXPECT_EQ(Gids(*List(by_target)), std::vector<std::string>{"stuck-0"});

  v1::ListTransactionsRequest prefixed;
  prefixed.set_gid_prefix("ok-");
  prefixed.set_page_size(2);
  prefixed.set_order(v1::LIST_ORDER_OLDEST_FIRST);
  auto first = List(prefixed);
  ASSERT_OK(first);
  EXPECT_EQ(Gids(*first), (std::vector<std::string>{"ok-0", "ok-1"}));
  ASSERT_FALSE(first->next_page_token().empty());
  prefixed.set_page_token(first->next_page_token());
  auto second = List(prefixed);
  ASSERT_OK(second);
  EXPECT_EQ(Gids(*second), std::vector<std::string>{"ok-2"});
  EXPECT_TRUE(second->next_page_token().empty());

  v1::ListTransactionsRequest old;
  old.set_older_than_ms(3600 * 1000);
  EXPECT_EQ(List(old)->transactions_size(), 0);
}

TEST_F(AdminTest, ListRefusesMalformedFilters) {
  v1::ListTransactionsRequest big;
  big.set_page_size(501);
  EXPECT_THAT(List(big), StatusIs(Code::kInvalidArgument, "page_size 501"));
  v1::ListTransactionsRequest token;
  token.set_page_token("garbage");
  EXPECT_THAT(List(token), StatusIs(Code::kInvalidArgument, "page_token"));
  v1::ListTransactionsRequest state;
  state.add_states(static_cast<v1::TransactionState>(99));
  EXPECT_THAT(List(state), StatusIs(Code::kInvalidArgument, "unknown transaction state 99"));
  v1::ListTransactionsRequest prefix;
  prefix.set_gid_prefix("bad prefix");
  EXPECT_THAT(List(prefix), StatusIs(Code::kInvalidArgument, "gid_prefix"));
  v1::ListTransactionsRequest target;
  target.set_target("nowhere");
  EXPECT_THAT(List(target), StatusIs(Code::kInvalidArgument, "target"));
}

TEST_F(AdminTest, TimelineShowsEveryStateChange) {
  Committed("order-1", up_);
  ASSERT_TRUE(WaitForState("order-1", v1::TRANSACTION_STATE_COMMITTED));
  auto detail = Describe("order-1");
  ASSERT_OK(detail);
  std::vector<std::string> kinds;
  std::string text;
  for (const auto& event : detail->timeline()) {
    kinds.push_back(event.kind());
    text += event.detail() + "\n";
    EXPECT_GT(event.unix_ms(), 0);
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"begin", "branch", "state", "branch", "state"}))
      << text;
  EXPECT_NE(text.find("COMMITTING (committed by the initiator)"), std::string::npos) << text;
  EXPECT_NE(text.find("branch p: CONFIRMED after 1 attempt(s)"), std::string::npos) << text;
  EXPECT_THAT(Describe("missing"), StatusIs(Code::kNotFound, "missing"));
  EXPECT_THAT(Describe("bad gid"), StatusIs(Code::kInvalidArgument));
}

TEST_F(AdminTest, RetryNowByTargetFinishesStuckTransactionsAfterAnOutage) {
  StuckCommitting("stuck-1");
  StuckCommitting("stuck-2");
  failing_ = false;  // The outage is over.
  v1::RetryNowRequest request;
  request.set_target(down_.address());
  request.set_operator_("alice");
  auto retried = Call(&v1::Admin::Stub::RetryNow, request);
  ASSERT_OK(retried);
  EXPECT_EQ(retried->transactions(), 2u);
  // The configured backoff is 30 s: only RetryNow explains a quick finish.
  ASSERT_TRUE(WaitForState("stuck-1", v1::TRANSACTION_STATE_COMMITTED));
  ASSERT_TRUE(WaitForState("stuck-2", v1::TRANSACTION_STATE_COMMITTED));
  auto detail = Describe("stuck-1");
  bool recorded = false;
  for (const auto& event : detail->timeline()) {
    recorded |= event.kind() == "operator" && event.actor() == "alice (self-declared)";
  }
  EXPECT_TRUE(recorded);

  v1::RetryNowRequest both;
  both.set_gid("stuck-1");
  both.set_target(down_.address());
  EXPECT_THAT(Call(&v1::Admin::Stub::RetryNow, both), StatusIs(Code::kInvalidArgument));
  v1::RetryNowRequest final_gt;
  final_gt.set_gid("stuck-1");
  EXPECT_THAT(Call(&v1::Admin::Stub::RetryNow, final_gt),
              StatusIs(Code::kFailedPrecondition, "nothing to retry"));
}

// A failed Confirm after the first is not written at once (the engine's
// retry_state_write_interval); Describe and GetTransaction still show it.
TEST_F(AdminTest, DescribeShowsTheAttemptsOfAFailingBranchBeforeTheyAreWritten) {
  StuckCommitting("stuck-9");
  v1::RetryNowRequest request;
  request.set_gid("stuck-9");
  request.set_operator_("alice");
  ASSERT_OK(Call(&v1::Admin::Stub::RetryNow, request));
  ASSERT_TRUE(WaitFor([&] {
    auto detail = Describe("stuck-9");
    return detail.ok() && detail->transaction().branches(0).attempts() == 2;
  }));
  auto detail = Describe("stuck-9");
  EXPECT_THAT(detail->transaction().branches(0).last_error(), ::testing::HasSubstr("db locked"));
  auto gt = client_->Get("stuck-9");
  ASSERT_OK(gt);
  EXPECT_EQ(gt->branches(0).attempts(), 2u);
}

TEST_F(AdminTest, ResolveIsRecordedAndRefusedWhereTheStateForbidsIt) {
  StuckCommitting("stuck-3");
  EXPECT_THAT(Resolve("stuck-3", v1::RESOLVE_ACTION_MARK_ROLLED_BACK, ""),
              StatusIs(Code::kInvalidArgument, "reason is required"));
  EXPECT_THAT(Resolve("stuck-3", v1::RESOLVE_ACTION_ROLLBACK, "wrong"),
              StatusIs(Code::kFailedPrecondition, "Confirms may already have run"));
  EXPECT_THAT(Resolve("stuck-3", static_cast<v1::ResolveAction>(42), "x"),
              StatusIs(Code::kInvalidArgument, "unknown resolve action"));
  auto marked =
      Resolve("stuck-3", v1::RESOLVE_ACTION_MARK_COMMITTED, "points fixed by hand, T-1234");
  ASSERT_OK(marked);
  EXPECT_EQ(marked->state(), v1::TRANSACTION_STATE_COMMITTED);
  auto detail = Describe("stuck-3");
  ASSERT_OK(detail);
  EXPECT_EQ(detail->transaction().state(), v1::TRANSACTION_STATE_COMMITTED);
  EXPECT_EQ(detail->transaction().decision_reason(),
            "resolved by alice (self-declared): points fixed by hand, T-1234");
  const auto& last = detail->timeline(detail->timeline_size() - 2);
  EXPECT_EQ(last.kind(), "operator");
  EXPECT_EQ(last.actor(), "alice (self-declared)");
  EXPECT_NE(last.detail().find("T-1234"), std::string::npos);
  EXPECT_THAT(Resolve("stuck-3", v1::RESOLVE_ACTION_MARK_ROLLED_BACK, "again"),
              StatusIs(Code::kFailedPrecondition, "already COMMITTED"));

  ASSERT_OK(client_->Begin("open-1"));
  auto rolled = Resolve("open-1", v1::RESOLVE_ACTION_ROLLBACK, "initiator gone");
  ASSERT_OK(rolled);
  EXPECT_EQ(rolled->state(), v1::TRANSACTION_STATE_ROLLING_BACK);
  ASSERT_TRUE(WaitForState("open-1", v1::TRANSACTION_STATE_ROLLED_BACK));
}

TEST_F(AdminTest, StatsCountStatesStuckAndFailingTargets) {
  Committed("ok-1", up_);
  ASSERT_TRUE(WaitForState("ok-1", v1::TRANSACTION_STATE_COMMITTED));
  absl::Time before_stuck = absl::Now();
  StuckCommitting("stuck-4");
  auto stats = Call(&v1::Admin::Stub::Stats, v1::StatsRequest());
  int64_t stuck_for_at_most_ms = absl::ToInt64Milliseconds(absl::Now() - before_stuck) + 1;
  ASSERT_OK(stats);
  EXPECT_EQ(stats->transactions_by_state().at("COMMITTED"), 1u);
  EXPECT_EQ(stats->transactions_by_state().at("COMMITTING"), 1u);
  EXPECT_EQ(stats->stuck(), 1u);
  // The only unfinished GT is stuck-4: the figure is its age, bounded by
  // how long ago it began (not a timestamp or a stale value).
  EXPECT_GE(stats->oldest_unfinished_age_ms(), 0);
  EXPECT_LE(stats->oldest_unfinished_age_ms(), stuck_for_at_most_ms);
  ASSERT_EQ(stats->failing_targets_size(), 1);
  EXPECT_EQ(stats->failing_targets(0).target(), down_.address());
  EXPECT_EQ(stats->failing_targets(0).failing_branches(), 1u);
  // The store and retention (the default: a week, no archive, nothing due).
  EXPECT_GT(stats->store_bytes(), 4096u) << "a real file";
  EXPECT_LE(stats->store_free_bytes(), stats->store_bytes());
  EXPECT_GE(stats->oldest_finished_age_ms(), 0);
  EXPECT_LT(stats->oldest_finished_age_ms(), 60000) << "ok-1 finished moments ago";
  EXPECT_EQ(stats->retention().retention_s(), 7 * 24 * 3600);
  EXPECT_FALSE(stats->retention().archiving());
  EXPECT_EQ(stats->retention().deleted(), 0u);
}

TEST_F(AdminTest, AFailingBackQueryIsDescribedAndCountedAsAFailingTarget) {
  StuckCommitting("stuck-5");
  FakeInitiator initiator;
  initiator.Start();
  const std::string endpoint = initiator.address();
  initiator.Stop();  // Its port is closed: back-queries are refused.
  ASSERT_OK(client_->Begin("timed-out-5", /*timeout_ms=*/50, endpoint));
  absl::StatusOr<v1::TransactionDetail> detail;
  ASSERT_TRUE(WaitFor([&] {
    detail = Describe("timed-out-5");
    return detail.ok() && detail->back_query().failed_attempts() >= 1;
  }));
  const v1::BackQuery& query = detail->back_query();
  EXPECT_EQ(query.endpoint(), endpoint);
  EXPECT_EQ(query.attempts(), 1u);
  EXPECT_THAT(query.last_error(),
              ::testing::StartsWith("UNAVAILABLE: status endpoint " + endpoint));
  EXPECT_THAT(query.last_error(), ::testing::HasSubstr("Connection refused"));
  EXPECT_GT(query.last_attempt_unix_ms(), 0);
  EXPECT_GT(query.next_retry_unix_ms(), absl::ToUnixMillis(absl::Now()) + 10000) << "30s backoff";
  auto participant_gt = Describe("stuck-5");
  ASSERT_OK(participant_gt);
  EXPECT_FALSE(participant_gt->has_back_query()) << "no deadline passed while TRYING";

  auto stats = Call(&v1::Admin::Stub::Stats, v1::StatsRequest());
  ASSERT_OK(stats);
  ASSERT_EQ(stats->failing_targets_size(), 2);
  for (const v1::TargetFailures& target : stats->failing_targets()) {
    if (target.role() == v1::TARGET_ROLE_PARTICIPANT) {
      EXPECT_EQ(target.target(), down_.address());
      EXPECT_EQ(target.failing_branches(), 1u);
      EXPECT_EQ(target.failing_back_queries(), 0u);
    } else {
      EXPECT_EQ(target.role(), v1::TARGET_ROLE_STATUS_ENDPOINT);
      EXPECT_EQ(target.target(), endpoint);
      EXPECT_EQ(target.failing_back_queries(), 1u);
      EXPECT_EQ(target.failing_branches(), 0u);
      EXPECT_EQ(target.failed_attempts(), 1u);
      EXPECT_EQ(target.last_error(), query.last_error());
    }
  }
}

}  // namespace
}  // namespace tcc
