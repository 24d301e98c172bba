// The real tccctl and tccd binaries with authorization (tccd --auth_file):
// tokens written with `tccd --hash_token`, passed by --token, $TCC_TOKEN
// or --token-file; refusals (no token, a viewer resolving) in one line with
// nothing changed; the timeline naming the authenticated operator whatever
// --operator says; and a new caller admitted after SIGHUP.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/process/tccd_process.h"
#include "tests/coordinator/coordinator_client.h"
#include "tests/test_util/command.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::process::TccdProcess;
using ::tcc::testing::CommandResult;
using ::tcc::testing::CoordinatorClient;
using ::tcc::testing::RunCommandForTest;
using ::tcc::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kShopToken[] = "shop-e2e-token-0c3f";
constexpr char kAliceToken[] = "alice-e2e-token-71aa";
constexpr char kGrafanaToken[] = "grafana-e2e-token-d402";
constexpr char kCarolToken[] = "carol-e2e-token-5e19";

// What `tccd --hash_token` prints for `token` on its stdin.
std::string HashWithTccd(const TempDir& dir, const std::string& token) {
  std::ofstream(dir.File("token.txt"), std::ios::trunc) << token << "\n";
  CommandResult hashed = RunCommandForTest(
      {"/bin/sh", "-c",
       absl::StrCat("exec ", TCCD_PATH, " --hash_token < ", dir.File("token.txt"))},
      {.timeout = absl::Seconds(20), .separate_stderr = true});
  EXPECT_EQ(hashed.exit_code(), 0) << hashed.error;
  EXPECT_EQ(hashed.output.find(token), std::string::npos);
  return std::string(absl::StripAsciiWhitespace(hashed.output));
}

std::string CallerJson(const std::string& name, const std::string& role, const std::string& hash) {
  return absl::StrCat(R"({"name": ")", name, R"(", "roles": [")", role, R"("], "token_sha256": [")",
                      hash, R"("]})");
}

class TccctlAuthE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    callers_ = {CallerJson("shop", "initiator", HashWithTccd(dir_, kShopToken)),
                CallerJson("alice", "operator", HashWithTccd(dir_, kAliceToken)),
                CallerJson("grafana", "viewer", HashWithTccd(dir_, kGrafanaToken))};
    WriteAuthFile();
    absl::StatusOr<std::unique_ptr<TccdProcess>> tccd =
        TccdProcess::Start({.binary = TCCD_PATH,
                            .data = dir_.File("tccd.db"),
                            .work_dir = dir_.path().string(),
                            .log_level = "info",
                            .extra_args = {"--auth_file=" + dir_.File("auth.json")}});
    ASSERT_OK(tccd);
    tccd_ = *std::move(tccd);
  }
  void TearDown() override {
    if (tccd_) tccd_->Stop();
  }
  void WriteAuthFile() {
    std::ofstream(dir_.File("auth.json"), std::ios::trunc)
        << R"({"callers": [)" << absl::StrJoin(callers_, ",") << "]}";
  }
  CommandResult Tccctl(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), {TCCCTL_PATH, "--addr=" + tccd_->address()});
    return RunCommandForTest(args, {.env = std::move(env), .separate_stderr = true});
  }
  void BeginAsShop(const std::string& gid) {
    CoordinatorClient shop(tccd_->address());
    shop.set_token(kShopToken);
    ASSERT_OK(shop.Begin(gid));
  }
  static bool OneLine(const std::string& text) {
    return std::count(text.begin(), text.end(), '\n') == 1;
  }

  TempDir dir_;
  std::vector<std::string> callers_;
  std::unique_ptr<TccdProcess> tccd_;
};

TEST_F(TccctlAuthE2eTest, WithoutATokenTheCallIsRefusedInOneLine) {
  CommandResult refused = Tccctl({"stats"});
  EXPECT_EQ(refused.exit_code(), 1);
  EXPECT_THAT(refused.error,
              StartsWith("tccctl: Admin.Stats needs the viewer role; no credential"));
  EXPECT_THAT(refused.error, HasSubstr("tccctl --token or $TCC_TOKEN"));
  EXPECT_TRUE(OneLine(refused.error)) << refused.error;
  CommandResult wrong = Tccctl({"stats", "--token", "guessed"});
  EXPECT_EQ(wrong.exit_code(), 1);
  EXPECT_THAT(wrong.error, HasSubstr("the bearer token is not in tccd's --auth_file"));
  // The log never shows a token.
  std::ifstream log(tccd_->log_path());
  std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_EQ(text.find("guessed"), std::string::npos);
}

TEST_F(TccctlAuthE2eTest, AViewerCannotResolveAndNothingChanges) {
  BeginAsShop("auth-e2e-1");
  CommandResult refused =
      Tccctl({"resolve", "auth-e2e-1", "--mark-rolled-back", "--reason", "by hand"},
             {"TCC_TOKEN=" + std::string(kGrafanaToken)});
  EXPECT_EQ(refused.exit_code(), 1);
  EXPECT_THAT(refused.error, HasSubstr("Admin.Resolve needs the operator role; caller "
                                       "\"grafana\" has viewer"));
  CommandResult show =
      Tccctl({"show", "auth-e2e-1", "--json"}, {"TCC_TOKEN=" + std::string(kGrafanaToken)});
  ASSERT_EQ(show.exit_code(), 0) << show.error;
  nlohmann::json doc = nlohmann::json::parse(show.output);
  EXPECT_EQ(doc["transaction"]["state"], "TRYING");
  for (const nlohmann::json& event : doc["timeline"]) EXPECT_NE(event["kind"], "operator");
}

TEST_F(TccctlAuthE2eTest, TheTimelineNamesTheTokensCallerNotTheDeclaredOperator) {
  BeginAsShop("auth-e2e-2");
  std::ofstream(dir_.File("alice.token")) << kAliceToken << "\n";
  CommandResult resolved =
      Tccctl({"resolve", "auth-e2e-2", "--mark-rolled-back", "--reason", "refunded, OPS-9",
              "--operator", "mallory", "--token-file", dir_.File("alice.token")});
  ASSERT_EQ(resolved.exit_code(), 0) << resolved.error;
  CommandResult show = Tccctl({"show", "auth-e2e-2", "--json", "--token", kAliceToken});
  ASSERT_EQ(show.exit_code(), 0) << show.error;
  nlohmann::json doc = nlohmann::json::parse(show.output);
  EXPECT_EQ(doc["transaction"]["state"], "ROLLED_BACK");
  std::vector<std::string> operators;
  for (const nlohmann::json& event : doc["timeline"]) {
    if (event["kind"] == "operator") operators.push_back(event["actor"]);
  }
  EXPECT_THAT(operators, ::testing::ElementsAre("alice")) << show.output;
  EXPECT_EQ(show.output.find("mallory"), std::string::npos);
}

TEST_F(TccctlAuthE2eTest, SighupAdmitsACallerAddedToTheFile) {
  EXPECT_EQ(Tccctl({"stats", "--token", kCarolToken}).exit_code(), 1);
  callers_.push_back(CallerJson("carol", "viewer", HashWithTccd(dir_, kCarolToken)));
  WriteAuthFile();
  ASSERT_EQ(kill(tccd_->pid(), SIGHUP), 0);
  EXPECT_TRUE(::tcc::testing::WaitFor([&] {
    return Tccctl({"stats", "--token", kCarolToken}).exit_code() == 0;
  }));
  // Still serving the others.
  EXPECT_EQ(Tccctl({"stats", "--token", kAliceToken}).exit_code(), 0);
}

}  // namespace
}  // namespace tcc
