// A GT that is not final, as the engine keeps it in memory between store
// writes: the domain value plus the engine's bookkeeping about calls in
// flight, scheduled drives and back-queries. A plain value; the engine
// guards every ActiveTransaction with its own mutex.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <vector>

#include "coordinator/domain/transaction.h"
#include "coordinator/engine/back_query.h"

namespace tcc {

// The store writes of one in-memory copy of a GT, in the order they were
// queued. Each carries only its own change, so once one is lost (its own
// error, or its batch's) the store is behind what memory assumed, and the
// later ones, already queued, must not land on top either (a COMMITTED
// header over a branch still TRIED): the chain breaks, they fail without
// running, and the GT is reloaded from the store. Set on the store's
// threads, read there and by the engine: atomic.
struct WriteChain {
  std::atomic<bool> broken{false};
};

struct ActiveTransaction {
  GlobalTransaction gt;
  // This copy's writes; a reloaded copy starts a new chain.
  std::shared_ptr<WriteChain> writes = std::make_shared<WriteChain>();
  std::vector<bool> in_flight;  // Per branch: a call is outstanding.
  // Per branch: the next call was asked for by an operator (RetryNow) and
  // waits for the connection instead of failing fast.
  std::vector<bool> operator_retry;
  // Per branch: when its retry state (attempts, last error, next retry)
  // last went to the store. A failed Confirm / Cancel is written at the
  // branch's first failure and then at most once per interval (see
  // EngineOptions::retry_state_write_interval); memory is ahead meanwhile.
  std::vector<int64_t> retry_state_written_ms;
  // Per branch: a Confirm / Cancel success applied here but not yet sent
  // to the store, with its timeline events. The GT's next write takes them
  // along (usually the final state's, so a 3-branch GT's outcome is one
  // write, not four). Losing them in a crash loses nothing: recovery asks
  // those branches again, and Confirm / Cancel are idempotent.
  std::vector<bool> unwritten;
  std::vector<TimelineEvent> unwritten_events;
  int64_t drive_at_ms = std::numeric_limits<int64_t>::max();  // Earliest scheduled Drive.
  bool querying = false;                                      // A back-query is outstanding.
  BackQueryProgress back_query;
  bool stuck_recorded = false;  // The timeline already says "stuck".
  // A saga's COMPENSATING is written but not durable yet: no compensation
  // may be sent before it is (a lost write would bring the saga back
  // RUNNING, and a repeated action would then find its effect undone).
  bool compensation_pending = false;
  // Saga submitters waiting for the final state.
  std::vector<std::function<void(const GlobalTransaction&)>> waiters;

  // Sizes the per-branch flags to the branch count (after branches were
  // added or the GT was loaded); a branch new here counts as written at
  // `now_ms` (it was just loaded or registered).
  void FitFlags(int64_t now_ms) {
    in_flight.resize(gt.branches.size(), false);
    operator_retry.resize(gt.branches.size(), false);
    retry_state_written_ms.resize(gt.branches.size(), now_ms);
    unwritten.resize(gt.branches.size(), false);
  }
  // Adds the branches waiting in `unwritten` to `changed` (once each) and
  // their events before `events`, and clears both: a write takes them along.
  void TakeUnwritten(std::vector<size_t>& changed, std::vector<TimelineEvent>& events) {
    for (size_t i = 0; i < unwritten.size(); ++i) {
      if (!unwritten[i]) continue;
      unwritten[i] = false;
      if (std::find(changed.begin(), changed.end(), i) == changed.end()) changed.push_back(i);
    }
    if (unwritten_events.empty()) return;
    events.insert(events.begin(), std::make_move_iterator(unwritten_events.begin()),
                  std::make_move_iterator(unwritten_events.end()));
    unwritten_events.clear();
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
