// Where the engine sends its store work: an operation runs inside a store
// batch, and its completion runs once the batch is durable (or failed).
// This is the seam between the engine and group commit. The daemon uses the
// StoreQueue (a writer thread and a completion thread); the deterministic
// simulator (tests/sim) uses one that runs batches and completions as
// events of its own single-threaded schedule, so that it can crash the
// store between a batch and its completions.
//
// Contract for implementations: Submit never runs the operation or its
// completion inline (callers may hold their own locks while submitting);
// completions run in submission order, each only after its operation's
// batch committed or failed; when a batch fails, all its completions have
// run before any operation of a later batch runs (so a caller can stop its
// later, already queued operations from landing after a lost one).
// Implementations are thread-safe.
#pragma once

#include <functional>

#include "absl/status/status.h"
#include "coordinator/store/transaction_store.h"

namespace tcc {

class StoreExecutor {
 public:
  // Runs inside a batch. Its status is the operation's own result; the
  // batch commits even when one operation fails.
  using Operation = std::function<absl::Status(TransactionStore&)>;
  // Receives the operation's status, code and message unchanged; if the
  // operation succeeded but its batch did not commit, the commit's error.
  using Completion = std::function<void(absl::Status)>;

  virtual ~StoreExecutor() = default;

  // Queues `operation`; RESOURCE_EXHAUSTED when the queue is full,
  // UNAVAILABLE once stopping (then `done` never runs).
  virtual absl::Status Submit(Operation operation, Completion done) = 0;

  // Runs `operation` and waits until it is durable: for start-up and tests,
  // never on a request path.
  virtual absl::Status RunAndWait(Operation operation) = 0;
};

}  // namespace tcc
