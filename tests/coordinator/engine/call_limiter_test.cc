// The call limiter: a bounded number of background slots, waiting gids
// queued once each and handed back oldest first, and the idle wait that
// shutdown uses.
#include "coordinator/engine/call_limiter.h"

#include <gtest/gtest.h>

#include <thread>

namespace tcc {
namespace {

TEST(CallLimiter, BoundsBackgroundCallsAndQueuesEachGidOnce) {
  CallLimiter limiter(2);
  EXPECT_TRUE(limiter.TryAcquire("g1"));
  EXPECT_TRUE(limiter.TryAcquire("g1"));
  EXPECT_FALSE(limiter.TryAcquire("g2"));
  EXPECT_FALSE(limiter.TryAcquire("g3"));
  EXPECT_FALSE(limiter.TryAcquire("g2"));  // Already queued: not twice.
  EXPECT_EQ(limiter.background_in_use(), 2);
  EXPECT_EQ(limiter.waiting(), 2u);
  EXPECT_EQ(limiter.PopWaiting(), std::nullopt) << "no slot is free yet";
  limiter.Release();
  EXPECT_EQ(limiter.PopWaiting(), "g2");
  EXPECT_TRUE(limiter.TryAcquire("g2"));
  EXPECT_EQ(limiter.PopWaiting(), std::nullopt);
  limiter.Release();
  EXPECT_EQ(limiter.PopWaiting(), "g3");
  EXPECT_EQ(limiter.PopWaiting(), std::nullopt) << "the queue is empty";
  EXPECT_EQ(limiter.waiting(), 0u);
}

TEST(CallLimiter, WaitUntilIdleWaitsForEveryStartedCall) {
  CallLimiter limiter(1);
  EXPECT_TRUE(limiter.WaitUntilIdle(absl::ZeroDuration()));
  limiter.CallStarted();
  limiter.CallStarted();
  EXPECT_FALSE(limiter.WaitUntilIdle(absl::Milliseconds(1)));
  std::thread finisher([&] {
    limiter.CallFinished();
    limiter.CallFinished();
  });
  EXPECT_TRUE(limiter.WaitUntilIdle(absl::Seconds(30)));
  finisher.join();
}

}  // namespace
}  // namespace tcc
