// The TCC state machine of DESIGN.md as pure functions over a
// GlobalTransaction: which transitions are allowed, which branch needs which
// call, and how call results change branch and GT state. No I/O, no locks:
// the engine calls these under its own lock and persists what changed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coordinator/domain/transaction.h"
#include "coordinator/domain/validation.h"

namespace tcc {

// What a participant call came back with, transport-neutral.
enum class CallOutcome {
  kSuccess,
  kRefused,  // Business refusal (Try only).
  kUnknown,  // Transport error or timeout: the participant may or may not have acted.
};

struct CallResult {
  CallOutcome outcome = CallOutcome::kUnknown;
  std::string detail;  // Refusal reason or error text.
};

enum class Decision { kCommit, kRollback };

enum class DecisionCheck {
  kApply,           // Move to COMMITTING / ROLLING_BACK now.
  kAlreadyDecided,  // The same decision was made before: idempotent success.
};

// Whether `decision` may be taken on `gt`. FAILED_PRECONDITION for the
// opposite decision on a decided GT and for a Commit with a branch whose Try
// did not succeed.
absl::StatusOr<DecisionCheck> CheckDecision(const GlobalTransaction& gt, Decision decision);

// Try is only allowed while the GT is TRYING.
absl::Status CheckTryAllowed(const GlobalTransaction& gt);

// The result of registering a Try request's branches on a GT.
struct TryPlan {
  // Index into gt.branches of every requested branch, in request order.
  std::vector<size_t> requested;
  // Indexes of branches newly appended to gt.branches (must be persisted).
  std::vector<size_t> added;
  // Indexes whose participant Try must be called (new, or outcome unknown).
  std::vector<size_t> to_call;
};

// Registers `requested` branches on `gt`. An unnamed branch gets the id
// "b<N>": N starts at its 1-based position in the GT and goes up past every
// id already registered or given in the request, so a generated id never
// collides with a given one. A branch id already present must carry the
// same target, action, payload and headers (ALREADY_EXISTS otherwise); an
// id listed twice in one request is INVALID_ARGUMENT. On error `gt` is
// unchanged.
absl::StatusOr<TryPlan> PlanTry(GlobalTransaction& gt, std::vector<Branch> requested,
                                const Limits& limits);

// The call a branch still needs given the GT's state, if any.
std::optional<Phase> PendingPhase(TxState tx_state, BranchState branch_state);

// Applies a Try result to a REGISTERED branch.
void ApplyTryResult(Branch& branch, const CallResult& result);

// Applies a Confirm/Cancel result. On failure schedules the next attempt at
// `retry_at_ms`.
void ApplyPhaseResult(Branch& branch, Phase phase, const CallResult& result, int64_t retry_at_ms);

// COMMITTED / ROLLED_BACK once every branch reached its end for the
// decision the GT is driving; nullopt while work remains.
std::optional<TxState> FinalStateIfDone(const GlobalTransaction& gt);

struct StuckThreshold {
  uint32_t attempts = 10;
  int64_t age_ms = 5 * 60 * 1000;
};

// A GT is stuck once a branch failed `attempts` times in a row or the GT is
// older than `age_ms` without being final.
bool IsStuck(const GlobalTransaction& gt, const StuckThreshold& threshold, int64_t now_ms);

}  // namespace tcc
