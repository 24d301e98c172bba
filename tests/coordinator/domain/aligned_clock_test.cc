// AlignedClock against a manual local clock: readings of a reference clock
// that runs ahead or behind, with and without round-trip uncertainty.
#include "coordinator/domain/aligned_clock.h"

#include <gtest/gtest.h>

#include "coordinator/domain/manual_time.h"

namespace tcc {
namespace {

TEST(AlignedClockTest, IsTheLocalClockUntilTheFirstReading) {
  ManualClock local;
  AlignedClock aligned(&local);
  EXPECT_EQ(aligned.Now(), local.Now());
  EXPECT_EQ(aligned.offset(), absl::ZeroDuration());
}

TEST(AlignedClockTest, FollowsAReferenceThatRunsAheadOrBehind) {
  ManualClock local;
  AlignedClock aligned(&local);
  // Read 90 s ahead of local, halfway through a 4 ms round trip.
  absl::Time sent = local.Now();
  local.Advance(absl::Milliseconds(4));
  EXPECT_TRUE(aligned.Align(sent + absl::Milliseconds(2) + absl::Seconds(90), sent, local.Now()));
  EXPECT_EQ(aligned.offset(), absl::Seconds(90));
  EXPECT_EQ(aligned.Now(), local.Now() + absl::Seconds(90));
  local.Advance(absl::Seconds(5));
  EXPECT_EQ(aligned.Now(), local.Now() + absl::Seconds(90)) << "moves with the local clock";

  sent = local.Now();
  EXPECT_TRUE(aligned.Align(sent - absl::Seconds(30), sent, sent));
  EXPECT_EQ(aligned.offset(), absl::Seconds(-30));
}

TEST(AlignedClockTest, IgnoresDisagreementWithinTheReadingsUncertainty) {
  ManualClock local;
  AlignedClock aligned(&local);
  absl::Time sent = local.Now();
  ASSERT_TRUE(aligned.Align(sent + absl::Seconds(10), sent, sent));
  // A 20 ms round trip: the reference may have been read anywhere in it.
  local.Advance(absl::Milliseconds(20));
  absl::Time received = local.Now();
  EXPECT_FALSE(aligned.Align(sent + absl::Seconds(10) + absl::Milliseconds(15), sent, received));
  EXPECT_EQ(aligned.offset(), absl::Seconds(10));
  // 50 ms off is more than half the trip: the offset moves.
  EXPECT_TRUE(aligned.Align(sent + absl::Seconds(10) + absl::Milliseconds(60), sent, received));
  EXPECT_EQ(aligned.offset(), absl::Seconds(10) + absl::Milliseconds(50));
}

TEST(AlignedClockTest, ALocalClockSteppingBackDuringAReadingStillAligns) {
  ManualClock local;
  AlignedClock aligned(&local);
  absl::Time t = local.Now();
  EXPECT_TRUE(aligned.Align(t + absl::Seconds(3), t + absl::Milliseconds(2), t));
  EXPECT_EQ(aligned.offset(), absl::Seconds(3) - absl::Milliseconds(1));
}

}  // namespace
}  // namespace tcc
