// What the engine reports as it works, for metrics: transactions started
// and finished, participant calls and back-queries with their latency
// (measured on the engine's injected Clock). The engine knows nothing of
// Prometheus or HTTP; tccd's daemon implements this with its metrics
// registry, tests with plain counters. The default does nothing.
//
// Called from store-completion, transport and timer threads, never with
// the engine's lock held; implementations must be thread-safe and cheap
// (they sit on the request path) and must not call into the engine.
#pragma once

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coordinator/domain/state_machine.h"
#include "coordinator/domain/transaction.h"

namespace tcc {

// How a back-query to an initiator's status endpoint ended.
enum class BackQueryOutcome { kCommitted, kRolledBack, kFailed };

class EngineObserver {
 public:
  virtual ~EngineObserver() = default;

  // A new GT is durable (not a Begin or saga replayed on an existing gid).
  virtual void TransactionStarted(TxMode mode) {}
  // A GT's final state is durable; `age` runs from its creation.
  virtual void TransactionFinished(TxMode mode, TxState final_state, absl::Duration age) {}
  // A participant call answered (saga actions are kTry, compensations
  // kCancel).
  virtual void ParticipantCallFinished(Phase phase, CallOutcome outcome, absl::Duration latency) {}
  virtual void BackQueryFinished(BackQueryOutcome outcome, absl::Duration latency) {}
  // Several coordinators on one store: this instance took over `count` GTs
  // of dead or departed instances (a takeover pass), or claimed one GT
  // that a request about it brought here (a decision at a non-owner).
  virtual void TransactionsTakenOver(size_t count) {}
  virtual void TransactionClaimed() {}
  // A write was refused by the fence: another instance owns the GT now,
  // and this one dropped it.
  virtual void WriteFenced() {}
};

// What retention reports after each batch, for metrics. Called on
// retention's threads (its scheduler's, the store queue's completer); the
// same rules as for EngineObserver. The default does nothing.
class RetentionObserver {
 public:
  virtual ~RetentionObserver() = default;

  // A batch ended: `deleted` GTs went (after `archived` were archived), or
  // it failed with `status` and deleted nothing.
  virtual void RetentionBatchFinished(size_t deleted, size_t archived, const absl::Status& status) {
  }
};

}  // namespace tcc
