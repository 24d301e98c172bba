// The real Scheduler: callbacks run in time order on the queue's own
// thread, FIFO among equal times; a moved clock is noticed by the re-poll;
// Stop drops what is pending.
#include "coordinator/engine/timer_queue.h"

#include <gtest/gtest.h>

#include <vector>

#include "coordinator/domain/manual_time.h"
#include "tcc/common/mutex.h"
#include "tcc/common/notification.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::WaitFor;

class Recorder {
 public:
  std::function<void()> Add(int value) {
    return [this, value] {
      tcc::MutexLock lock(&mu_);
      values_.push_back(value);
    };
  }
  std::vector<int> values() const {
    tcc::MutexLock lock(&mu_);
    return values_;
  }

 private:
  mutable tcc::Mutex mu_;
  std::vector<int> values_ ABSL_GUARDED_BY(mu_);
};

TEST(TimerQueue, RunsDueCallbacksInTimeOrderThenFifo) {
  ManualClock clock;
  TimerQueue queue(&clock);
  Recorder recorder;
  absl::Time now = clock.Now();
  queue.Schedule(now + absl::Seconds(2), recorder.Add(3));
  queue.Schedule(now + absl::Seconds(1), recorder.Add(1));
  queue.Schedule(now + absl::Seconds(1), recorder.Add(2));
  queue.Schedule(now + absl::Seconds(5), recorder.Add(4));
  // Only the clock's time counts: nothing is due until the clock moves,
  // and the queue notices the move within its re-poll interval.
  clock.Advance(absl::Seconds(2));
  ASSERT_TRUE(WaitFor([&] { return recorder.values().size() == 3; }));
  EXPECT_EQ(recorder.values(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(queue.pending(), 1u) << "the one due at +5s waits";
}

TEST(TimerQueue, RunsOnTheRealClockAndAcceptsCallbacksThatSchedule) {
  RealClock clock;
  TimerQueue queue(&clock);
  tcc::Notification second;
  queue.Schedule(clock.Now(), [&] { queue.Schedule(clock.Now(), [&] { second.Notify(); }); });
  EXPECT_TRUE(second.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST(TimerQueue, StopDropsPendingCallbacksAndRefusesNewOnes) {
  ManualClock clock;
  Recorder recorder;
  {
    TimerQueue queue(&clock);
    queue.Schedule(clock.Now() + absl::Seconds(1), recorder.Add(1));
    queue.Stop();
    queue.Stop();  // Idempotent.
    EXPECT_EQ(queue.pending(), 0u);
    queue.Schedule(clock.Now(), recorder.Add(2));
    EXPECT_EQ(queue.pending(), 0u);
    clock.Advance(absl::Seconds(5));
  }
  EXPECT_TRUE(recorder.values().empty());
}

}  // namespace
}  // namespace tcc
