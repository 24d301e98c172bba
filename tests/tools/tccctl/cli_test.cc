// The whole CLI in process against FakeAdmin: argument parsing, the
// requests it builds, usage errors (exit 2, nothing sent), failed calls
// (exit 1, one line on stderr) and the human and JSON output.
#include "tools/tccctl/cli.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "tests/test_util/temp_dir.h"
#include "tests/tools/tccctl/fake_admin.h"
#include "tests/tools/tccctl/samples.h"

namespace tcc::tccctl {
namespace {

using ::tcc::tccctl::testing::CompensatedSaga;
using ::tcc::tccctl::testing::CompensatedSagaDetail;
using ::tcc::tccctl::testing::FailingBackQueryDetail;
using ::tcc::tccctl::testing::FakeAdmin;
using ::tcc::tccctl::testing::SampleNow;
using ::tcc::tccctl::testing::StuckDetail;
using ::tcc::tccctl::testing::StuckTransaction;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

class CliTest : public ::testing::Test {
 protected:
  // Runs tccctl with `args`; the fake serves the calls.
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    args.insert(args.begin(), "tccctl");
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    Environment env;
    env.out = &out_;
    env.err = &err_;
    env.tcc_addr = tcc_addr_;
    env.tls_ca = tls_ca_env_;
    env.user = "alice";
    env.color = color_;
    env.now = SampleNow();
    env.zone = absl::UTCTimeZone();
    env.token = token_env_;
    env.token_file = token_file_env_;
    env.connect = [this](const std::string& address, absl::Duration timeout, const TlsOptions& tls,
                         const std::string& token) -> absl::StatusOr<std::unique_ptr<AdminApi>> {
      address_ = address;
      timeout_ = timeout;
      tls_ = tls;
      token_ = token;
      return std::make_unique<Forwarder>(admin_);
    };
    return RunCli(static_cast<int>(argv.size()), argv.data(), env);
  }

  // Hands calls to the test's FakeAdmin, which outlives the CLI run.
  class Forwarder final : public AdminApi {
   public:
    explicit Forwarder(FakeAdmin& admin) : admin_(admin) {}
    absl::StatusOr<v1::ListTransactionsReply> List(
        const v1::ListTransactionsRequest& request) override {
      return admin_.List(request);
    }
    absl::StatusOr<v1::TransactionDetail> Describe(const std::string& gid) override {
      return admin_.Describe(gid);
    }
    absl::StatusOr<v1::RetryNowReply> RetryNow(const v1::RetryNowRequest& request) override {
      return admin_.RetryNow(request);
    }
    absl::StatusOr<v1::ResolveReply> Resolve(const v1::ResolveRequest& request) override {
      return admin_.Resolve(request);
    }
    absl::StatusOr<v1::StatsReply> Stats() override { return admin_.Stats(); }

   private:
    FakeAdmin& admin_;
  };

  // Runs a command that must be refused locally: exit 2, one line, no call.
  void ExpectUsageError(std::vector<std::string> args, const std::string& message) {
    EXPECT_EQ(Run(args), kExitUsage) << err_.str();
    std::string err = err_.str();
    EXPECT_THAT(err, AllOf(StartsWith("tccctl: "), HasSubstr(message), EndsWith("\n")));
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_EQ(admin_.calls(), 0);
  }

  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

  FakeAdmin admin_;
  std::string tcc_addr_;
  std::string tls_ca_env_;
  std::string token_env_;
  std::string token_file_env_;
  bool color_ = false;
  std::string address_;
  absl::Duration timeout_;
  TlsOptions tls_;
  std::string token_;
  std::ostringstream out_;
  std::ostringstream err_;
};

v1::ListTransactionsReply Page(std::vector<std::string> gids, std::string next = "") {
  v1::ListTransactionsReply reply;
  for (const std::string& gid : gids) *reply.add_transactions() = StuckTransaction(gid);
  reply.set_next_page_token(next);
  return reply;
}

TEST_F(CliTest, ListBuildsTheRequestFromEveryFilter) {
  admin_.list_replies.push_back(Page({"pay-42"}));
  ASSERT_EQ(Run({"list", "--state", "committing", "--state", "ROLLING_BACK,rolled-back", "--stuck",
                 "--older-than", "1h30m", "--gid-prefix", "pay-", "--target", "h:1",
                 "--oldest-first", "--limit", "20", "--page-token", "t1"}),
            kExitOk)
      << err();
  ASSERT_EQ(admin_.list_requests.size(), 1u);
  const v1::ListTransactionsRequest& request = admin_.list_requests[0];
  EXPECT_THAT(request.states(),
              ElementsAre(v1::TRANSACTION_STATE_COMMITTING, v1::TRANSACTION_STATE_ROLLING_BACK,
                          v1::TRANSACTION_STATE_ROLLED_BACK));
  EXPECT_TRUE(request.stuck_only());
  EXPECT_EQ(request.older_than_ms(), 90 * 60 * 1000);
  EXPECT_EQ(request.gid_prefix(), "pay-");
  EXPECT_EQ(request.target(), "h:1");
  EXPECT_EQ(request.order(), v1::LIST_ORDER_OLDEST_FIRST);
  EXPECT_EQ(request.page_size(), 20u);
  EXPECT_EQ(request.page_token(), "t1");
}

TEST_F(CliTest, ListTableShowsAgeStuckProgressAndTheFailingTarget) {
  admin_.list_replies.push_back(Page({"pay-42"}, "next-token"));
  ASSERT_EQ(Run({"list"}), kExitOk) << err();
  EXPECT_EQ(out(),
            "GID     STATE       AGE    STUCK  BRANCHES  LAST ERROR\n"
            "pay-42  COMMITTING  3m12s  stuck  1/2       127.0.0.1:9002: UNAVAILABLE: failed to "
            "connect to all add...\n"
            "\n"
            "more transactions: repeat with --page-token next-token (or use --all)\n");
  EXPECT_EQ(admin_.list_requests[0].order(), v1::LIST_ORDER_NEWEST_FIRST);
  EXPECT_EQ(admin_.list_requests[0].page_size(), 0u);  // The server's default.
}

// A finished transaction is not failing: a compensated saga's refused step
// keeps its error (show has it), but list and failing_branch stay quiet.
TEST_F(CliTest, ListShowsNoErrorForAFinishedTransaction) {
  v1::ListTransactionsReply reply = Page({"pay-42"});
  *reply.add_transactions() = CompensatedSaga("refund-7");
  admin_.list_replies.push_back(reply);
  admin_.list_replies.push_back(reply);
  ASSERT_EQ(Run({"list"}), kExitOk) << err();
  EXPECT_THAT(out(), HasSubstr("pay-42    COMMITTING   3m12s  stuck  1/2"));
  EXPECT_THAT(out(), HasSubstr("127.0.0.1:9002: UNAVAILABLE"));
  EXPECT_THAT(out(), HasSubstr("\nrefund-7  ROLLED_BACK  5s"));
  EXPECT_THAT(out(), Not(HasSubstr("already refunded")));
  ASSERT_EQ(Run({"list", "--json"}), kExitOk) << err();
  nlohmann::json json = nlohmann::json::parse(out());
  EXPECT_EQ(json["transactions"][0]["failing_branch"]["target"], "127.0.0.1:9002");
  EXPECT_TRUE(json["transactions"][1]["failing_branch"].is_null());
  EXPECT_EQ(json["transactions"][1]["branches"][1]["last_error"], "already refunded");
}

TEST_F(CliTest, ListAllFollowsEveryPage) {
  admin_.list_replies.push_back(Page({"a", "b"}, "t2"));
  admin_.list_replies.push_back(Page({"c"}, "t3"));
  admin_.list_replies.push_back(Page({"d"}));
  ASSERT_EQ(Run({"list", "--all", "--json"}), kExitOk) << err();
  ASSERT_EQ(admin_.list_requests.size(), 3u);
  EXPECT_EQ(admin_.list_requests[1].page_token(), "t2");
  EXPECT_EQ(admin_.list_requests[2].page_token(), "t3");
  nlohmann::json json = nlohmann::json::parse(out());
  EXPECT_EQ(json["transactions"].size(), 4u);
  EXPECT_EQ(json["next_page_token"], "");
}

TEST_F(CliTest, ListWithNothingToShowSaysSo) {
  ASSERT_EQ(Run({"list", "--stuck"}), kExitOk);
  EXPECT_EQ(out(), "no matching transactions\n");
}

TEST_F(CliTest, ColourOnlyWhenTheEnvironmentAllowsItAndNeverInJson) {
  admin_.list_replies.push_back(Page({"pay-42"}));
  admin_.list_replies.push_back(Page({"pay-42"}));
  ASSERT_EQ(Run({"list"}), kExitOk);
  EXPECT_THAT(out(), Not(HasSubstr("\033[")));
  color_ = true;
  ASSERT_EQ(Run({"list"}), kExitOk);
  EXPECT_THAT(out(), HasSubstr("\033[31mstuck\033[0m"));
  admin_.list_replies.push_back(Page({"pay-42"}));
  ASSERT_EQ(Run({"list", "--json"}), kExitOk);
  EXPECT_THAT(out(), Not(HasSubstr("\033[")));
}

TEST_F(CliTest, ShowPrintsHeaderBranchesTimelineAndNextSteps) {
  admin_.detail = StuckDetail();
  ASSERT_EQ(Run({"show", "pay-42"}), kExitOk) << err();
  EXPECT_THAT(admin_.described, ElementsAre("pay-42"));
  std::string text = out();
  EXPECT_THAT(text, HasSubstr("Transaction pay-42\n"));
  EXPECT_THAT(text, HasSubstr("  State:            COMMITTING\n"
                              "  Mode:             TCC\n"));
  EXPECT_THAT(text, HasSubstr("  Decision:         committed by the initiator\n"));
  EXPECT_THAT(text, HasSubstr("  Stuck:            yes, for 1m (since 2024-05-01 12:02:04.000)\n"));
  EXPECT_THAT(text, HasSubstr("  Created:          2024-05-01 11:59:52.000 (3m12s ago)\n"));
  EXPECT_THAT(text, HasSubstr("  Age:              3m12s\n"));
  EXPECT_THAT(text, HasSubstr("  Deadline:         2024-05-01 12:00:22.000 (decided; applies only "
                              "while TRYING)\n"));
  EXPECT_THAT(text, HasSubstr("  Timeout:          30s\n"));
  EXPECT_THAT(text, HasSubstr("  Status endpoint:  -\n"));
  EXPECT_THAT(text, HasSubstr("Branches (1/2 done)\n"
                              "BRANCH  TARGET          ACTION         STATE      ATTEMPTS  "
                              "NEXT RETRY  LAST ERROR\n"
                              "points  127.0.0.1:9001  points.freeze  CONFIRMED  1         -\n"
                              "stock   127.0.0.1:9002  stock.reserve  TRIED      7         in 2s  "
                              "     UNAVAILABLE: failed to connect to all addresses\n"));
  EXPECT_THAT(text, HasSubstr("Timeline\nTIME                     ACTOR  KIND    DETAIL\n"
                              "2024-05-01 11:59:52.000  tccd   begin   timeout 30000ms\n"));
  EXPECT_THAT(text, HasSubstr("2024-05-01 12:02:04.000  tccd   stuck   branch stock failed 3 "
                              "times\n"));
  EXPECT_THAT(text, HasSubstr("fix or restart the participant at 127.0.0.1:9002"));
  EXPECT_THAT(text, HasSubstr("tccctl retry pay-42"));
}

// A transaction that timed out while its initiator's status endpoint is
// down: the back-query is shown like a branch, and the endpoint is named.
TEST_F(CliTest, ShowOfATimedOutTransactionShowsItsFailingBackQuery) {
  admin_.detail = FailingBackQueryDetail();
  ASSERT_EQ(Run({"show", "order-9"}), kExitOk) << err();
  std::string text = out();
  EXPECT_THAT(text, HasSubstr("  Status endpoint:  127.0.0.1:7001\n"
                              "\n"
                              "Back-query (status endpoint 127.0.0.1:7001)\n"
                              "  Attempts:      4 (4 failed in a row)\n"
                              "  Last attempt:  2024-05-01 12:03:03.000 (1s ago)\n"
                              "  Last error:    UNAVAILABLE: status endpoint 127.0.0.1:7001: "
                              "gRPC 14: Connection refused\n"
                              "  Next retry:    in 7s\n"
                              "\n"
                              "Branches (1/1 done)\n"));
  EXPECT_THAT(text,
              HasSubstr("  tccd   back-query  back-query failed: UNAVAILABLE: status endpoint "
                        "127.0.0.1:7001"));
  EXPECT_THAT(text, HasSubstr("Next steps:\n"
                              "  fix or restart the initiator's status endpoint at "
                              "127.0.0.1:7001, then\n"
                              "  tccctl retry order-9"));
  EXPECT_THAT(text, Not(HasSubstr("fix or restart the participant")));
}

// A saga's branches are steps everywhere tccctl names them, and each step
// shows the steps it waited for.
TEST_F(CliTest, ShowOfASagaNamesStepsAndTheirDependencies) {
  admin_.detail = CompensatedSagaDetail();
  ASSERT_EQ(Run({"show", "refund-7"}), kExitOk) << err();
  std::string text = out();
  EXPECT_THAT(text, HasSubstr("  Mode:             SAGA\n"));
  EXPECT_THAT(
      text,
      HasSubstr("Steps (2/2 done)\n"
                "STEP    TARGET          ACTION         STATE        DEPENDS ON  ATTEMPTS  "
                "NEXT RETRY  LAST ERROR\n"
                "order   127.0.0.1:9003  order.refund   CANCELLED    -           1         -\n"
                "paylog  127.0.0.1:9002  paylog.refund  TRY_REFUSED  order       1         -   "
                "        already refunded\n"));
  EXPECT_THAT(text, HasSubstr("  tccd   step   step order: action done\n"));
  EXPECT_THAT(text, Not(HasSubstr("Branches")));
  EXPECT_THAT(text, Not(HasSubstr("BRANCH")));
  EXPECT_THAT(text, Not(HasSubstr("  branch  ")));
  // JSON keeps the protocol's names: scripts key on them.
  ASSERT_EQ(Run({"--json", "show", "refund-7"}), kExitOk) << err();
  nlohmann::json json = nlohmann::json::parse(out());
  EXPECT_EQ(json["timeline"][1]["kind"], "branch");
  EXPECT_EQ(json["transaction"]["branches"][1]["depends_on"][0], "order");
}

TEST_F(CliTest, ListNamesTheProgressColumnForTheModesListed) {
  v1::ListTransactionsReply sagas;
  *sagas.add_transactions() = CompensatedSaga("refund-7");
  admin_.list_replies.push_back(sagas);
  ASSERT_EQ(Run({"list"}), kExitOk) << err();
  EXPECT_THAT(out(), StartsWith("GID       STATE        AGE  STUCK  STEPS  LAST ERROR\n"));
  v1::ListTransactionsReply both = Page({"pay-42"});
  *both.add_transactions() = CompensatedSaga("refund-7");
  admin_.list_replies.push_back(both);
  ASSERT_EQ(Run({"list"}), kExitOk) << err();
  EXPECT_THAT(out(), HasSubstr("  BRANCHES/STEPS  LAST ERROR\n"));
}

TEST_F(CliTest, ShowJsonHasTransactionAndTimeline) {
  admin_.detail = StuckDetail();
  ASSERT_EQ(Run({"--json", "show", "pay-42"}), kExitOk) << err();
  nlohmann::json json = nlohmann::json::parse(out());
  EXPECT_EQ(json["transaction"]["gid"], "pay-42");
  EXPECT_EQ(json["timeline"].size(), 4u);
}

TEST_F(CliTest, RetryByGidOrTargetWithTheOperator) {
  admin_.retry_reply = v1::RetryNowReply();
  admin_.retry_reply->set_transactions(1);
  ASSERT_EQ(Run({"retry", "pay-42"}), kExitOk) << err();
  EXPECT_EQ(out(), "rescheduled 1 transaction (pay-42) for an immediate retry\n");
  admin_.retry_reply->set_transactions(3);
  ASSERT_EQ(Run({"retry", "--target", "127.0.0.1:9002", "--operator", "bob"}), kExitOk);
  EXPECT_EQ(out(),
            "rescheduled 3 transactions with a failing branch on 127.0.0.1:9002 for an immediate "
            "retry\n");
  ASSERT_EQ(admin_.retry_requests.size(), 2u);
  EXPECT_EQ(admin_.retry_requests[0].gid(), "pay-42");
  EXPECT_EQ(admin_.retry_requests[0].target(), "");
  EXPECT_EQ(admin_.retry_requests[0].operator_(), "alice");
  EXPECT_EQ(admin_.retry_requests[1].target(), "127.0.0.1:9002");
  EXPECT_EQ(admin_.retry_requests[1].operator_(), "bob");
}

TEST_F(CliTest, ResolveSendsTheActionReasonAndOperator) {
  admin_.resolve_reply->set_state(v1::TRANSACTION_STATE_ROLLED_BACK);
  ASSERT_EQ(Run({"resolve", "pay-42", "--mark-rolled-back", "--reason", "refunded by hand"}),
            kExitOk)
      << err();
  EXPECT_EQ(out(), "resolved pay-42 (mark-rolled-back): now ROLLED_BACK\n");
  const v1::ResolveRequest& request = admin_.resolve_requests.at(0);
  EXPECT_EQ(request.gid(), "pay-42");
  EXPECT_EQ(request.action(), v1::RESOLVE_ACTION_MARK_ROLLED_BACK);
  EXPECT_EQ(request.reason(), "refunded by hand");
  EXPECT_EQ(request.operator_(), "alice");
  for (auto [flag, action] : std::vector<std::pair<std::string, v1::ResolveAction>>{
           {"--commit", v1::RESOLVE_ACTION_COMMIT},
           {"--rollback", v1::RESOLVE_ACTION_ROLLBACK},
           {"--mark-committed", v1::RESOLVE_ACTION_MARK_COMMITTED}}) {
    ASSERT_EQ(Run({"resolve", "g", flag, "--reason", "r", "--json"}), kExitOk) << err();
    EXPECT_EQ(admin_.resolve_requests.back().action(), action);
    EXPECT_EQ(nlohmann::json::parse(out())["action"], flag.substr(2));
  }
}

TEST_F(CliTest, StatsTablesAndJson) {
  v1::StatsReply stats;
  (*stats.mutable_transactions_by_state())["COMMITTING"] = 2;
  (*stats.mutable_transactions_by_state())["COMMITTED"] = 40;
  stats.set_stuck(1);
  stats.set_oldest_unfinished_age_ms(192000);
  v1::TargetFailures* target = stats.add_failing_targets();
  target->set_target("127.0.0.1:9002");
  target->set_failing_branches(2);
  target->set_failed_attempts(14);
  target->set_last_error("connection refused");
  v1::TargetFailures* endpoint = stats.add_failing_targets();
  endpoint->set_target("127.0.0.1:7001");
  endpoint->set_role(v1::TARGET_ROLE_STATUS_ENDPOINT);
  endpoint->set_failing_back_queries(1);
  endpoint->set_failed_attempts(4);
  endpoint->set_last_error("UNAVAILABLE: Connection refused");
  stats.set_store_bytes(3 * 1024 * 1024 + 512 * 1024);
  stats.set_store_free_bytes(900 * 1024);
  stats.set_oldest_finished_age_ms(7 * 24 * 3600 * 1000LL + 60000);
  stats.mutable_retention()->set_retention_s(7 * 24 * 3600);
  stats.mutable_retention()->set_archiving(true);
  stats.mutable_retention()->set_deleted(1200);
  stats.mutable_retention()->set_archived(1200);
  stats.mutable_retention()->set_last_pruning_age_ms(20000);
  admin_.stats_reply = stats;
  ASSERT_EQ(Run({"stats"}), kExitOk) << err();
  EXPECT_EQ(out(),
            "STATE         TRANSACTIONS\n"
            "TRYING        0\n"
            "COMMITTING    2\n"
            "COMMITTED     40\n"
            "ROLLING_BACK  0\n"
            "ROLLED_BACK   0\n"
            "RUNNING       0\n"
            "COMPENSATING  0\n"
            "\n"
            "  Stuck:              1\n"
            "  Oldest unfinished:  3m12s\n"
            "\n"
            "  Store size:           3.5 MiB (900.0 KiB free for reuse)\n"
            "  Transactions stored:  42\n"
            "  Oldest finished:      7d\n"
            "  Retention:            7d after they finish, archived first\n"
            "  Last pruning:         20s ago; 1200 deleted, 1200 archived since tccd started\n"
            "\n"
            "FAILING TARGET  ROLE             FAILING       FAILED ATTEMPTS  LAST ERROR\n"
            "127.0.0.1:9002  participant      2 branches    14               connection refused\n"
            "127.0.0.1:7001  status endpoint  1 back-query  4                UNAVAILABLE: "
            "Connection refused\n");
  ASSERT_EQ(Run({"stats", "--json"}), kExitOk);
  EXPECT_EQ(nlohmann::json::parse(out())["transactions_by_state"]["COMMITTED"], 40);
  EXPECT_EQ(nlohmann::json::parse(out())["store_free_bytes"], 900 * 1024);
  EXPECT_EQ(nlohmann::json::parse(out())["retention"]["deleted"], 1200);
  stats.mutable_retention()->set_retention_s(0);
  admin_.stats_reply = stats;
  ASSERT_EQ(Run({"stats"}), kExitOk);
  EXPECT_NE(out().find("Retention:            off (finished transactions are kept)\n"
                       "  Last pruning:         -\n"),
            std::string::npos)
      << out();
}

TEST_F(CliTest, GlobalOptionsAddressAndTimeout) {
  ASSERT_EQ(Run({"stats"}), kExitOk);
  EXPECT_EQ(address_, "127.0.0.1:7420");
  EXPECT_EQ(timeout_, absl::Seconds(5));
  tcc_addr_ = "10.0.0.5:7420";
  ASSERT_EQ(Run({"stats"}), kExitOk);
  EXPECT_EQ(address_, "10.0.0.5:7420");
  ASSERT_EQ(Run({"--addr", "h:1", "stats", "--timeout", "0.5"}), kExitOk);
  EXPECT_EQ(address_, "h:1");
  EXPECT_EQ(timeout_, absl::Milliseconds(500));
}

TEST_F(CliTest, TlsFilesComeFromFlagsOrTheEnvironment) {
  ::tcc::testing::TempDir dir;
  for (const char* name : {"ca.pem", "other-ca.pem", "me.pem"}) {
    std::ofstream(dir.File(name)) << "-----BEGIN CERTIFICATE-----\n";
  }
  std::ofstream(dir.File("me.key")) << "-----BEGIN PRIVATE KEY-----\n";
  ASSERT_EQ(Run({"stats"}), kExitOk);
  EXPECT_FALSE(tls_.enabled());
  tls_ca_env_ = dir.File("ca.pem");
  ASSERT_EQ(Run({"stats"}), kExitOk);
  EXPECT_EQ(tls_.ca_file, dir.File("ca.pem"));
  ASSERT_EQ(Run({"stats", "--tls-ca", dir.File("other-ca.pem"), "--tls-cert", dir.File("me.pem"),
                 "--tls-key", dir.File("me.key")}),
            kExitOk);
  EXPECT_EQ(tls_.ca_file, dir.File("other-ca.pem"));
  EXPECT_EQ(tls_.cert_file, dir.File("me.pem"));
  EXPECT_EQ(tls_.key_file, dir.File("me.key"));
}

TEST_F(CliTest, UnusableTlsFilesAreUsageErrors) {
  ::tcc::testing::TempDir dir;
  tls_ca_env_ = dir.File("absent.pem");
  ExpectUsageError({"stats"}, absl::StrCat("--tls-ca ($TCC_TLS_CA): cannot read \"",
                                           dir.File("absent.pem"), "\""));
  tls_ca_env_.clear();
  std::ofstream(dir.File("me.pem")) << "-----BEGIN CERTIFICATE-----\n";
  ExpectUsageError({"stats", "--tls-cert", dir.File("me.pem")},
                   "give --tls-cert ($TCC_TLS_CERT) and --tls-key ($TCC_TLS_KEY) together");
  ExpectUsageError({"stats", "--tls-cert", dir.File("me.pem"), "--tls-key", dir.File("me.pem")},
                   "holds no PEM private key");
}

TEST_F(CliTest, TheTokenComesFromAFlagAVariableOrAFile) {
  ::tcc::testing::TempDir dir;
  std::ofstream(dir.File("token")) << "  file-token\n";
  ASSERT_EQ(Run({"stats"}), kExitOk);
  EXPECT_EQ(token_, "");
  token_env_ = "env-token";
  ASSERT_EQ(Run({"stats"}), kExitOk);
  EXPECT_EQ(token_, "env-token");
  ASSERT_EQ(Run({"--token", "flag-token", "stats"}), kExitOk);
  EXPECT_EQ(token_, "flag-token");
  token_env_.clear();
  token_file_env_ = dir.File("token");
  ASSERT_EQ(Run({"stats"}), kExitOk);
  EXPECT_EQ(token_, "file-token");
  token_file_env_.clear();
  ASSERT_EQ(Run({"stats", "--token-file", dir.File("token")}), kExitOk);
  EXPECT_EQ(token_, "file-token");
}

TEST_F(CliTest, TwoTokensOrAnUnreadableTokenFileAreUsageErrors) {
  ::tcc::testing::TempDir dir;
  token_env_ = "env-token";
  ExpectUsageError({"stats", "--token-file", dir.File("token")},
                   "both --token ($TCC_TOKEN) and --token-file ($TCC_TOKEN_FILE) are set");
  token_env_.clear();
  ExpectUsageError({"stats", "--token-file", dir.File("absent")},
                   absl::StrCat("--token-file ($TCC_TOKEN_FILE): cannot read a token from \"",
                                dir.File("absent"), "\""));
  std::ofstream(dir.File("empty")) << "\n";
  ExpectUsageError({"stats", "--token-file", dir.File("empty")}, "cannot read a token");
}

TEST_F(CliTest, UsageErrorsExitTwoBeforeAnyCall) {
  ExpectUsageError({}, "missing command");
  ExpectUsageError({"frobnicate"}, "unknown command \"frobnicate\"");
  ExpectUsageError({"--addr", "h:1", "frobnicate"}, "unknown command \"frobnicate\"");
  ExpectUsageError({"list", "--state", "pending"}, "unknown state \"pending\" (valid: trying,");
  ExpectUsageError({"list", "--older-than", "5"}, "malformed duration \"5\"");
  ExpectUsageError({"list", "--older-than", "soon"}, "malformed duration");
  ExpectUsageError({"list", "--limit", "0"}, "--limit");
  ExpectUsageError({"list", "--limit", "501"}, "--limit");
  ExpectUsageError({"list", "--gid-prefix", "a b"}, "--gid-prefix");
  ExpectUsageError({"show"}, "gid");
  ExpectUsageError({"show", "bad gid!"}, "malformed gid \"bad gid!\"");
  ExpectUsageError({"show", std::string(129, 'a')}, "malformed gid");
  ExpectUsageError({"retry"}, "exactly one of GID and --target");
  ExpectUsageError({"retry", "g", "--target", "h:1"}, "exactly one of GID and --target");
  ExpectUsageError({"resolve", "g", "--reason", "r"}, "exactly one of --commit");
  ExpectUsageError({"resolve", "g", "--commit", "--rollback", "--reason", "r"},
                   "exactly one of --commit");
  ExpectUsageError({"resolve", "g", "--commit"}, "resolve needs --reason");
  ExpectUsageError({"resolve", "g", "--commit", "--reason", "  "}, "resolve needs --reason");
  ExpectUsageError({"resolve", "g", "--commit", "--reason", std::string(1025, 'r')}, "1024");
  ExpectUsageError({"resolve", "bad/gid", "--commit", "--reason", "r"}, "malformed gid");
  ExpectUsageError({"stats", "--timeout", "0"}, "malformed --timeout \"0\"");
  ExpectUsageError({"stats", "--timeout", "abc"}, "malformed --timeout \"abc\"");
  ExpectUsageError({"--addr", "", "stats"}, "malformed --addr");
}

// The parser's own wording ("--limit: Value 0 not in range 1 to 500", "The
// following argument was not expected: extra") said neither what was wrong
// in tccctl's terms nor what to do instead.
TEST_F(CliTest, ParserErrorsSayWhatWasWrongAndWhatToDo) {
  for (const char* limit : {"0", "501", "abc", "-3", "2.5"}) {
    ExpectUsageError({"list", "--limit", limit},
                     absl::StrCat("tccctl: malformed --limit \"", limit,
                                  "\": give a page size from 1 to 500 (default 50); see tccctl "
                                  "list --help\n"));
  }
  ExpectUsageError({"stats", "extra"},
                   "tccctl: unexpected argument \"extra\": stats takes no arguments; see tccctl "
                   "stats --help\n");
  ExpectUsageError({"stats", "extra", "more"},
                   "tccctl: unexpected arguments \"extra more\": stats takes no arguments");
  ExpectUsageError({"show", "pay-1", "pay-2"},
                   "tccctl: unexpected argument \"pay-2\": show takes one GID; see tccctl show "
                   "--help\n");
  ExpectUsageError({"list", "--frob"},
                   "tccctl: unknown option \"--frob\"; see tccctl list --help\n");
  ExpectUsageError({"--frob", "stats"}, "tccctl: unknown option \"--frob\"; see tccctl stats");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"list", "--limit", "0"}, {"stats", "extra"}}) {
    Run(args);
    EXPECT_THAT(err(), AllOf(Not(HasSubstr("Value ")), Not(HasSubstr("following"))));
  }
}

TEST_F(CliTest, HelpExitsZeroAndExplainsTheActions) {
  EXPECT_EQ(Run({"--help"}), kExitOk);
  EXPECT_THAT(out(), HasSubstr("tccctl list --stuck"));
  EXPECT_EQ(Run({"resolve", "--help"}), kExitOk);
  EXPECT_THAT(out(), AllOf(HasSubstr("--mark-rolled-back"), HasSubstr("refused once COMMITTING"),
                           HasSubstr("without calling any participant")));
  EXPECT_THAT(err(), IsEmpty());
  EXPECT_EQ(admin_.calls(), 0);
}

TEST_F(CliTest, VersionPrintsTheVersionAndTheCommitWithoutCallingTccd) {
  EXPECT_EQ(Run({"--version"}), kExitOk);
  EXPECT_THAT(out(), MatchesRegex("tccctl [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit [0-9a-z-]+\\)\n"));
  EXPECT_THAT(err(), IsEmpty());
  EXPECT_EQ(admin_.calls(), 0);
}

TEST_F(CliTest, FailedCallsExitOneWithOneLine) {
  admin_.detail = absl::NotFoundError("transaction pay-9 not found");
  EXPECT_EQ(Run({"show", "pay-9"}), kExitFailed);
  EXPECT_EQ(err(), "tccctl: no transaction with gid pay-9\n");
  EXPECT_THAT(out(), IsEmpty());

  admin_.resolve_reply = absl::FailedPreconditionError("pay-42 is COMMITTED: final");
  EXPECT_EQ(Run({"resolve", "pay-42", "--rollback", "--reason", "r"}), kExitFailed);
  EXPECT_EQ(err(), "tccctl: pay-42 is COMMITTED: final\n");

  admin_.stats_reply = MarkUnreachable(absl::UnavailableError("failed to connect"));
  EXPECT_EQ(Run({"stats", "--addr", "127.0.0.1:1"}), kExitFailed);
  EXPECT_EQ(err(),
            "tccctl: cannot reach the coordinator at 127.0.0.1:1 (is tccd running? set --addr or "
            "TCC_ADDR)\n");

  admin_.stats_reply = absl::UnavailableError("shutting down\nnow");
  EXPECT_EQ(Run({"stats"}), kExitFailed);
  EXPECT_EQ(err(), "tccctl: shutting down now\n");

  admin_.stats_reply = absl::UnimplementedError("");
  EXPECT_EQ(Run({"stats"}), kExitFailed);
  EXPECT_THAT(err(), HasSubstr("does not serve the Admin API"));
}

}  // namespace
}  // namespace tcc::tccctl
