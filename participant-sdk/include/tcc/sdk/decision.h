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
// Thread-safety: safe from many threads and processes on one database file.
#pragma once

#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tcc/sdk/hooks.h"
#include "tcc/sdk/local_db.h"

namespace tcc::sdk {

// Creates the decision table if missing. The functions below do it too.
absl::Status CreateDecisionTable(Database& db);

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
