// tccd in-process on a loopback port with a real SQLite file, driving fake
// participants that are real gRPC servers on ephemeral ports.
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include "common/process/silent_connection.h"
#include "tcc/common/notification.h"
#include "tests/coordinator/coordinator_client.h"
#include "tests/coordinator/fake_participant.h"
#include "tests/coordinator/server/test_daemon.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::CoordinatorClient;
using ::tcc::testing::FakeParticipant;
using ::tcc::testing::MakeTry;
using ::tcc::testing::StatusIs;
using ::tcc::testing::WaitFor;
using Code = absl::StatusCode;

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto [daemon, client] = ::tcc::testing::StartTestDaemon(dir_, [](DaemonConfig& config) {
      config.engine.retry = {absl::Milliseconds(20), absl::Milliseconds(100), 2.0, 0.2};
      config.engine.limits.max_payload_bytes = 1024;
      config.engine.limits.max_branches_per_transaction = 4;
      config.engine.stuck.attempts = 3;
    });
    ASSERT_NE(daemon, nullptr);
    daemon_ = std::move(daemon);
    client_ = std::move(client);
    points_.Start();
    log_.Start();
  }

  bool WaitForState(const std::string& gid, v1::TransactionState state) {
    return WaitFor([&] {
      auto gt = client_->Get(gid);
      return gt.ok() && gt->state() == state;
    });
  }

  ::tcc::testing::TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<CoordinatorClient> client_;
  FakeParticipant points_;
  FakeParticipant log_;
};

TEST_F(DaemonTest, CommitPathConfirmsEveryParticipant) {
  ASSERT_OK(client_->Begin("order-1"));
  auto tried =
      client_->Try(MakeTry("order-1", {{"points", points_.address()}, {"log", log_.address()}}));
  ASSERT_OK(tried);
  ASSERT_EQ(tried->results_size(), 2);
  for (const auto& result : tried->results()) EXPECT_EQ(result.result(), v1::TRY_RESULT_SUCCEEDED);
  auto committed = client_->Commit("order-1");
  ASSERT_OK(committed);
  EXPECT_EQ(committed->state(), v1::TRANSACTION_STATE_COMMITTING);
  ASSERT_TRUE(WaitForState("order-1", v1::TRANSACTION_STATE_COMMITTED));
  EXPECT_EQ(points_.Count("Confirm", "order-1"), 1);
  EXPECT_EQ(log_.Count("Confirm", "order-1"), 1);
  for (const auto& call : points_.calls()) EXPECT_EQ(call.payload, "payload-points");
  auto gt = client_->Get("order-1");
  for (const auto& branch : gt->branches()) {
    EXPECT_EQ(branch.state(), v1::BRANCH_STATE_CONFIRMED);
  }
}

TEST_F(DaemonTest, BusinessRefusalLeadsToRollbackOfEveryBranch) {
  log_.SetBehavior([](const auto& call, v1::BranchReply& reply) {
    if (call.phase == "Try") {
      reply.set_outcome(v1::OUTCOME_REFUSED);
      reply.set_reason("order already paid");
    }
    return grpc::Status::OK;
  });
  ASSERT_OK(client_->Begin("order-2"));
  auto tried =
      client_->Try(MakeTry("order-2", {{"points", points_.address()}, {"log", log_.address()}}));
  ASSERT_OK(tried);
  EXPECT_EQ(tried->results(1).result(), v1::TRY_RESULT_REFUSED);
  EXPECT_EQ(tried->results(1).detail(), "order already paid");
  EXPECT_THAT(client_->Commit("order-2"),
              StatusIs(Code::kFailedPrecondition, "branch log is TRY_REFUSED"));
  ASSERT_OK(client_->Rollback("order-2"));
  ASSERT_TRUE(WaitForState("order-2", v1::TRANSACTION_STATE_ROLLED_BACK));
  EXPECT_EQ(points_.Count("Cancel", "order-2"), 1);
  EXPECT_EQ(log_.Count("Cancel", "order-2"), 1);
  EXPECT_EQ(points_.Count("Confirm"), 0);
}

TEST_F(DaemonTest, ParticipantDownThenBackIsEventuallyConfirmed) {
  ASSERT_OK(client_->Begin("order-3"));
  ASSERT_OK(client_->Try(MakeTry("order-3", {{"points", points_.address()}})));
  int port = points_.port();
  points_.Stop();
  ASSERT_OK(client_->Commit("order-3"));
  ASSERT_TRUE(WaitFor([&] {
    auto gt = client_->Get("order-3");
    return gt.ok() && gt->branches(0).attempts() >= 3 && gt->stuck();
  }));
  auto down = client_->Get("order-3");
  EXPECT_EQ(down->state(), v1::TRANSACTION_STATE_COMMITTING);
  EXPECT_FALSE(down->branches(0).last_error().empty());
  EXPECT_GT(down->branches(0).next_retry_unix_ms(), 0);

  ASSERT_EQ(points_.Start(port), port);
  ASSERT_TRUE(WaitForState("order-3", v1::TRANSACTION_STATE_COMMITTED));
  auto done = client_->Get("order-3");
  EXPECT_EQ(done->branches(0).state(), v1::BRANCH_STATE_CONFIRMED);
  EXPECT_GE(done->branches(0).attempts(), 4u);
  EXPECT_EQ(points_.Count("Confirm", "order-3"), 1);  // Only the attempt that reached it.
}

TEST_F(DaemonTest, BadInputGetsClearCodesAndChangesNothing) {
  ASSERT_OK(client_->Begin("order-4"));
  ASSERT_OK(client_->Try(MakeTry("order-4", {{"points", points_.address()}})));
  auto before = client_->Get("order-4");
  ASSERT_OK(before);

  EXPECT_THAT(client_->Begin(std::string(129, 'x')),
              StatusIs(Code::kInvalidArgument, "the limit is 128"));
  EXPECT_THAT(client_->Begin("has space"), StatusIs(Code::kInvalidArgument, "[A-Za-z0-9._:-]"));
  EXPECT_THAT(client_->Begin("order-4", 999), StatusIs(Code::kAlreadyExists, "order-4"));
  EXPECT_THAT(client_->Get("missing"), StatusIs(Code::kNotFound, "missing"));
  EXPECT_THAT(client_->Commit("missing"), StatusIs(Code::kNotFound));

  EXPECT_THAT(client_->Try(MakeTry("order-4", {{"empty-target", ""}})),
              StatusIs(Code::kInvalidArgument, "target is empty"));
  EXPECT_THAT(client_->Try(MakeTry("order-4", {{"bad", "no port"}})),
              StatusIs(Code::kInvalidArgument, "whitespace"));
  v1::TryRequest big = MakeTry("order-4", {{"big", points_.address()}});
  big.mutable_branches(0)->set_payload(std::string(1025, 'p'));
  EXPECT_THAT(client_->Try(big), StatusIs(Code::kInvalidArgument, "payload is 1025 bytes"));
  v1::TryRequest many = MakeTry("order-4", {{"a", points_.address()},
                                            {"b", points_.address()},
                                            {"c", points_.address()},
                                            {"d", points_.address()}});
  EXPECT_THAT(client_->Try(many), StatusIs(Code::kInvalidArgument, "the limit is 4"));
  v1::TryRequest changed = MakeTry("order-4", {{"points", points_.address()}});
  changed.mutable_branches(0)->set_payload("other");
  EXPECT_THAT(client_->Try(changed), StatusIs(Code::kAlreadyExists, "different target"));

  auto after = client_->Get("order-4");
  ASSERT_OK(after);
  EXPECT_EQ(after->SerializeAsString(), before->SerializeAsString());
}

TEST_F(DaemonTest, CommitNeedsSuccessfulTriesAndDecisionsDoNotFlip) {
  points_.SetBehavior([](const auto& call, v1::BranchReply&) {
    if (call.phase == "Try") return grpc::Status(grpc::StatusCode::UNAVAILABLE, "flaky");
    return grpc::Status::OK;
  });
  ASSERT_OK(client_->Begin("order-5"));
  auto tried = client_->Try(MakeTry("order-5", {{"points", points_.address()}}));
  ASSERT_OK(tried);
  EXPECT_EQ(tried->results(0).result(), v1::TRY_RESULT_UNKNOWN);
  EXPECT_THAT(client_->Commit("order-5"), StatusIs(Code::kFailedPrecondition, "REGISTERED"));
  ASSERT_OK(client_->Rollback("order-5"));
  EXPECT_OK(client_->Rollback("order-5"));
  EXPECT_THAT(client_->Commit("order-5"),
              StatusIs(Code::kFailedPrecondition, "cannot be committed"));
  ASSERT_TRUE(WaitForState("order-5", v1::TRANSACTION_STATE_ROLLED_BACK));
  EXPECT_THAT(client_->Try(MakeTry("order-5", {{"late", points_.address()}})),
              StatusIs(Code::kFailedPrecondition, "TRYING"));
}

TEST_F(DaemonTest, ServesTheStandardHealthCheck) {
  auto channel = client_->channel();
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Slice empty("");  // An empty HealthCheckRequest asks about the whole server.
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  tcc::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = s;
                   done.Notify();
                 });
  done.WaitForNotification();
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices)
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING
}

// Confirms that queue up behind a slow one go as batches to a participant
// that serves them, and one by one to a participant that does not (gRPC
// answers UNIMPLEMENTED for the batch service): every GT commits either way.
TEST(DaemonBatchTest, QueuedConfirmsGoAsBatchesOrAloneToAParticipantWithoutThem) {
  ::tcc::testing::TempDir dir;
  FakeParticipant batching;
  batching.ServeBatches();
  batching.Start();
  FakeParticipant plain;
  plain.Start();
  // The first Confirm each participant gets is answered late, so that the
  // Confirms of the GTs committed meanwhile queue behind it.
  batching.DelayNext("Confirm", absl::Milliseconds(500));
  plain.DelayNext("Confirm", absl::Milliseconds(500));
  auto started = ::tcc::testing::StartTestDaemon(
      dir, [](DaemonConfig& config) { config.batching = {.max_in_flight = 1, .max_batch = 16}; });
  ASSERT_NE(started.daemon, nullptr);
  CoordinatorClient* client = started.client.get();
  constexpr int kCount = 40;
  for (int i = 0; i < kCount; ++i) {
    std::string gid = absl::StrCat("order-", i);
    ASSERT_OK(client->Begin(gid));
    ASSERT_OK(
        client->Try(MakeTry(gid, {{"points", batching.address()}, {"log", plain.address()}})));
    ASSERT_OK(client->Commit(gid));
  }
  for (int i = 0; i < kCount; ++i) {
    std::string gid = absl::StrCat("order-", i);
    ASSERT_TRUE(WaitFor([&] {
      auto gt = client->Get(gid);
      return gt.ok() && gt->state() == v1::TRANSACTION_STATE_COMMITTED;
    })) << gid;
    EXPECT_GE(batching.Count("Confirm", gid), 1) << gid;
    EXPECT_GE(plain.Count("Confirm", gid), 1) << gid;
  }
  EXPECT_GE(batching.batches(), 1);
  EXPECT_GE(batching.largest_batch(), 2);
  EXPECT_LE(batching.largest_batch(), 16);
  EXPECT_EQ(plain.batches(), 0);
}

// SIGTERM's path: the client that committed keeps its connection open, idle,
// and another holds a connection without ever hanging up; the stop waits
// for neither (gRPC alone would wait 20 s for the silent one, within the
// minute of grace), and the acknowledged decision is in the store when tccd
// starts again.
TEST(DaemonShutdownTest, AnIdleClientConnectionDoesNotHoldTheStopUp) {
  ::tcc::testing::TempDir dir;
  FakeParticipant points;
  points.Start();
  auto grace = [](DaemonConfig& config) { config.shutdown_grace = absl::Seconds(60); };
  auto [daemon, client] = ::tcc::testing::StartTestDaemon(dir, grace);
  ASSERT_NE(daemon, nullptr);
  ASSERT_OK(client->Begin("order-1"));
  ASSERT_OK(client->Try(MakeTry("order-1", {{"points", points.address()}})));
  ASSERT_OK(client->Commit("order-1"));
  ::tcc::process::SilentConnection silent(daemon->port());
  ASSERT_TRUE(silent.connected());
  absl::Time start = absl::Now();
  daemon->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  daemon.reset();
  client.reset();
  auto restarted = ::tcc::testing::StartTestDaemon(dir, grace);
  ASSERT_NE(restarted.daemon, nullptr);
  auto gt = restarted.client->Get("order-1");
  ASSERT_OK(gt);
  EXPECT_THAT(gt->state(),
              ::testing::AnyOf(v1::TRANSACTION_STATE_COMMITTING, v1::TRANSACTION_STATE_COMMITTED));
}

}  // namespace
}  // namespace tcc
