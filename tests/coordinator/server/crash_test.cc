// A real tccd process is killed with SIGKILL after acknowledging Commits but
// before the Confirms finish; after a restart on the same data file every
// branch of every acknowledged transaction must be confirmed.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/process/tccd_process.h"
#include "tests/coordinator/coordinator_client.h"
#include "tests/coordinator/fake_initiator.h"
#include "tests/coordinator/fake_participant.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::process::TccdProcess;
using ::tcc::testing::CoordinatorClient;
using ::tcc::testing::FakeInitiator;
using ::tcc::testing::FakeParticipant;
using ::tcc::testing::MakeTry;
using ::tcc::testing::WaitFor;

constexpr int kTransactions = 10;

// tccd on `dir`'s data file, on a port of its choosing; nullptr (and a test
// failure) if it does not start.
std::unique_ptr<TccdProcess> StartTccd(const ::tcc::testing::TempDir& dir, int* port) {
  absl::StatusOr<std::unique_ptr<TccdProcess>> tccd =
      TccdProcess::Start({.binary = TCCD_PATH,
                          .data = dir.File("tccd.db"),
                          .work_dir = dir.path().string(),
                          .extra_args = {"--retry_initial_ms=10", "--retry_max_ms=50"}});
  if (!tccd.ok()) {
    ADD_FAILURE() << tccd.status();
    return nullptr;
  }
  *port = (*tccd)->port();
  return *std::move(tccd);
}

TEST(CrashTest, AcknowledgedCommitsSurviveKill9BeforeConfirmsFinish) {
  ::tcc::testing::TempDir dir;
  std::atomic<bool> accept_confirms = false;
  auto hold_confirms = [&](const auto& call, v1::BranchReply&) {
    if (call.phase == "Confirm" && !accept_confirms) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "holding confirms");
    }
    return grpc::Status::OK;
  };
  FakeParticipant participants[3];
  for (auto& participant : participants) {
    participant.SetBehavior(hold_confirms);
    participant.Start();
  }

  int port = 0;
  auto tccd = StartTccd(dir, &port);
  ASSERT_TRUE(tccd && port > 0) << "tccd did not start";
  {
    CoordinatorClient client(absl::StrCat("127.0.0.1:", port));
    for (int i = 0; i < kTransactions; ++i) {
      std::string gid = absl::StrCat("crash-", i);
      ASSERT_OK(client.Begin(gid));
      ASSERT_OK(client.Try(MakeTry(gid, {{"a", participants[0].address()},
                                         {"b", participants[1].address()},
                                         {"c", participants[2].address()}})));
      auto committed = client.Commit(gid);
      ASSERT_OK(committed);  // Acknowledged: it must survive what follows.
    }
    // Confirms have started (and are being refused) when the crash comes.
    ASSERT_TRUE(WaitFor([&] { return participants[2].Count("Confirm") >= kTransactions; }));
  }
  std::optional<int> status = tccd->Kill();
  ASSERT_TRUE(status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);

  int confirms_before_restart[3];
  for (int i = 0; i < 3; ++i) confirms_before_restart[i] = participants[i].Count("Confirm");
  accept_confirms = true;
  tccd = StartTccd(dir, &port);
  ASSERT_TRUE(tccd && port > 0) << "tccd did not restart";
  CoordinatorClient client(absl::StrCat("127.0.0.1:", port));
  for (int i = 0; i < kTransactions; ++i) {
    std::string gid = absl::StrCat("crash-", i);
    ASSERT_TRUE(WaitFor([&] {
      auto gt = client.Get(gid);
      return gt.ok() && gt->state() == v1::TRANSACTION_STATE_COMMITTED;
    })) << gid
        << " was not committed after the restart";
    auto gt = client.Get(gid);
    ASSERT_EQ(gt->branches_size(), 3);
    for (const auto& branch : gt->branches()) {
      EXPECT_EQ(branch.state(), v1::BRANCH_STATE_CONFIRMED) << gid << " " << branch.branch_id();
    }
  }
  for (int i = 0; i < 3; ++i) {
    // The restarted daemon, not the killed one, delivered the Confirms.
    EXPECT_GE(participants[i].Count("Confirm") - confirms_before_restart[i], kTransactions);
    EXPECT_EQ(participants[i].Count("Cancel"), 0);
  }
  tccd->Stop();
}

// Begin folded into Try (TryRequest.begin): its one write, the GT with its
// branches, is durable before any participant sees a Try. Killed while one
// participant holds its Try (the others answered; their results wait for
// it), the restarted tccd knows the GT and its branches, times it out and
// cancels every branch.
TEST(CrashTest, ATryWithBeginKilledDuringItsTriesIsCancelledAfterRestart) {
  ::tcc::testing::TempDir dir;
  std::atomic<bool> release_tries = false;
  auto hold_tries = [&](const auto& call, v1::BranchReply&) {
    while (call.phase == "Try" && !release_tries) absl::SleepFor(absl::Milliseconds(5));
    return grpc::Status::OK;
  };
  FakeParticipant participants[3];
  // One held handler only: the in-process servers share gRPC's callback threads.
  participants[2].SetBehavior(hold_tries);
  for (auto& participant : participants) participant.Start();
  int port = 0;
  auto tccd = StartTccd(dir, &port);
  ASSERT_TRUE(tccd && port > 0) << "tccd did not start";
  const std::string gid = "begin-and-try";
  v1::TryRequest request = MakeTry(gid, {{"a", participants[0].address()},
                                         {"b", participants[1].address()},
                                         {"c", participants[2].address()}});
  request.mutable_begin()->set_timeout_ms(1000);
  std::thread initiator([&] {
    CoordinatorClient client(absl::StrCat("127.0.0.1:", port));
    EXPECT_FALSE(client.Try(request).ok()) << "answered, though tccd died first";
  });
  ASSERT_TRUE(WaitFor([&] {
    for (auto& participant : participants) {
      if (participant.Count("Try") == 0) return false;
    }
    return true;
  }));
  std::optional<int> status = tccd->Kill();
  ASSERT_TRUE(status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  release_tries = true;
  initiator.join();

  tccd = StartTccd(dir, &port);
  ASSERT_TRUE(tccd && port > 0) << "tccd did not restart";
  CoordinatorClient client(absl::StrCat("127.0.0.1:", port));
  ASSERT_TRUE(WaitFor([&] {
    auto gt = client.Get(gid);
    return gt.ok() && gt->state() == v1::TRANSACTION_STATE_ROLLED_BACK;
  })) << "the GT, begun and registered in one write, was not rolled back after the restart";
  auto gt = client.Get(gid);
  ASSERT_OK(gt);
  EXPECT_EQ(gt->timeout_ms(), 1000u) << "Begin's parameters came with the Try";
  ASSERT_EQ(gt->branches_size(), 3);
  for (auto& participant : participants) {
    EXPECT_GE(participant.Count("Cancel"), 1) << participant.address();
    EXPECT_EQ(participant.Count("Confirm"), 0) << participant.address();
  }
  tccd->Stop();
}

// Starts tccd, sends `request` (Begin folded into it) and kills tccd with
// kill -9 once it answered, then restarts it on the same data: the crash
// point between a Try's answer and the decision. nullptr on failure.
std::unique_ptr<TccdProcess> TryThenKillAndRestart(const ::tcc::testing::TempDir& dir,
                                                   const v1::TryRequest& request, int* port,
                                                   v1::TryReply* reply) {
  auto tccd = StartTccd(dir, port);
  if (!tccd) return nullptr;
  absl::StatusOr<v1::TryReply> tried =
      CoordinatorClient(absl::StrCat("127.0.0.1:", *port)).Try(request);
  if (!tried.ok()) {
    ADD_FAILURE() << "Try: " << tried.status();
    return nullptr;
  }
  *reply = *std::move(tried);
  std::optional<int> status = tccd->Kill();
  if (!status || !WIFSIGNALED(*status) || WTERMSIG(*status) != SIGKILL) {
    ADD_FAILURE() << "tccd did not die of SIGKILL";
    return nullptr;
  }
  return StartTccd(dir, port);
}

// After the restart every participant was asked its Try once more, then
// confirmed, and never cancelled.
template <size_t N>
void ExpectAskedAgainAndConfirmed(FakeParticipant (&participants)[N]) {
  for (auto& participant : participants) {
    EXPECT_EQ(participant.Count("Try"), 2) << participant.address() << ": asked again once";
    EXPECT_GE(participant.Count("Confirm"), 1) << participant.address();
    EXPECT_EQ(participant.Count("Cancel"), 0) << participant.address();
  }
}

bool WaitForCommitted(CoordinatorClient& client, const std::string& gid) {
  return WaitFor([&] {
    auto gt = client.Get(gid);
    return gt.ok() && gt->state() == v1::TRANSACTION_STATE_COMMITTED;
  });
}

// The Try results of a lone tccd wait in memory for the decision's write.
// Killed after answering a Try (every branch succeeded) and before the
// Commit, the restarted tccd knows the branches REGISTERED only: the Commit
// asks their Tries again (idempotent at the participant), then commits.
TEST(CrashTest, TryResultsLostInACrashAreAskedAgainBeforeTheCommit) {
  ::tcc::testing::TempDir dir;
  FakeParticipant participants[3];
  for (auto& participant : participants) participant.Start();
  const std::string gid = "tried-then-killed";
  v1::TryRequest request = MakeTry(gid, {{"a", participants[0].address()},
                                         {"b", participants[1].address()},
                                         {"c", participants[2].address()}});
  request.mutable_begin()->set_timeout_ms(60000);
  int port = 0;
  v1::TryReply tried;
  auto tccd = TryThenKillAndRestart(dir, request, &port, &tried);
  ASSERT_TRUE(tccd && port > 0) << "tccd did not restart";
  for (const auto& result : tried.results()) {
    EXPECT_EQ(result.result(), v1::TRY_RESULT_SUCCEEDED) << result.branch_id();
  }
  CoordinatorClient client(absl::StrCat("127.0.0.1:", port));
  auto restarted = client.Get(gid);
  ASSERT_OK(restarted);
  ASSERT_EQ(restarted->branches_size(), 3);
  for (const auto& branch : restarted->branches()) {
    EXPECT_EQ(branch.state(), v1::BRANCH_STATE_REGISTERED)
        << branch.branch_id() << ": the results were not durable, the crash point was missed";
  }
  ASSERT_OK(client.Commit(gid));
  ASSERT_TRUE(WaitForCommitted(client, gid));
  ExpectAskedAgainAndConfirmed(participants);
  tccd->Stop();
}

// The same crash point, with no Commit after it: the initiator committed
// locally and its status endpoint answers COMMITTED to the timeout's
// back-query. The restarted tccd asks the lost Tries again, then commits.
TEST(CrashTest, TryResultsLostInACrashAreAskedAgainWhenTheBackQuerySaysCommitted) {
  ::tcc::testing::TempDir dir;
  FakeParticipant participants[2];
  for (auto& participant : participants) participant.Start();
  FakeInitiator initiator(v1::INITIATOR_DECISION_COMMITTED);
  ASSERT_GT(initiator.Start(), 0);
  const std::string gid = "tried-killed-queried";
  v1::TryRequest request =
      MakeTry(gid, {{"a", participants[0].address()}, {"b", participants[1].address()}});
  request.mutable_begin()->set_timeout_ms(1000);
  request.mutable_begin()->set_status_endpoint(initiator.address());
  int port = 0;
  v1::TryReply tried;
  auto tccd = TryThenKillAndRestart(dir, request, &port, &tried);
  ASSERT_TRUE(tccd && port > 0) << "tccd did not restart";
  EXPECT_TRUE(tried.committable());
  CoordinatorClient client(absl::StrCat("127.0.0.1:", port));
  ASSERT_TRUE(WaitForCommitted(client, gid))
      << "not committed after the back-query answered COMMITTED";
  EXPECT_GE(initiator.queries(), 1);
  ExpectAskedAgainAndConfirmed(participants);
  tccd->Stop();
}

TEST(CrashTest, ASagaKilledMidwayResumesWhereItStopped) {
  ::tcc::testing::TempDir dir;
  std::atomic<bool> second_step_works = false;
  FakeParticipant participants[3];
  participants[1].SetBehavior([&](const auto& call, v1::BranchReply&) {
    if (!second_step_works) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "holding");
    return grpc::Status::OK;
  });
  v1::SubmitSagaRequest saga;
  saga.set_gid("saga-crash");
  for (int i = 0; i < 3; ++i) {
    participants[i].Start();
    v1::SagaStep* step = saga.add_steps();
    step->set_step_id(absl::StrCat("s", i));
    step->set_target(participants[i].address());
    step->set_action("step");
    step->set_max_attempts(1000);  // Keep retrying across the crash.
  }
  int port = 0;
  auto tccd = StartTccd(dir, &port);
  ASSERT_TRUE(tccd && port > 0) << "tccd did not start";
  {
    CoordinatorClient client(absl::StrCat("127.0.0.1:", port));
    auto stub = v1::Coordinator::NewStub(client.channel());
    grpc::ClientContext context;
    v1::SubmitSagaReply reply;
    ASSERT_TRUE(stub->SubmitSaga(&context, saga, &reply).ok());
    // Step 0 done, step 1 failing and being retried: now crash.
    ASSERT_TRUE(WaitFor([&] { return participants[1].Count("Try") >= 2; }));
  }
  tccd->Kill();
  int first_step_runs = participants[0].Count("Try");
  second_step_works = true;
  tccd = StartTccd(dir, &port);
  ASSERT_TRUE(tccd && port > 0) << "tccd did not restart";
  CoordinatorClient client(absl::StrCat("127.0.0.1:", port));
  ASSERT_TRUE(WaitFor([&] {
    auto gt = client.Get("saga-crash");
    return gt.ok() && gt->state() == v1::TRANSACTION_STATE_COMMITTED;
  }));
  EXPECT_EQ(participants[0].Count("Try"), first_step_runs);  // Completed: not run again.
  EXPECT_EQ(participants[2].Count("Try"), 1);
  for (auto& participant : participants) EXPECT_EQ(participant.Count("Cancel"), 0);
  tccd->Stop();
}

}  // namespace
}  // namespace tcc
