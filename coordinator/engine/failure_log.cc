#include "coordinator/engine/failure_log.h"

namespace tcc {

std::optional<int64_t> FailureLogThrottle::Admit(absl::string_view target) {
  PerTarget& entry = targets_[target];
  absl::Time now = clock_->Now();
  if (now - entry.last_logged < interval_) {
    ++entry.not_logged;
    return std::nullopt;
  }
  int64_t skipped = entry.not_logged;
  entry.last_logged = now;
  entry.not_logged = 0;
  return skipped;
}

}  // namespace tcc
