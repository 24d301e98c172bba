// Back-queries as an operator sees them, through the engine on a SQLite
// store, the fake transport and manual time: a failing back-query keeps its
// attempts, last error and next retry, is counted per status endpoint, goes
// to the timeline once when it starts failing and once when it recovers, and
// an operator's RetryNow asks at once, waiting for the connection.
#include <gtest/gtest.h>

#include <atomic>

#include "tests/coordinator/engine/engine_harness.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::Harness;
using ::tcc::testing::OpenSqliteStore;
using ::tcc::testing::TempDir;
using ::tcc::testing::WaitFor;
using ::testing::HasSubstr;

constexpr char kEndpoint[] = "127.0.0.1:7001";
constexpr uint32_t kTimeoutMs = 300;

// A back-query every 10 s exactly, stuck after 3 failures.
EngineOptions TenSecondRetries() {
  EngineOptions options = ::tcc::testing::FastOptions();
  options.retry = {absl::Seconds(10), absl::Seconds(10), 1.0, 0.0};
  return options;
}

std::vector<TimelineEvent> OfKind(const std::vector<TimelineEvent>& timeline,
                                  const std::string& kind) {
  std::vector<TimelineEvent> found;
  for (const TimelineEvent& event : timeline) {
    if (event.kind == kind) found.push_back(event);
  }
  return found;
}

class BackQueryEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    harness_.transport().SetInitiatorBehavior(
        [this](const std::string&) -> absl::StatusOr<InitiatorAnswer> {
          if (!reachable_) {
            return absl::UnavailableError(
                absl::StrCat("status endpoint ", kEndpoint, ": gRPC 14: Connection refused"));
          }
          return InitiatorAnswer::kRolledBack;
        });
  }

  // Begins `gid` with the status endpoint and lets it time out; returns
  // once its first back-query failed.
  void TimeOut(const std::string& gid) {
    ASSERT_OK(harness_.Begin({gid, kTimeoutMs, kEndpoint}));
    harness_.Advance(absl::Milliseconds(kTimeoutMs));
    ASSERT_TRUE(WaitForFailures(gid, 1));
  }
  bool WaitForFailures(const std::string& gid, uint32_t failures) {
    return WaitFor([&] {
      std::optional<BackQueryProgress> progress = harness_.engine().BackQueryOf(gid);
      return progress && progress->failures == failures && progress->next_retry_ms > 0;
    });
  }
  // How many GTs an operator's RetryNow rescheduled.
  uint32_t RetryNow(const std::string& gid, const std::string& target = "") {
    absl::StatusOr<uint32_t> count = harness_.RetryNow(gid, target);
    EXPECT_OK(count);
    return count.ok() ? *count : 0;
  }
  // Runs what is due without moving the clock until `gid` is in `state`.
  bool WaitForStateNow(const std::string& gid, TxState state) {
    return WaitFor([&] {
      harness_.scheduler().RunDue();
      auto gt = harness_.Get(gid);
      return gt.ok() && gt->state == state;
    });
  }

  TempDir dir_;
  Harness harness_{OpenSqliteStore(dir_.File("tcc.db")), TenSecondRetries()};
  std::atomic<bool> reachable_ = false;
};

TEST_F(BackQueryEngineTest, AFailingBackQueryShowsItsAttemptsLastErrorAndNextRetry) {
  EXPECT_FALSE(harness_.engine().BackQueryOf("g-bq").has_value()) << "unknown gid";
  ASSERT_OK(harness_.Begin({"g-bq", kTimeoutMs, kEndpoint}));
  EXPECT_FALSE(harness_.engine().BackQueryOf("g-bq").has_value()) << "none sent yet";
  int64_t deadline_ms = harness_.clock().NowMs() + kTimeoutMs;
  harness_.Advance(absl::Milliseconds(kTimeoutMs));
  ASSERT_TRUE(WaitForFailures("g-bq", 1));

  std::optional<BackQueryProgress> progress = harness_.engine().BackQueryOf("g-bq");
  ASSERT_TRUE(progress.has_value());
  EXPECT_EQ(progress->attempts, 1u);
  EXPECT_EQ(progress->last_attempt_ms, deadline_ms);
  EXPECT_EQ(progress->next_retry_ms, deadline_ms + 10000);
  EXPECT_THAT(progress->last_error, HasSubstr("UNAVAILABLE: status endpoint 127.0.0.1:7001"));
  EXPECT_THAT(progress->last_error, HasSubstr("Connection refused"));

  std::vector<FailingEndpoint> failing = harness_.engine().FailingStatusEndpoints();
  ASSERT_EQ(failing.size(), 1u);
  EXPECT_EQ(failing[0].endpoint, kEndpoint);
  EXPECT_EQ(failing[0].transactions, 1u);
  EXPECT_EQ(failing[0].failed_attempts, 1u);
  EXPECT_EQ(failing[0].last_error, progress->last_error);

  // Two more failures: stuck, the endpoint named; one timeline entry for
  // the three failures.
  for (uint32_t failures = 2; failures <= 3; ++failures) {
    harness_.Advance(absl::Seconds(10));
    ASSERT_TRUE(WaitForFailures("g-bq", failures)) << failures;
  }
  harness_.Flush();
  EXPECT_EQ(harness_.engine().BackQueryOf("g-bq")->attempts, 3u);
  EXPECT_TRUE(harness_.Get("g-bq")->stuck);
  std::vector<TimelineEvent> timeline = harness_.Timeline("g-bq");
  std::vector<TimelineEvent> back_queries = OfKind(timeline, "back-query");
  ASSERT_EQ(back_queries.size(), 1u);
  EXPECT_THAT(back_queries[0].detail,
              HasSubstr("back-query failed: UNAVAILABLE: status endpoint 127.0.0.1:7001"));
  EXPECT_THAT(back_queries[0].detail, HasSubstr("Connection refused"));
  std::vector<TimelineEvent> stuck = OfKind(timeline, "stuck");
  ASSERT_EQ(stuck.size(), 1u);
  EXPECT_THAT(stuck[0].detail, HasSubstr("back-query to status endpoint 127.0.0.1:7001 failed 3"));

  // The endpoint is back: the next back-query decides, and says so.
  reachable_ = true;
  harness_.Advance(absl::Seconds(10));
  ASSERT_TRUE(harness_.WaitForState("g-bq", TxState::kRolledBack));
  back_queries = OfKind(harness_.Timeline("g-bq"), "back-query");
  ASSERT_EQ(back_queries.size(), 2u);
  EXPECT_EQ(back_queries[1].detail, "status endpoint 127.0.0.1:7001 answered after 4 attempt(s)");
  EXPECT_TRUE(harness_.engine().FailingStatusEndpoints().empty());
}

TEST_F(BackQueryEngineTest, RetryNowAsksAtOnceWaitingForTheConnection) {
  TimeOut("g-now");
  EXPECT_EQ(harness_.transport().queries(), 1);
  reachable_ = true;
  ASSERT_EQ(RetryNow("g-now"), 1u);
  // No time passes: the backoff's 10 s are not waited for.
  ASSERT_TRUE(WaitForStateNow("g-now", TxState::kRolledBack));
  EXPECT_EQ(harness_.transport().queries(), 2);
  EXPECT_EQ(harness_.transport().query_waits_for_ready(), (std::vector<bool>{false, true}));
  EXPECT_EQ(harness_.transport().backoff_resets(), std::vector<std::string>{kEndpoint});
  harness_.Flush();
  std::vector<TimelineEvent> back_queries = OfKind(harness_.Timeline("g-now"), "back-query");
  ASSERT_EQ(back_queries.size(), 2u);
  EXPECT_EQ(back_queries[1].detail, "status endpoint 127.0.0.1:7001 answered after 2 attempt(s)");
}

TEST_F(BackQueryEngineTest, RetryNowDoesNotLeaveASecondChainOfRetries) {
  TimeOut("g-chain");
  harness_.Advance(absl::Seconds(1));
  ASSERT_EQ(RetryNow("g-chain"), 1u);
  harness_.scheduler().RunDue();  // The retry now, due at once.
  ASSERT_TRUE(WaitForFailures("g-chain", 2));
  EXPECT_EQ(harness_.transport().queries(), 2);
  // The retry the first failure scheduled (at 10 s) was overtaken; the
  // next one is 10 s after the operator's.
  harness_.Advance(absl::Seconds(9));
  harness_.Flush();
  EXPECT_EQ(harness_.transport().queries(), 2);
  harness_.Advance(absl::Seconds(1));
  ASSERT_TRUE(WaitForFailures("g-chain", 3));
  EXPECT_EQ(harness_.transport().queries(), 3);
}

TEST_F(BackQueryEngineTest, RetryNowByTargetCoversTheStatusEndpoint) {
  TimeOut("g-target");
  EXPECT_EQ(RetryNow("", "127.0.0.1:7999"), 0u) << "another target";
  reachable_ = true;
  EXPECT_EQ(RetryNow("", kEndpoint), 1u);
  ASSERT_TRUE(WaitForStateNow("g-target", TxState::kRolledBack));
}

}  // namespace
}  // namespace tcc
