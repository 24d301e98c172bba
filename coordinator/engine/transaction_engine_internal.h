// Internals shared by the engine's translation units (TCC and saga); not
// part of the engine's interface.
#pragma once

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coordinator/engine/transaction_engine.h"

namespace tcc {

// A GT that is not final, as the engine keeps it between store writes.
struct TransactionEngine::Active {
  GlobalTransaction gt;
  std::vector<bool> in_flight;  // Per branch: a Confirm/Cancel call is outstanding.
  // Per branch: the next call was asked for by an operator (RetryNow) and
  // waits for the connection instead of failing fast.
  std::vector<bool> operator_retry;
  int64_t drive_at_ms = std::numeric_limits<int64_t>::max();  // Earliest scheduled Drive.
  bool querying = false;                                      // A back-query is outstanding.
  uint32_t query_failures = 0;
  bool stuck_recorded = false;    // The timeline already says "stuck".
  bool waiting_for_slot = false;  // Queued for a background call slot.
  // Saga submitters waiting for the final state.
  std::vector<std::function<void(const GlobalTransaction&)>> waiters;
};

// Reads a per-branch flag and clears it (vector<bool> has no std::exchange).
inline bool TakeFlag(std::vector<bool>& flags, size_t index) {
  bool value = flags[index];
  flags[index] = false;
  return value;
}

// A store failure as callers should see it: UNAVAILABLE (retry), except
// RESOURCE_EXHAUSTED from a full queue, which already says so.
inline absl::Status Unavailable(const absl::Status& cause, absl::string_view what) {
  if (cause.code() == absl::StatusCode::kResourceExhausted) return cause;
  return absl::UnavailableError(absl::StrCat(what, ": ", cause.message()));
}

}  // namespace tcc
