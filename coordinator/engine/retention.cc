#include "coordinator/engine/retention.h"

#include <algorithm>
#include <functional>

#include "tcc/common/logging.h"
#include "tcc/common/mutex.h"
#include "tcc/common/status_macros.h"

namespace tcc {

struct Retention::State {
  State(RetentionOptions options, StoreQueue* store, Scheduler* scheduler, const Clock* clock,
        ArchiveParts archive)
      : options(options), store(store), scheduler(scheduler), clock(clock), archive(archive) {}

  const RetentionOptions options;
  StoreQueue* const store;
  Scheduler* const scheduler;
  const Clock* const clock;
  const ArchiveParts archive;
  mutable tcc::Mutex mu;
  bool stopped ABSL_GUARDED_BY(mu) = false;
  Stats stats ABSL_GUARDED_BY(mu);
};

namespace {

// Runs `work` and reports how long it took into `took` (real time: it is
// the store thread's time that the budget limits).
absl::Status Timed(absl::Duration* took, const std::function<absl::Status()>& work) {
  absl::Time start = absl::Now();
  absl::Status status = work();
  *took = absl::Now() - start;
  return status;
}

}  // namespace

Retention::Retention(RetentionOptions options, StoreQueue* store, Scheduler* scheduler,
                     const Clock* clock, ArchiveParts archive)
    : state_(std::make_shared<State>(options, store, scheduler, clock, archive)) {
  tcc::MutexLock lock(&state_->mu);
  state_->stats.batch_limit = options.batch;
}

Retention::~Retention() { Stop(); }

void Retention::Start() {
  if (state_->options.retention <= absl::ZeroDuration()) return;
  spdlog::info("retention: finished transactions older than {} are deleted",
               absl::FormatDuration(state_->options.retention));
  state_->scheduler->Schedule(state_->clock->Now(), [state = state_] { RunBatch(state); });
}

void Retention::Stop() {
  tcc::MutexLock lock(&state_->mu);
  state_->stopped = true;
}

Retention::Stats Retention::stats() const {
  tcc::MutexLock lock(&state_->mu);
  return state_->stats;
}

const RetentionOptions& Retention::options() const { return state_->options; }

bool Retention::archiving() const { return state_->archive.archive != nullptr; }

void Retention::RunBatch(std::shared_ptr<State> state) {
  {
    tcc::MutexLock lock(&state->mu);
    if (state->stopped) return;
  }
  int64_t before_ms = absl::ToUnixMillis(state->clock->Now() - state->options.retention);
  if (state->archive.archive != nullptr) return RunArchivingBatch(std::move(state), before_ms);
  auto deleted = std::make_shared<size_t>(0);
  auto took = std::make_shared<absl::Duration>();
  size_t batch = BatchLimit(*state);
  absl::Status submitted = state->store->Submit(
      [before_ms, batch, deleted, took](TransactionStore& store) {
        return Timed(took.get(), [&]() -> absl::Status {
          TCC_ASSIGN_OR_RETURN(*deleted, store.DeleteFinishedBefore(before_ms, batch));
          return absl::OkStatus();
        });
      },
      [state, deleted, batch, took](absl::Status status) {
        OnBatchDone(state, status, *deleted, *deleted == batch, *took);
      });
  if (!submitted.ok()) OnBatchDone(state, submitted, 0, false, absl::ZeroDuration());
}

void Retention::RunArchivingBatch(std::shared_ptr<State> state, int64_t before_ms) {
  absl::StatusOr<std::vector<std::string>> gids = ArchiveNext(*state, before_ms);
  if (!gids.ok()) return OnBatchDone(std::move(state), gids.status(), 0, false, {});
  if (gids->empty()) return OnBatchDone(std::move(state), absl::OkStatus(), 0, false, {});
  {
    tcc::MutexLock lock(&state->mu);
    state->stats.archived += gids->size();
  }
  SubmitDelete(std::move(state), *std::move(gids));
}

absl::StatusOr<std::vector<std::string>> Retention::ArchiveNext(State& state, int64_t before_ms) {
  TransactionQueries& queries = *state.archive.queries;
  TCC_ASSIGN_OR_RETURN(std::vector<std::string> gids,
                       queries.FinishedBefore(before_ms, BatchLimit(state)));
  std::vector<ArchivedTransaction> batch;
  batch.reserve(gids.size());
  for (const std::string& gid : gids) {
    TCC_ASSIGN_OR_RETURN(std::optional<GlobalTransaction> gt, queries.Find(gid));
    if (!gt) continue;  // Gone meanwhile: nothing to archive or delete.
    TCC_ASSIGN_OR_RETURN(std::vector<TimelineEvent> timeline, queries.Timeline(gid));
    batch.push_back({*std::move(gt), std::move(timeline)});
  }
  TCC_RETURN_IF_ERROR(state.archive.archive->Append(batch));
  return gids;
}

void Retention::SubmitDelete(std::shared_ptr<State> state, std::vector<std::string> gids) {
  auto deleted = std::make_shared<size_t>(0);
  auto took = std::make_shared<absl::Duration>();
  // A full batch means more may be due, whatever the delete finds.
  bool full = gids.size() == BatchLimit(*state);
  absl::Status submitted = state->store->Submit(
      [gids = std::move(gids), deleted, took](TransactionStore& store) {
        return Timed(took.get(), [&]() -> absl::Status {
          TCC_ASSIGN_OR_RETURN(*deleted, store.DeleteFinished(gids));
          return absl::OkStatus();
        });
      },
      [state, deleted, full, took](absl::Status status) {
        OnBatchDone(state, status, *deleted, full, *took);
      });
  if (!submitted.ok()) OnBatchDone(state, submitted, 0, false, absl::ZeroDuration());
}

size_t Retention::BatchLimit(State& state) {
  tcc::MutexLock lock(&state.mu);
  return state.stats.batch_limit;
}

void Retention::OnBatchDone(std::shared_ptr<State> state, absl::Status status, size_t deleted,
                            bool full, absl::Duration took) {
  if (state->options.observer != nullptr) {
    // Archived and deleted are the same GTs (a final GT stays final).
    state->options.observer->RetentionBatchFinished(
        deleted, state->archive.archive != nullptr ? deleted : 0, status);
  }
  {
    tcc::MutexLock lock(&state->mu);
    if (state->stopped) return;
    if (status.ok()) {
      state->stats.deleted += deleted;
      ++state->stats.batches;
      state->stats.last_run_ms = state->clock->NowMs();
      const RetentionOptions& options = state->options;
      size_t& limit = state->stats.batch_limit;
      if (took > options.batch_budget) {
        limit = std::max(options.min_batch, limit / 2);
      } else if (full && took < options.batch_budget / 2) {
        limit = std::min(options.batch, limit * 2);
      }
    }
  }
  if (!status.ok()) {
    full = false;
    spdlog::warn("retention: deleting finished transactions failed ({}); trying again in {}",
                 status.message(), absl::FormatDuration(state->options.interval));
  } else if (deleted > 0) {
    spdlog::debug("retention: deleted {} finished transactions", deleted);
  }
  absl::Time next = state->clock->Now() + (full ? absl::ZeroDuration() : state->options.interval);
  state->scheduler->Schedule(next, [state] { RunBatch(state); });
}

}  // namespace tcc
