// The real tccctl binary against a real tccd process on loopback, with a
// participant that goes down after its Try: an operator finds the stuck
// transaction, retries it once the participant is back, resolves another by
// hand, and every error path returns its documented exit code with one line
// on stderr. And an initiator whose status endpoint is down past the
// deadline: the failing back-query shows in show and stats, and one retry
// resolves it once the endpoint is back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/process/tccd_process.h"
#include "tests/coordinator/coordinator_client.h"
#include "tests/coordinator/fake_initiator.h"
#include "tests/coordinator/fake_participant.h"
#include "tests/test_util/command.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::process::TccdProcess;
using ::tcc::testing::CommandResult;
using ::tcc::testing::CoordinatorClient;
using ::tcc::testing::FakeInitiator;
using ::tcc::testing::FakeParticipant;
using ::tcc::testing::MakeTry;
using ::tcc::testing::RunCommandForTest;
using ::tcc::testing::TempDir;
using ::tcc::testing::WaitFor;
using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  // stderr is exactly one line.
  bool one_line_error() const {
    return !err.empty() && err.back() == '\n' && std::count(err.begin(), err.end(), '\n') == 1;
  }
};

// Runs tccctl with `args`, stdout and stderr captured apart.
CliResult RunTccctl(std::vector<std::string> args) {
  args.insert(args.begin(), TCCCTL_PATH);
  CommandResult run = RunCommandForTest(args, {.separate_stderr = true});
  return {.exit_code = run.exit_code(), .out = run.output, .err = run.error};
}

class TccctlE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { StartTccd({"--retry_initial_ms=20", "--retry_max_ms=100"}); }
  void TearDown() override {
    client_.reset();  // tccd's clean stop waits ~5s while a client stays connected.
    if (tccd_) tccd_->Stop();
  }

  void StartTccd(const std::vector<std::string>& retry_flags) {
    std::vector<std::string> flags = {"--stuck_after_attempts=3", "--call_timeout_ms=1000"};
    flags.insert(flags.end(), retry_flags.begin(), retry_flags.end());
    absl::StatusOr<std::unique_ptr<TccdProcess>> tccd =
        TccdProcess::Start({.binary = TCCD_PATH,
                            .data = dir_.File("tccd.db"),
                            .work_dir = dir_.path().string(),
                            .log_level = "error",
                            .extra_args = flags});
    ASSERT_OK(tccd);
    tccd_ = *std::move(tccd);
    address_ = tccd_->address();
    client_ = std::make_unique<CoordinatorClient>(address_);
  }

  CliResult Tccctl(std::vector<std::string> args) {
    args.insert(args.begin(), "--addr=" + address_);
    return RunTccctl(std::move(args));
  }

  // Begins `gid`, tries one branch on `participant`, then stops the
  // participant: every Confirm / Cancel that follows fails.
  void TryThenParticipantDown(const std::string& gid, FakeParticipant& participant) {
    ASSERT_OK(client_->Begin(gid));
    auto tried = client_->Try(MakeTry(gid, {{"points", participant.address()}}));
    ASSERT_OK(tried);
    ASSERT_EQ(tried->results(0).result(), v1::TRY_RESULT_SUCCEEDED);
    participant.Stop();
  }

  bool WaitForStuck(const std::string& gid) {
    return WaitFor([&] {
      auto gt = client_->Get(gid);
      return gt.ok() && gt->stuck();
    });
  }

  bool WaitForState(const std::string& gid, v1::TransactionState state) {
    return WaitFor([&] {
      auto gt = client_->Get(gid);
      return gt.ok() && gt->state() == state;
    });
  }

  TempDir dir_;
  std::unique_ptr<TccdProcess> tccd_;
  std::string address_;
  std::unique_ptr<CoordinatorClient> client_;
};

TEST_F(TccctlE2eTest, FindStuckTransactionRetryItAndReadItsTimeline) {
  FakeParticipant participant;
  std::atomic<bool> accept_confirms = true;
  participant.SetBehavior([&](const ::tcc::testing::RecordedCall& call, v1::BranchReply&) {
    if (call.phase == "Confirm" && !accept_confirms) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "warming up");
    }
    return grpc::Status::OK;
  });
  int port = participant.Start();
  TryThenParticipantDown("e2e-stuck-1", participant);
  ASSERT_OK(client_->Commit("e2e-stuck-1"));
  ASSERT_TRUE(WaitForStuck("e2e-stuck-1"));

  CliResult list = Tccctl({"list", "--stuck"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("GID"));
  EXPECT_THAT(list.out, ContainsRegex("e2e-stuck-1 +COMMITTING +[0-9a-z]+ +stuck +0/1 +" +
                                      participant.address() + ": "));

  CliResult json = Tccctl({"list", "--stuck", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json doc = nlohmann::json::parse(json.out);
  ASSERT_EQ(doc["transactions"].size(), 1u);
  const nlohmann::json& gt = doc["transactions"][0];
  EXPECT_EQ(gt["gid"], "e2e-stuck-1");
  EXPECT_EQ(gt["state"], "COMMITTING");
  EXPECT_EQ(gt["stuck"], true);
  EXPECT_EQ(gt["branches_total"], 1);
  EXPECT_EQ(gt["failing_branch"]["target"], participant.address());
  EXPECT_FALSE(gt["failing_branch"]["error"].get<std::string>().empty());
  EXPECT_GE(gt["branches"][0]["attempts"].get<int>(), 3);
  EXPECT_EQ(doc["next_page_token"], "");

  // The participant is back but still refuses Confirms, so the transaction
  // cannot finish before the operator's retry.
  accept_confirms = false;
  ASSERT_EQ(participant.Start(port), port);
  ASSERT_TRUE(WaitFor([&] { return participant.Count("Confirm") > 0; }));
  CliResult retry = Tccctl({"retry", "e2e-stuck-1", "--operator", "dave"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(retry.out, "rescheduled 1 transaction (e2e-stuck-1) for an immediate retry\n");
  accept_confirms = true;
  ASSERT_TRUE(WaitForState("e2e-stuck-1", v1::TRANSACTION_STATE_COMMITTED));

  CliResult show = Tccctl({"show", "e2e-stuck-1"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, AllOf(HasSubstr("Transaction e2e-stuck-1"), HasSubstr("COMMITTED"),
                              HasSubstr("Branches (1/1 done)"), HasSubstr("CONFIRMED"),
                              HasSubstr("Timeline")));
  for (const char* kind : {"begin", "state", "branch", "stuck"}) {
    EXPECT_THAT(show.out, ContainsRegex(absl::StrCat("  tccd +", kind, " +"))) << kind;
  }
  EXPECT_THAT(show.out, ContainsRegex("  dave \\(self-declared\\) +operator +"));
  EXPECT_THAT(show.out, ContainsRegex("  tccd +state +COMMITTED"));
}

TEST_F(TccctlE2eTest, ResolveByHandIsRecordedWithOperatorAndReason) {
  FakeParticipant participant;
  participant.Start();
  TryThenParticipantDown("e2e-stuck-2", participant);
  ASSERT_OK(client_->Rollback("e2e-stuck-2"));
  ASSERT_TRUE(WaitForStuck("e2e-stuck-2"));

  CliResult resolve = Tccctl({"resolve", "e2e-stuck-2", "--mark-rolled-back", "--reason",
                              "points refunded by hand, OPS-7", "--operator", "carol"});
  ASSERT_EQ(resolve.exit_code, 0) << resolve.err;
  EXPECT_EQ(resolve.out, "resolved e2e-stuck-2 (mark-rolled-back): now ROLLED_BACK\n");

  CliResult show = Tccctl({"show", "e2e-stuck-2"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, AllOf(HasSubstr("ROLLED_BACK"), HasSubstr("carol"),
                              HasSubstr("points refunded by hand, OPS-7")));

  CliResult json = Tccctl({"show", "e2e-stuck-2", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["transaction"]["state"], "ROLLED_BACK");
  bool recorded = false;
  for (const nlohmann::json& event : doc["timeline"]) {
    recorded |= event["actor"] == "carol (self-declared)" &&
                event["detail"].get<std::string>().find("points refunded by hand, OPS-7") !=
                    std::string::npos;
  }
  EXPECT_TRUE(recorded) << doc["timeline"].dump(2);

  CliResult again = Tccctl({"resolve", "e2e-stuck-2", "--commit", "--reason", "too late"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(again.one_line_error()) << again.err;
  EXPECT_THAT(again.err, StartsWith("tccctl: "));
}

TEST_F(TccctlE2eTest, StatsAndListJsonHaveTheDocumentedFields) {
  FakeParticipant participant;
  participant.Start();
  TryThenParticipantDown("e2e-stats", participant);
  ASSERT_OK(client_->Commit("e2e-stats"));
  ASSERT_TRUE(WaitForStuck("e2e-stats"));

  CliResult stats = Tccctl({"stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  nlohmann::json doc = nlohmann::json::parse(stats.out);
  EXPECT_EQ(doc["transactions_by_state"]["COMMITTING"], 1);
  EXPECT_EQ(doc["stuck"], 1);
  EXPECT_GT(doc["oldest_unfinished_age_ms"].get<int64_t>(), 0);
  ASSERT_EQ(doc["failing_targets"].size(), 1u);
  EXPECT_EQ(doc["failing_targets"][0]["target"], participant.address());
  EXPECT_GE(doc["failing_targets"][0]["failing_branches"].get<int>(), 1);
  EXPECT_GE(doc["failing_targets"][0]["failed_attempts"].get<int>(), 3);

  CliResult text = Tccctl({"stats"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, AllOf(ContainsRegex("COMMITTING +1"), HasSubstr(participant.address())));

  CliResult list = Tccctl({"list", "--json", "--state", "committing", "--target",
                           participant.address(), "--older-than", "0s", "--gid-prefix", "e2e-"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  nlohmann::json page = nlohmann::json::parse(list.out);
  ASSERT_EQ(page["transactions"].size(), 1u);
  for (const char* field :
       {"gid", "state", "mode", "stuck", "created_unix_ms", "updated_unix_ms", "deadline_unix_ms",
        "age_ms", "timeout_ms", "status_endpoint", "decision_reason", "branches_done",
        "branches_total", "failing_branch", "branches"}) {
    EXPECT_TRUE(page["transactions"][0].contains(field)) << field;
  }

  CliResult retry = Tccctl({"retry", "--target", participant.address(), "--json"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(nlohmann::json::parse(retry.out)["transactions_rescheduled"], 1);
}

TEST_F(TccctlE2eTest, ListPagesWithTokens) {
  for (int i = 0; i < 5; ++i) ASSERT_OK(client_->Begin(absl::StrCat("e2e-page-", i)));
  CliResult first = Tccctl({"list", "--limit", "2", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  nlohmann::json page = nlohmann::json::parse(first.out);
  EXPECT_EQ(page["transactions"].size(), 2u);
  std::string token = page["next_page_token"];
  ASSERT_FALSE(token.empty());
  CliResult text = Tccctl({"list", "--limit", "2"});
  EXPECT_THAT(text.out, HasSubstr("--page-token " + token));
  CliResult all = Tccctl({"list", "--limit", "2", "--all", "--json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(nlohmann::json::parse(all.out)["transactions"].size(), 5u);
}

TEST_F(TccctlE2eTest, ErrorPathsExitCodesAndOneLineMessages) {
  FakeParticipant participant;
  participant.Start();
  ASSERT_OK(client_->Begin("e2e-final"));
  ASSERT_OK(client_->Try(MakeTry("e2e-final", {{"points", participant.address()}})));
  ASSERT_OK(client_->Commit("e2e-final"));
  ASSERT_TRUE(WaitForState("e2e-final", v1::TRANSACTION_STATE_COMMITTED));

  CliResult unreachable = RunTccctl({"--addr=127.0.0.1:1", "list"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_EQ(unreachable.err,
            "tccctl: cannot reach the coordinator at 127.0.0.1:1 (is tccd running? set --addr or "
            "TCC_ADDR)\n");
  EXPECT_THAT(unreachable.out, IsEmpty());

  CliResult unknown = Tccctl({"show", "no-such-gid"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "tccctl: no transaction with gid no-such-gid\n");

  CliResult final_gt = Tccctl({"resolve", "e2e-final", "--rollback", "--reason", "oops"});
  EXPECT_EQ(final_gt.exit_code, 1);
  EXPECT_TRUE(final_gt.one_line_error()) << final_gt.err;
  EXPECT_THAT(final_gt.err,
              AllOf(StartsWith("tccctl: "), HasSubstr("e2e-final"), HasSubstr("COMMITTED")));

  struct UsageCase {
    std::vector<std::string> args;
    std::string message;
  } usage_cases[] = {
      {{"show", "bad gid"}, "malformed gid"},
      {{"list", "--state", "pending"}, "unknown state \"pending\""},
      {{"list", "--older-than", "5"}, "malformed duration"},
      {{"resolve", "e2e-final", "--rollback"}, "--reason"},
      {{"retry", "e2e-final", "--target", participant.address()},
       "exactly one of GID and --target"},
  };
  for (const UsageCase& usage : usage_cases) {
    CliResult result = Tccctl(usage.args);
    EXPECT_EQ(result.exit_code, 2) << usage.message;
    EXPECT_TRUE(result.one_line_error()) << result.err;
    EXPECT_THAT(result.err, AllOf(StartsWith("tccctl: "), HasSubstr(usage.message)));
  }
  auto gt = client_->Get("e2e-final");
  ASSERT_OK(gt);
  EXPECT_EQ(gt->state(), v1::TRANSACTION_STATE_COMMITTED);  // Nothing was changed.
}

// With a long backoff, only RetryNow explains a prompt commit after the
// participant is back.
TEST_F(TccctlE2eTest, RetryNowSkipsALongBackoff) {
  client_.reset();
  tccd_->Stop();
  StartTccd({"--retry_initial_ms=20", "--retry_multiplier=20", "--retry_max_ms=600000",
             "--retry_jitter=0"});
  FakeParticipant participant;
  int port = participant.Start();
  TryThenParticipantDown("e2e-backoff", participant);
  ASSERT_OK(client_->Commit("e2e-backoff"));
  // Attempts at 0, 20ms, 420ms; the next one is 8s later.
  ASSERT_TRUE(WaitFor([&] {
    auto gt = client_->Get("e2e-backoff");
    return gt.ok() && gt->branches(0).attempts() >= 3 &&
           gt->branches(0).next_retry_unix_ms() > absl::ToUnixMillis(absl::Now()) + 3000;
  }));
  ASSERT_EQ(participant.Start(port), port);
  // Immediately: RetryNow also resets tccd's reconnect backoff toward the
  // participant, so the retry reaches it although it just came back.
  auto before = client_->Get("e2e-backoff");
  ASSERT_OK(before);
  int64_t next_retry = before->branches(0).next_retry_unix_ms();
  CliResult retry = Tccctl({"retry", "e2e-backoff"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_THAT(retry.out, HasSubstr("rescheduled 1 transaction"));
  ASSERT_TRUE(WaitForState("e2e-backoff", v1::TRANSACTION_STATE_COMMITTED))
      << Tccctl({"show", "e2e-backoff"}).out;
  EXPECT_LT(absl::ToUnixMillis(absl::Now()), next_retry) << "committed only by the backoff";
}

// The initiator's status endpoint is down (its port closed) past the
// deadline: tccd keeps asking, and show and stats say so, naming the
// endpoint. Back on the same port, one retry resolves the transaction at
// once: the first back-query after it succeeds, although gRPC's reconnect
// backoff toward the endpoint had grown and the next scheduled one is
// seconds away.
TEST_F(TccctlE2eTest, AFailingBackQueryIsShownAndRetryNowResolvesIt) {
  client_.reset();
  tccd_->Stop();
  StartTccd({"--retry_initial_ms=20", "--retry_multiplier=20", "--retry_max_ms=600000",
             "--retry_jitter=0"});
  FakeInitiator initiator;
  int port = initiator.Start();
  const std::string endpoint = initiator.address();
  initiator.Stop();
  ASSERT_OK(client_->Begin("e2e-bq", /*timeout_ms=*/100, endpoint));
  // Back-queries at the deadline, 20ms and 420ms later (then stuck); the
  // next one is 8s later.
  ASSERT_TRUE(WaitForStuck("e2e-bq"));

  CliResult json = Tccctl({"show", "e2e-bq", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["transaction"]["state"], "TRYING");
  const nlohmann::json& query = doc["back_query"];
  EXPECT_EQ(query["endpoint"], endpoint);
  EXPECT_EQ(query["attempts"], 3);
  EXPECT_EQ(query["failed_attempts"], 3);
  std::string last_error = query["last_error"];
  EXPECT_THAT(last_error, AllOf(StartsWith("UNAVAILABLE: status endpoint " + endpoint),
                                HasSubstr("Connection refused")));
  int64_t next_retry = query["next_retry_unix_ms"];
  EXPECT_GT(next_retry, absl::ToUnixMillis(absl::Now()) + 3000);
  EXPECT_GT(query["last_attempt_unix_ms"].get<int64_t>(), 0);

  CliResult show = Tccctl({"show", "e2e-bq"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, AllOf(HasSubstr("Back-query (status endpoint " + endpoint + ")\n"),
                              HasSubstr("  Attempts:      3 (3 failed in a row)\n"),
                              HasSubstr("  Last error:    " + last_error + "\n"),
                              ContainsRegex("  Next retry:    in [0-9]+s\n")));
  EXPECT_THAT(show.out, ContainsRegex("  tccd +back-query +back-query failed: UNAVAILABLE: status "
                                      "endpoint " +
                                      endpoint + ": .*Connection refused"));
  EXPECT_THAT(show.out, ContainsRegex("  tccd +stuck +flagged stuck: the back-query to status "
                                      "endpoint " +
                                      endpoint));
  EXPECT_THAT(show.out, HasSubstr("fix or restart the initiator's status endpoint at " + endpoint));

  CliResult stats = Tccctl({"stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  nlohmann::json targets = nlohmann::json::parse(stats.out)["failing_targets"];
  ASSERT_EQ(targets.size(), 1u) << targets.dump(2);
  EXPECT_EQ(targets[0]["target"], endpoint);
  EXPECT_EQ(targets[0]["role"], "status_endpoint");
  EXPECT_EQ(targets[0]["failing_back_queries"], 1);
  EXPECT_EQ(targets[0]["failed_attempts"], 3);
  EXPECT_THAT(targets[0]["last_error"].get<std::string>(), HasSubstr("Connection refused"));
  CliResult stats_text = Tccctl({"stats"});
  ASSERT_EQ(stats_text.exit_code, 0) << stats_text.err;
  EXPECT_THAT(stats_text.out, ContainsRegex(endpoint + " +status endpoint +1 back-query +3 +"));

  ASSERT_EQ(initiator.Start(port), port);
  CliResult retry = Tccctl({"retry", "e2e-bq"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_THAT(retry.out, HasSubstr("rescheduled 1 transaction"));
  ASSERT_TRUE(WaitForState("e2e-bq", v1::TRANSACTION_STATE_ROLLED_BACK))
      << Tccctl({"show", "e2e-bq"}).out;
  EXPECT_LT(absl::ToUnixMillis(absl::Now()), next_retry) << "rolled back only by the backoff";
  EXPECT_EQ(initiator.queries(), 1);
  CliResult after = Tccctl({"show", "e2e-bq"});
  EXPECT_THAT(after.out, ContainsRegex("  tccd +back-query +status endpoint " + endpoint +
                                       " answered after 4 attempt\\(s\\)"))
      << "the first back-query after the retry is the one that answered";
  CliResult quiet = Tccctl({"stats", "--json"});
  EXPECT_TRUE(nlohmann::json::parse(quiet.out)["failing_targets"].empty()) << quiet.out;
}

}  // namespace
}  // namespace tcc
