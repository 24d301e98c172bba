// Throttles the log lines of failed participant calls: at most one line per
// target per interval, carrying the count of failures not logged since. A
// participant that is down fails every GT's call, and one line each would
// flood the log and cost tccd CPU exactly while it catches up. Time comes
// from the injected Clock. Not thread-safe: the engine guards it with its
// own mutex.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "coordinator/domain/clock.h"

namespace tcc {

class FailureLogThrottle {
 public:
  FailureLogThrottle(const Clock* clock, absl::Duration interval)
      : clock_(clock), interval_(interval) {}

  // For a failure on `target`: nullopt when it must not be logged now;
  // otherwise how many failures on it went unlogged since its last line.
  std::optional<int64_t> Admit(absl::string_view target);

 private:
  struct PerTarget {
    absl::Time last_logged = absl::InfinitePast();
    int64_t not_logged = 0;
  };
  const Clock* const clock_;
  const absl::Duration interval_;
  absl::flat_hash_map<std::string, PerTarget> targets_;
};

}  // namespace tcc
