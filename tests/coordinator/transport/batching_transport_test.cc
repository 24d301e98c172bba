#include "coordinator/transport/batching_transport.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/domain/manual_time.h"

namespace tcc {
namespace {

// An inner transport the test answers by hand: it keeps every call and
// batch with its callback.
class ManualTransport final : public ParticipantTransport {
 public:
  struct Single {
    BranchCall call;
    std::function<void(CallResult)> done;
  };
  struct Batch {
    std::vector<BranchCall> calls;
    BatchDone done;
  };

  void Call(BranchCall call, std::function<void(CallResult)> done) override {
    singles.push_back({std::move(call), std::move(done)});
  }
  void CallBatch(const std::vector<BranchCall>& calls, BatchDone done) override {
    batches.push_back({calls, std::move(done)});
  }
  void QueryInitiator(std::string, std::string, absl::Duration, bool, std::string,
                      std::function<void(absl::StatusOr<InitiatorAnswer>)>) override {}

  // Answers (and forgets) the oldest single call still open.
  void AnswerSingle(CallResult result) {
    Single single = std::move(singles.front());
    singles.erase(singles.begin());
    single.done(std::move(result));
  }
  void AnswerBatch(absl::StatusOr<std::vector<CallResult>> results) {
    Batch batch = std::move(batches.front());
    batches.erase(batches.begin());
    batch.done(std::move(results));
  }

  std::vector<Single> singles;
  std::vector<Batch> batches;
};

BranchCall Confirm(const std::string& branch, const std::string& target = "a:1") {
  BranchCall call;
  call.target = target;
  call.phase = Phase::kConfirm;
  call.gid = "g-" + branch;
  call.branch_id = branch;
  return call;
}

std::vector<std::string> BranchIds(const std::vector<BranchCall>& calls) {
  std::vector<std::string> ids;
  for (const BranchCall& call : calls) ids.push_back(call.branch_id);
  return ids;
}

// Every call's answer, by branch id, as the engine would see it.
struct Answers {
  std::map<std::string, CallResult> by_branch;
  std::function<void(CallResult)> For(const std::string& branch) {
    return [this, branch](CallResult result) { by_branch[branch] = std::move(result); };
  }
};

CallResult Ok() { return {CallOutcome::kSuccess, ""}; }

TEST(BatchingTransport, UnderTheLimitEveryCallGoesAloneAtOnce) {
  ManualTransport inner;
  BatchingTransport batching(&inner, {.max_in_flight = 2, .max_batch = 8});
  Answers answers;
  batching.Call(Confirm("b1"), answers.For("b1"));
  batching.Call(Confirm("b2"), answers.For("b2"));
  ASSERT_EQ(inner.singles.size(), 2u);
  EXPECT_TRUE(inner.batches.empty());
  inner.AnswerSingle(Ok());
  inner.AnswerSingle({CallOutcome::kUnknown, "down"});
  EXPECT_EQ(answers.by_branch["b1"].outcome, CallOutcome::kSuccess);
  EXPECT_EQ(answers.by_branch["b2"].detail, "down");
}

TEST(BatchingTransport, CallsThatFindTheLaneBusyGoAsOneBatchWhenACallFinishes) {
  ManualTransport inner;
  BatchingTransport batching(&inner, {.max_in_flight = 1, .max_batch = 3});
  Answers answers;
  for (const char* id : {"b1", "b2", "b3", "b4", "b5"}) batching.Call(Confirm(id), answers.For(id));
  ASSERT_EQ(inner.singles.size(), 1u);  // b1; the others wait for it.
  EXPECT_TRUE(inner.batches.empty());

  inner.AnswerSingle(Ok());
  EXPECT_EQ(answers.by_branch["b1"].outcome, CallOutcome::kSuccess);
  ASSERT_EQ(inner.batches.size(), 1u);
  EXPECT_EQ(BranchIds(inner.batches[0].calls), (std::vector<std::string>{"b2", "b3", "b4"}));
  EXPECT_TRUE(inner.singles.empty()) << "b5 waits: the batch fills the lane";

  inner.AnswerBatch(std::vector<CallResult>{
      Ok(), {CallOutcome::kRefused, "contract broken"}, {CallOutcome::kUnknown, "gRPC 14: x"}});
  EXPECT_EQ(answers.by_branch["b2"].outcome, CallOutcome::kSuccess);
  EXPECT_EQ(answers.by_branch["b3"].detail, "contract broken");
  EXPECT_EQ(answers.by_branch["b4"].detail, "gRPC 14: x");
  ASSERT_EQ(inner.singles.size(), 1u);  // The last one left goes alone.
  EXPECT_EQ(inner.singles[0].call.branch_id, "b5");
  inner.AnswerSingle(Ok());
  EXPECT_EQ(answers.by_branch.size(), 5u);
}

TEST(BatchingTransport, LanesArePerTargetAndPhase) {
  ManualTransport inner;
  BatchingTransport batching(&inner, {.max_in_flight = 1, .max_batch = 8});
  Answers answers;
  batching.Call(Confirm("b1", "a:1"), answers.For("b1"));
  BranchCall cancel = Confirm("b2", "a:1");
  cancel.phase = Phase::kCancel;
  batching.Call(cancel, answers.For("b2"));
  batching.Call(Confirm("b3", "b:1"), answers.For("b3"));
  EXPECT_EQ(inner.singles.size(), 3u) << "three lanes, each with room for one";
}

TEST(BatchingTransport, TriesAndOperatorRetriesAreNeverHeld) {
  ManualTransport inner;
  BatchingTransport batching(&inner, {.max_in_flight = 1, .max_batch = 8});
  Answers answers;
  batching.Call(Confirm("b1"), answers.For("b1"));
  BranchCall try_call = Confirm("b2");
  try_call.phase = Phase::kTry;
  batching.Call(try_call, answers.For("b2"));
  BranchCall operator_retry = Confirm("b3");
  operator_retry.wait_for_ready = true;
  batching.Call(operator_retry, answers.For("b3"));
  EXPECT_EQ(inner.singles.size(), 3u);
  EXPECT_TRUE(inner.batches.empty());
}

TEST(BatchingTransport, ATargetWithoutBatchesGetsEveryCallAloneFromThenOn) {
  ManualTransport inner;
  BatchingTransport batching(&inner, {.max_in_flight = 1, .max_batch = 2});
  Answers answers;
  for (const char* id : {"b1", "b2", "b3", "b4"}) batching.Call(Confirm(id), answers.For(id));
  inner.AnswerSingle(Ok());  // b1; b2 and b3 go as a batch, b4 waits.
  ASSERT_EQ(inner.batches.size(), 1u);
  inner.AnswerBatch(absl::UnimplementedError("unknown service tcc.v1.ParticipantBatch"));
  // The batch's calls and the one waiting go alone, at once.
  std::vector<std::string> alone;
  for (const auto& single : inner.singles) alone.push_back(single.call.branch_id);
  EXPECT_EQ(alone, (std::vector<std::string>{"b2", "b3", "b4"}));
  EXPECT_TRUE(answers.by_branch.count("b2") == 0) << "not answered before its own call";
  // Later calls to that target are not held, however many are out.
  batching.Call(Confirm("b5"), answers.For("b5"));
  batching.Call(Confirm("b6"), answers.For("b6"));
  EXPECT_EQ(inner.singles.size(), 5u);
  EXPECT_TRUE(inner.batches.empty());
  while (!inner.singles.empty()) inner.AnswerSingle(Ok());
  EXPECT_EQ(answers.by_branch.size(), 6u);
  // Another target still batches.
  for (const char* id : {"c1", "c2", "c3"}) batching.Call(Confirm(id, "b:1"), answers.For(id));
  inner.AnswerSingle(Ok());
  EXPECT_EQ(inner.batches.size(), 1u);
}

TEST(BatchingTransport, ATargetWithoutBatchesIsAskedAgainAfterReprobeAfter) {
  ManualTransport inner;
  ManualClock clock;
  BatchingTransport batching(
      &inner,
      {.max_in_flight = 1, .max_batch = 2, .reprobe_after = absl::Minutes(10), .clock = &clock});
  Answers answers;
  auto busy_lane = [&](const std::string& prefix) {
    for (int i = 1; i <= 3; ++i) {
      std::string id = prefix + std::to_string(i);
      batching.Call(Confirm(id), answers.For(id));
    }
  };
  busy_lane("a");
  inner.AnswerSingle(Ok());  // a1; a2 and a3 go as a batch.
  inner.AnswerBatch(absl::UnimplementedError("unknown service tcc.v1.ParticipantBatch"));
  while (!inner.singles.empty()) inner.AnswerSingle(Ok());
  // Just before the deadline: still every call alone.
  clock.Advance(absl::Minutes(10) - absl::Seconds(1));
  busy_lane("b");
  EXPECT_EQ(inner.singles.size(), 3u);
  EXPECT_TRUE(inner.batches.empty());
  while (!inner.singles.empty()) inner.AnswerSingle(Ok());
  // After it (an upgraded participant, say): calls that queue go as a batch.
  clock.Advance(absl::Seconds(1));
  busy_lane("c");
  EXPECT_EQ(inner.singles.size(), 1u);
  inner.AnswerSingle(Ok());
  ASSERT_EQ(inner.batches.size(), 1u);
  EXPECT_EQ(BranchIds(inner.batches.front().calls), (std::vector<std::string>{"c2", "c3"}));
  inner.AnswerBatch(std::vector<CallResult>{Ok(), Ok()});
  EXPECT_EQ(answers.by_branch.size(), 9u);
}

TEST(BatchingTransport, AFailedBatchFailsEachOfItsCallsWithTheReason) {
  ManualTransport inner;
  BatchingTransport batching(&inner, {.max_in_flight = 1, .max_batch = 8});
  Answers answers;
  for (const char* id : {"b1", "b2", "b3", "b4", "b5"}) batching.Call(Confirm(id), answers.For(id));
  inner.AnswerSingle(Ok());
  inner.AnswerBatch(absl::UnavailableError("gRPC 14: Connection refused"));
  for (const char* id : {"b2", "b3", "b4", "b5"}) {
    EXPECT_EQ(answers.by_branch[id].outcome, CallOutcome::kUnknown) << id;
    EXPECT_EQ(answers.by_branch[id].detail, "gRPC 14: Connection refused") << id;
  }
  // Too few results: no call is taken as answered.
  for (const char* id : {"d1", "d2", "d3"}) batching.Call(Confirm(id), answers.For(id));
  inner.AnswerSingle(Ok());
  inner.AnswerBatch(std::vector<CallResult>{Ok()});
  EXPECT_EQ(answers.by_branch["d2"].outcome, CallOutcome::kUnknown);
  EXPECT_EQ(answers.by_branch["d3"].detail, "participant answered 1 results for a batch of 2");
}

TEST(BatchingTransport, ABatchOfOneTurnsBatchingOff) {
  ManualTransport inner;
  BatchingTransport batching(&inner, {.max_in_flight = 1, .max_batch = 1});
  Answers answers;
  for (const char* id : {"b1", "b2", "b3"}) batching.Call(Confirm(id), answers.For(id));
  EXPECT_EQ(inner.singles.size(), 3u);
}

}  // namespace
}  // namespace tcc
