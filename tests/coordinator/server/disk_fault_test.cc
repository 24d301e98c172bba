// Real disk faults under a real tccd process on its real SQLite file: a full
// disk (the data directory is a small tmpfs, filled to the last byte) and
// I/O errors (EIO from tests/fault's LD_PRELOAD library on every write and
// sync of the data directory). While the fault lasts, tccd must answer
// RESOURCE_EXHAUSTED or UNAVAILABLE with a message that says what is wrong
// and what to do, never acknowledge what it did not store, and keep driving
// the transactions it had acknowledged; once the fault is gone it must go on
// without a restart. Afterwards the file passes SQLite's integrity check and
// a restarted tccd still has every acknowledged decision.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/process/tccd_process.h"
#include "tests/coordinator/coordinator_client.h"
#include "tests/coordinator/fake_participant.h"
#include "tests/test_util/disk_faults.h"
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

constexpr int kHeldCommits = 5;
constexpr int kMaxAttemptsUntilFault = 400;
constexpr int kClients = 8;
constexpr int kRefusalsPerClient = 3;

// A fault the test switches on and off, and the answer tccd owes while it lasts.
struct Fault {
  std::function<absl::Status()> start;
  std::function<absl::Status()> stop;
  absl::StatusCode code;            // the code of every refused call
  std::vector<std::string> advice;  // words the message must contain
};

class DiskFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto& participant : participants_) {
      participant.SetBehavior([this](const auto& call, v1::BranchReply&) {
        if (call.phase == "Confirm" && hold_confirms_) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "holding confirms");
        }
        return grpc::Status::OK;
      });
      participant.Start();
    }
  }

  void StartTccd(const std::string& data, std::vector<std::string> env = {}) {
    absl::StatusOr<std::unique_ptr<TccdProcess>> tccd =
        TccdProcess::Start({.binary = TCCD_PATH,
                            .data = data,
                            .work_dir = dir_.path().string(),
                            .extra_args = {"--retry_initial_ms=10", "--retry_max_ms=100"},
                            .env = std::move(env)});
    ASSERT_OK(tccd);
    tccd_ = *std::move(tccd);
    client_ = std::make_unique<CoordinatorClient>(tccd_->address());
  }

  // Begin, Try, Commit: OK only when the Commit was acknowledged.
  absl::Status Transact(const std::string& gid) {
    if (auto begun = client_->Begin(gid); !begun.ok()) return begun.status();
    if (auto tried = client_->Try(
            MakeTry(gid, {{"a", participants_[0].address()}, {"b", participants_[1].address()}}));
        !tried.ok()) {
      return tried.status();
    }
    return client_->Commit(gid).status();
  }

  bool Committed(const std::string& gid) {
    auto gt = client_->Get(gid);
    if (!gt.ok() || gt->state() != v1::TRANSACTION_STATE_COMMITTED) return false;
    for (const auto& branch : gt->branches()) {
      if (branch.state() != v1::BRANCH_STATE_CONFIRMED) return false;
    }
    return gt->branches_size() == 2;
  }

  void ExpectAllCommitted(const std::set<std::string>& gids) {
    for (const std::string& gid : gids) {
      EXPECT_TRUE(WaitFor([&] { return Committed(gid); }, std::chrono::seconds(20)))
          << gid << " was acknowledged but is not COMMITTED with both branches confirmed";
    }
  }

  // The whole story for one fault on the store file at `data`.
  void RunFault(const std::string& data, const Fault& fault, std::vector<std::string> env = {}) {
    ASSERT_NO_FATAL_FAILURE(StartTccd(data, env));
    // Acknowledged before the fault, their Confirms held until it starts:
    // their outcomes are then written while the disk fails.
    hold_confirms_ = true;
    for (int i = 0; i < kHeldCommits; ++i) {
      std::string gid = absl::StrCat("held-", i);
      ASSERT_OK(Transact(gid));
      acknowledged_.insert(gid);
    }
    ASSERT_OK(fault.start());
    hold_confirms_ = false;

    // New work from several clients at once (so that the store's batches
    // hold several operations when the disk fails) until each was refused a
    // few times: every refusal says why.
    std::vector<absl::Status> refusals = TransactConcurrently();
    ASSERT_FALSE(refusals.empty()) << "tccd accepted every transaction on a failing disk";
    std::cout << refusals.size() << " calls refused while the disk failed, e.g.: " << refusals[0]
              << std::endl;
    for (const absl::Status& status : refusals) ExpectRefusal(status, fault);

    // The fault ends: tccd carries on, no restart.
    ASSERT_OK(fault.stop());
    ASSERT_TRUE(WaitFor([&] { return Transact("after-0").ok(); }, std::chrono::seconds(20)))
        << "tccd did not take new transactions once the disk recovered";
    acknowledged_.insert("after-0");
    for (int i = 1; i < 5; ++i) {
      ASSERT_OK(Transact(absl::StrCat("after-", i)));
      acknowledged_.insert(absl::StrCat("after-", i));
    }
    ExpectAllCommitted(acknowledged_);

    // The file is whole, and a restarted tccd has every acknowledged decision.
    std::optional<int> stopped = tccd_->Stop();
    ASSERT_TRUE(stopped && WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0)
        << "tccd did not stop cleanly; see " << tccd_->log_path();
    absl::StatusOr<std::string> integrity = ::tcc::testing::IntegrityCheck(data);
    ASSERT_OK(integrity);
    EXPECT_EQ(*integrity, "ok");
    ASSERT_NO_FATAL_FAILURE(StartTccd(data));
    ExpectAllCommitted(acknowledged_);
    tccd_->Stop();
  }

  // kClients threads transact until each saw kRefusalsPerClient refusals
  // (or made kMaxAttemptsUntilFault attempts); returns the refusals.
  std::vector<absl::Status> TransactConcurrently() {
    tcc::Mutex mu;
    std::vector<absl::Status> refusals;
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        int refused = 0;
        for (int i = 0; i < kMaxAttemptsUntilFault && refused < kRefusalsPerClient; ++i) {
          std::string gid = absl::StrCat("during-", c, "-", i);
          absl::Status status = Transact(gid);
          tcc::MutexLock lock(&mu);
          if (status.ok()) {
            acknowledged_.insert(gid);  // Written before the disk failed.
          } else {
            ++refused;
            refusals.push_back(status);
          }
        }
      });
    }
    for (std::thread& client : clients) client.join();
    return refusals;
  }

  static void ExpectRefusal(const absl::Status& status, const Fault& fault) {
    EXPECT_EQ(status.code(), fault.code) << status;
    for (const std::string& words : fault.advice) {
      EXPECT_TRUE(absl::StrContains(status.message(), words))
          << "the refusal should say \"" << words << "\": " << status;
    }
  }

  ::tcc::testing::TempDir dir_;
  FakeParticipant participants_[2];
  std::atomic<bool> hold_confirms_ = false;
  std::unique_ptr<TccdProcess> tccd_;
  std::unique_ptr<CoordinatorClient> client_;
  std::set<std::string> acknowledged_;
};

TEST_F(DiskFaultTest, AFullDiskIsRefusedWithResourceExhaustedAndSurvived) {
  auto disk = ::tcc::testing::Tmpfs::Mount(dir_.File("disk"), 8 << 20);
  ASSERT_OK(disk);
  Fault full{.start = [&]() { return (*disk)->Fill().status(); },
             .stop = [&]() { return (*disk)->Free(); },
             .code = absl::StatusCode::kResourceExhausted,
             .advice = {"disk is full", "free space"}};
  RunFault((*disk)->dir() + "/tccd.db", full);
}

TEST_F(DiskFaultTest, IoErrorsAreRefusedWithUnavailableAndSurvived) {
  std::string data_dir = dir_.File("data");
  std::filesystem::create_directories(data_dir);
  ::tcc::testing::IoFaults io(TCC_IO_FAULT_LIB, data_dir, dir_.File("eio-trigger"));
  Fault eio{.start = [&]() { return io.Start(); },
            .stop = [&]() { return io.Stop(); },
            .code = absl::StatusCode::kUnavailable,
            .advice = {"I/O error", "retry"}};
  RunFault(data_dir + "/tccd.db", eio, io.env());
}

TEST_F(DiskFaultTest, FailedSyncsAreRefusedWithUnavailableAndSurvived) {
  // The writes reach the page cache, their fsync fails: SQLite must report
  // the commit failed, and what it wrote must not corrupt what follows.
  std::string data_dir = dir_.File("data");
  std::filesystem::create_directories(data_dir);
  ::tcc::testing::IoFaults io(TCC_IO_FAULT_LIB, data_dir, dir_.File("eio-trigger"),
                              /*syncs_only=*/true);
  Fault eio{.start = [&]() { return io.Start(); },
            .stop = [&]() { return io.Stop(); },
            .code = absl::StatusCode::kUnavailable,
            .advice = {"I/O error", "retry"}};
  RunFault(data_dir + "/tccd.db", eio, io.env());
}

}  // namespace
}  // namespace tcc
