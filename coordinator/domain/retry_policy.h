// Exponential backoff with jitter, bounded by a maximum interval. Pure: the
// caller supplies the random source, so tests are deterministic.
#pragma once

#include <cstdint>

#include "absl/random/bit_gen_ref.h"
#include "absl/time/time.h"

namespace tcc {

struct RetryPolicy {
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(30);
  double multiplier = 2.0;
  // Fraction of the delay that is randomized: 0 = none, 1 = "full jitter".
  double jitter = 0.5;

  // Delay before attempt number `failed_attempts + 1`, given that
  // `failed_attempts` (>= 1) attempts failed so far.
  absl::Duration DelayAfter(uint32_t failed_attempts, absl::BitGenRef random) const;
};

}  // namespace tcc
