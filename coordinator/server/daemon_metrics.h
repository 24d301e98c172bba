// tccd's metrics: the families every scrape shows (the table in README.md,
// "Metrics and health"), fed by the engine and the store queue through
// their observer interfaces and by gauges computed at scrape time. Owns no
// registry: the Daemon's registry outlives it and everything it watches.
// Labels never carry a gid or branch id, only small fixed sets of values.
// Thread-safe; every observer method is a few atomic operations.
#pragma once

#include <array>
#include <string>

#include "common/metrics/registry.h"
#include "coordinator/domain/clock.h"
#include "coordinator/engine/engine_observer.h"
#include "coordinator/engine/transaction_engine.h"
#include "coordinator/store/store_queue.h"
#include "coordinator/transport/batching_transport.h"

namespace tcc {

class DaemonMetrics final : public EngineObserver,
                            public StoreQueueObserver,
                            public RetentionObserver,
                            public BatchObserver {
 public:
  // Registers the families in `registry`, with tcc_build_info for `store`
  // (the store kind, e.g. "sqlite").
  DaemonMetrics(metrics::Registry* registry, const std::string& store);

  // Adds the gauges read from the engine and the queue at scrape time. Both
  // must outlive every later scrape.
  void WatchEngine(const TransactionEngine* engine, const Clock* clock);
  void WatchStore(const StoreQueue* queue);
  // The store's files on disk (a SQLite database and its WAL), read at
  // scrape time.
  void WatchStoreFile(std::string path);

  // EngineObserver
  void TransactionStarted(TxMode mode) override;
  void TransactionFinished(TxMode mode, TxState final_state, absl::Duration age) override;
  void ParticipantCallFinished(Phase phase, CallOutcome outcome, absl::Duration latency) override;
  void BackQueryFinished(BackQueryOutcome outcome, absl::Duration latency) override;
  void TransactionsTakenOver(size_t count) override;
  void TransactionClaimed() override;
  void WriteFenced() override;
  // StoreQueueObserver
  void BatchFinished(size_t operations, absl::Duration commit, const absl::Status& status) override;
  void BatchReplayed() override;
  // RetentionObserver
  void RetentionBatchFinished(size_t deleted, size_t archived, const absl::Status& status) override;
  // BatchObserver
  void BatchSent(Phase phase, size_t calls) override;

 private:
  metrics::Registry* const registry_;
  metrics::Family<metrics::Counter>& started_;
  metrics::Family<metrics::Counter>& finished_;
  metrics::Family<metrics::Histogram>& duration_;
  metrics::Family<metrics::Counter>& calls_;
  metrics::Family<metrics::Counter>& batches_;
  metrics::Family<metrics::Counter>& batched_calls_;
  metrics::Family<metrics::Histogram>& call_duration_;
  // Children looked up once, indexed by TxMode; by Phase (then query, 3)
  // and CallOutcome; by BackQueryOutcome.
  std::array<metrics::Counter*, 2> started_by_mode_;
  std::array<metrics::Histogram*, 2> duration_by_mode_;
  std::array<std::array<metrics::Counter*, 3>, 3> calls_by_phase_outcome_;
  std::array<metrics::Counter*, 3> queries_by_answer_;
  std::array<metrics::Counter*, 3> batches_by_phase_{};        // Try's stays null.
  std::array<metrics::Counter*, 3> batched_calls_by_phase_{};  // Try's stays null.
  std::array<metrics::Histogram*, 4> call_duration_by_phase_;
  metrics::Histogram& batch_size_;
  metrics::Histogram& commit_duration_;
  metrics::Counter& store_errors_;
  metrics::Counter& store_replays_;
  metrics::Counter& retention_deleted_;
  metrics::Counter& retention_archived_;
  metrics::Counter& retention_errors_;
  metrics::Family<metrics::Counter>& claims_;
  metrics::Counter& taken_over_;
  metrics::Counter& claimed_by_request_;
  metrics::Counter& fenced_writes_;
};

}  // namespace tcc
