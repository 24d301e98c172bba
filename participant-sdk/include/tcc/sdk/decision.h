// The initiator's decision table and the two operations that race on it:
// the local commit of a global transaction (the caller's writes plus the row
// (gid, 'committed'), in one local transaction) and the fence taken by a
// back-query (the row (gid, 'rolled_back') when no decision row exists).
// Both insert under the same unique key on gid, so exactly one of them wins:
// a slow initiator can never commit locally after the coordinator was told
// the transaction rolled back.
//
// InitiatorClient::CommitWithLocalTransaction and StatusEndpoint use these;
// call them directly to drive the protocol some other way.
//
// Pruning (PruneDecisions, run in the background by StatusEndpoint, which
// owns the decision table: CommitWithLocalTransaction requires one). A
// decision row must be kept at least as long as the coordinator can still
// ask about its gid: the coordinator back-queries only an unfinished
// transaction, and deletes finished ones after its retention (tccd
// --retention_s, 7 days by default), so the SDK's retention must be at least
// tccd's (the default is equal: kDefaultRetention). Rows go by age alone,
// 'committed' and 'rolled_back' alike. Pruned too early (a shorter
// retention, or a back-query still being retried after the endpoint was
// unreachable for longer than the retention), a committed gid would be
// fenced and answered ROLLED_BACK although its local writes committed, a
// fenced gid's late CommitLocally would commit locally after the
// coordinator rolled it back, and a retried CommitLocally would run fn
// again. So don't.
//
// Thread-safety: safe from many threads and processes on one database file.
#pragma once

#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tcc/sdk/hooks.h"
#include "tcc/sdk/local_db.h"
#include "tcc/sdk/pruning.h"

namespace tcc::sdk {

// Creates the decision table and its index by age if missing (upgrading a
// table made before pruning existed). The functions below do it too.
absl::Status CreateDecisionTable(Database& db);

// Deletes the decision rows older than now - options.retention, oldest
// first, in local transactions of at most options.batch rows each, and
// returns how many went. Retention zero deletes nothing. options.interval,
// clock and on_pass are not used here.
absl::StatusOr<int64_t> PruneDecisions(Database& db, absl::Time now,
                                       const PruningOptions& options = {});

enum class LocalCommit {
  // fn ran, and its writes committed together with the decision row.
  kCommitted,
  // An earlier call already committed this gid locally: fn did not run.
  kAlreadyCommitted,
};

// Runs fn and inserts (gid, 'committed') in one local transaction. When the
// back-query fenced the gid first, rolls everything back and returns
// FAILED_PRECONDITION "transaction <gid> was rolled back by the
// coordinator's back-query; local changes discarded". When fn fails, its
// status is returned and nothing is written. Hook points:
// kHookBeforeLocalTransaction, kHookBeforeLocalCommit.
absl::StatusOr<LocalCommit> CommitLocally(Database& db, std::string_view gid,
                                          absl::FunctionRef<absl::Status(LocalTx&)> fn,
                                          const HookRegistry* hooks = nullptr);

enum class LocalDecision { kCommitted, kRolledBack };

// The back-query's answer: kCommitted when the decision row says so;
// otherwise records (gid, 'rolled_back') if absent and answers kRolledBack.
// Hook point: kHookBeforeFence.
absl::StatusOr<LocalDecision> FenceOrReadDecision(Database& db, std::string_view gid,
                                                  const HookRegistry* hooks = nullptr);

}  // namespace tcc::sdk
