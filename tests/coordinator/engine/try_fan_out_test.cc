// The Try fan-out's bookkeeping: outcomes in request order, seeded from the
// branches' states, filled by the calls that were made, answered once
// after the last part, or with the first error.
#include "coordinator/engine/try_fan_out.h"

#include <gtest/gtest.h>

#include <optional>

#include "tests/test_util/status_matchers.h"

namespace tcc {
namespace {

using ::tcc::testing::StatusIs;

struct Answer {
  int calls = 0;
  std::optional<absl::StatusOr<TryAnswer>> value;
};

TryFanOut::Done Into(Answer& answer) {
  return [&answer](absl::StatusOr<TryAnswer> value) {
    ++answer.calls;
    answer.value = std::move(value);
  };
}

std::vector<Branch> Branches() {
  std::vector<Branch> branches(3);
  branches[0] = {.branch_id = "tried", .state = BranchState::kTried};
  branches[1] = {.branch_id = "new"};
  branches[2] = {.branch_id = "refused", .state = BranchState::kTryRefused, .last_error = "no"};
  return branches;
}

TEST(TryFanOut, AnswersInRequestOrderAfterTheLastPart) {
  Answer answer;
  TryFanOut fan_out("g", Into(answer));
  TryPlan plan{.requested = {1, 0, 2}, .added = {1}, .to_call = {1}};
  fan_out.Plan(plan, Branches());
  EXPECT_EQ(fan_out.to_call(), (std::vector<size_t>{1}));
  fan_out.Start();
  fan_out.Record(0, {CallOutcome::kSuccess, ""});
  fan_out.Finish(absl::OkStatus());
  EXPECT_EQ(answer.calls, 0) << "the starter's part is still out";
  fan_out.Finish(absl::OkStatus());
  ASSERT_EQ(answer.calls, 1);
  ASSERT_TRUE(answer.value->ok());
  const std::vector<BranchTryOutcome>& outcomes = (*answer.value)->outcomes;
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[0].branch_id, "new");
  EXPECT_EQ(outcomes[0].outcome, CallOutcome::kSuccess);
  EXPECT_EQ(outcomes[1].branch_id, "tried");
  EXPECT_EQ(outcomes[1].outcome, CallOutcome::kSuccess) << "known already: not called";
  EXPECT_EQ(outcomes[2].outcome, CallOutcome::kRefused);
  EXPECT_EQ(outcomes[2].detail, "no");
  EXPECT_FALSE((*answer.value)->committable) << "only the engine says so";
}

TEST(TryFanOut, TheAnswerSaysCommittableWhenMarked) {
  Answer answer;
  TryFanOut fan_out("g", Into(answer));
  fan_out.Plan({.requested = {1}, .added = {1}, .to_call = {1}}, Branches());
  EXPECT_EQ(fan_out.requested(), 1u);
  fan_out.Start();
  EXPECT_TRUE(fan_out.Record(0, {CallOutcome::kSuccess, ""})) << "the last (only) result";
  fan_out.MarkCommittable();
  fan_out.Finish(absl::OkStatus());
  fan_out.Finish(absl::OkStatus());
  ASSERT_EQ(answer.calls, 1);
  ASSERT_TRUE(answer.value->ok());
  EXPECT_TRUE((*answer.value)->committable);
}

TEST(TryFanOut, AnswersTheFirstErrorOnceEveryPartEnded) {
  Answer answer;
  TryFanOut fan_out("g", Into(answer));
  fan_out.Plan({.requested = {1}, .added = {1}, .to_call = {1}}, Branches());
  fan_out.Start();
  fan_out.Finish(absl::UnavailableError("first"));
  fan_out.Finish(absl::DataLossError("second"));
  ASSERT_EQ(answer.calls, 1);
  EXPECT_THAT(*answer.value, StatusIs(absl::StatusCode::kUnavailable, "first"));
}

TEST(TryFanOut, FailAnswersAtOnce) {
  Answer answer;
  TryFanOut fan_out("g", Into(answer));
  fan_out.Fail(absl::NotFoundError("no transaction with gid g"));
  ASSERT_EQ(answer.calls, 1);
  EXPECT_THAT(*answer.value, StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace tcc
