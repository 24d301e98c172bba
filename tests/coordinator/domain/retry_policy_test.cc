#include "coordinator/domain/retry_policy.h"

#include <gtest/gtest.h>

#include "absl/random/random.h"

namespace tcc {
namespace {

TEST(RetryPolicy, GrowsExponentiallyUpToTheCapWithoutJitter) {
  RetryPolicy policy{absl::Milliseconds(100), absl::Seconds(1), 2.0, 0.0};
  absl::BitGen random;
  EXPECT_EQ(policy.DelayAfter(1, random), absl::Milliseconds(100));
  EXPECT_EQ(policy.DelayAfter(2, random), absl::Milliseconds(200));
  EXPECT_EQ(policy.DelayAfter(4, random), absl::Milliseconds(800));
  EXPECT_EQ(policy.DelayAfter(5, random), absl::Seconds(1));
  EXPECT_EQ(policy.DelayAfter(1000000, random), absl::Seconds(1));
}

TEST(RetryPolicy, JitterStaysWithinItsFraction) {
  RetryPolicy policy{absl::Milliseconds(100), absl::Seconds(10), 2.0, 0.5};
  absl::BitGen random;
  bool varied = false;
  absl::Duration first = policy.DelayAfter(3, random);
  for (int i = 0; i < 200; ++i) {
    absl::Duration delay = policy.DelayAfter(3, random);
    EXPECT_GE(delay, absl::Milliseconds(200));
    EXPECT_LE(delay, absl::Milliseconds(400));
    varied |= delay != first;
  }
  EXPECT_TRUE(varied);
}

}  // namespace
}  // namespace tcc
