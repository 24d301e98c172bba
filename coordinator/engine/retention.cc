#include "coordinator/engine/retention.h"

#include "tcc/common/logging.h"

namespace tcc {

struct Retention::State {
  State(RetentionOptions options, StoreQueue* store, Scheduler* scheduler, const Clock* clock)
      : options(options), store(store), scheduler(scheduler), clock(clock) {}

  const RetentionOptions options;
  StoreQueue* const store;
  Scheduler* const scheduler;
  const Clock* const clock;
  mutable absl::Mutex mu;
  bool stopped ABSL_GUARDED_BY(mu) = false;
  Stats stats ABSL_GUARDED_BY(mu);
};

Retention::Retention(RetentionOptions options, StoreQueue* store, Scheduler* scheduler,
                     const Clock* clock)
    : state_(std::make_shared<State>(options, store, scheduler, clock)) {}

Retention::~Retention() { Stop(); }

void Retention::Start() {
  if (state_->options.retention <= absl::ZeroDuration()) return;
  spdlog::info("retention: finished transactions older than {} are deleted",
               absl::FormatDuration(state_->options.retention));
  state_->scheduler->Schedule(state_->clock->Now(), [state = state_] { RunBatch(state); });
}

void Retention::Stop() {
  absl::MutexLock lock(&state_->mu);
  state_->stopped = true;
}

Retention::Stats Retention::stats() const {
  absl::MutexLock lock(&state_->mu);
  return state_->stats;
}

void Retention::RunBatch(std::shared_ptr<State> state) {
  {
    absl::MutexLock lock(&state->mu);
    if (state->stopped) return;
  }
  int64_t before_ms = absl::ToUnixMillis(state->clock->Now() - state->options.retention);
  auto deleted = std::make_shared<size_t>(0);
  size_t batch = state->options.batch;
  absl::Status submitted = state->store->Submit(
      [before_ms, batch, deleted](TransactionStore& store) -> absl::Status {
        absl::StatusOr<size_t> count = store.DeleteFinishedBefore(before_ms, batch);
        if (!count.ok()) return count.status();
        *deleted = *count;
        return absl::OkStatus();
      },
      [state, deleted](absl::Status status) { OnBatchDone(state, status, *deleted); });
  if (!submitted.ok()) OnBatchDone(state, submitted, 0);
}

void Retention::OnBatchDone(std::shared_ptr<State> state, absl::Status status, size_t deleted) {
  bool full = false;
  {
    absl::MutexLock lock(&state->mu);
    if (state->stopped) return;
    if (status.ok()) {
      state->stats.deleted += deleted;
      ++state->stats.batches;
      state->stats.last_run_ms = state->clock->NowMs();
      full = deleted == state->options.batch;
    }
  }
  if (!status.ok()) {
    spdlog::warn("retention: deleting finished transactions failed ({}); trying again in {}",
                 status.message(), absl::FormatDuration(state->options.interval));
  } else if (deleted > 0) {
    spdlog::debug("retention: deleted {} finished transactions", deleted);
  }
  absl::Time next = state->clock->Now() + (full ? absl::ZeroDuration() : state->options.interval);
  state->scheduler->Schedule(next, [state] { RunBatch(state); });
}

}  // namespace tcc
