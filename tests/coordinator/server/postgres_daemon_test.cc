// tccd in-process on the PostgreSQL store (--store=postgresql://...) of a
// private cluster, driving fake participants: commit, rollback, a restart
// resuming an unfinished transaction, a connection the server ends, and
// what the admin API shows of ownership (owner, epoch, live instances), and
// a skewed clock aligned with the database's by a heartbeat.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "coordinator/domain/manual_time.h"
#include "coordinator/server/ownership_loop.h"
#include "tcc/v1/admin.grpc.pb.h"
#include "tests/coordinator/coordinator_client.h"
#include "tests/coordinator/fake_participant.h"
#include "tests/coordinator/server/test_daemon.h"
#include "tests/test_util/postgres_cluster.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::FakeParticipant;
using ::tcc::testing::MakeTry;
using ::tcc::testing::StatusIs;
using ::tcc::testing::WaitFor;

class PostgresDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = ::tcc::testing::NewSchemaForCurrentTest();
    ASSERT_OK(schema);
    cluster_ = schema->cluster;
    schema_ = schema->name;
    uri_ = schema->uri;
    points_.Start();
    log_.Start();
    StartDaemon();
  }

  void StartDaemon() {
    auto [daemon, client] = ::tcc::testing::StartTestDaemon(dir_, [&](DaemonConfig& config) {
      config.data_path.clear();
      config.store_uri = uri_;
      config.engine.retry = {absl::Milliseconds(20), absl::Milliseconds(100), 2.0, 0.2};
    });
    ASSERT_NE(daemon, nullptr);
    daemon_ = std::move(daemon);
    client_ = std::move(client);
  }

  void StopDaemon() {
    client_.reset();
    daemon_->Shutdown();
    daemon_.reset();
  }

  bool WaitForState(const std::string& gid, v1::TransactionState state) {
    return WaitFor([&] {
      auto gt = client_->Get(gid);
      return gt.ok() && gt->state() == state;
    });
  }

  ::tcc::testing::PostgresCluster* cluster_ = nullptr;
  std::string uri_;
  std::string schema_;
  ::tcc::testing::TempDir dir_;
  FakeParticipant points_;
  FakeParticipant log_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<::tcc::testing::CoordinatorClient> client_;
};

TEST_F(PostgresDaemonTest, CommitsAndRollsBack) {
  ASSERT_OK(client_->Begin("order-1"));
  ASSERT_OK(
      client_->Try(MakeTry("order-1", {{"points", points_.address()}, {"log", log_.address()}})));
  ASSERT_OK(client_->Commit("order-1"));
  ASSERT_TRUE(WaitForState("order-1", v1::TRANSACTION_STATE_COMMITTED));
  EXPECT_EQ(points_.Count("Confirm", "order-1"), 1);
  EXPECT_EQ(log_.Count("Confirm", "order-1"), 1);

  ASSERT_OK(client_->Begin("order-2"));
  ASSERT_OK(client_->Try(MakeTry("order-2", {{"points", points_.address()}})));
  ASSERT_OK(client_->Rollback("order-2"));
  ASSERT_TRUE(WaitForState("order-2", v1::TRANSACTION_STATE_ROLLED_BACK));
  EXPECT_EQ(points_.Count("Cancel", "order-2"), 1);
  EXPECT_EQ(points_.Count("Confirm", "order-2"), 0);
  auto stored =
      cluster_->Query(absl::StrCat("SELECT COUNT(*) FROM ", schema_, ".global_transactions"));
  ASSERT_OK(stored);
  EXPECT_EQ(*stored, "2") << "both are in PostgreSQL";
}

TEST_F(PostgresDaemonTest, ARestartResumesAnUnfinishedTransaction) {
  ASSERT_OK(client_->Begin("order-3"));
  ASSERT_OK(client_->Try(MakeTry("order-3", {{"points", points_.address()}})));
  int port = points_.port();
  points_.Stop();
  ASSERT_OK(client_->Commit("order-3"));  // Durable; Confirm cannot reach the participant.
  ASSERT_TRUE(WaitFor([&] {
    auto gt = client_->Get("order-3");
    return gt.ok() && gt->branches(0).attempts() >= 1;
  }));
  StopDaemon();
  ASSERT_EQ(points_.Start(port), port);
  StartDaemon();
  ASSERT_TRUE(WaitForState("order-3", v1::TRANSACTION_STATE_COMMITTED));
  EXPECT_EQ(points_.Count("Confirm", "order-3"), 1);
}

// The server ends tccd's connection (as a restart or failover would): the
// batch that meets it fails UNAVAILABLE, the next one reconnects, and no
// transaction is lost.
TEST_F(PostgresDaemonTest, ALostConnectionCostsOneBatchThenTccdReconnects) {
  ASSERT_OK(client_->Begin("before"));
  auto killed = cluster_->Query(
      "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name "
      "LIKE 'tccd%'");
  ASSERT_OK(killed);
  EXPECT_NE(*killed, "0");
  absl::Status first = client_->Begin("after").status();
  if (!first.ok()) {
    EXPECT_THAT(first, StatusIs(absl::StatusCode::kUnavailable));
    ASSERT_OK(client_->Begin("after")) << "the next batch reconnects";
  }
  ASSERT_OK(client_->Try(MakeTry("after", {{"points", points_.address()}})));
  ASSERT_OK(client_->Commit("after"));
  ASSERT_TRUE(WaitForState("after", v1::TRANSACTION_STATE_COMMITTED));
  ASSERT_TRUE(WaitFor([&] { return client_->Get("before").ok(); }));
}

// The instance id, the owner of what it drives and the live instances
// are visible through the admin API; a clean stop hands the unfinished
// transactions back (owner '' and epoch + 1) and removes the instance.
TEST_F(PostgresDaemonTest, AdminShowsOwnersAndLiveInstances) {
  ASSERT_OK(client_->Begin("owned"));
  const std::string me = daemon_->instance_id();
  ASSERT_FALSE(me.empty());
  auto gt = client_->Get("owned");
  ASSERT_OK(gt);
  EXPECT_EQ(gt->owner(), me);
  EXPECT_EQ(gt->epoch(), 0);

  auto admin = v1::Admin::NewStub(client_->channel());
  grpc::ClientContext context;
  v1::StatsReply stats;
  ASSERT_TRUE(admin->Stats(&context, v1::StatsRequest(), &stats).ok());
  ASSERT_EQ(stats.instances_size(), 1);
  EXPECT_EQ(stats.instances(0).instance_id(), me);
  EXPECT_TRUE(stats.instances(0).live());
  EXPECT_LT(stats.instances(0).heartbeat_age_ms(), 5000);

  StopDaemon();
  const std::string& schema = schema_;
  auto released = cluster_->Query(absl::StrCat("SELECT owner || '/' || epoch FROM ", schema,
                                               ".global_transactions WHERE gid = 'owned'"));
  ASSERT_OK(released);
  EXPECT_EQ(*released, "/1") << "released at the stop, fenced against late writes";
  auto instances =
      cluster_->Query(absl::StrCat("SELECT COUNT(*) FROM ", schema, ".coordinator_instances"));
  ASSERT_OK(instances);
  EXPECT_EQ(*instances, "0");
  StartDaemon();
  gt = client_->Get("owned");
  ASSERT_OK(gt);
  EXPECT_EQ(gt->owner(), daemon_->instance_id()) << "claimed at once by the next start";
  EXPECT_EQ(gt->epoch(), 2);
}

TEST_F(PostgresDaemonTest, AHeartbeatAlignsASkewedClockWithTheDatabases) {
  // The database's clock is this machine's here: a local clock two hours
  // behind must come out within the reading's round trip of it.
  auto instances = PostgresInstances::Open(uri_, "skewed", "127.0.0.1:9");
  ASSERT_OK(instances);
  ManualClock two_hours_behind(absl::Now() - absl::Hours(2));
  AlignedClock clock(&two_hours_behind);
  const absl::Time before = absl::Now();
  auto beat = BeatAndAlign(**instances, clock);
  ASSERT_OK(beat);
  const absl::Time after = absl::Now();
  EXPECT_GE(clock.Now(), before - absl::Milliseconds(5));
  EXPECT_LE(clock.Now(), after + absl::Milliseconds(5));
  EXPECT_NEAR(absl::ToUnixMillis(clock.Now()), beat->at_ms, 1) << "the manual clock stood still";
  EXPECT_GT(clock.offset(), absl::Hours(2) - absl::Seconds(1));
}

}  // namespace
}  // namespace tcc
