// The dashboard on tccd's HTTP port, for real: an in-process daemon on
// loopback port 0 with its SQLite file, a fake participant over gRPC, and
// an HTTP client. The pages come from the binary; the JSON API runs the
// Admin service's logic (a stuck commit is retried to COMMITTED, a resolve
// without a reason is refused as the gRPC side refuses it) and, with an
// auth file, its authorization: no token, a viewer's and an operator's.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "coordinator/auth/auth_policy.h"
#include "nlohmann/json.hpp"
#include "tests/coordinator/fake_participant.h"
#include "tests/coordinator/server/test_daemon.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::FakeParticipant;
using ::tcc::testing::MakeTry;
using ::tcc::testing::WaitFor;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr char kOperatorToken[] = "alice-token-3e9d1a";
constexpr char kViewerToken[] = "grafana-token-77c0b4";
constexpr char kInitiatorToken[] = "shop-token-0d52f8";

struct Answer {
  int status = -1;
  std::string body;
  std::string content_type;
  Json json() const { return Json::parse(body, nullptr, /*allow_exceptions=*/false); }
};

class DashboardTest : public ::testing::Test {
 protected:
  void StartDaemon(const std::string& auth_file = "") {
    auto [daemon, client] = ::tcc::testing::StartTestDaemon(dir_, [&](DaemonConfig& config) {
      config.auth_file = auth_file;
      // Only an operator's retry calls a failing participant again in time.
      config.engine.retry.initial_backoff = absl::Seconds(60);
      config.engine.retry.max_backoff = absl::Seconds(60);
      config.engine.stuck.attempts = 1;
    });
    ASSERT_NE(daemon, nullptr);
    daemon_ = std::move(daemon);
    client_ = std::move(client);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", daemon_->http_port());
    participant_.Start();
  }

  Answer Get(const std::string& path) {
    httplib::Result result = http_->Get(path);
    if (!result) return {-1, httplib::to_string(result.error())};
    return {result->status, result->body, result->get_header_value("Content-Type")};
  }
  Answer Post(const std::string& method, const Json& body, const std::string& token = "",
              const std::string& content_type = "application/json") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", absl::StrCat("Bearer ", token));
    httplib::Result result =
        http_->Post(absl::StrCat("/api/v1/", method), headers, body.dump(), content_type);
    if (!result) return {-1, httplib::to_string(result.error())};
    return {result->status, result->body, result->get_header_value("Content-Type")};
  }

  // A transaction committed by its initiator whose Confirm keeps failing
  // until `participant_` behaves again.
  void CommitWithFailingConfirm(const std::string& gid) {
    participant_.SetBehavior([](const ::tcc::testing::RecordedCall& call, v1::BranchReply&) {
      if (call.phase != "Confirm") return grpc::Status::OK;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "points database is down");
    });
    ASSERT_OK(client_->Begin(gid));
    ASSERT_OK(client_->Try(MakeTry(gid, {{"points", participant_.address()}})));
    ASSERT_OK(client_->Commit(gid));
    ASSERT_TRUE(WaitFor([&] { return participant_.Count("Confirm", gid) >= 1; }));
  }

  std::string State(const std::string& gid, const std::string& token = "") {
    Answer answer = Post("DescribeTransaction", {{"gid", absl::Base64Escape(gid)}}, token);
    EXPECT_EQ(answer.status, 200) << answer.body;
    return answer.json().value("/transaction/state"_json_pointer, "");
  }

  ::tcc::testing::TempDir dir_;
  FakeParticipant participant_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<::tcc::testing::CoordinatorClient> client_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(DashboardTest, PagesAreServedFromTheBinaryWithNothingFromOutside) {
  StartDaemon();
  Answer index = Get("/");
  ASSERT_EQ(index.status, 200);
  EXPECT_THAT(index.content_type, HasSubstr("text/html"));
  EXPECT_THAT(index.body, HasSubstr("src=\"/dashboard/app.js\""));
  EXPECT_THAT(index.body, Not(HasSubstr("https://")));
  Answer script = Get("/dashboard/app.js");
  ASSERT_EQ(script.status, 200);
  EXPECT_THAT(script.content_type, HasSubstr("text/javascript"));
  EXPECT_THAT(script.body, HasSubstr("/api/v1/"));
  EXPECT_EQ(Get("/dashboard/app.css").status, 200);
  EXPECT_EQ(Get("/dashboard/nothing.js").status, 404);
}

TEST_F(DashboardTest, ListDescribeAndStatsAnswerTheAdminServicesJson) {
  StartDaemon();
  ASSERT_OK(client_->Begin("order-1"));
  ASSERT_OK(client_->Try(MakeTry("order-1", {{"points", participant_.address()}})));
  ASSERT_OK(client_->Commit("order-1"));
  ASSERT_TRUE(WaitFor([&] { return State("order-1") == "TRANSACTION_STATE_COMMITTED"; }));

  Answer list = Post("ListTransactions", {{"states", {"TRANSACTION_STATE_COMMITTED"}}});
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_THAT(list.content_type, HasSubstr("application/json"));
  ASSERT_EQ(list.json()["transactions"].size(), 1u) << list.body;
  EXPECT_EQ(list.json()["transactions"][0]["gid"], "order-1");
  Answer trying = Post("ListTransactions", {{"states", {"TRANSACTION_STATE_TRYING"}}});
  EXPECT_EQ(trying.json()["transactions"].size(), 0u) << trying.body;

  Answer detail = Post("DescribeTransaction", {{"gid", absl::Base64Escape("order-1")}});
  ASSERT_EQ(detail.status, 200) << detail.body;
  EXPECT_EQ(detail.json()["transaction"]["branches"][0]["target"], participant_.address());
  EXPECT_GE(detail.json()["timeline"].size(), 2u) << detail.body;

  Answer stats = Post("Stats", Json::object());
  ASSERT_EQ(stats.status, 200) << stats.body;
  EXPECT_EQ(stats.json()["stuck"], "0") << stats.body;
}

TEST_F(DashboardTest, BadRequestsSayWhatWasWrong) {
  StartDaemon();
  Answer text = Post("Stats", Json::object(), "", "text/plain");
  EXPECT_EQ(text.status, 415);
  EXPECT_THAT(text.json().value("message", ""), HasSubstr("Content-Type: application/json"));
  Answer unknown_field = Post("ListTransactions", {{"colour", "red"}});
  EXPECT_EQ(unknown_field.status, 400);
  EXPECT_THAT(unknown_field.json().value("message", ""),
              HasSubstr("not a JSON tcc.v1.ListTransactionsRequest"));
  Answer missing = Post("DescribeTransaction", {{"gid", absl::Base64Escape("no-such-gid")}});
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_EQ(missing.json().value("code", ""), "NOT_FOUND");
}

TEST_F(DashboardTest, RetryOfAStuckCommitGoesThroughTheEngine) {
  StartDaemon();
  CommitWithFailingConfirm("order-2");
  ASSERT_TRUE(WaitFor([&] {
    Answer stuck = Post("ListTransactions", {{"stuckOnly", true}});
    return stuck.json()["transactions"].size() == 1u;
  }));
  Answer no_reason = Post("Resolve", {{"gid", absl::Base64Escape("order-2")},
                                      {"action", "RESOLVE_ACTION_MARK_COMMITTED"}});
  EXPECT_EQ(no_reason.status, 400) << no_reason.body;
  EXPECT_THAT(no_reason.json().value("message", ""), HasSubstr("reason"));
  EXPECT_EQ(State("order-2"), "TRANSACTION_STATE_COMMITTING");

  participant_.SetBehavior({});
  Answer retry = Post("RetryNow", {{"gid", absl::Base64Escape("order-2")}});
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(retry.json()["transactions"], 1);
  EXPECT_TRUE(WaitFor([&] { return State("order-2") == "TRANSACTION_STATE_COMMITTED"; }));
  EXPECT_GE(participant_.Count("Confirm", "order-2"), 2);
}

TEST_F(DashboardTest, WithAnAuthFileTheApiNeedsATokenWithTheRole) {
  const std::string auth_file = dir_.File("auth.json");
  std::ofstream(auth_file) << absl::StrCat(
      R"({"callers": [{"name": "alice", "roles": ["operator"], "token_sha256": [")",
      HashToken(kOperatorToken), R"("]}, {"name": "grafana", "roles": ["viewer"], )",
      R"("token_sha256": [")", HashToken(kViewerToken), R"("]}, {"name": "shop", )",
      R"("roles": ["initiator"], "token_sha256": [")", HashToken(kInitiatorToken), R"("]}]})");
  StartDaemon(auth_file);
  client_->set_token(kInitiatorToken);
  CommitWithFailingConfirm("order-3");

  Answer anonymous = Post("ListTransactions", Json::object());
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  EXPECT_EQ(anonymous.json().value("code", ""), "UNAUTHENTICATED");
  EXPECT_EQ(Post("ListTransactions", Json::object(), "wrong-token").status, 401);
  Answer viewer_list = Post("ListTransactions", Json::object(), kViewerToken);
  ASSERT_EQ(viewer_list.status, 200) << viewer_list.body;
  EXPECT_EQ(viewer_list.json()["transactions"].size(), 1u);

  const Json resolve = {{"gid", absl::Base64Escape("order-3")},
                        {"action", "RESOLVE_ACTION_MARK_COMMITTED"},
                        {"reason", absl::Base64Escape("confirmed by hand in the points db")}};
  Answer viewer_resolve = Post("Resolve", resolve, kViewerToken);
  EXPECT_EQ(viewer_resolve.status, 403) << viewer_resolve.body;
  EXPECT_THAT(viewer_resolve.json().value("message", ""), HasSubstr("operator role"));
  EXPECT_EQ(Post("RetryNow", {{"gid", absl::Base64Escape("order-3")}}, kViewerToken).status, 403);
  EXPECT_EQ(State("order-3", kViewerToken), "TRANSACTION_STATE_COMMITTING");

  Answer resolved = Post("Resolve", resolve, kOperatorToken);
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(resolved.json()["state"], "TRANSACTION_STATE_COMMITTED");
  Answer detail =
      Post("DescribeTransaction", {{"gid", absl::Base64Escape("order-3")}}, kViewerToken);
  EXPECT_THAT(detail.body, HasSubstr("\"actor\":\"alice\"")) << "the authenticated operator";
}

}  // namespace
}  // namespace tcc
