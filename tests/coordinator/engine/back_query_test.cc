// The back-query verdict: the initiator's answer decides; an unreachable
// endpoint, or COMMITTED for a GT whose branches did not all try, means
// asking again, never guessing. And the bookkeeping an operator sees: a
// GT's attempts and last error, and the totals per failing endpoint.
#include "coordinator/engine/back_query.h"

#include <gtest/gtest.h>

namespace tcc {
namespace {

GlobalTransaction Trying(BranchState branch_state) {
  GlobalTransaction gt;
  gt.gid = "g";
  gt.branches.push_back({.branch_id = "a", .state = branch_state});
  return gt;
}

TEST(JudgeBackQuery, FollowsTheInitiatorsAnswer) {
  BackQueryVerdict commit =
      JudgeBackQuery(Trying(BranchState::kTried), InitiatorAnswer::kCommitted);
  EXPECT_EQ(commit.decision, Decision::kCommit);
  EXPECT_NE(commit.reason.find("answered COMMITTED"), std::string::npos);
  BackQueryVerdict rollback =
      JudgeBackQuery(Trying(BranchState::kRegistered), InitiatorAnswer::kRolledBack);
  EXPECT_EQ(rollback.decision, Decision::kRollback);
  EXPECT_NE(rollback.reason.find("answered ROLLED_BACK"), std::string::npos);
}

TEST(JudgeBackQuery, NeverGuesses) {
  BackQueryVerdict down =
      JudgeBackQuery(Trying(BranchState::kTried), absl::UnavailableError("connection refused"));
  EXPECT_FALSE(down.decision.has_value());
  EXPECT_EQ(down.ask_again_because.code(), absl::StatusCode::kUnavailable);
  // COMMITTED while a branch's Try outcome is unknown cannot be honoured.
  BackQueryVerdict unknown =
      JudgeBackQuery(Trying(BranchState::kRegistered), InitiatorAnswer::kCommitted);
  EXPECT_FALSE(unknown.decision.has_value());
  EXPECT_EQ(unknown.ask_again_because.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(BackQueryProgress, CountsAttemptsAndKeepsTheLastErrorWithItsCode) {
  BackQueryProgress progress;
  progress.operator_retry = true;
  progress.Sent(1000);
  EXPECT_EQ(progress.attempts, 1u);
  EXPECT_EQ(progress.last_attempt_ms, 1000);
  EXPECT_FALSE(progress.operator_retry) << "an operator's retry is used by one back-query";
  EXPECT_FALSE(progress.failing());
  progress.Failed(absl::UnavailableError("status endpoint e:1: Connection refused"), 1500);
  EXPECT_TRUE(progress.failing());
  EXPECT_EQ(progress.last_error, "UNAVAILABLE: status endpoint e:1: Connection refused");
  EXPECT_EQ(progress.next_retry_ms, 1500);
  progress.Sent(1500);
  EXPECT_EQ(progress.attempts, 2u);
  EXPECT_EQ(progress.failures, 1u);
  EXPECT_EQ(progress.next_retry_ms, 0) << "none is due while one is in flight";
}

TEST(CountFailingEndpoint, SumsPerEndpointAndKeepsTheMostRecentError) {
  auto failed = [](int times, int64_t at_ms, const std::string& error) {
    BackQueryProgress progress;
    for (int i = 0; i < times; ++i) {
      progress.Sent(at_ms);
      progress.Failed(absl::UnavailableError(error), at_ms + 100);
    }
    return progress;
  };
  FailingEndpoints endpoints;
  CountFailingEndpoint("a:1", failed(3, 2000, "newer"), endpoints);
  CountFailingEndpoint("a:1", failed(2, 1000, "older"), endpoints);
  CountFailingEndpoint("b:1", failed(1, 500, "down"), endpoints);
  CountFailingEndpoint("c:1", BackQueryProgress{}, endpoints);  // Not failing: not counted.
  ASSERT_EQ(endpoints.size(), 2u);
  EXPECT_EQ(endpoints["a:1"].transactions, 2u);
  EXPECT_EQ(endpoints["a:1"].failed_attempts, 5u);
  EXPECT_EQ(endpoints["a:1"].last_error, "UNAVAILABLE: newer");
  EXPECT_EQ(endpoints["b:1"].transactions, 1u);
}

}  // namespace
}  // namespace tcc
