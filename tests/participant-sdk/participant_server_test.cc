// ParticipantServer over real gRPC on 127.0.0.1:0: action dispatch, the
// mapping of handler results onto the wire, its error answers, and its
// counters (ParticipantMetrics) scraped over HTTP as a service would serve
// them.
#include "tcc/sdk/participant_server.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/http/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tcc/common/notification.h"
#include "tcc/sdk/participant_metrics.h"
#include "tcc/v1/participant.grpc.pb.h"
#include "tcc/v1/participant_batch.grpc.pb.h"
#include "tests/participant-sdk/pass_log.h"
#include "tests/participant-sdk/points_service.h"
#include "tests/participant-sdk/test_db.h"

namespace tcc::sdk::testing {
namespace {

using ::testing::HasSubstr;

class ParticipantServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenTestDb(dir_.File("points.db"));
    ASSERT_NE(db_, nullptr);
    ASSERT_OK(points_.Setup(*db_, "alice", 100));
  }

  void Start(ParticipantServerOptions options = {}) {
    server_ = std::make_unique<ParticipantServer>(db_, options);
    ASSERT_OK(server_->AddAction("points.freeze", points_.Handlers()));
    ASSERT_OK(server_->AddAction(
        "noop", {
                    .on_try = [](LocalTx&, const BranchRequest&) -> TryResult {
                      return TryOutcome::Reserved();
                    },
                    .on_confirm = [](LocalTx&, const BranchRequest&) { return absl::OkStatus(); },
                    .on_cancel = [](LocalTx&, const BranchRequest&) { return absl::OkStatus(); },
                }));
    ASSERT_OK(server_->Start("127.0.0.1:0"));
    ASSERT_GT(server_->port(), 0);
    stub_ = tcc::v1::Participant::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  grpc::Status Call(const std::string& phase, const BranchRequest& request,
                    tcc::v1::BranchReply* reply) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (phase == "try") return stub_->Try(&ctx, request, reply);
    if (phase == "confirm") return stub_->Confirm(&ctx, request, reply);
    return stub_->Cancel(&ctx, request, reply);
  }

  // Pruning options on a clock the test moves forward.
  PruningOptions Pruning(absl::Duration interval) {
    return {.interval = interval,
            .clock = [this] { return absl::Now() + absl::Hours(clock_ahead_h_.load()); },
            .on_pass = passes_.Callback()};
  }

  TempDir dir_;
  std::shared_ptr<Database> db_;
  PointsService points_;
  // Used by the server's pruning thread: declared before server_.
  std::atomic<int64_t> clock_ahead_h_{0};
  PassLog passes_;
  std::unique_ptr<ParticipantServer> server_;
  std::unique_ptr<tcc::v1::Participant::Stub> stub_;
};

TEST_F(ParticipantServerTest, DispatchesEachPhaseToTheNamedAction) {
  Start();
  tcc::v1::BranchReply reply;
  BranchRequest r = PointsService::Request("gid-1", "b1", "alice", 30);
  ASSERT_TRUE(Call("try", r, &reply).ok());
  EXPECT_EQ(reply.outcome(), tcc::v1::OUTCOME_SUCCESS);
  ASSERT_TRUE(Call("confirm", r, &reply).ok());
  EXPECT_EQ(reply.outcome(), tcc::v1::OUTCOME_SUCCESS);
  EXPECT_EQ(Balance(*db_, "alice"), 70);
  EXPECT_EQ(points_.try_runs, 1);
  EXPECT_EQ(points_.confirm_runs, 1);

  BranchRequest other = PointsService::Request("gid-1", "b2", "alice", 30);
  other.set_action("noop");
  ASSERT_TRUE(Call("try", other, &reply).ok());
  EXPECT_EQ(points_.try_runs, 1) << "the noop action has its own handlers";
}

TEST_F(ParticipantServerTest, RefusalIsOutcomeRefusedWithItsReason) {
  Start();
  tcc::v1::BranchReply reply;
  BranchRequest r = PointsService::Request("gid-1", "b1", "alice", 500);
  grpc::Status status = Call("try", r, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.outcome(), tcc::v1::OUTCOME_REFUSED);
  EXPECT_EQ(reply.reason(), "not enough points for alice");

  tcc::v1::BranchReply again;
  ASSERT_TRUE(Call("try", r, &again).ok());
  EXPECT_EQ(again.outcome(), tcc::v1::OUTCOME_REFUSED);
  EXPECT_EQ(again.reason(), reply.reason());
}

TEST_F(ParticipantServerTest, MetricsCountCallsAndBarrierHitsByKind) {
  auto metrics = std::make_shared<ParticipantMetrics>();
  Start({.metrics = metrics});
  // The service's own metrics port.
  absl::StatusOr<std::unique_ptr<tcc::HttpServer>> http =
      tcc::HttpServer::Start({}, {{"/metrics", [&] {
                                     return tcc::HttpResponse{200, metrics->RenderPrometheus(),
                                                              ParticipantMetrics::kContentType};
                                   }}});
  ASSERT_OK(http);
  tcc::v1::BranchReply reply;
  BranchRequest paid = PointsService::Request("gid-1", "b1", "alice", 30);
  ASSERT_TRUE(Call("try", paid, &reply).ok());
  ASSERT_TRUE(Call("try", paid, &reply).ok());  // Duplicate.
  ASSERT_TRUE(Call("confirm", paid, &reply).ok());
  BranchRequest too_much = PointsService::Request("gid-2", "b1", "alice", 500);
  ASSERT_TRUE(Call("try", too_much, &reply).ok());
  EXPECT_EQ(reply.outcome(), tcc::v1::OUTCOME_REFUSED);
  BranchRequest hanging = PointsService::Request("gid-3", "b1", "alice", 10);
  ASSERT_TRUE(Call("cancel", hanging, &reply).ok());  // Empty compensation.
  ASSERT_TRUE(Call("try", hanging, &reply).ok());     // Blocked late Try.
  EXPECT_EQ(reply.outcome(), tcc::v1::OUTCOME_REFUSED);
  BranchRequest untried = PointsService::Request("gid-4", "b1", "alice", 10);
  EXPECT_FALSE(Call("confirm", untried, &reply).ok());  // No Try on record: an error.

  httplib::Client client("127.0.0.1", (*http)->port());
  httplib::Result scrape = client.Get("/metrics");
  ASSERT_TRUE(scrape);
  ASSERT_EQ(scrape->status, 200);
  const std::string& text = scrape->body;
  auto line = [](const std::string& sample) { return absl::StrCat("\n", sample, "\n"); };
  const std::string calls = "tcc_sdk_participant_calls_total{action=\"points.freeze\",";
  EXPECT_THAT(text, HasSubstr(line(calls + "phase=\"try\",outcome=\"success\"} 2")));
  EXPECT_THAT(text, HasSubstr(line(calls + "phase=\"try\",outcome=\"refused\"} 2")));
  EXPECT_THAT(text, HasSubstr(line(calls + "phase=\"confirm\",outcome=\"success\"} 1")));
  EXPECT_THAT(text, HasSubstr(line(calls + "phase=\"confirm\",outcome=\"error\"} 1")));
  EXPECT_THAT(text, HasSubstr(line(calls + "phase=\"cancel\",outcome=\"success\"} 1")));
  EXPECT_THAT(text, HasSubstr(line("tcc_sdk_barrier_hits_total{kind=\"duplicate\"} 1")));
  EXPECT_THAT(text, HasSubstr(line("tcc_sdk_barrier_hits_total{kind=\"empty_compensation\"} 1")));
  EXPECT_THAT(text, HasSubstr(line("tcc_sdk_barrier_hits_total{kind=\"blocked_late_try\"} 1")));
  EXPECT_THAT(text, HasSubstr("# TYPE tcc_sdk_barrier_hits_total counter"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("gid-1"))) << "no gid in any label";
  (*http)->Stop();
}

TEST_F(ParticipantServerTest, CancelBeforeTryThenLateTryIsRefused) {
  Start();
  tcc::v1::BranchReply reply;
  BranchRequest r = PointsService::Request("gid-1", "b1", "alice", 30);
  ASSERT_TRUE(Call("cancel", r, &reply).ok());
  EXPECT_EQ(reply.outcome(), tcc::v1::OUTCOME_SUCCESS);
  ASSERT_TRUE(Call("try", r, &reply).ok());
  EXPECT_EQ(reply.outcome(), tcc::v1::OUTCOME_REFUSED);
  EXPECT_EQ(Frozen(*db_, "alice"), 0);
}

TEST_F(ParticipantServerTest, HandlerErrorIsANonOkStatusNotARefusal) {
  Start();
  points_.fail_try = true;
  tcc::v1::BranchReply reply;
  grpc::Status status = Call("try", PointsService::Request("gid-1", "b1", "alice", 30), &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("injected try failure"));
  EXPECT_EQ(Frozen(*db_, "alice"), 0);
}

TEST_F(ParticipantServerTest, UnknownActionIsUnimplementedNamingIt) {
  Start();
  BranchRequest r = PointsService::Request("gid-1", "b1", "alice", 30);
  r.set_action("points.teleport");
  tcc::v1::BranchReply reply;
  grpc::Status status = Call("try", r, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(status.error_message(), HasSubstr("points.teleport"));
  EXPECT_THAT(status.error_message(), HasSubstr("points.freeze"));
}

TEST_F(ParticipantServerTest, ABatchAnswersEachBranchAsItsOwnCallWould) {
  Start();
  tcc::v1::BranchReply reply;
  for (const char* gid : {"gid-1", "gid-2", "gid-3"}) {
    ASSERT_TRUE(Call("try", PointsService::Request(gid, "b1", "alice", 10), &reply).ok());
  }
  auto batch_stub = tcc::v1::ParticipantBatch::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  tcc::v1::BranchBatchRequest request;
  auto add = [&](const BranchRequest& branch, const std::string& traceparent = "") {
    tcc::v1::BatchedBranch* item = request.add_branches();
    *item->mutable_request() = branch;
    item->set_traceparent(traceparent);
  };
  const std::string trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  add(PointsService::Request("gid-1", "b1", "alice", 10));
  add(PointsService::Request("gid-2", "b1", "alice", 10));
  add(PointsService::Request("gid-2", "b1", "alice", 10));  // Delivered twice.
  BranchRequest unknown = PointsService::Request("gid-9", "b1", "alice", 10);
  unknown.set_action("points.teleport");
  add(unknown);
  add(PointsService::Request("gid-3", "b1", "alice", 10), trace);
  tcc::v1::BranchBatchReply replies;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status status = batch_stub->ConfirmBatch(&ctx, request, &replies);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(replies.replies_size(), 5);
  for (int i : {0, 1, 2, 4}) {
    EXPECT_EQ(replies.replies(i).status_code(), 0) << i << replies.replies(i).status_message();
    EXPECT_EQ(replies.replies(i).reply().outcome(), tcc::v1::OUTCOME_SUCCESS) << i;
  }
  EXPECT_EQ(replies.replies(3).status_code(), static_cast<int>(grpc::StatusCode::UNIMPLEMENTED));
  EXPECT_THAT(replies.replies(3).status_message(), HasSubstr("points.teleport"));
  EXPECT_EQ(points_.confirm_runs, 3) << "the repeated Confirm had no second effect";
  EXPECT_EQ(Balance(*db_, "alice"), 70);
  EXPECT_THAT(points_.traced_runs(), ::testing::ElementsAre("confirm gid-3 " + trace));

  // A Cancel batch for a branch that never tried: an empty compensation.
  tcc::v1::BranchBatchRequest cancels;
  *cancels.add_branches()->mutable_request() = PointsService::Request("gid-7", "b1", "alice", 10);
  grpc::ClientContext cancel_ctx;
  tcc::v1::BranchBatchReply cancelled;
  ASSERT_TRUE(batch_stub->CancelBatch(&cancel_ctx, cancels, &cancelled).ok());
  ASSERT_EQ(cancelled.replies_size(), 1);
  EXPECT_EQ(cancelled.replies(0).reply().outcome(), tcc::v1::OUTCOME_SUCCESS);
  ASSERT_TRUE(Call("try", PointsService::Request("gid-7", "b1", "alice", 10), &reply).ok());
  EXPECT_EQ(reply.outcome(), tcc::v1::OUTCOME_REFUSED) << "anti-hanging, as for a lone Cancel";
}

TEST_F(ParticipantServerTest, MalformedGidIsInvalidArgument) {
  Start();
  tcc::v1::BranchReply reply;
  grpc::Status status =
      Call("confirm", PointsService::Request("no spaces allowed", "b1", "alice", 1), &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("gid"));
}

TEST_F(ParticipantServerTest, RegistrationErrors) {
  ParticipantServer server(db_);
  EXPECT_TRUE(absl::IsInvalidArgument(server.AddAction("", points_.Handlers())));
  EXPECT_TRUE(
      absl::IsInvalidArgument(server.AddAction("half", {.on_try = points_.Handlers().on_try})));
  EXPECT_OK(server.AddAction("points.freeze", points_.Handlers()));
  EXPECT_TRUE(absl::IsAlreadyExists(server.AddAction("points.freeze", points_.Handlers())));
  EXPECT_OK(server.Start("127.0.0.1:0"));
  EXPECT_TRUE(absl::IsFailedPrecondition(server.AddAction("late", points_.Handlers())));
}

// One worker busy, one call queued: the next call is refused at once rather
// than queued without bound.
TEST_F(ParticipantServerTest, FullQueueIsResourceExhausted) {
  tcc::Notification entered, release;
  server_ = std::make_unique<ParticipantServer>(
      db_, ParticipantServerOptions{.worker_threads = 1, .max_queued_calls = 1});
  ASSERT_OK(server_->AddAction(
      "slow", {
                  .on_try = [&](LocalTx&, const BranchRequest&) -> TryResult {
                    if (!entered.HasBeenNotified()) entered.Notify();
                    release.WaitForNotification();
                    return TryOutcome::Reserved();
                  },
                  .on_confirm = [](LocalTx&, const BranchRequest&) { return absl::OkStatus(); },
                  .on_cancel = [](LocalTx&, const BranchRequest&) { return absl::OkStatus(); },
              }));
  ASSERT_OK(server_->Start("127.0.0.1:0"));
  stub_ = tcc::v1::Participant::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));

  auto request = [](const std::string& branch) {
    BranchRequest r = PointsService::Request("gid-1", branch, "alice", 1);
    r.set_action("slow");
    return r;
  };
  grpc::Status first_status;
  tcc::v1::BranchReply first_reply;
  std::thread first([&] { first_status = Call("try", request("b1"), &first_reply); });
  entered.WaitForNotification();
  // The worker is held: of three more calls exactly one fits in the queue,
  // and the other two are refused at once.
  constexpr int kMore = 3;
  std::atomic<int> exhausted{0}, ok{0};
  std::vector<std::thread> more;
  for (int i = 0; i < kMore; ++i) {
    more.emplace_back([&, i] {
      tcc::v1::BranchReply reply;
      grpc::Status status = Call("try", request(absl::StrCat("b", 2 + i)), &reply);
      if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++exhausted;
      if (status.ok()) ++ok;
    });
  }
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (exhausted < kMore - 1 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
  release.Notify();
  first.join();
  for (std::thread& t : more) t.join();
  EXPECT_TRUE(first_status.ok());
  EXPECT_EQ(exhausted, kMore - 1);
  EXPECT_EQ(ok, 1);
}

TEST_F(ParticipantServerTest, PrunesOldBarrierRowsInTheBackground) {
  Start({.pruning = Pruning(absl::Milliseconds(1))});
  tcc::v1::BranchReply reply;
  ASSERT_TRUE(Call("try", PointsService::Request("gid-1", "b1", "alice", 30), &reply).ok());
  ASSERT_TRUE(passes_.WaitForPasses(passes_.passes() + 2));
  EXPECT_EQ(BarrierRows(*db_), 1) << "a young row survives the passes";

  clock_ahead_h_ = 8 * 24;  // The row is now older than the 7-day default.
  ASSERT_TRUE(passes_.WaitForRows(1));
  EXPECT_EQ(BarrierRows(*db_), 0);
  EXPECT_EQ(passes_.failures(), 0);
}

TEST_F(ParticipantServerTest, ShutdownStopsThePrunerWithoutWaitingForItsInterval) {
  Start({.pruning = Pruning(absl::Hours(1))});
  absl::Time before = absl::Now();
  server_->Shutdown();  // Would wait an hour (the test times out) otherwise.
  EXPECT_LT(absl::Now() - before, absl::Seconds(20));
  EXPECT_EQ(passes_.passes(), 0) << "the first pass waits one interval";
}

TEST_F(ParticipantServerTest, PruneBarrierNowUsesTheRetentionAndTheClock) {
  Start({.pruning = Pruning(absl::InfiniteDuration())});
  tcc::v1::BranchReply reply;
  ASSERT_TRUE(Call("try", PointsService::Request("gid-1", "b1", "alice", 30), &reply).ok());
  ASSERT_TRUE(Call("confirm", PointsService::Request("gid-1", "b1", "alice", 30), &reply).ok());

  absl::StatusOr<int64_t> young = server_->PruneBarrierNow();
  ASSERT_OK(young);
  EXPECT_EQ(*young, 0);
  clock_ahead_h_ = 8 * 24;
  absl::StatusOr<int64_t> old = server_->PruneBarrierNow();
  ASSERT_OK(old);
  EXPECT_EQ(*old, 2);
  EXPECT_EQ(BarrierRows(*db_), 0);
  EXPECT_EQ(passes_.passes(), 0) << "an infinite interval runs no background pass";
}

TEST_F(ParticipantServerTest, RetentionZeroKeepsEveryBarrierRow) {
  PruningOptions pruning = Pruning(absl::InfiniteDuration());
  pruning.retention = absl::ZeroDuration();
  Start({.pruning = pruning});
  tcc::v1::BranchReply reply;
  ASSERT_TRUE(Call("try", PointsService::Request("gid-1", "b1", "alice", 30), &reply).ok());
  clock_ahead_h_ = 24 * 365;
  absl::StatusOr<int64_t> pruned = server_->PruneBarrierNow();
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, 0);
  EXPECT_EQ(BarrierRows(*db_), 1);
}

TEST_F(ParticipantServerTest, StartRejectsANegativeRetention) {
  server_ = std::make_unique<ParticipantServer>(
      db_, ParticipantServerOptions{.pruning = {.retention = -absl::Hours(1)}});
  ASSERT_OK(server_->AddAction("points.freeze", points_.Handlers()));
  EXPECT_TRUE(absl::IsInvalidArgument(server_->Start("127.0.0.1:0")));
}

}  // namespace
}  // namespace tcc::sdk::testing
