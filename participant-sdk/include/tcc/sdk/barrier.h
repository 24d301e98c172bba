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
// Pruning (PruneBarrier, run in the background by ParticipantServer). The
// rule: the coordinator sends nothing for a transaction once it is final and
// the deadline of its last call has passed, and it deletes finished
// transactions after its own retention (tccd --retention_s, 7 days by
// default). A barrier row is therefore safe to delete once it is older than
// the coordinator's retention plus the longest call deadline, and the SDK's
// retention must be at least tccd's --retention_s (the default is equal:
// kDefaultRetention; call deadlines are seconds). Rows go a whole branch at
// a time, once the branch's newest row is older than the retention, so a
// branch with a recent delivery keeps every row and a branch is never half
// forgotten. The barrier cannot tell a Try still awaiting its Confirm or
// Cancel from a finished saga step (which never gets either), so a branch
// whose only row is its Try goes by age alone too: the rule assumes a
// transaction ends within the retention of its last delivery here.
//
// A forgotten branch looks never delivered. Pruned too early (a retention
// shorter than tccd's, or a transaction still unfinished, e.g. this
// participant was unreachable for longer than the retention while the
// coordinator retried its Confirm), a late duplicate Cancel would look like
// an empty compensation and release nothing, a late Try after a pruned
// Cancel would no longer be refused and would reserve what nobody releases,
// and a late Confirm would fail with FAILED_PRECONDITION. So don't: keep the
// retention >= tccd's, and at 0 (keep everything) when bringing back a
// participant after such an outage, until the coordinator shows no
// unfinished transaction for it.
//
// Thread-safety: every function may be called from many threads, and from
// many processes on the same database file, at once.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tcc/sdk/local_db.h"
#include "tcc/sdk/pruning.h"
#include "tcc/v1/participant.pb.h"

namespace tcc::sdk {

using BranchRequest = ::tcc::v1::BranchRequest;

// The header under which a handler finds the GT's W3C trace context (what
// the initiator sent with Begin; see InitiatorClient's BeginParams), e.g.
// to forward it on its own outgoing calls:
// request.headers().find(tcc::sdk::kTraceparentHeader). ParticipantServer
// copies it there from the coordinator's gRPC metadata of the same name.
inline constexpr char kTraceparentHeader[] = "traceparent";

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
  // A Cancel with no Try on record: recorded, nothing undone.
  bool empty_compensation = false;
  // A Try refused because its Cancel came first (also `duplicate`: the
  // answer is the refusal the Cancel stored).
  bool late_try_blocked = false;
};

// The reason stored for a Try refused because its Cancel came first.
inline constexpr char kCancelledBeforeTryReason[] =
    "branch was cancelled before its try arrived (anti-hanging)";

// Creates the barrier table and its index by age if they do not exist
// (upgrading a table made before pruning existed). Idempotent.
absl::Status CreateBarrierTable(Database& db);

// Deletes the rows of every branch whose newest row is older than
// now - options.retention, oldest first, in local transactions of
// options.batch rows each plus the rest of their branches (at most three
// times that; the next one starts as soon as one commits), and returns how
// many rows went. Creates the table if missing. Retention zero deletes
// nothing. options.interval, clock and on_pass are not used here.
absl::StatusOr<int64_t> PruneBarrier(Database& db, absl::Time now,
                                     const PruningOptions& options = {});

absl::StatusOr<BarrierAnswer> RunTry(Database& db, const BranchRequest& request,
                                     const TryHandler& handler);
absl::StatusOr<BarrierAnswer> RunConfirm(Database& db, const BranchRequest& request,
                                         const PhaseHandler& handler);
absl::StatusOr<BarrierAnswer> RunCancel(Database& db, const BranchRequest& request,
                                        const PhaseHandler& handler);

}  // namespace tcc::sdk
