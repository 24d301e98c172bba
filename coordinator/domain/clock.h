// Time is injected so that timeouts, backoff and "stuck" ages can be tested
// deterministically. Implementations are thread-safe.
#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tcc {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  int64_t NowMs() const { return absl::ToUnixMillis(Now()); }
};

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace tcc
