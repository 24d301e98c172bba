// The failure-log throttle: one line per target per interval, carrying the
// count of the failures it did not log.
#include "coordinator/engine/failure_log.h"

#include <gtest/gtest.h>

#include "coordinator/domain/manual_time.h"

namespace tcc {
namespace {

TEST(FailureLogThrottle, LogsOncePerTargetPerIntervalWithTheSkippedCount) {
  ManualClock clock;
  FailureLogThrottle throttle(&clock, absl::Seconds(1));
  EXPECT_EQ(throttle.Admit("a:1"), 0);
  EXPECT_EQ(throttle.Admit("a:1"), std::nullopt);
  EXPECT_EQ(throttle.Admit("a:1"), std::nullopt);
  EXPECT_EQ(throttle.Admit("b:1"), 0) << "targets are throttled apart";
  clock.Advance(absl::Milliseconds(999));
  EXPECT_EQ(throttle.Admit("a:1"), std::nullopt);
  clock.Advance(absl::Milliseconds(1));
  EXPECT_EQ(throttle.Admit("a:1"), 3) << "the three failures not logged";
  EXPECT_EQ(throttle.Admit("a:1"), std::nullopt);
}

}  // namespace
}  // namespace tcc
