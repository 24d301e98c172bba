// Group commit in front of a TransactionStore, in the manner of leveldb's
// DBImpl::Write: callers queue operations without blocking; one writer
// thread takes everything queued, runs it in one store batch (one SQLite
// transaction, one fsync), then reports each operation's result. An
// operation's completion runs only once its writes are durable.
//
// The queue is bounded: Submit refuses with RESOURCE_EXHAUSTED instead of
// growing without limit. Completions run in submission order on a second
// thread, never inline in Submit, so callers may hold their own locks while
// submitting; and the writer starts the next batch's fsync while the
// previous batch's completions (which send replies and start participant
// calls) still run. Thread-safe.
//
// Batches are begun replayable (TransactionStore::BeginReplayableBatch):
// when the store says a batch failed only because an answer differed from
// the one it presumed, the queue runs the same operations again in an
// ordinary batch, and each completion hears the second run's result. So an
// operation may run twice, the first run's writes undone: it must assign
// its outputs, never accumulate them, and leave its inputs as they were.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coordinator/domain/clock.h"
#include "coordinator/store/store_executor.h"
#include "coordinator/store/transaction_store.h"
#include "tcc/common/mutex.h"

namespace tcc {

// Told of every batch, for metrics. Called on the writer thread once the
// batch committed or failed, before its completions run: must be cheap and
// thread-safe, and must not wait for the queue.
class StoreQueueObserver {
 public:
  virtual ~StoreQueueObserver() = default;
  // `operations` ran in one batch whose commit (the fsync) took `commit`;
  // `status` is the batch's own result (begin or commit), not the
  // operations'.
  virtual void BatchFinished(size_t operations, absl::Duration commit,
                             const absl::Status& status) = 0;
  // A batch is run a second time (TransactionStore::ReplayBatch); its
  // BatchFinished comes once, after the second run.
  virtual void BatchReplayed() {}
};

struct StoreQueueOptions {
  size_t max_pending = 200000;
  size_t max_batch = 2048;                 // Or the store's MaxOperationsPerBatch, if smaller.
  StoreQueueObserver* observer = nullptr;  // Not owned; nullptr: none.
  const Clock* clock = nullptr;            // Times commits; nullptr: the real clock.
};

// The daemon's StoreExecutor. Operations run on the writer thread.
class StoreQueue final : public StoreExecutor {
 public:
  StoreQueue(std::unique_ptr<TransactionStore> store, StoreQueueOptions options = {});
  ~StoreQueue() override;

  absl::Status Submit(Operation operation, Completion done) override;

  // Runs `operation` through the queue and waits for it: for start-up and
  // tests, never on a request path.
  absl::Status RunAndWait(Operation operation) override;

  // Finishes everything queued, then stops the writer thread.
  void Stop();

  struct Stats {
    uint64_t batches = 0;
    uint64_t operations = 0;
    uint64_t replayed = 0;  // Batches run a second time (ReplayBatch).
  };
  Stats stats() const;
  // Operations queued or waiting for their completion to run.
  size_t depth() const;

 private:
  struct Pending {
    Operation operation;
    Completion done;
  };

  struct Finished {
    Completion done;
    absl::Status result;
  };

  void WriterLoop();
  void RunBatch(std::deque<Pending>& batch);
  // Runs every operation of `batch` in one store batch, begun replayable or
  // not; `results` gets each one's result and `commit` the time its commit
  // took. Returns the batch's own status (begin or commit).
  absl::Status RunOnce(std::deque<Pending>& batch, bool replayable,
                       std::vector<absl::Status>& results, absl::Duration& commit);
  void CompleterLoop();

  const StoreQueueOptions options_;
  const Clock* const clock_;
  std::unique_ptr<TransactionStore> store_;  // Used by the writer thread only.
  const size_t max_batch_;                   // options_'s or the store's, the smaller.
  mutable tcc::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  // Durable (or failed) operations whose completions have not run yet; they
  // count against max_pending too, so a slow completer pushes back on Submit.
  std::deque<Finished> finished_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool writer_done_ ABSL_GUARDED_BY(mu_) = false;
  // Completions handed to the completer, and those it has run: after a
  // failed batch the writer waits until they are equal.
  uint64_t posted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t completed_ ABSL_GUARDED_BY(mu_) = 0;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::thread writer_;
  std::thread completer_;
};

}  // namespace tcc
