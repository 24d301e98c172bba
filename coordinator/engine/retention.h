// Retention: deletes final GTs (with their branches and timeline) last
// updated longer ago than the retention window, so that the store stops
// growing under endless load. Unfinished GTs are never touched, however
// old. Work goes through the StoreQueue in small batches: each batch is one
// short operation inside an ordinary group commit, never a long transaction
// that the hot path would wait behind. A full batch is followed by the next
// one right away; otherwise the next look is one interval later. Time and
// scheduling come from the injected Clock and Scheduler.
// With an archive, a batch first reads the next GTs on the queries
// connection (never the writer's), appends them to the archive (fsynced),
// and only then deletes exactly those gids; a batch whose archive write
// fails deletes nothing and is tried again one interval later. The archive
// work runs on the scheduler's thread: give retention a scheduler of its own.
// Thread-safe: the state shared with scheduled callbacks lives in a
// reference-counted State whose mu_ guards the counters and the stop flag,
// so a callback that runs after Stop (or after this object is gone) does
// nothing.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "coordinator/domain/clock.h"
#include "coordinator/domain/scheduler.h"
#include "coordinator/engine/engine_observer.h"
#include "coordinator/store/store_queue.h"
#include "coordinator/store/transaction_archive.h"
#include "coordinator/store/transaction_queries.h"

namespace tcc {

struct RetentionOptions {
  // Final GTs older than this are deleted; zero keeps everything.
  absl::Duration retention = absl::Hours(7 * 24);
  absl::Duration interval = absl::Minutes(1);  // Between looks when nothing is due.
  size_t batch = 500;                          // Most GTs deleted per store operation.
  // A store operation that takes longer halves the next batch (down to
  // min_batch); one that takes under half of it doubles the next (up to
  // batch): a delete never holds group commit for long.
  absl::Duration batch_budget = absl::Milliseconds(10);
  size_t min_batch = 10;
  RetentionObserver* observer = nullptr;  // Told of every batch; may be null.
};

// Where archived GTs are read from and written to; both or neither.
struct ArchiveParts {
  TransactionQueries* queries = nullptr;
  TransactionArchive* archive = nullptr;
};

class Retention {
 public:
  Retention(RetentionOptions options, StoreQueue* store, Scheduler* scheduler, const Clock* clock,
            ArchiveParts archive = {});
  ~Retention();

  // Takes the first look now. Does nothing when retention is zero.
  void Start();
  // No batch starts after this; one in flight finishes.
  void Stop();

  struct Stats {
    uint64_t deleted = 0;   // GTs deleted since Start.
    uint64_t archived = 0;  // GTs written to the archive since Start.
    uint64_t batches = 0;
    int64_t last_run_ms = 0;  // When the last batch finished (0: none yet).
    size_t batch_limit = 0;   // The size of the next batch.
  };
  Stats stats() const;
  const RetentionOptions& options() const;
  bool archiving() const;

 private:
  struct State;
  static void RunBatch(std::shared_ptr<State> state);
  static void RunArchivingBatch(std::shared_ptr<State> state, int64_t before_ms);
  // Reads and archives the next GTs; returns their gids.
  static absl::StatusOr<std::vector<std::string>> ArchiveNext(State& state, int64_t before_ms);
  static void SubmitDelete(std::shared_ptr<State> state, std::vector<std::string> gids);
  // `full`: the batch was full, so the next one starts right away.
  static void OnBatchDone(std::shared_ptr<State> state, absl::Status status, size_t deleted,
                          bool full, absl::Duration took);
  static size_t BatchLimit(State& state);

  std::shared_ptr<State> state_;
};

}  // namespace tcc
