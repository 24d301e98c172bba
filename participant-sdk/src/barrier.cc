// Barrier rows: one per (gid, branch_id, op), holding the first answer.
// Every function below runs in one local transaction with the handler, so a
// barrier row exists exactly when the handler's writes were committed.
#include "tcc/sdk/barrier.h"

#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "participant-sdk/src/absl_compat.h"
#include "participant-sdk/src/ids.h"
#include "participant-sdk/src/pruner.h"
#include "tcc/common/status_macros.h"

namespace tcc::sdk {
namespace {

constexpr char kTry[] = "try";
constexpr char kConfirm[] = "confirm";
constexpr char kCancel[] = "cancel";
constexpr char kSuccess[] = "success";
constexpr char kRefused[] = "refused";
// The Try slot taken by a Cancel that came first; read back as a refusal.
constexpr char kCancelledBeforeTry[] = "cancelled_before_try";

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS tcc_barrier ("
    " gid TEXT NOT NULL,"
    " branch_id TEXT NOT NULL,"
    " op TEXT NOT NULL,"
    " outcome TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " created_unix_ms BIGINT NOT NULL,"
    " PRIMARY KEY (gid, branch_id, op))";
// Pruning walks rows oldest first. Created on every start, so a database
// made before pruning existed gains it in place (once; it takes the write
// lock while it is built).
constexpr char kCreateAgeIndex[] =
    "CREATE INDEX IF NOT EXISTS tcc_barrier_by_age ON tcc_barrier (created_unix_ms)";

// The oldest rows of branches whose every row is older than the cutoff: a
// branch with a recent delivery keeps all its rows, so a branch is always
// either fully remembered or fully forgotten.
constexpr char kSelectPrunable[] =
    "SELECT b.gid, b.branch_id FROM tcc_barrier AS b"
    " WHERE b.created_unix_ms < ? AND NOT EXISTS ("
    " SELECT 1 FROM tcc_barrier AS y WHERE y.gid = b.gid AND y.branch_id = b.branch_id"
    " AND y.created_unix_ms >= ?)"
    " ORDER BY b.created_unix_ms LIMIT ?";

// The unique key decides which delivery is first: exactly one concurrent
// INSERT changes a row, whatever the interleaving.
absl::StatusOr<bool> InsertSlot(LocalTx& tx, const BranchRequest& r, const char* op,
                                const char* outcome, std::string_view reason) {
  TCC_ASSIGN_OR_RETURN(
      int64_t changed,
      tx.Exec("INSERT INTO tcc_barrier (gid, branch_id, op, outcome, reason,"
              " created_unix_ms) VALUES (?, ?, ?, ?, ?, ?)"
              " ON CONFLICT DO NOTHING",
              {r.gid(), r.branch_id(), op, outcome, reason, absl::ToUnixMillis(absl::Now())}));
  return changed == 1;
}

// The stored answer of one slot, if the slot is taken.
absl::StatusOr<std::optional<BarrierAnswer>> ReadSlot(LocalTx& tx, const BranchRequest& r,
                                                      const char* op) {
  TCC_ASSIGN_OR_RETURN(std::vector<Row> rows,
                       tx.Query("SELECT outcome, reason FROM tcc_barrier"
                                " WHERE gid = ? AND branch_id = ? AND op = ?",
                                {r.gid(), r.branch_id(), op}));
  if (rows.empty()) return std::nullopt;
  BarrierAnswer answer;
  answer.refused = rows[0][0].AsText() != kSuccess;
  answer.reason = rows[0][1].AsText();
  answer.duplicate = true;
  return answer;
}

absl::StatusOr<BarrierAnswer> ReadTakenSlot(LocalTx& tx, const BranchRequest& r, const char* op) {
  TCC_ASSIGN_OR_RETURN(std::optional<BarrierAnswer> answer, ReadSlot(tx, r, op));
  if (!answer.has_value()) {
    return absl::InternalError(absl::StrCat("barrier row ", r.gid(), "/", r.branch_id(), "/", op,
                                            " vanished inside its transaction"));
  }
  return *answer;
}

absl::Status Validate(const BranchRequest& r) {
  TCC_RETURN_IF_ERROR(internal::ValidateGid(r.gid()));
  return internal::ValidateBranchId(r.branch_id());
}

std::string BranchName(const BranchRequest& r) {
  return absl::StrCat("branch ", r.gid(), "/", r.branch_id(), " (action ", r.action(), ")");
}

// Runs the Try handler inside a savepoint, so that a refusal keeps the
// barrier row but none of the handler's writes.
absl::StatusOr<BarrierAnswer> TryFirstDelivery(LocalTx& tx, const BranchRequest& r,
                                               const TryHandler& handler) {
  TCC_RETURN_IF_ERROR(tx.Exec("SAVEPOINT tcc_try").status());
  TCC_ASSIGN_OR_RETURN(TryOutcome outcome, handler(tx, r));
  if (!outcome.refused()) {
    TCC_RETURN_IF_ERROR(tx.Exec("RELEASE SAVEPOINT tcc_try").status());
    return BarrierAnswer{};
  }
  TCC_RETURN_IF_ERROR(tx.Exec("ROLLBACK TO SAVEPOINT tcc_try").status());
  TCC_RETURN_IF_ERROR(tx.Exec("RELEASE SAVEPOINT tcc_try").status());
  TCC_RETURN_IF_ERROR(tx.Exec("UPDATE tcc_barrier SET outcome = ?, reason = ?"
                              " WHERE gid = ? AND branch_id = ? AND op = ?",
                              {kRefused, outcome.reason(), r.gid(), r.branch_id(), kTry})
                          .status());
  return BarrierAnswer{.refused = true, .reason = outcome.reason()};
}

absl::StatusOr<BarrierAnswer> TryInTx(LocalTx& tx, const BranchRequest& r,
                                      const TryHandler& handler) {
  TCC_ASSIGN_OR_RETURN(bool first, InsertSlot(tx, r, kTry, kSuccess, ""));
  if (first) return TryFirstDelivery(tx, r, handler);
  TCC_ASSIGN_OR_RETURN(BarrierAnswer answer, ReadTakenSlot(tx, r, kTry));
  answer.late_try_blocked = answer.refused && answer.reason == kCancelledBeforeTryReason;
  return answer;
}

absl::StatusOr<bool> TriedSuccessfully(LocalTx& tx, const BranchRequest& r) {
  TCC_ASSIGN_OR_RETURN(std::optional<BarrierAnswer> tried, ReadSlot(tx, r, kTry));
  return tried.has_value() && !tried->refused;
}

absl::Status RejectIfTaken(LocalTx& tx, const BranchRequest& r, const char* op,
                           std::string_view why) {
  TCC_ASSIGN_OR_RETURN(std::optional<BarrierAnswer> other, ReadSlot(tx, r, op));
  if (!other.has_value()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(BranchName(r), ": ", internal::ToAbsl(why)));
}

absl::StatusOr<BarrierAnswer> ConfirmInTx(LocalTx& tx, const BranchRequest& r,
                                          const PhaseHandler& handler) {
  TCC_ASSIGN_OR_RETURN(bool first, InsertSlot(tx, r, kConfirm, kSuccess, ""));
  if (!first) return ReadTakenSlot(tx, r, kConfirm);
  TCC_RETURN_IF_ERROR(RejectIfTaken(tx, r, kCancel, "confirm after cancel"));
  TCC_ASSIGN_OR_RETURN(bool tried, TriedSuccessfully(tx, r));
  if (!tried) {
    // Rolls back the confirm row too: nothing is recorded, so the branch
    // stays retried (and stuck, for an operator) rather than confirmed empty.
    return absl::FailedPreconditionError(
        absl::StrCat(BranchName(r), ": confirm without a successful try on record"));
  }
  TCC_RETURN_IF_ERROR(handler(tx, r));
  return BarrierAnswer{};
}

absl::StatusOr<BarrierAnswer> CancelInTx(LocalTx& tx, const BranchRequest& r,
                                         const PhaseHandler& handler) {
  TCC_ASSIGN_OR_RETURN(bool first, InsertSlot(tx, r, kCancel, kSuccess, ""));
  if (!first) return ReadTakenSlot(tx, r, kCancel);
  TCC_RETURN_IF_ERROR(RejectIfTaken(tx, r, kConfirm, "cancel after confirm"));
  // Taking the Try slot makes a late Try find a stored refusal.
  TCC_ASSIGN_OR_RETURN(bool try_missing,
                       InsertSlot(tx, r, kTry, kCancelledBeforeTry, kCancelledBeforeTryReason));
  if (try_missing) return BarrierAnswer{.empty_compensation = true};
  TCC_ASSIGN_OR_RETURN(bool tried, TriedSuccessfully(tx, r));
  // A refused Try reserved nothing: empty compensation.
  if (tried) TCC_RETURN_IF_ERROR(handler(tx, r));
  return BarrierAnswer{};
}

template <typename Handler, typename Body>
absl::StatusOr<BarrierAnswer> RunPhase(Database& db, const BranchRequest& r, const Handler& handler,
                                       Body body) {
  TCC_RETURN_IF_ERROR(Validate(r));
  if (!handler) {
    return absl::FailedPreconditionError(absl::StrCat(BranchName(r), ": no handler registered"));
  }
  BarrierAnswer answer;
  TCC_RETURN_IF_ERROR(db.RunInTransaction([&](LocalTx& tx) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(answer, body(tx, r, handler));
    return absl::OkStatus();
  }));
  return answer;
}

using Branch = std::pair<std::string, std::string>;

absl::StatusOr<internal::PruneBatchResult> PruneInTx(LocalTx& tx, int64_t cutoff_ms, int limit) {
  TCC_ASSIGN_OR_RETURN(std::vector<Row> rows,
                       tx.Query(kSelectPrunable, {cutoff_ms, cutoff_ms, int64_t{limit}}));
  std::set<Branch> branches;
  for (const Row& row : rows) branches.emplace(row[0].AsText(), row[1].AsText());
  internal::PruneBatchResult result{.full = rows.size() == static_cast<size_t>(limit)};
  for (const auto& [gid, branch_id] : branches) {
    TCC_ASSIGN_OR_RETURN(
        int64_t deleted,
        tx.Exec("DELETE FROM tcc_barrier WHERE gid = ? AND branch_id = ?", {gid, branch_id}));
    result.rows += deleted;
  }
  return result;
}

}  // namespace

absl::Status CreateBarrierTable(Database& db) {
  return db.RunInTransaction([](LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(tx.Exec(kCreateTable).status());
    return tx.Exec(kCreateAgeIndex).status();
  });
}

namespace internal {

absl::StatusOr<PruneBatchResult> PruneBarrierBatch(Database& db, absl::Time cutoff, int limit) {
  PruneBatchResult result;
  TCC_RETURN_IF_ERROR(db.RunInTransaction([&](LocalTx& tx) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(result, PruneInTx(tx, absl::ToUnixMillis(cutoff), limit));
    return absl::OkStatus();
  }));
  return result;
}

}  // namespace internal

absl::StatusOr<int64_t> PruneBarrier(Database& db, absl::Time now, const PruningOptions& options) {
  TCC_RETURN_IF_ERROR(internal::ValidatePruningOptions(options));
  if (options.retention == absl::ZeroDuration()) return 0;
  TCC_RETURN_IF_ERROR(CreateBarrierTable(db));
  return internal::RunPrunePass(
      options, now,
      [&db](absl::Time cutoff, int limit) {
        return internal::PruneBarrierBatch(db, cutoff, limit);
      },
      [] { return false; });
}

absl::StatusOr<BarrierAnswer> RunTry(Database& db, const BranchRequest& request,
                                     const TryHandler& handler) {
  return RunPhase(db, request, handler, TryInTx);
}

absl::StatusOr<BarrierAnswer> RunConfirm(Database& db, const BranchRequest& request,
                                         const PhaseHandler& handler) {
  return RunPhase(db, request, handler, ConfirmInTx);
}

absl::StatusOr<BarrierAnswer> RunCancel(Database& db, const BranchRequest& request,
                                        const PhaseHandler& handler) {
  return RunPhase(db, request, handler, CancelInTx);
}

ActionHandlers SagaStepHandlers(TryHandler action, PhaseHandler compensation) {
  return {.on_try = std::move(action),
          .on_confirm =
              [](LocalTx&, const BranchRequest& request) {
                return absl::FailedPreconditionError(
                    absl::StrCat("branch ", request.branch_id(),
                                 " is a saga step; saga steps are never "
                                 "confirmed"));
              },
          .on_cancel = std::move(compensation)};
}

}  // namespace tcc::sdk
