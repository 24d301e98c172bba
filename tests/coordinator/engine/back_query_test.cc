// The back-query verdict: the initiator's answer decides; an unreachable
// endpoint, or COMMITTED for a GT whose branches did not all try, means
// asking again, never guessing.
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

}  // namespace
}  // namespace tcc
