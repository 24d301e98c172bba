// The machinery behind PruneBarrier / PruneDecisions and the servers'
// background pruning: a pass deletes batch after batch (one local
// transaction each) until a batch is not full, and Pruner runs a pass every
// interval on a thread of its own. The table-specific batches live beside
// their tables (barrier.cc, decision.cc). Internal.
//
// Thread-safety: RunPrunePass is as safe as its batch function. Pruner's
// Start and Stop may be called from any thread; Stop is idempotent and done
// by the destructor.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tcc/common/mutex.h"
#include "tcc/sdk/local_db.h"
#include "tcc/sdk/pruning.h"

namespace tcc::sdk::internal {

struct PruneBatchResult {
  int64_t rows = 0;   // Rows deleted.
  bool full = false;  // `limit` rows were due: more may be.
};

// Deletes, in one local transaction, the oldest `limit` rows written before
// `cutoff` (barrier rows: with the other rows of their branches, all of
// which must be that old too).
using PruneBatchFn = std::function<absl::StatusOr<PruneBatchResult>(absl::Time cutoff, int limit)>;
absl::StatusOr<PruneBatchResult> PruneBarrierBatch(Database& db, absl::Time cutoff, int limit);
absl::StatusOr<PruneBatchResult> PruneDecisionBatch(Database& db, absl::Time cutoff, int limit);

// INVALID_ARGUMENT for a negative retention, or, when pruning is on, an
// interval or batch below one.
absl::Status ValidatePruningOptions(const PruningOptions& options);

// options.clock(), or absl::Now() without one.
absl::Time PruningNow(const PruningOptions& options);

// Rows deleted by batches until one is not full or `stop` returns true;
// 0 at once when the retention is zero.
absl::StatusOr<int64_t> RunPrunePass(const PruningOptions& options, absl::Time now,
                                     const PruneBatchFn& batch, absl::FunctionRef<bool()> stop);

// One pass every options.interval, the first one interval after Start.
class Pruner {
 public:
  // `what` names the rows in log lines ("barrier rows").
  Pruner(std::string what, PruningOptions options, PruneBatchFn batch);
  ~Pruner();
  Pruner(const Pruner&) = delete;
  Pruner& operator=(const Pruner&) = delete;

  // Starts the thread; does nothing when the retention is zero or the
  // interval infinite.
  void Start();
  // No batch starts after this; returns once the thread has ended.
  void Stop();

 private:
  void Loop();
  bool Stopping() const;
  void Report(const absl::StatusOr<int64_t>& pruned) const;

  const std::string what_;
  const PruningOptions options_;
  const PruneBatchFn batch_;
  mutable tcc::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tcc::sdk::internal
