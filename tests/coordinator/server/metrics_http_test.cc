// tccd's HTTP port for real: an in-process daemon on loopback port 0 runs a
// TCC transaction over gRPC against a fake participant, then /metrics,
// /healthz and /readyz are fetched with an HTTP client; /metrics is also
// scraped during a load of concurrent transactions. Also the readiness
// rules on their own, against a store queue whose writer can be held.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/metrics/text_format.h"
#include "coordinator/server/readiness.h"
#include "coordinator/store/memory_store.h"
#include "tcc/v1/admin.grpc.pb.h"
#include "tests/coordinator/fake_participant.h"
#include "tests/coordinator/server/test_daemon.h"
#include "tests/coordinator/store/store_test_util.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::FakeParticipant;
using ::tcc::testing::MakeTry;
using ::tcc::testing::StatusIs;
using ::tcc::testing::WaitFor;
using ::testing::HasSubstr;
using ::testing::Not;

class MetricsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto [daemon, client] = ::tcc::testing::StartTestDaemon(dir_);
    ASSERT_NE(daemon, nullptr);
    daemon_ = std::move(daemon);
    client_ = std::move(client);
    ASSERT_GT(daemon_->http_port(), 0);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", daemon_->http_port());
    points_.Start();
  }

  // GETs `path`; the status and body, or -1 when the request failed.
  std::pair<int, std::string> Get(const std::string& path) {
    httplib::Result result = http_->Get(path);
    if (!result) return {-1, httplib::to_string(result.error())};
    return {result->status, result->body};
  }
  std::string Scrape() {
    auto [status, body] = Get("/metrics");
    EXPECT_EQ(status, 200) << body;
    return body;
  }
  // The whole sample line, so that "... 1" does not match "... 10".
  static std::string Line(const std::string& sample) { return absl::StrCat("\n", sample, "\n"); }

  ::tcc::testing::TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<::tcc::testing::CoordinatorClient> client_;
  std::unique_ptr<httplib::Client> http_;
  FakeParticipant points_;
};

TEST_F(MetricsHttpTest, HealthAndReadinessAnswerOnceStarted) {
  EXPECT_EQ(Get("/healthz"), std::make_pair(200, std::string("ok\n")));
  EXPECT_EQ(Get("/readyz"), std::make_pair(200, std::string("ready\n")));
  EXPECT_EQ(Get("/nothing-here").first, 404);
}

TEST_F(MetricsHttpTest, MetricsAreServedInTheTextFormat) {
  httplib::Result result = http_->Get("/metrics");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(result->body, HasSubstr("# TYPE tcc_build_info gauge\n"
                                      "tcc_build_info{version=\"0.1.0\",store=\"sqlite\"} 1\n"));
  EXPECT_THAT(result->body, HasSubstr(Line("tcc_transactions_started_total{mode=\"tcc\"} 0")));
}

TEST_F(MetricsHttpTest, ATccTransactionMovesTheCounters) {
  ASSERT_OK(client_->Begin("order-1"));
  ASSERT_OK(client_->Try(MakeTry("order-1", {{"points", points_.address()}})));
  ASSERT_OK(client_->Commit("order-1"));
  EXPECT_THAT(client_->Commit("no-such-order"), StatusIs(absl::StatusCode::kNotFound));
  auto admin = v1::Admin::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", daemon_->port()),
                                                      grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::StatsReply stats;
  ASSERT_TRUE(admin->Stats(&context, v1::StatsRequest(), &stats).ok());
  const std::string finished =
      Line("tcc_transactions_finished_total{mode=\"tcc\",outcome=\"committed\"} 1");
  std::string scrape;
  ASSERT_TRUE(WaitFor([&] {
    scrape = Scrape();
    return scrape.find(finished) != std::string::npos;
  })) << scrape;

  EXPECT_THAT(scrape, HasSubstr(Line("tcc_transactions_started_total{mode=\"tcc\"} 1")));
  EXPECT_THAT(scrape, HasSubstr(Line("tcc_transactions_started_total{mode=\"saga\"} 0")));
  EXPECT_THAT(scrape, HasSubstr(Line("tcc_transaction_duration_seconds_count{mode=\"tcc\"} 1")));
  EXPECT_THAT(scrape, HasSubstr(Line("tcc_transactions_unfinished{state=\"trying\"} 0")));
  EXPECT_THAT(scrape, HasSubstr(Line("tcc_transactions_unfinished{state=\"committing\"} 0")));
  const std::string coordinator = "service=\"tcc.v1.Coordinator\"";
  for (const char* method : {"Begin", "Try", "Commit"}) {
    EXPECT_THAT(scrape, HasSubstr(Line(absl::StrCat("tcc_rpc_requests_total{", coordinator,
                                                    ",method=\"", method, "\",code=\"OK\"} 1"))));
  }
  EXPECT_THAT(scrape, HasSubstr(Line(absl::StrCat("tcc_rpc_requests_total{", coordinator,
                                                  ",method=\"Commit\",code=\"NOT_FOUND\"} 1"))));
  EXPECT_THAT(scrape, HasSubstr(Line("tcc_rpc_requests_total{service=\"tcc.v1.Admin\","
                                     "method=\"Stats\",code=\"OK\"} 1")));
  EXPECT_THAT(scrape, HasSubstr(Line(absl::StrCat("tcc_rpc_duration_seconds_count{", coordinator,
                                                  ",method=\"Commit\"} 2"))));
  EXPECT_THAT(scrape,
              HasSubstr(Line("tcc_participant_calls_total{phase=\"try\",outcome=\"success\"} 1")));
  EXPECT_THAT(
      scrape,
      HasSubstr(Line("tcc_participant_calls_total{phase=\"confirm\",outcome=\"success\"} 1")));
  EXPECT_THAT(scrape,
              HasSubstr(Line("tcc_participant_call_duration_seconds_count{phase=\"try\"} 1")));
  EXPECT_THAT(scrape, HasSubstr(Line("tcc_store_errors_total 0")));
  EXPECT_THAT(scrape, HasSubstr(Line("tcc_store_batches_replayed_total 0")));
  EXPECT_THAT(scrape, Not(HasSubstr(Line("tcc_store_batch_size_count 0"))));
  EXPECT_THAT(scrape, Not(HasSubstr("order-1"))) << "no gid in any label";
}

// The value of the sample `series` (name and labels) in `scrape`; -1 if absent.
double Sample(const std::string& scrape, const std::string& series) {
  return metrics::FindSample(scrape, series).value_or(-1);
}

// Four clients run 100 transactions, every other one refused at Try and
// rolled back, while the test scrapes: no counter ever goes down or past
// what the load did, and once the load is over they match it exactly.
TEST_F(MetricsHttpTest, ScrapesDuringALoadAddUpToWhatTheLoadDid) {
  constexpr int kClients = 4, kPerClient = 25, kTotal = kClients * kPerClient;
  points_.SetBehavior([](const ::tcc::testing::RecordedCall& call, v1::BranchReply& reply) {
    if (call.phase == "Try" && call.gid.back() % 2 == 1) reply.set_outcome(v1::OUTCOME_REFUSED);
    return grpc::Status::OK;
  });
  std::atomic<int> errors{0}, done{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kPerClient; ++i) {
        const std::string gid = absl::StrCat("load-", c * kPerClient + i);
        absl::StatusOr<v1::TryReply> tried =
            client_->Begin(gid).ok() ? client_->Try(MakeTry(gid, {{"points", points_.address()}}))
                                     : absl::UnknownError("begin failed");
        bool ok = tried.ok() && tried->results(0).result() == v1::TRY_RESULT_SUCCEEDED;
        errors += !tried.ok() || !(ok ? client_->Commit(gid) : client_->Rollback(gid)).ok();
      }
      ++done;
    });
  }
  const std::vector<std::string> series = {
      "tcc_transactions_started_total{mode=\"tcc\"}",
      "tcc_transactions_finished_total{mode=\"tcc\",outcome=\"committed\"}",
      "tcc_transactions_finished_total{mode=\"tcc\",outcome=\"rolled_back\"}",
      "tcc_participant_calls_total{phase=\"try\",outcome=\"success\"}",
      "tcc_participant_calls_total{phase=\"try\",outcome=\"refused\"}",
      "tcc_participant_calls_total{phase=\"confirm\",outcome=\"success\"}",
      "tcc_participant_calls_total{phase=\"cancel\",outcome=\"success\"}"};
  const std::vector<double> limits = {kTotal,     kTotal / 2, kTotal / 2, kTotal / 2,
                                      kTotal / 2, kTotal / 2, kTotal / 2};
  std::vector<double> last(series.size(), 0);
  int scrapes_during_load = 0;
  while (done < kClients) {
    std::string scrape = Scrape();
    ++scrapes_during_load;
    for (size_t i = 0; i < series.size(); ++i) {
      double value = std::max(0.0, Sample(scrape, series[i]));
      EXPECT_GE(value, last[i]) << series[i] << " went down";
      EXPECT_LE(value, limits[i]) << series[i] << " counted more than the load did";
      last[i] = value;
    }
  }
  for (std::thread& client : clients) client.join();
  ASSERT_EQ(errors, 0);
  EXPECT_GE(scrapes_during_load, 2);
  std::string scrape;
  ASSERT_TRUE(WaitFor([&] {
    scrape = Scrape();
    for (size_t i = 0; i < series.size(); ++i) {
      if (Sample(scrape, series[i]) != limits[i]) return false;
    }
    return true;
  })) << scrape;
  EXPECT_EQ(Sample(scrape, "tcc_transaction_duration_seconds_count{mode=\"tcc\"}"), kTotal);
  EXPECT_EQ(Sample(scrape,
                   "tcc_rpc_requests_total{service=\"tcc.v1.Coordinator\","
                   "method=\"Begin\",code=\"OK\"}"),
            kTotal);
  EXPECT_EQ(Sample(scrape,
                   "tcc_rpc_requests_total{service=\"tcc.v1.Coordinator\","
                   "method=\"Commit\",code=\"OK\"}"),
            kTotal / 2);
  EXPECT_EQ(Sample(scrape, "tcc_transactions_unfinished{state=\"committing\"}"), 0);
}

TEST(RetentionMetricsTest, PrunedTransactionsAndTheStoreFileAreScraped) {
  ::tcc::testing::TempDir dir;
  auto [daemon, client] = ::tcc::testing::StartTestDaemon(dir, [](DaemonConfig& config) {
    config.retention.retention = absl::Milliseconds(1);
    config.retention.interval = absl::Milliseconds(20);
  });
  ASSERT_NE(daemon, nullptr);
  FakeParticipant points;
  points.Start();
  for (const char* gid : {"old-1", "old-2"}) {
    ASSERT_OK(client->Begin(gid));
    ASSERT_OK(client->Try(MakeTry(gid, {{"points", points.address()}})));
    ASSERT_OK(client->Commit(gid));
  }
  httplib::Client http("127.0.0.1", daemon->http_port());
  std::string scrape;
  EXPECT_TRUE(WaitFor([&] {
    httplib::Result result = http.Get("/metrics");
    scrape = result ? result->body : "";
    return scrape.find("\ntcc_retention_deleted_total 2\n") != std::string::npos;
  })) << scrape;
  EXPECT_THAT(scrape, HasSubstr("\ntcc_retention_archived_total 0\n")) << "no --archive_dir";
  EXPECT_THAT(scrape, HasSubstr("\ntcc_retention_errors_total 0\n"));
  EXPECT_THAT(scrape, HasSubstr("# TYPE tcc_store_file_bytes gauge\n"));
  EXPECT_THAT(scrape, Not(HasSubstr("\ntcc_store_file_bytes 0\n"))) << "a real file";
}

// Confirms queued behind a slow one go as batches: each batch the
// participant received is counted, with the Confirms inside it.
TEST(BatchMetricsTest, BatchesAndTheCallsInThemAreCounted) {
  ::tcc::testing::TempDir dir;
  FakeParticipant points;
  points.ServeBatches();
  points.Start();
  points.DelayNext("Confirm", absl::Milliseconds(300));
  auto [daemon, client] = ::tcc::testing::StartTestDaemon(
      dir, [](DaemonConfig& config) { config.batching = {.max_in_flight = 1, .max_batch = 8}; });
  ASSERT_NE(daemon, nullptr);
  constexpr int kCount = 20;
  for (int i = 0; i < kCount; ++i) {
    std::string gid = absl::StrCat("order-", i);
    ASSERT_OK(client->Begin(gid));
    ASSERT_OK(client->Try(MakeTry(gid, {{"points", points.address()}})));
    ASSERT_OK(client->Commit(gid));
  }
  httplib::Client http("127.0.0.1", daemon->http_port());
  std::string scrape;
  ASSERT_TRUE(WaitFor([&] {
    httplib::Result result = http.Get("/metrics");
    scrape = result ? result->body : "";
    return Sample(scrape, R"(tcc_participant_calls_total{phase="confirm",outcome="success"})") ==
           kCount;
  })) << scrape;
  double batches = Sample(scrape, R"(tcc_participant_batches_total{phase="confirm"})");
  double batched = Sample(scrape, R"(tcc_participant_batched_calls_total{phase="confirm"})");
  EXPECT_EQ(batches, points.batches());
  EXPECT_GE(batches, 1);
  EXPECT_GE(batched, 2 * batches);
  EXPECT_LE(batched, kCount - 1) << "the first Confirm went alone";
  EXPECT_EQ(Sample(scrape, R"(tcc_participant_batches_total{phase="cancel"})"), 0);
}

TEST(DaemonHttpConfigTest, RefusesANonLoopbackAddressUnlessAllowed) {
  ::tcc::testing::TempDir dir;
  DaemonConfig config;
  config.listen = "127.0.0.1:0";
  config.data_path = dir.File("tccd.db");
  config.http_listen = "0.0.0.0:0";
  EXPECT_THAT(Daemon::Start(std::move(config)),
              StatusIs(absl::StatusCode::kInvalidArgument, "non-loopback"));
}

TEST(DaemonHttpConfigTest, AnEmptyAddressMeansNoHttpPort) {
  ::tcc::testing::TempDir dir;
  auto [daemon, client] =
      ::tcc::testing::StartTestDaemon(dir, [](DaemonConfig& config) { config.http_listen = ""; });
  ASSERT_NE(daemon, nullptr);
  EXPECT_EQ(daemon->http_port(), 0);
  EXPECT_OK(client->Begin("still-serves-grpc"));
}

TEST(DaemonHttpConfigTest, MetricsOffMeansA404AndTransactionsStillRun) {
  ::tcc::testing::TempDir dir;
  auto [daemon, client] =
      ::tcc::testing::StartTestDaemon(dir, [](DaemonConfig& config) { config.metrics = false; });
  ASSERT_NE(daemon, nullptr);
  FakeParticipant points;
  points.Start();
  ASSERT_OK(client->Begin("no-metrics"));
  ASSERT_OK(client->Try(MakeTry("no-metrics", {{"points", points.address()}})));
  EXPECT_OK(client->Commit("no-metrics"));
  httplib::Client http("127.0.0.1", daemon->http_port());
  httplib::Result result = http.Get("/metrics");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 404);
  EXPECT_THAT(result->body, HasSubstr("--metrics=false"));
  EXPECT_EQ(http.Get("/healthz")->status, 200) << "health does not depend on metrics";
}

TEST(ReadinessTest, ReadyOnlyWhileServingAndTheStoreAnswers) {
  ::tcc::testing::WriterHold hold;  // Before the queue: it outlives the writer.
  StoreQueue queue(std::make_unique<MemoryStore>());
  Readiness readiness(absl::Milliseconds(200));
  EXPECT_EQ(readiness.Healthz().status, 200);
  HttpResponse starting = readiness.Readyz();
  EXPECT_EQ(starting.status, 503);
  EXPECT_EQ(starting.body, "not ready: recovering unfinished transactions\n");

  readiness.MarkServing(&queue);
  EXPECT_EQ(readiness.Readyz().status, 200);

  // A writer that does not come back makes the probe time out.
  ASSERT_OK(hold.Hold(queue));
  HttpResponse stuck = readiness.Readyz();
  EXPECT_EQ(stuck.status, 503);
  EXPECT_THAT(stuck.body, HasSubstr("the store did not answer: no answer within 200ms"));
  hold.Release();
  EXPECT_TRUE(WaitFor([&] { return readiness.Readyz().status == 200; }));

  readiness.MarkStopping();
  EXPECT_EQ(readiness.Readyz().body, "not ready: shutting down\n");
  EXPECT_EQ(readiness.Healthz().status, 200);
}

}  // namespace
}  // namespace tcc
