// The pruning loop and the background Pruner, with a fake batch: how a pass
// strings batches together, the cutoff it derives from the injected clock,
// background passes, and a Stop that does not wait for a long pass. Waits
// are for events (a pass reported), never for time to pass.
#include "participant-sdk/src/pruner.h"

#include <vector>

#include "gtest/gtest.h"
#include "tcc/common/mutex.h"
#include "tests/participant-sdk/pass_log.h"
#include "tests/test_util/status_matchers.h"

namespace tcc::sdk::internal {
namespace {

using ::tcc::sdk::testing::PassLog;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

// A batch that records its cutoffs and reports `full` for the first
// `full_batches` calls (forever when negative).
class FakeBatches {
 public:
  explicit FakeBatches(int full_batches) : full_batches_(full_batches) {}

  PruneBatchFn Fn() {
    return [this](absl::Time cutoff, int limit) -> absl::StatusOr<PruneBatchResult> {
      tcc::MutexLock lock(&mu_);
      cutoffs_.push_back(cutoff);
      bool full = full_batches_ < 0 || static_cast<int>(cutoffs_.size()) <= full_batches_;
      return PruneBatchResult{.rows = full ? limit : 1, .full = full};
    };
  }
  int calls() const {
    tcc::MutexLock lock(&mu_);
    return static_cast<int>(cutoffs_.size());
  }
  // True once the batch ran at least once (false after a generous timeout).
  bool WaitForFirstCall() const {
    tcc::MutexLock lock(&mu_);
    auto called = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !cutoffs_.empty(); };
    return mu_.AwaitWithTimeout(tcc::Condition(&called), absl::Seconds(30));
  }
  absl::Time last_cutoff() const {
    tcc::MutexLock lock(&mu_);
    return cutoffs_.back();
  }

 private:
  const int full_batches_;
  mutable tcc::Mutex mu_;
  std::vector<absl::Time> cutoffs_ ABSL_GUARDED_BY(mu_);
};

TEST(RunPrunePassTest, RunsBatchesUntilOneIsNotFull) {
  FakeBatches batches(2);
  absl::StatusOr<int64_t> rows = RunPrunePass({.retention = absl::Hours(1), .batch = 10}, kNow,
                                              batches.Fn(), [] { return false; });
  ASSERT_OK(rows);
  EXPECT_EQ(*rows, 10 + 10 + 1);
  EXPECT_EQ(batches.calls(), 3);
  EXPECT_EQ(batches.last_cutoff(), kNow - absl::Hours(1));
}

TEST(RunPrunePassTest, RetentionZeroRunsNoBatch) {
  FakeBatches batches(-1);
  absl::StatusOr<int64_t> rows =
      RunPrunePass({.retention = absl::ZeroDuration()}, kNow, batches.Fn(), [] { return false; });
  ASSERT_OK(rows);
  EXPECT_EQ(*rows, 0);
  EXPECT_EQ(batches.calls(), 0);
}

TEST(RunPrunePassTest, StopsBetweenBatchesWhenAsked) {
  FakeBatches batches(-1);
  int asked = 0;
  absl::StatusOr<int64_t> rows =
      RunPrunePass({.batch = 5}, kNow, batches.Fn(), [&] { return ++asked > 3; });
  ASSERT_OK(rows);
  EXPECT_EQ(*rows, 15);
  EXPECT_EQ(batches.calls(), 3);
}

TEST(RunPrunePassTest, ABatchErrorEndsThePass) {
  int calls = 0;
  PruneBatchFn failing = [&](absl::Time, int) -> absl::StatusOr<PruneBatchResult> {
    ++calls;
    return absl::UnavailableError("database is locked");
  };
  EXPECT_TRUE(absl::IsUnavailable(RunPrunePass({}, kNow, failing, [] { return false; }).status()));
  EXPECT_EQ(calls, 1);
}

TEST(ValidatePruningOptionsTest, AcceptsDefaultsAndZeroRejectsNonsense) {
  EXPECT_OK(ValidatePruningOptions({}));
  EXPECT_OK(ValidatePruningOptions({.retention = absl::ZeroDuration(), .batch = 0}));
  EXPECT_OK(ValidatePruningOptions({.interval = absl::InfiniteDuration()}));
  EXPECT_TRUE(absl::IsInvalidArgument(ValidatePruningOptions({.retention = -absl::Seconds(1)})));
  EXPECT_TRUE(absl::IsInvalidArgument(ValidatePruningOptions({.interval = absl::ZeroDuration()})));
  EXPECT_TRUE(absl::IsInvalidArgument(ValidatePruningOptions({.batch = 0})));
}

TEST(PrunerTest, RunsPassesInTheBackgroundWithTheInjectedClock) {
  FakeBatches batches(0);
  PassLog log;
  Pruner pruner("test rows",
                {.retention = absl::Hours(2),
                 .interval = absl::Milliseconds(1),
                 .clock = [] { return kNow; },
                 .on_pass = log.Callback()},
                batches.Fn());
  pruner.Start();
  ASSERT_TRUE(log.WaitForPasses(3));
  pruner.Stop();
  EXPECT_GE(batches.calls(), 3);
  EXPECT_GE(log.rows(), 3);
  EXPECT_EQ(batches.last_cutoff(), kNow - absl::Hours(2));
}

TEST(PrunerTest, StopEndsAPassThatWouldNeverEnd) {
  FakeBatches batches(-1);  // Every batch full: the pass only ends on Stop.
  PassLog log;
  Pruner pruner("test rows", {.interval = absl::Milliseconds(1), .on_pass = log.Callback()},
                batches.Fn());
  pruner.Start();
  ASSERT_TRUE(batches.WaitForFirstCall());
  pruner.Stop();  // Hangs here if the pass ignored Stop.
  ASSERT_TRUE(log.WaitForPasses(1)) << "the interrupted pass is still reported";
  int calls = batches.calls();
  pruner.Stop();  // Idempotent.
  EXPECT_EQ(batches.calls(), calls);
}

}  // namespace
}  // namespace tcc::sdk::internal
