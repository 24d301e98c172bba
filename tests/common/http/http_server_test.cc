// The HTTP server on a real loopback port, fetched with cpp-httplib's client.
#include "common/http/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tcc/common/mutex.h"
#include "tests/test_util/status_matchers.h"

namespace tcc {
namespace {

using ::tcc::testing::StatusIs;

TEST(HttpServerTest, SplitsHostAndPort) {
  auto v4 = SplitHostPort("127.0.0.1:9464");
  ASSERT_OK(v4);
  EXPECT_EQ(v4->first, "127.0.0.1");
  EXPECT_EQ(v4->second, 9464);
  auto v6 = SplitHostPort("[::1]:0");
  ASSERT_OK(v6);
  EXPECT_EQ(v6->first, "::1");
  EXPECT_EQ(v6->second, 0);
  EXPECT_THAT(SplitHostPort("127.0.0.1"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SplitHostPort("127.0.0.1:70000"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SplitHostPort(":80"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HttpServerTest, KnowsLoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("example.com"));
}

TEST(HttpServerTest, RefusesNonLoopbackUnlessAllowed) {
  HttpServerOptions options;
  options.listen = "0.0.0.0:0";
  EXPECT_THAT(HttpServer::Start(options, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  options.allow_non_loopback = true;
  auto server = HttpServer::Start(options, {});
  ASSERT_OK(server);
  EXPECT_GT((*server)->port(), 0);
}

TEST(HttpServerTest, ServesRoutesAndAnswers404ElsewhereUntilStopped) {
  std::atomic<int> calls = 0;
  auto server = HttpServer::Start({}, {{"/hello", [&] {
                                          ++calls;
                                          return HttpResponse{503, "not yet\n", "text/x-test"};
                                        }}});
  ASSERT_OK(server);
  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result hello = client.Get("/hello");
  ASSERT_TRUE(hello) << httplib::to_string(hello.error());
  EXPECT_EQ(hello->status, 503);
  EXPECT_EQ(hello->body, "not yet\n");
  EXPECT_EQ(hello->get_header_value("Content-Type"), "text/x-test");
  EXPECT_EQ(calls, 1);
  httplib::Result missing = client.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  (*server)->Stop();
  httplib::Client after("127.0.0.1", (*server)->port());
  EXPECT_FALSE(after.Get("/hello"));
}

TEST(HttpServerTest, RoutesSeeTheMethodBodyContentTypeAndAuthorization) {
  std::vector<HttpRequest> seen;
  tcc::Mutex mu;
  auto record = [&](const HttpRequest& request) {
    tcc::MutexLock lock(&mu);
    seen.push_back(request);
    return HttpResponse{201, "{}", "application/json"};
  };
  auto server = HttpServer::StartRoutes({}, {{"POST", "/api", record}, {"GET", "/page", record}});
  ASSERT_OK(server);
  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result posted = client.Post("/api", {{"Authorization", "Bearer t0ken"}}, "{\"a\": 1}",
                                       "Application/JSON; charset=utf-8");
  ASSERT_TRUE(posted) << httplib::to_string(posted.error());
  EXPECT_EQ(posted->status, 201);
  EXPECT_EQ(posted->get_header_value("X-Content-Type-Options"), "nosniff");
  httplib::Result get_api = client.Get("/api");
  ASSERT_TRUE(get_api);
  EXPECT_EQ(get_api->status, 404) << "POST only";
  ASSERT_TRUE(client.Get("/page"));
  tcc::MutexLock lock(&mu);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].path, "/api");
  EXPECT_EQ(seen[0].body, "{\"a\": 1}");
  EXPECT_EQ(seen[0].content_type, "application/json");
  EXPECT_EQ(seen[0].authorization, "Bearer t0ken");
  EXPECT_EQ(seen[1].method, "GET");
  EXPECT_EQ(seen[1].authorization, "");
}

TEST(HttpServerTest, OnLoopbackOnlyLoopbackHostNamesAreAnswered) {
  std::atomic<int> calls = 0;
  auto server = HttpServer::Start({}, {{"/hello", [&] {
                                          ++calls;
                                          return HttpResponse{200, "hi\n"};
                                        }}});
  ASSERT_OK(server);
  const std::string port = absl::StrCat((*server)->port());
  httplib::Client client("127.0.0.1", (*server)->port());
  for (const std::string& host :
       {"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port, std::string("localhost")}) {
    httplib::Result ok = client.Get("/hello", {{"Host", host}});
    ASSERT_TRUE(ok) << httplib::to_string(ok.error());
    EXPECT_EQ(ok->status, 200) << host;
  }
  // A page on a re-bound domain (DNS rebinding) sends its own name.
  httplib::Result rebound = client.Get("/hello", {{"Host", "evil.example:" + port}});
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 421);
  EXPECT_THAT(rebound->body, ::testing::HasSubstr("\"evil.example\""));
  httplib::Result missing = client.Get("/nothing", {{"Host", "evil.example"}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << "unknown paths stay 404";
  EXPECT_EQ(calls, 4);
}

TEST(HttpServerTest, ReportsAPortInUse) {
  auto first = HttpServer::Start({}, {});
  ASSERT_OK(first);
  HttpServerOptions options;
  options.listen = absl::StrCat("127.0.0.1:", (*first)->port());
  EXPECT_THAT(HttpServer::Start(options, {}), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace tcc
