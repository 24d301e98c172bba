// Retention of the SDK's own rows: the barrier rows of a participant
// (barrier.h) and the decision rows of an initiator (decision.h) would
// otherwise grow forever. PruneBarrier and PruneDecisions delete rows older
// than a retention in small batches, one short local transaction each, so a
// handler's write never waits long behind them. ParticipantServer and
// StatusEndpoint run them in the background with these options; call them
// (or the servers' Prune...Now) yourself to drive pruning another way.
//
// The retention must be at least tccd's --retention_s (the defaults are
// equal): barrier.h and decision.h say why, and what goes wrong otherwise.
//
// Thread-safety: PruningOptions is a plain value; the functions that take it
// are as thread-safe as their header says.
#pragma once

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tcc::sdk {

// tccd's default --retention_s (604800 s).
inline constexpr absl::Duration kDefaultRetention = absl::Hours(7 * 24);

struct PruningOptions {
  // Rows older than this are deleted; zero keeps everything. Never set it
  // below tccd's --retention_s.
  absl::Duration retention = kDefaultRetention;
  // Between two background passes. A pass deletes batch after batch until
  // a batch is not full, then waits this long. absl::InfiniteDuration()
  // runs no background pass: the owner calls Prune...Now itself.
  absl::Duration interval = absl::Minutes(1);
  // Rows per local transaction, oldest first. Barrier rows take the other
  // rows of their branch along (a branch has at most three), so that a
  // branch always goes whole.
  int batch = 500;
  // "Now" for the age of rows; absl::Now when empty. Tests inject one.
  std::function<absl::Time()> clock;
  // Called on the pruning thread after each background pass, with the rows
  // it deleted or its error (e.g. to export a metric). May be empty.
  std::function<void(const absl::StatusOr<int64_t>&)> on_pass;
};

}  // namespace tcc::sdk
