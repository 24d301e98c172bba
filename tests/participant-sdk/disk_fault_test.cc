// Real disk faults under an SDK participant: participant_minimal (the SDK's
// barrier and a business table in one SQLite file) runs as its own process
// with its database on a full tmpfs, or with EIO on every write and sync of
// its directory (tests/fault's LD_PRELOAD library). Its Try and Confirm then
// fail with a status that names the fault, tccd keeps retrying the Confirm
// and the Cancel of a refused Try, and every branch finishes once the disk
// recovers, without a restart of anything. The file passes SQLite's
// integrity check afterwards and the balances add up.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <filesystem>
#include <functional>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/process/child_process.h"
#include "common/process/tccd_process.h"
#include "tests/coordinator/coordinator_client.h"
#include "tests/test_util/disk_faults.h"
#include "tests/test_util/ports.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::process::ChildOptions;
using ::tcc::process::ChildProcess;
using ::tcc::process::TccdProcess;
using ::tcc::testing::CoordinatorClient;
using ::tcc::testing::WaitFor;

struct Fault {
  std::function<absl::Status()> start;
  std::function<absl::Status()> stop;
  std::string words;  // what the participant's error must say
  std::string code;   // and its status code, as tccd records it ("gRPC N:")
};

int64_t QueryInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  int64_t value = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

class SdkDiskFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TccdProcess>> tccd =
        TccdProcess::Start({.binary = TCCD_PATH,
                            .data = dir_.File("tccd.db"),
                            .work_dir = dir_.path().string(),
                            .extra_args = {"--retry_initial_ms=10", "--retry_max_ms=100"}});
    ASSERT_OK(tccd);
    tccd_ = *std::move(tccd);
    client_ = std::make_unique<CoordinatorClient>(tccd_->address());
  }

  void StartParticipant(const std::string& db, std::vector<std::string> env) {
    int port = ::tcc::testing::FreeLoopbackPort();
    target_ = absl::StrCat("127.0.0.1:", port);
    participant_ = std::make_unique<ChildProcess>(
        ChildOptions{.output_path = dir_.File("participant.log"), .env = std::move(env)});
    ASSERT_OK(participant_->Start(
        {PARTICIPANT_MINIMAL_PATH, absl::StrCat("--listen=", target_), absl::StrCat("--db=", db)}));
    auto channel = grpc::CreateChannel(target_, grpc::InsecureChannelCredentials());
    ASSERT_TRUE(
        channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20)))
        << "participant_minimal did not serve; see " << dir_.File("participant.log");
  }

  absl::StatusOr<v1::TryReply> BeginAndTry(const std::string& gid, int points) {
    if (auto begun = client_->Begin(gid); !begun.ok()) return begun.status();
    v1::TryRequest request;
    request.set_gid(gid);
    v1::BranchSpec* branch = request.add_branches();
    branch->set_branch_id("points");
    branch->set_target(target_);
    branch->set_action("points.freeze");
    branch->set_payload(absl::StrCat("alice:", points));
    return client_->Try(request);
  }

  // The GT's state, and its one branch's state and last error.
  std::tuple<v1::TransactionState, v1::BranchState, std::string> Look(const std::string& gid) {
    auto gt = client_->Get(gid);
    if (!gt.ok() || gt->branches_size() != 1) return {};
    return {gt->state(), gt->branches(0).state(), gt->branches(0).last_error()};
  }

  void RunFault(const std::string& db, const Fault& fault, std::vector<std::string> env = {}) {
    ASSERT_NO_FATAL_FAILURE(StartParticipant(db, std::move(env)));
    absl::StatusOr<v1::TryReply> reserved = BeginAndTry("confirm-me", 10);  // before the fault
    ASSERT_OK(reserved);
    ASSERT_EQ(reserved->results(0).result(), v1::TRY_RESULT_SUCCEEDED);
    ASSERT_OK(fault.start());

    // The Confirm fails on the participant's disk, and tccd keeps trying.
    ASSERT_OK(client_->Commit("confirm-me"));
    EXPECT_TRUE(WaitFor([&] {
      auto [state, branch, error] = Look("confirm-me");
      return absl::StrContains(error, fault.words);
    })) << "the Confirm's failure should say \""
        << fault.words << "\": " << std::get<2>(Look("confirm-me"));
    // A new Try fails for the same reason (its outcome unknown to tccd: the
    // participant answered with an error, not a refusal); its rollback's
    // Cancel waits for the disk too.
    absl::StatusOr<v1::TryReply> tried = BeginAndTry("try-refused", 5);
    ASSERT_OK(tried);
    ASSERT_EQ(tried->results_size(), 1);
    EXPECT_EQ(tried->results(0).result(), v1::TRY_RESULT_UNKNOWN);
    std::cout << "the Try on the failing disk: " << tried->results(0).detail() << std::endl;
    EXPECT_TRUE(absl::StrContains(tried->results(0).detail(), fault.words))
        << tried->results(0).detail();
    EXPECT_TRUE(absl::StrContains(tried->results(0).detail(), fault.code))
        << tried->results(0).detail();
    ASSERT_OK(client_->Rollback("try-refused"));

    ASSERT_OK(fault.stop());
    EXPECT_TRUE(WaitFor(
        [&] {
          return Look("confirm-me") == std::tuple{v1::TRANSACTION_STATE_COMMITTED,
                                                  v1::BRANCH_STATE_CONFIRMED, std::string()};
        },
        std::chrono::seconds(20)))
        << std::get<2>(Look("confirm-me"));
    EXPECT_TRUE(WaitFor(
        [&] { return std::get<0>(Look("try-refused")) == v1::TRANSACTION_STATE_ROLLED_BACK; },
        std::chrono::seconds(20)))
        << std::get<2>(Look("try-refused"));
    absl::StatusOr<v1::TryReply> after = BeginAndTry("after", 20);
    ASSERT_OK(after);
    ASSERT_EQ(after->results(0).result(), v1::TRY_RESULT_SUCCEEDED);
    ASSERT_OK(client_->Commit("after"));
    EXPECT_TRUE(
        WaitFor([&] { return std::get<0>(Look("after")) == v1::TRANSACTION_STATE_COMMITTED; }));

    std::optional<int> stopped = participant_->Stop(absl::Seconds(10));
    ASSERT_TRUE(stopped && WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0);
    absl::StatusOr<std::string> integrity = ::tcc::testing::IntegrityCheck(db);
    ASSERT_OK(integrity);
    EXPECT_EQ(*integrity, "ok");
    // 100 points, 10 and 20 deducted once each, nothing left frozen.
    EXPECT_EQ(QueryInt(db, "SELECT balance FROM accounts WHERE user = 'alice'"), 70);
    EXPECT_EQ(QueryInt(db, "SELECT frozen FROM accounts WHERE user = 'alice'"), 0);
  }

  ::tcc::testing::TempDir dir_;
  std::unique_ptr<TccdProcess> tccd_;
  std::unique_ptr<CoordinatorClient> client_;
  std::unique_ptr<ChildProcess> participant_;
  std::string target_;
};

TEST_F(SdkDiskFaultTest, AParticipantOnAFullDiskCatchesUpWhenSpaceReturns) {
  auto disk = ::tcc::testing::Tmpfs::Mount(dir_.File("disk"), 4 << 20);
  ASSERT_OK(disk);
  Fault full{.start = [&]() { return (*disk)->Fill().status(); },
             .stop = [&]() { return (*disk)->Free(); },
             .words = "disk is full",
             .code = "gRPC 8:"};  // RESOURCE_EXHAUSTED
  RunFault((*disk)->dir() + "/points.db", full);
}

TEST_F(SdkDiskFaultTest, AParticipantWithIoErrorsCatchesUpWhenTheyStop) {
  std::string data_dir = dir_.File("data");
  std::filesystem::create_directories(data_dir);
  ::tcc::testing::IoFaults io(TCC_IO_FAULT_LIB, data_dir, dir_.File("eio-trigger"));
  Fault eio{.start = [&]() { return io.Start(); },
            .stop = [&]() { return io.Stop(); },
            .words = "I/O error",
            .code = "gRPC 14:"};  // UNAVAILABLE
  RunFault(data_dir + "/points.db", eio, io.env());
}

}  // namespace
}  // namespace tcc
