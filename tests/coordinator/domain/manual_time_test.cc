// Manual time: the clock moves only when told, never backwards; the
// scheduler runs what is due on the caller's thread, in time order, with
// the clock at each callback's own time.
#include "coordinator/domain/manual_time.h"

#include <gtest/gtest.h>

#include <vector>

namespace tcc {
namespace {

TEST(ManualClock, MovesOnlyForwardAndOnlyWhenTold) {
  ManualClock clock;
  absl::Time start = clock.Now();
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(absl::Milliseconds(5));
  EXPECT_EQ(clock.Now(), start + absl::Milliseconds(5));
  clock.AdvanceTo(start);
  EXPECT_EQ(clock.Now(), start + absl::Milliseconds(5)) << "never backwards";
  EXPECT_GT(clock.NowMs(), 0) << "not the Unix epoch, so 0 still means unset";
}

TEST(ManualScheduler, RunsWhatIsDueInOrderWithTheClockAtEachTime) {
  ManualClock clock;
  ManualScheduler scheduler(&clock);
  absl::Time start = clock.Now();
  std::vector<std::pair<int, absl::Time>> ran;
  auto record = [&](int value) { return [&, value] { ran.push_back({value, clock.Now()}); }; };
  scheduler.Schedule(start + absl::Seconds(2), record(3));
  scheduler.Schedule(start + absl::Seconds(1), record(1));
  scheduler.Schedule(start + absl::Seconds(1), record(2));
  scheduler.Schedule(start + absl::Seconds(9), record(4));
  EXPECT_EQ(scheduler.RunDue(), 0u) << "nothing is due before time moves";
  EXPECT_EQ(scheduler.NextDue(), start + absl::Seconds(1));
  EXPECT_EQ(scheduler.Advance(absl::Seconds(3)), 3u);
  ASSERT_EQ(ran.size(), 3u);
  EXPECT_EQ(ran[0], std::make_pair(1, start + absl::Seconds(1)));
  EXPECT_EQ(ran[1], std::make_pair(2, start + absl::Seconds(1)));
  EXPECT_EQ(ran[2], std::make_pair(3, start + absl::Seconds(2)));
  EXPECT_EQ(clock.Now(), start + absl::Seconds(3));
  EXPECT_EQ(scheduler.pending(), 1u);
}

TEST(ManualScheduler, RunsCallbacksScheduledByCallbacksWhenDueInTheSameAdvance) {
  ManualClock clock;
  ManualScheduler scheduler(&clock);
  int chain = 0;
  std::function<void()> step = [&] {
    if (++chain < 5) scheduler.Schedule(clock.Now() + absl::Milliseconds(100), step);
  };
  scheduler.Schedule(clock.Now() + absl::Milliseconds(100), step);
  EXPECT_EQ(scheduler.Advance(absl::Milliseconds(350)), 3u);
  EXPECT_EQ(chain, 3);
  EXPECT_EQ(scheduler.Advance(absl::Seconds(1)), 2u);
  EXPECT_EQ(chain, 5);
  EXPECT_EQ(scheduler.pending(), 0u);
}

}  // namespace
}  // namespace tcc
