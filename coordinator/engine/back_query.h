// What the answer to a back-query means for a GT that timed out while
// TRYING: decide it the way the initiator says, or ask again later (an
// unreachable endpoint, or a COMMITTED answer that the branches cannot
// honour). Never a guess. And what an operator sees of a failing
// back-query: its attempts, last error and next retry, kept per GT like a
// branch's (in memory only: see BackQueryProgress). Pure: no I/O, no locks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "coordinator/domain/state_machine.h"
#include "coordinator/transport/participant_transport.h"

namespace tcc {

struct BackQueryVerdict {
  std::optional<Decision> decision;  // Set: decide now, for `reason`.
  std::string reason;
  absl::Status ask_again_because;  // Not OK: no decision; ask again.
};

BackQueryVerdict JudgeBackQuery(const GlobalTransaction& gt,
                                const absl::StatusOr<InitiatorAnswer>& answer);

// The back-queries of one GT past its deadline. Kept in the engine's memory
// only, not in the store: unlike a branch's attempts they decide nothing
// after a restart (a restarted engine asks at once, the deadline having
// passed), and the timeline, which is stored, records when they start
// failing and when they recover.
struct BackQueryProgress {
  uint32_t attempts = 0;        // Back-queries sent, the one in flight included.
  uint32_t failures = 0;        // Of which failed, in a row: drives the backoff.
  std::string last_error;       // Of the last failed one; empty once one answered.
  int64_t last_attempt_ms = 0;  // When the last one was sent (Unix ms).
  int64_t next_retry_ms = 0;    // When the next one is due; 0: none scheduled.
  // The next one was asked for by an operator (RetryNow): it waits for the
  // connection instead of failing fast.
  bool operator_retry = false;

  bool failing() const { return failures > 0; }
  void Sent(int64_t now_ms);
  void Failed(const absl::Status& why, int64_t next_retry_ms);
};

// One status endpoint whose back-queries are failing, for the operator's
// stats beside the participants.
struct FailingEndpoint {
  std::string endpoint;
  uint32_t transactions = 0;     // GTs whose back-query to it is failing.
  uint64_t failed_attempts = 0;  // Their failed back-queries, summed.
  std::string last_error;        // The most recent one.
  int64_t last_attempt_ms = 0;
};

// Adds one GT's failing back-query to the per-endpoint totals.
using FailingEndpoints = absl::flat_hash_map<std::string, FailingEndpoint>;
void CountFailingEndpoint(const std::string& endpoint, const BackQueryProgress& progress,
                          FailingEndpoints& endpoints);

}  // namespace tcc
