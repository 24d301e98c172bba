// Decision rows: (gid PRIMARY KEY, decision). The local commit inserts
// 'committed', the fence inserts 'rolled_back', both with ON CONFLICT DO
// NOTHING, so the database's unique key (not timing, not a lock in this
// process) decides which one happened first.
#include "tcc/sdk/decision.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "participant-sdk/src/absl_compat.h"
#include "participant-sdk/src/ids.h"
#include "participant-sdk/src/pruner.h"
#include "tcc/common/status_macros.h"

namespace tcc::sdk {
namespace {

constexpr char kCommitted[] = "committed";
constexpr char kRolledBack[] = "rolled_back";

constexpr char kCreateDecisionTable[] =
    "CREATE TABLE IF NOT EXISTS tcc_decision ("
    " gid TEXT NOT NULL PRIMARY KEY,"
    " decision TEXT NOT NULL,"
    " created_unix_ms BIGINT NOT NULL)";
// Pruning deletes the oldest rows first. Created on every start, so a
// database made before pruning existed gains it in place.
constexpr char kCreateDecisionAgeIndex[] =
    "CREATE INDEX IF NOT EXISTS tcc_decision_by_age ON tcc_decision (created_unix_ms)";
constexpr char kDeleteOldest[] =
    "DELETE FROM tcc_decision WHERE gid IN (SELECT gid FROM tcc_decision"
    " WHERE created_unix_ms < ? ORDER BY created_unix_ms LIMIT ?)";

absl::StatusOr<bool> InsertDecision(LocalTx& tx, std::string_view gid, const char* decision) {
  TCC_RETURN_IF_ERROR(tx.Exec(kCreateDecisionTable).status());
  TCC_ASSIGN_OR_RETURN(int64_t changed,
                       tx.Exec("INSERT INTO tcc_decision (gid, decision, created_unix_ms)"
                               " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                               {gid, decision, absl::ToUnixMillis(absl::Now())}));
  return changed == 1;
}

absl::StatusOr<std::string> ReadDecision(LocalTx& tx, std::string_view gid) {
  TCC_ASSIGN_OR_RETURN(std::vector<Row> rows,
                       tx.Query("SELECT decision FROM tcc_decision WHERE gid = ?", {gid}));
  if (rows.empty()) {
    return absl::InternalError(absl::StrCat("decision row of ", internal::ToAbsl(gid),
                                            " vanished inside its transaction"));
  }
  return rows[0][0].AsText();
}

absl::Status FencedError(std::string_view gid) {
  return absl::FailedPreconditionError(
      absl::StrCat("transaction ", internal::ToAbsl(gid),
                   " was rolled back by the coordinator's back-query; local changes discarded"));
}

absl::StatusOr<LocalCommit> CommitInTx(LocalTx& tx, std::string_view gid,
                                       absl::FunctionRef<absl::Status(LocalTx&)> fn,
                                       const HookRegistry* hooks) {
  // The decision row goes first: a fenced gid fails before fn does any work.
  TCC_ASSIGN_OR_RETURN(bool first, InsertDecision(tx, gid, kCommitted));
  if (!first) {
    TCC_ASSIGN_OR_RETURN(std::string decision, ReadDecision(tx, gid));
    if (decision != kCommitted) return FencedError(gid);
    return LocalCommit::kAlreadyCommitted;
  }
  TCC_RETURN_IF_ERROR(fn(tx));
  TCC_RETURN_IF_ERROR(RunHook(hooks, kHookBeforeLocalCommit, gid));
  return LocalCommit::kCommitted;
}

}  // namespace

absl::Status CreateDecisionTable(Database& db) {
  return db.RunInTransaction([](LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(tx.Exec(kCreateDecisionTable).status());
    return tx.Exec(kCreateDecisionAgeIndex).status();
  });
}

namespace internal {

absl::StatusOr<PruneBatchResult> PruneDecisionBatch(Database& db, absl::Time cutoff, int limit) {
  int64_t deleted = 0;
  TCC_RETURN_IF_ERROR(db.RunInTransaction([&](LocalTx& tx) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(deleted,
                         tx.Exec(kDeleteOldest, {absl::ToUnixMillis(cutoff), int64_t{limit}}));
    return absl::OkStatus();
  }));
  return PruneBatchResult{.rows = deleted, .full = deleted == limit};
}

}  // namespace internal

absl::StatusOr<int64_t> PruneDecisions(Database& db, absl::Time now,
                                       const PruningOptions& options) {
  TCC_RETURN_IF_ERROR(internal::ValidatePruningOptions(options));
  if (options.retention == absl::ZeroDuration()) return 0;
  TCC_RETURN_IF_ERROR(CreateDecisionTable(db));
  return internal::RunPrunePass(
      options, now,
      [&db](absl::Time cutoff, int limit) {
        return internal::PruneDecisionBatch(db, cutoff, limit);
      },
      [] { return false; });
}

absl::StatusOr<LocalCommit> CommitLocally(Database& db, std::string_view gid,
                                          absl::FunctionRef<absl::Status(LocalTx&)> fn,
                                          const HookRegistry* hooks) {
  TCC_RETURN_IF_ERROR(internal::ValidateGid(gid));
  TCC_RETURN_IF_ERROR(RunHook(hooks, kHookBeforeLocalTransaction, gid));
  LocalCommit result = LocalCommit::kCommitted;
  TCC_RETURN_IF_ERROR(db.RunInTransaction([&](LocalTx& tx) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(result, CommitInTx(tx, gid, fn, hooks));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<LocalDecision> FenceOrReadDecision(Database& db, std::string_view gid,
                                                  const HookRegistry* hooks) {
  TCC_RETURN_IF_ERROR(internal::ValidateGid(gid));
  TCC_RETURN_IF_ERROR(RunHook(hooks, kHookBeforeFence, gid));
  std::string decision;
  TCC_RETURN_IF_ERROR(db.RunInTransaction([&](LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(InsertDecision(tx, gid, kRolledBack).status());
    TCC_ASSIGN_OR_RETURN(decision, ReadDecision(tx, gid));
    return absl::OkStatus();
  }));
  return decision == kCommitted ? LocalDecision::kCommitted : LocalDecision::kRolledBack;
}

}  // namespace tcc::sdk
