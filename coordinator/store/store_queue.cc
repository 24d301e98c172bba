#include "coordinator/store/store_queue.h"

#include <pthread.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "tcc/common/notification.h"

namespace tcc {
namespace {

const Clock* RealClockIfNull(const Clock* clock) {
  static const RealClock real;
  return clock != nullptr ? clock : &real;
}

}  // namespace

StoreQueue::StoreQueue(std::unique_ptr<TransactionStore> store, StoreQueueOptions options)
    : options_(options),
      clock_(RealClockIfNull(options.clock)),
      store_(std::move(store)),
      max_batch_(std::min(options.max_batch, store_->MaxOperationsPerBatch())),
      writer_([this] { WriterLoop(); }),
      completer_([this] { CompleterLoop(); }) {}

StoreQueue::~StoreQueue() { Stop(); }

absl::Status StoreQueue::Submit(Operation operation, Completion done) {
  tcc::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("the coordinator is shutting down");
  if (queue_.size() + finished_.size() >= options_.max_pending) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the store queue is full (", options_.max_pending, " operations pending); retry later"));
  }
  queue_.push_back({std::move(operation), std::move(done)});
  return absl::OkStatus();
}

absl::Status StoreQueue::RunAndWait(Operation operation) {
  tcc::Notification finished;
  absl::Status result;
  absl::Status submitted = Submit(std::move(operation), [&](absl::Status status) {
    result = std::move(status);
    finished.Notify();
  });
  if (!submitted.ok()) return submitted;
  finished.WaitForNotification();
  return result;
}

void StoreQueue::Stop() {
  {
    tcc::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  if (completer_.joinable()) completer_.join();
}

StoreQueue::Stats StoreQueue::stats() const {
  tcc::MutexLock lock(&mu_);
  return stats_;
}

size_t StoreQueue::depth() const {
  tcc::MutexLock lock(&mu_);
  return queue_.size() + finished_.size();
}

void StoreQueue::WriterLoop() {
  pthread_setname_np(pthread_self(), "store-writer");  // For top -H and perf.
  while (true) {
    std::deque<Pending> batch;
    {
      tcc::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(tcc::Condition(&has_work));
      if (queue_.empty()) {  // Stopping and drained.
        writer_done_ = true;
        return;
      }
      size_t take = std::min(queue_.size(), max_batch_);
      for (size_t i = 0; i < take; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      ++stats_.batches;
      stats_.operations += take;
    }
    RunBatch(batch);
  }
}

void StoreQueue::RunBatch(std::deque<Pending>& batch) {
  std::vector<absl::Status> results;
  absl::Duration commit;
  absl::Status batch_status = RunOnce(batch, /*replayable=*/true, results, commit);
  if (!batch_status.ok() && store_->ReplayBatch()) {
    store_->AbortBatch();
    {
      tcc::MutexLock lock(&mu_);
      ++stats_.replayed;
    }
    if (options_.observer) options_.observer->BatchReplayed();
    batch_status = RunOnce(batch, /*replayable=*/false, results, commit);
  }
  // Once per batch, replayed or not: the metrics count operations once.
  if (options_.observer) options_.observer->BatchFinished(batch.size(), commit, batch_status);
  if (!batch_status.ok()) {
    store_->AbortBatch();
    // Only the operations that succeeded lose their writes with the batch; a
    // failed one wrote nothing, and its own error (DATA_LOSS, say) is still
    // its answer. Overwriting it with the commit's would hide it.
    for (absl::Status& result : results) {
      if (result.ok()) result = batch_status;
    }
  }
  tcc::MutexLock lock(&mu_);
  for (size_t i = 0; i < batch.size(); ++i) {
    finished_.push_back({std::move(batch[i].done), std::move(results[i])});
  }
  posted_ += batch.size();
  if (batch_status.ok()) return;
  // The executor's promise: a failed batch's completions run before the
  // next batch, so their callers can stop later operations from landing.
  auto completed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return completed_ >= posted_; };
  mu_.Await(tcc::Condition(&completed));
}

absl::Status StoreQueue::RunOnce(std::deque<Pending>& batch, bool replayable,
                                 std::vector<absl::Status>& results, absl::Duration& commit) {
  results.clear();
  results.reserve(batch.size());
  absl::Status batch_status = replayable ? store_->BeginReplayableBatch() : store_->BeginBatch();
  for (Pending& pending : batch) {
    if (!batch_status.ok()) {
      results.push_back(batch_status);
      continue;
    }
    absl::Status result = store_->BeginOperation();
    if (result.ok()) result = pending.operation(*store_);
    store_->EndOperation(result.ok());
    results.push_back(std::move(result));
  }
  absl::Time commit_started = clock_->Now();
  if (batch_status.ok()) batch_status = store_->CommitBatch();
  commit = clock_->Now() - commit_started;
  return batch_status;
}

void StoreQueue::CompleterLoop() {
  pthread_setname_np(pthread_self(), "store-complete");
  while (true) {
    std::deque<Finished> ready;
    {
      tcc::MutexLock lock(&mu_);
      auto has_results = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return writer_done_ || !finished_.empty();
      };
      mu_.Await(tcc::Condition(&has_results));
      if (finished_.empty()) return;  // The writer stopped and all is reported.
      ready.swap(finished_);
    }
    for (Finished& finished : ready) {
      if (finished.done) finished.done(std::move(finished.result));
    }
    tcc::MutexLock lock(&mu_);
    completed_ += ready.size();
  }
}

}  // namespace tcc
