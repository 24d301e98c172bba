// The participant barrier: makes Try, Confirm and Cancel safe against
// duplicate, concurrent and out-of-order delivery, by recording each phase of
// each branch in a table of the participant's own database, keyed UNIQUE on
// (gid, branch_id, op), in the same local transaction as the handler's
// business writes.
//
//   - A duplicate delivery runs no handler and gets the first answer
//     (including a refusal and its reason).
//   - Cancel with no Try before it succeeds without running the Cancel
//     handler ("empty compensation") and takes the Try slot, so that a late
//     Try is refused ("anti-hanging").
//   - Concurrent duplicates are decided by the unique key (INSERT ... ON
//     CONFLICT DO NOTHING, then the changed-row count), never by a lock in
//     this process.
//   - A handler that returns an error rolls back its writes and the barrier
//     row, so the coordinator's retry runs it again.
//   - A Try refusal discards the Try handler's writes and is stored; a later
//     Cancel of that branch is then an empty compensation too.
//   - Confirm needs a successful Try on record (the coordinator confirms only
//     after every Try succeeded). Without one (no Try row, a refused Try, or
//     a Cancel already done) Confirm fails with FAILED_PRECONDITION and
//     records nothing: confirming nothing would silently lose the business
//     effect, whereas an error keeps the branch retried and visible to the
//     operator as stuck. Cancel after a Confirm fails the same way.
//
// ParticipantServer calls these functions for you; use them directly only to
// serve the protocol some other way (a message queue, another RPC stack).
//
// Thread-safety: every function may be called from many threads, and from
// many processes on the same database file, at once.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tcc/sdk/local_db.h"
#include "tcc/v1/participant.pb.h"

namespace tcc::sdk {

using BranchRequest = ::tcc::v1::BranchRequest;

// What a Try handler decided when it did not fail.
class TryOutcome {
 public:
  // The resources are reserved: the branch may be confirmed.
  static TryOutcome Reserved() { return TryOutcome(false, ""); }
  // Business refusal (e.g. not enough points): the global transaction must
  // roll back. The reason is shown to the initiator and the operator.
  static TryOutcome Refused(std::string reason) { return TryOutcome(true, std::move(reason)); }

  bool refused() const { return refused_; }
  const std::string& reason() const { return reason_; }

 private:
  TryOutcome(bool refused, std::string reason) : refused_(refused), reason_(std::move(reason)) {}
  bool refused_;
  std::string reason_;
};

// A Try handler returns an outcome, or a non-OK status for a retryable
// failure (the coordinator then sees "outcome unknown").
using TryResult = absl::StatusOr<TryOutcome>;
using TryHandler = std::function<TryResult(LocalTx& tx, const BranchRequest& request)>;
// Confirm and Cancel cannot refuse: they succeed or fail transiently, and the
// coordinator retries them until they succeed.
using PhaseHandler = std::function<absl::Status(LocalTx& tx, const BranchRequest& request)>;

// The three handlers of one action. Each writes only through `tx`.
struct ActionHandlers {
  TryHandler on_try;
  PhaseHandler on_confirm;
  PhaseHandler on_cancel;
};

// A saga step's handlers: the coordinator sends the step's action as Try
// and its compensation as Cancel, and never sends Confirm, so the barrier
// gives a saga the same guarantees (a compensation with no action before it
// is empty and blocks the late action; duplicates have one effect). The
// action may refuse (TryOutcome::Refused) to make the saga compensate.
ActionHandlers SagaStepHandlers(TryHandler action, PhaseHandler compensation);

// The answer to one delivery of one phase.
struct BarrierAnswer {
  bool refused = false;
  std::string reason;
  // Answered from a stored earlier result: no handler ran.
  bool duplicate = false;
};

// The reason stored for a Try refused because its Cancel came first.
inline constexpr char kCancelledBeforeTryReason[] =
    "branch was cancelled before its try arrived (anti-hanging)";

// Creates the barrier table if it does not exist. Idempotent.
absl::Status CreateBarrierTable(Database& db);

absl::StatusOr<BarrierAnswer> RunTry(Database& db, const BranchRequest& request,
                                     const TryHandler& handler);
absl::StatusOr<BarrierAnswer> RunConfirm(Database& db, const BranchRequest& request,
                                         const PhaseHandler& handler);
absl::StatusOr<BarrierAnswer> RunCancel(Database& db, const BranchRequest& request,
                                        const PhaseHandler& handler);

}  // namespace tcc::sdk
