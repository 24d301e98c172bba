#include "participant-sdk/src/pruner.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "absl/time/clock.h"
#include "participant-sdk/src/absl_compat.h"

namespace tcc::sdk::internal {

absl::Status ValidatePruningOptions(const PruningOptions& options) {
  if (options.retention < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("pruning retention must be zero (keep everything) or more");
  }
  if (options.retention == absl::ZeroDuration()) return absl::OkStatus();
  if (options.interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("pruning interval must be positive");
  }
  if (options.batch < 1) return absl::InvalidArgumentError("pruning batch must be at least 1");
  return absl::OkStatus();
}

absl::Time PruningNow(const PruningOptions& options) {
  return options.clock ? options.clock() : absl::Now();
}

absl::StatusOr<int64_t> RunPrunePass(const PruningOptions& options, absl::Time now,
                                     const PruneBatchFn& batch, absl::FunctionRef<bool()> stop) {
  if (options.retention <= absl::ZeroDuration()) return 0;
  const absl::Time cutoff = now - options.retention;
  int64_t rows = 0;
  // Each batch is its own short transaction, so callers' writes interleave.
  while (!stop()) {
    absl::StatusOr<PruneBatchResult> done = batch(cutoff, options.batch);
    if (!done.ok()) return done.status();
    rows += done->rows;
    if (!done->full) break;
  }
  return rows;
}

Pruner::Pruner(std::string what, PruningOptions options, PruneBatchFn batch)
    : what_(std::move(what)), options_(std::move(options)), batch_(std::move(batch)) {}

Pruner::~Pruner() { Stop(); }

void Pruner::Start() {
  if (options_.retention <= absl::ZeroDuration()) return;
  if (options_.interval == absl::InfiniteDuration()) return;
  tcc::MutexLock lock(&mu_);
  if (stopping_ || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void Pruner::Stop() {
  std::thread thread;
  {
    tcc::MutexLock lock(&mu_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

bool Pruner::Stopping() const {
  tcc::MutexLock lock(&mu_);
  return stopping_;
}

void Pruner::Loop() {
  while (true) {
    {
      tcc::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(tcc::Condition(&stopping_), options_.interval)) return;
    }
    Report(RunPrunePass(options_, PruningNow(options_), batch_, [this] { return Stopping(); }));
  }
}

void Pruner::Report(const absl::StatusOr<int64_t>& pruned) const {
  if (!pruned.ok()) {
    spdlog::warn("tcc sdk: pruning {} failed ({}); trying again in {}", what_,
                 ToStd(pruned.status().message()), absl::FormatDuration(options_.interval));
  } else if (*pruned > 0) {
    spdlog::debug("tcc sdk: pruned {} {}", *pruned, what_);
  }
  if (options_.on_pass) options_.on_pass(pruned);
}

}  // namespace tcc::sdk::internal
