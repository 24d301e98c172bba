// Three real tccd processes on one PostgreSQL database (a private cluster),
// with a 1 s ownership lease:
//  - one is killed with SIGKILL while its acknowledged commits still wait
//    for their Confirms: the others take its transactions over and finish
//    them; the takeover time is measured and printed;
//  - one is paused (SIGSTOP) past its lease while it owns a TRYING
//    transaction and committed ones: a Commit sent to another instance
//    moves ownership there, the others take over the rest; resumed
//    (SIGCONT), the old owner's late writes (its timeout's rollback among
//    them) are refused by the fence, and no branch ever sees both Confirm
//    and Cancel.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/process/tccd_process.h"
#include "tests/coordinator/coordinator_client.h"
#include "tests/coordinator/fake_participant.h"
#include "tests/test_util/postgres_cluster.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::process::TccdProcess;
using ::tcc::testing::CoordinatorClient;
using ::tcc::testing::FakeParticipant;
using ::tcc::testing::MakeTry;
using ::tcc::testing::ReadFile;
using ::tcc::testing::WaitFor;

constexpr int kInstances = 3;
constexpr absl::Duration kLease = absl::Seconds(1);

class PostgresTakeoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = ::tcc::testing::NewSchemaForCurrentTest();
    ASSERT_OK(schema);
    cluster_ = schema->cluster;
    schema_ = schema->name;
    uri_ = schema->uri;
    for (auto& participant : participants_) {
      participant.SetBehavior([this](const ::tcc::testing::RecordedCall& call, v1::BranchReply&) {
        if (call.phase == "Confirm" && !accept_confirms_) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "holding confirms");
        }
        return grpc::Status::OK;
      });
      participant.Start();
    }
    for (int i = 0; i < kInstances; ++i) {
      absl::StatusOr<std::unique_ptr<TccdProcess>> tccd = TccdProcess::Start(
          {.binary = TCCD_PATH,
           .store = uri_,
           .work_dir = dirs_[i].path().string(),
           .log_level = "info",
           .extra_args = {absl::StrCat("--ownership_lease_ms=", absl::ToInt64Milliseconds(kLease)),
                          "--retry_initial_ms=20", "--retry_max_ms=200"}});
      ASSERT_OK(tccd);
      tccd_[i] = *std::move(tccd);
      clients_[i] = std::make_unique<CoordinatorClient>(tccd_[i]->address());
    }
  }

  void TearDown() override {
    for (auto& tccd : tccd_) {
      if (tccd) kill(tccd->pid(), SIGCONT);  // A paused one must be able to die.
    }
  }

  // Begins, tries (two branches) and commits `gid` through instance `i`.
  void CommitThrough(int i, const std::string& gid) {
    ASSERT_OK(clients_[i]->Begin(gid));
    ASSERT_OK(clients_[i]->Try(MakeTry(
        gid, {{"points", participants_[0].address()}, {"log", participants_[1].address()}})));
    ASSERT_OK(clients_[i]->Commit(gid));  // Acknowledged: it must be carried out.
  }

  bool Committed(int via, const std::string& gid) {
    auto gt = clients_[via]->Get(gid);
    return gt.ok() && gt->state() == v1::TRANSACTION_STATE_COMMITTED;
  }

  // No branch of `gid` saw both Confirm and Cancel.
  void ExpectOneOutcome(const std::string& gid) {
    for (const FakeParticipant& participant : participants_) {
      EXPECT_FALSE(participant.Count("Confirm", gid) > 0 && participant.Count("Cancel", gid) > 0)
          << gid << " got both Confirm and Cancel at " << participant.address();
    }
  }

  std::string Sql(const std::string& sql) {
    auto value = cluster_->Query(absl::StrReplaceAll(sql, {{"$schema", schema_}}));
    EXPECT_OK(value);
    return value.ok() ? *value : "";
  }

  ::tcc::testing::PostgresCluster* cluster_ = nullptr;
  std::string uri_;
  std::string schema_;
  std::atomic<bool> accept_confirms_ = false;
  FakeParticipant participants_[2];
  ::tcc::testing::TempDir dirs_[kInstances];
  std::unique_ptr<TccdProcess> tccd_[kInstances];
  std::unique_ptr<CoordinatorClient> clients_[kInstances];
};

TEST_F(PostgresTakeoverTest, AKilledInstancesTransactionsFinishOnTheOthers) {
  std::vector<std::string> gids;
  for (int n = 0; n < 12; ++n) {  // Four per instance, all acknowledged.
    gids.push_back(absl::StrCat("kill-", n));
    CommitThrough(n % kInstances, gids.back());
  }
  // Instance 0's Confirms are being refused when it dies.
  ASSERT_TRUE(WaitFor([&] { return participants_[1].Count("Confirm", "kill-9") >= 1; }));
  std::optional<int> status = tccd_[0]->Kill();
  ASSERT_TRUE(status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  const absl::Time killed = absl::Now();
  accept_confirms_ = true;

  ASSERT_TRUE(WaitFor(
      [&] {
        for (const std::string& gid : gids) {
          if (!Committed(1, gid)) return false;
        }
        return true;
      },
      std::chrono::seconds(20)));
  const absl::Duration takeover = absl::Now() - killed;
  std::cout << "takeover after kill -9: every acknowledged commit done "
            << absl::FormatDuration(takeover) << " after the kill (lease "
            << absl::FormatDuration(kLease) << ")\n";
  EXPECT_LT(takeover, kLease + absl::Seconds(3));
  for (const std::string& gid : gids) {
    EXPECT_GE(participants_[0].Count("Confirm", gid), 1) << gid;
    EXPECT_GE(participants_[1].Count("Confirm", gid), 1) << gid;
    ExpectOneOutcome(gid);
  }
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM $schema.global_transactions "
                "WHERE gid IN ('kill-0','kill-3','kill-6','kill-9') AND epoch >= 1"),
            "4")
      << "the dead instance's transactions were claimed (epoch + 1)";
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM $schema.coordinator_instances"), "3")
      << "the dead one's row stays; its heartbeat ages";
}

TEST_F(PostgresTakeoverTest, APausedOwnersLateWritesAreRefusedByTheFence) {
  // Instance 0 owns a TRYING transaction with a 2 s timeout and two
  // committed ones whose Confirms are held.
  ASSERT_OK(clients_[0]->Begin("paused-trying", 2000));
  ASSERT_OK(clients_[0]->Try(MakeTry("paused-trying", {{"points", participants_[0].address()}})));
  CommitThrough(0, "paused-committing-1");
  CommitThrough(0, "paused-committing-2");
  ASSERT_TRUE(WaitFor([&] { return participants_[1].Count("Confirm", "paused-committing-2"); }));

  ASSERT_EQ(kill(tccd_[0]->pid(), SIGSTOP), 0);
  // The decision reaches instance 1, not the owner: one fenced
  // compare-and-swap records it and moves ownership there.
  ASSERT_OK(clients_[1]->Commit("paused-trying"));
  accept_confirms_ = true;
  ASSERT_TRUE(WaitFor([&] { return Committed(2, "paused-trying"); }));
  // Past the lease, the others take the committed ones over and finish them.
  ASSERT_TRUE(WaitFor(
      [&] { return Committed(2, "paused-committing-1") && Committed(2, "paused-committing-2"); }));
  // Past the paused owner's deadline for the TRYING one: resumed, it times
  // it out and tries to roll it back, and retries its held Confirms.
  absl::SleepFor(absl::Seconds(1));
  ASSERT_EQ(kill(tccd_[0]->pid(), SIGCONT), 0);
  // Its held Confirms' writes may be refused first: wait for the TRYING one's.
  ASSERT_TRUE(WaitFor([&] {
    return absl::StrContains(ReadFile(tccd_[0]->log_path()),
                             "gid=paused-trying write refused by the fence");
  })) << ReadFile(tccd_[0]->log_path());
  absl::SleepFor(absl::Milliseconds(500));  // Room for a wrong Cancel to show.
  for (const std::string gid : {"paused-trying", "paused-committing-1", "paused-committing-2"}) {
    EXPECT_TRUE(Committed(0, gid)) << gid;
    EXPECT_EQ(participants_[0].Count("Cancel", gid), 0) << gid;
    ExpectOneOutcome(gid);
  }
  EXPECT_TRUE(Committed(0, "paused-trying"));
}

// Sequential calls of one initiator spread over the instances (a load
// balancer sends each call anywhere): Begin at 0, Try at 1 (which claims
// the GT), then the decision at 0 again, which still holds its copy from
// Begin. That copy is stale; the fenced write drops it, and instance 0
// retries once from the store, claiming the GT, instead of answering
// ABORTED to a caller that raced with nobody.
TEST_F(PostgresTakeoverTest, ADecisionAtAnInstanceWithAStaleCopySucceeds) {
  accept_confirms_ = true;
  for (const bool commit : {true, false}) {
    const std::string gid = commit ? "stale-commit" : "stale-rollback";
    ASSERT_OK(clients_[0]->Begin(gid));
    ASSERT_OK(clients_[1]->Try(MakeTry(gid, {{"points", participants_[0].address()}})));
    if (commit) {
      ASSERT_OK(clients_[0]->Commit(gid));
    } else {
      ASSERT_OK(clients_[0]->Rollback(gid));
    }
    const auto want = commit ? v1::TRANSACTION_STATE_COMMITTED : v1::TRANSACTION_STATE_ROLLED_BACK;
    ASSERT_TRUE(WaitFor([&] {
      auto gt = clients_[2]->Get(gid);
      return gt.ok() && gt->state() == want;
    })) << gid;
    ExpectOneOutcome(gid);
  }
  // A Try at the instance whose copy went stale the same way.
  ASSERT_OK(clients_[0]->Begin("stale-try"));
  ASSERT_OK(clients_[1]->Try(MakeTry("stale-try", {{"points", participants_[0].address()}})));
  ASSERT_OK(clients_[0]->Try(MakeTry("stale-try", {{"log", participants_[1].address()}})));
  ASSERT_OK(clients_[2]->Commit("stale-try"));
  ASSERT_TRUE(WaitFor([&] { return Committed(1, "stale-try"); }));
  EXPECT_GE(participants_[1].Count("Confirm", "stale-try"), 1);
}

}  // namespace
}  // namespace tcc
