// The rules of resolving an unfinished GT by hand (the admin API's
// Resolve), as pure functions: which resolutions an operator may apply to
// a GT in its current state, and why the others are refused. The engine
// checks these, then carries the resolution out. No I/O, no locks.
#pragma once

#include "absl/status/status.h"
#include "coordinator/domain/transaction.h"

namespace tcc {

enum class Resolution {
  kCommit,          // Drive to the commit side (a saga: run forward).
  kRollback,        // Drive to the rollback side (a saga: compensate).
  kMarkCommitted,   // Final by hand, without calling participants.
  kMarkRolledBack,  // Final by hand, without calling participants.
};

// OK when `resolution` may be applied to `gt`; FAILED_PRECONDITION, saying
// why and what to do instead, when it may not: a final GT; a TCC GT driven
// against the side it is on (its Confirms or Cancels may have run); a TCC
// commit with a branch its participant refused; a saga run forward while
// it compensates.
absl::Status CheckResolution(const GlobalTransaction& gt, Resolution resolution);

}  // namespace tcc
