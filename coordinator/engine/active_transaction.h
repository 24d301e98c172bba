// A GT that is not final, as the engine keeps it in memory between store
// writes: the domain value plus the engine's bookkeeping about calls in
// flight, scheduled drives and back-queries. A plain value; the engine
// guards every ActiveTransaction with its own mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "coordinator/domain/transaction.h"
#include "coordinator/engine/back_query.h"

namespace tcc {

struct ActiveTransaction {
  GlobalTransaction gt;
  std::vector<bool> in_flight;  // Per branch: a call is outstanding.
  // Per branch: the next call was asked for by an operator (RetryNow) and
  // waits for the connection instead of failing fast.
  std::vector<bool> operator_retry;
  int64_t drive_at_ms = std::numeric_limits<int64_t>::max();  // Earliest scheduled Drive.
  bool querying = false;                                      // A back-query is outstanding.
  BackQueryProgress back_query;
  bool stuck_recorded = false;  // The timeline already says "stuck".
  // Saga submitters waiting for the final state.
  std::vector<std::function<void(const GlobalTransaction&)>> waiters;

  // Sizes the per-branch flags to the branch count (after branches were
  // added or the GT was loaded).
  void FitFlags() {
    in_flight.resize(gt.branches.size(), false);
    operator_retry.resize(gt.branches.size(), false);
  }
  bool Idle() const {
    for (bool flying : in_flight) {
      if (flying) return false;
    }
    return true;
  }
};

// Reads a per-branch flag and clears it (vector<bool> has no std::exchange).
inline bool TakeFlag(std::vector<bool>& flags, size_t index) {
  bool value = flags[index];
  flags[index] = false;
  return value;
}

}  // namespace tcc
