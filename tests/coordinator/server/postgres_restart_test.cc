// PostgreSQL restarted under load (`pg_ctl restart -m immediate`: every
// backend killed, crash recovery at start) while two real tccd processes
// share its database and eight clients keep beginning, trying and
// committing transactions through both, each call with a 2 s deadline:
//  - during the outage every failed call is UNAVAILABLE (not INTERNAL, and
//    not a hang until DEADLINE_EXCEEDED), so a client knows to retry;
//  - the instances reconnect by themselves: both acknowledge commits again
//    after the restart;
//  - nothing acknowledged is lost: every Commit answered OK ends COMMITTED
//    in the database with its Confirms delivered, and no branch of any
//    transaction sees both Confirm and Cancel.
// The cluster is this test's own, so the restart disturbs no other test.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/process/tccd_process.h"
#include "coordinator/domain/transaction.h"
#include "tcc/common/mutex.h"
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
using ::tcc::testing::WaitFor;

constexpr int kInstances = 2;
constexpr int kClients = 8;
constexpr auto kCallDeadline = std::chrono::milliseconds(2000);

// What the clients saw, shared by their threads.
class LoadRecord {
 public:
  void Acknowledged(int instance, const std::string& gid, absl::Time begun) {
    tcc::MutexLock lock(&mu_);
    acknowledged_.push_back(gid);
    if (begun > restarted_) ++acknowledged_after_restart_[instance];
  }
  void Attempted(const std::string& gid) {
    tcc::MutexLock lock(&mu_);
    attempted_.push_back(gid);
  }
  void Failed(const absl::Status& status) {
    tcc::MutexLock lock(&mu_);
    ++failures_[status.code()];
    if (status.code() != absl::StatusCode::kUnavailable) wrong_.insert(status.ToString());
  }
  void RestartDone(absl::Time at) {
    tcc::MutexLock lock(&mu_);
    restarted_ = at;
  }

  std::vector<std::string> acknowledged() const {
    tcc::MutexLock lock(&mu_);
    return acknowledged_;
  }
  std::vector<std::string> attempted() const {
    tcc::MutexLock lock(&mu_);
    return attempted_;
  }
  int acknowledged_after_restart(int instance) const {
    tcc::MutexLock lock(&mu_);
    auto it = acknowledged_after_restart_.find(instance);
    return it == acknowledged_after_restart_.end() ? 0 : it->second;
  }
  int failures(absl::StatusCode code) const {
    tcc::MutexLock lock(&mu_);
    auto it = failures_.find(code);
    return it == failures_.end() ? 0 : it->second;
  }
  // The failures that were not UNAVAILABLE, one line each.
  std::string wrong() const {
    tcc::MutexLock lock(&mu_);
    return absl::StrJoin(wrong_, "\n");
  }

 private:
  mutable tcc::Mutex mu_;
  std::vector<std::string> acknowledged_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> attempted_ ABSL_GUARDED_BY(mu_);
  std::map<int, int> acknowledged_after_restart_ ABSL_GUARDED_BY(mu_);
  std::map<absl::StatusCode, int> failures_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> wrong_ ABSL_GUARDED_BY(mu_);
  absl::Time restarted_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
};

class PostgresRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = ::tcc::testing::PostgresCluster::Start();
    ASSERT_OK(cluster);
    cluster_ = *std::move(cluster);
    for (FakeParticipant& participant : participants_) participant.Start();
    for (int i = 0; i < kInstances; ++i) {
      absl::StatusOr<std::unique_ptr<TccdProcess>> tccd =
          TccdProcess::Start({.binary = TCCD_PATH,
                              .store = cluster_->DatabaseUri(),
                              .work_dir = dirs_[i].path().string(),
                              .log_level = "info",
                              .extra_args = {"--ownership_lease_ms=1000", "--retry_initial_ms=20",
                                             "--retry_max_ms=200"}});
      ASSERT_OK(tccd);
      tccd_[i] = *std::move(tccd);
    }
  }

  void TearDown() override {
    stop_ = true;
    for (std::thread& client : clients_) {
      if (client.joinable()) client.join();
    }
  }

  void StartClients() {
    for (int c = 0; c < kClients; ++c) {
      clients_.emplace_back([this, c] { RunClient(c); });
    }
  }

  void RunClient(int c) {
    const int instance = c % kInstances;
    CoordinatorClient client(tccd_[instance]->address());
    client.set_deadline(kCallDeadline);
    for (int n = 0; !stop_; ++n) {
      const std::string gid = absl::StrCat("load-", c, "-", n);
      const absl::Time begun = absl::Now();
      record_.Attempted(gid);
      absl::Status status = PayOnce(client, gid);
      if (status.ok()) {
        record_.Acknowledged(instance, gid, begun);
      } else {
        record_.Failed(status);
        absl::SleepFor(absl::Milliseconds(50));  // A client backing off.
      }
    }
  }

  // Begin, Try on two participants, Commit: OK once the Commit is
  // acknowledged. A transaction left TRYING times out after 5 s, more than
  // the Begin and Try deadlines together.
  absl::Status PayOnce(CoordinatorClient& client, const std::string& gid) {
    if (auto begun = client.Begin(gid, 5000); !begun.ok()) return begun.status();
    if (auto tried = client.Try(MakeTry(
            gid, {{"points", participants_[0].address()}, {"log", participants_[1].address()}}));
        !tried.ok()) {
      return tried.status();
    }
    return client.Commit(gid).status();
  }

  // The tccd log lines about `gid`, for a failure's message.
  std::string LogLinesAbout(const std::string& gid) {
    std::string lines;
    for (const auto& tccd : tccd_) {
      std::ifstream log(tccd->log_path());
      for (std::string line; std::getline(log, line);) {
        if (absl::StrContains(line, absl::StrCat("gid=", gid, " "))) {
          absl::StrAppend(&lines, tccd->port(), ": ", line, "\n");
        }
      }
    }
    return lines;
  }

  std::string Sql(const std::string& sql) {
    absl::StatusOr<std::string> value = cluster_->Query(sql);
    EXPECT_OK(value);
    return value.ok() ? *value : "";
  }

  std::unique_ptr<::tcc::testing::PostgresCluster> cluster_;
  FakeParticipant participants_[2];
  ::tcc::testing::TempDir dirs_[kInstances];
  std::unique_ptr<TccdProcess> tccd_[kInstances];
  std::vector<std::thread> clients_;
  std::atomic<bool> stop_ = false;
  LoadRecord record_;
};

TEST_F(PostgresRestartTest, ClientsGetUnavailableAndNothingAcknowledgedIsLost) {
  StartClients();
  ASSERT_TRUE(WaitFor([&] { return record_.acknowledged().size() >= 40; }));
  const size_t acknowledged_before = record_.acknowledged().size();
  const absl::Time restart_began = absl::Now();
  ASSERT_OK(cluster_->Restart("immediate"));
  record_.RestartDone(absl::Now());
  std::cout << "pg_ctl restart -m immediate took "
            << absl::FormatDuration(absl::Now() - restart_began) << " (" << acknowledged_before
            << " commits acknowledged before it)\n";

  // Both instances reconnect by themselves and acknowledge commits again.
  ASSERT_TRUE(WaitFor(
      [&] {
        return record_.acknowledged_after_restart(0) >= 10 &&
               record_.acknowledged_after_restart(1) >= 10;
      },
      std::chrono::seconds(20)))
      << "after the restart: instance 0 acknowledged " << record_.acknowledged_after_restart(0)
      << ", instance 1 " << record_.acknowledged_after_restart(1);
  stop_ = true;
  for (std::thread& client : clients_) client.join();

  const std::vector<std::string> acknowledged = record_.acknowledged();
  const std::vector<std::string> attempted = record_.attempted();
  std::cout << attempted.size() << " transactions attempted, " << acknowledged.size()
            << " acknowledged; failed calls: " << record_.failures(absl::StatusCode::kUnavailable)
            << " UNAVAILABLE, " << record_.failures(absl::StatusCode::kDeadlineExceeded)
            << " DEADLINE_EXCEEDED\n";
  EXPECT_GT(record_.failures(absl::StatusCode::kUnavailable), 0)
      << "the outage went unnoticed: the test restarted nothing";
  EXPECT_EQ(record_.wrong(), "") << "failures other than UNAVAILABLE";

  // Everything ends: acknowledged ones COMMITTED, the rest by their timeout.
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<std::string> open =
            cluster_->Query("SELECT COUNT(*) FROM global_transactions WHERE NOT finished");
        return open.ok() && *open == "0";
      },
      std::chrono::seconds(20)))
      << Sql("SELECT string_agg(gid || ':' || state || ':' || owner, ' ') FROM "
             "global_transactions WHERE NOT finished")
      << "\n"
      << LogLinesAbout(Sql("SELECT MIN(gid) FROM global_transactions WHERE NOT finished"));
  EXPECT_EQ(Sql(absl::StrCat("SELECT COUNT(*) FROM global_transactions WHERE gid IN ('",
                             absl::StrJoin(acknowledged, "','"),
                             "') AND state = ", static_cast<int>(TxState::kCommitted))),
            absl::StrCat(acknowledged.size()))
      << "an acknowledged commit did not end COMMITTED";
  for (const std::string& gid : acknowledged) {
    EXPECT_GE(participants_[0].Count("Confirm", gid), 1) << gid;
    EXPECT_GE(participants_[1].Count("Confirm", gid), 1) << gid;
  }
  for (const std::string& gid : attempted) {
    for (const FakeParticipant& participant : participants_) {
      EXPECT_FALSE(participant.Count("Confirm", gid) > 0 && participant.Count("Cancel", gid) > 0)
          << gid << " got both Confirm and Cancel at " << participant.address();
    }
  }
}

}  // namespace
}  // namespace tcc
