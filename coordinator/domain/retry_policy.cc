#include "coordinator/domain/retry_policy.h"

#include <algorithm>
#include <cmath>

#include "absl/random/distributions.h"

namespace tcc {

absl::Duration RetryPolicy::DelayAfter(uint32_t failed_attempts, absl::BitGenRef random) const {
  double exponent = std::max<uint32_t>(failed_attempts, 1) - 1;
  // Cap the exponent first so huge attempt counts cannot overflow to inf.
  double factor = std::pow(multiplier, std::min(exponent, 64.0));
  absl::Duration delay = std::min(initial_backoff * factor, max_backoff);
  double jitter_fraction = std::clamp(jitter, 0.0, 1.0);
  double keep = 1.0 - jitter_fraction * absl::Uniform(random, 0.0, 1.0);
  return delay * keep;
}

}  // namespace tcc
