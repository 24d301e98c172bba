// The engine's table of unfinished GTs: construction, recovery, lookups,
// store writes, finishing and eviction. The protocol's steps live in the
// sibling files named in transaction_engine.h.
#include "coordinator/engine/transaction_engine.h"

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "coordinator/domain/trace_context.h"
#include "coordinator/engine/store_error.h"
#include "coordinator/store/ownership.h"
#include "tcc/common/logging.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

// For an engine nobody observes.
EngineObserver* NoObserver() {
  static EngineObserver none;
  return &none;
}

uint64_t SeedOf(uint64_t seed) {
  if (seed != 0) return seed;
  absl::BitGen entropy;
  return absl::Uniform<uint64_t>(entropy);
}

}  // namespace

TransactionEngine::TransactionEngine(EngineOptions options, StoreExecutor* store,
                                     ParticipantTransport* transport, Scheduler* scheduler,
                                     const Clock* clock)
    : options_(std::move(options)),
      store_(store),
      transport_(transport),
      scheduler_(scheduler),
      clock_(clock),
      observer_(options_.observer != nullptr ? options_.observer : NoObserver()),
      limiter_(options_.max_background_calls),
      random_(SeedOf(options_.random_seed)),
      failure_log_(clock, absl::Seconds(1)) {}

TransactionEngine::~TransactionEngine() = default;

void TransactionEngine::Run(After& after) {
  for (auto& action : after) action();
  after.clear();
}

size_t TransactionEngine::ActiveCount() const {
  tcc::MutexLock lock(&mu_);
  return active_.size();
}

UnfinishedSummary TransactionEngine::Unfinished() const {
  UnfinishedSummary summary;
  tcc::MutexLock lock(&mu_);
  for (const auto& [gid, active] : active_) {
    const GlobalTransaction& gt = active->gt;
    ++summary.by_state[gt.state];
    if (gt.stuck) ++summary.stuck;
    if (summary.oldest_created_ms == 0 || gt.created_ms < summary.oldest_created_ms) {
      summary.oldest_created_ms = gt.created_ms;
    }
  }
  return summary;
}

absl::Status TransactionEngine::Recover() {
  auto loaded = std::make_shared<std::vector<GlobalTransaction>>();
  TCC_RETURN_IF_ERROR(store_->RunAndWait([loaded](TransactionStore& store) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(*loaded, store.LoadUnfinished());
    return absl::OkStatus();
  }));
  After after;
  {
    tcc::MutexLock lock(&mu_);
    active_.reserve(active_.size() + loaded->size());  // One allocation, not a rehash per doubling.
    for (GlobalTransaction& gt : *loaded) {
      spdlog::debug("{} resumed in state {} with {} branches", LogTag(gt), TxStateName(gt.state),
                    gt.branches.size());
      InstallLocked(std::move(gt), after);
    }
  }
  Run(after);
  spdlog::info("recovered {} unfinished transactions", loaded->size());
  return absl::OkStatus();
}

TransactionEngine::Active& TransactionEngine::InstallLocked(GlobalTransaction gt, After& after) {
  auto active = std::make_unique<Active>();
  active->stuck_recorded = gt.stuck;
  active->gt = std::move(gt);
  active->FitFlags(clock_->NowMs());
  Active& installed = *active;
  active_[installed.gt.gid] = std::move(active);
  if (MineLocked(installed.gt)) ResumeLocked(installed, after);
  return installed;
}

void TransactionEngine::ResumeLocked(Active& active, After& after) {
  if (active.gt.state == TxState::kTrying) {
    ScheduleDeadlineLocked(active);
  } else {
    DriveLocked(active, after);
  }
}

void TransactionEngine::WithForeignLocked(GlobalTransaction gt, const WithFn& fn, After& after) {
  const std::string gid = gt.gid;
  const std::string owner = gt.owner;
  fn(InstallLocked(std::move(gt), after), after);
  auto it = active_.find(gid);
  if (it == active_.end()) return;
  Active& active = *it->second;
  if (!MineLocked(active.gt)) {  // Only read: the owner goes on driving it.
    active_.erase(it);
    return;
  }
  // fn's write claims it (durable before any call it leads to). A decided
  // GT is driven by fn's own completion; a TRYING one needs its deadline.
  spdlog::info("{} claimed from {} by a request (epoch {})", LogTag(active.gt),
               owner.empty() ? "nobody" : owner, active.gt.epoch);
  after.push_back([this] { observer_->TransactionClaimed(); });
  if (active.gt.state == TxState::kTrying) ScheduleDeadlineLocked(active);
}

void TransactionEngine::TakeOver(size_t limit, Callback<size_t> done) {
  {
    tcc::MutexLock lock(&mu_);
    if (stopping_) return done(0);  // Claimed now, they would be released unfinished.
  }
  auto claimed = std::make_shared<std::vector<GlobalTransaction>>();
  absl::Status submitted = store_->Submit(
      [claimed, limit](TransactionStore& store) -> absl::Status {
        TCC_ASSIGN_OR_RETURN(*claimed, store.ClaimOrphans(limit));
        return absl::OkStatus();
      },
      [this, claimed, done](absl::Status status) {
        if (!status.ok())
          return done(StoreFailure(status, "claiming orphaned transactions failed"));
        After after;
        {
          tcc::MutexLock lock(&mu_);
          for (GlobalTransaction& gt : *claimed) {
            spdlog::info("{} taken over in state {} (epoch {})", LogTag(gt), TxStateName(gt.state),
                         gt.epoch);
            InstallLocked(std::move(gt), after);
          }
        }
        Run(after);
        if (!claimed->empty()) observer_->TransactionsTakenOver(claimed->size());
        done(claimed->size());
      });
  if (!submitted.ok()) done(submitted);
}

void TransactionEngine::WithTransaction(const std::string& gid, WithFn fn, StatusFn fail) {
  After after;
  bool found = false;
  {
    tcc::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    found = it != active_.end();
    if (found) fn(*it->second, after);
  }
  if (found) return Run(after);
  // Not in memory: final, unknown, or evicted after a store error.
  auto loaded = std::make_shared<std::optional<GlobalTransaction>>();
  absl::Status submitted = store_->Submit(
      [gid, loaded](TransactionStore& store) -> absl::Status {
        TCC_ASSIGN_OR_RETURN(*loaded, store.Find(gid));
        return absl::OkStatus();
      },
      [this, gid, loaded, fn, fail](absl::Status status) {
        if (!status.ok()) return fail(StoreFailure(status, "reading the transaction failed"));
        OnLoaded(gid, std::move(*loaded), fn, fail);
      });
  if (!submitted.ok()) fail(submitted);
}

void TransactionEngine::OnLoaded(const std::string& gid, std::optional<GlobalTransaction> loaded,
                                 WithFn fn, StatusFn fail) {
  if (!loaded) return fail(absl::NotFoundError(absl::StrCat("no transaction with gid ", gid)));
  After after;
  {
    tcc::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    if (it != active_.end()) {
      fn(*it->second, after);  // Installed meanwhile by another request.
    } else if (IsFinal(loaded->state)) {
      Active final_gt;  // A copy: final GTs are not kept in memory.
      final_gt.gt = std::move(*loaded);
      fn(final_gt, after);
    } else if (!MineLocked(*loaded)) {
      WithForeignLocked(std::move(*loaded), fn, after);
    } else {
      fn(InstallLocked(std::move(*loaded), after), after);
    }
  }
  Run(after);
}

void TransactionEngine::Get(std::string gid, Callback<GlobalTransaction> done) {
  if (absl::Status valid = ValidateGid(gid); !valid.ok()) return done(valid);
  auto loaded = std::make_shared<std::optional<GlobalTransaction>>();
  absl::Status submitted = store_->Submit(
      [gid, loaded](TransactionStore& store) -> absl::Status {
        TCC_ASSIGN_OR_RETURN(*loaded, store.Find(gid));
        return absl::OkStatus();
      },
      [this, gid, loaded, done](absl::Status status) {
        if (!status.ok()) return done(StoreFailure(status, "reading the transaction failed"));
        if (!*loaded)
          return done(absl::NotFoundError(absl::StrCat("no transaction with gid ", gid)));
        AddLiveBranchState(**loaded);
        done(std::move(**loaded));
      });
  if (!submitted.ok()) done(submitted);
}

void TransactionEngine::AddLiveBranchState(GlobalTransaction& stored) const {
  tcc::MutexLock lock(&mu_);
  auto it = active_.find(stored.gid);
  if (it == active_.end()) return;
  const Active& active = *it->second;
  const std::vector<Branch>& live = active.gt.branches;
  for (size_t i = 0; i < stored.branches.size() && i < live.size(); ++i) {
    Branch& branch = stored.branches[i];
    const Branch& newer = live[i];
    if (newer.branch_id != branch.branch_id) continue;
    if (i < active.unwritten.size() && active.unwritten[i]) {
      branch = newer;  // A Confirm / Cancel success waiting for the GT's next write.
      continue;
    }
    if (newer.state != branch.state) continue;
    if (newer.attempts <= branch.attempts) continue;
    branch.attempts = newer.attempts;
    branch.last_error = newer.last_error;
    branch.next_retry_ms = newer.next_retry_ms;
  }
}

void TransactionEngine::CreateOrLoad(GlobalTransaction gt, TimelineEvent first_event,
                                     absl::string_view what, Callback<CreateOrLoadResult> done) {
  auto result = std::make_shared<absl::StatusOr<CreateOrLoadResult>>();
  const TxMode mode = gt.mode;
  gt.owner = options_.instance_id;
  auto candidate = std::make_shared<GlobalTransaction>(std::move(gt));
  absl::Status submitted = store_->Submit(
      [result, candidate, first_event](TransactionStore& store) -> absl::Status {
        // A copy: the store queue may run this operation twice.
        *result = ::tcc::CreateOrLoad(store, *candidate, first_event);
        return result->status();
      },
      [this, result, done, mode, gid = candidate->gid,
       what = std::string(what)](absl::Status status) {
        // A connection lost during COMMIT leaves the outcome unknown: if the
        // GT was created after all, it is this instance's to drive.
        if (absl::IsUnavailable(status)) ReloadAfterStoreError(gid, absl::Seconds(1));
        if (!status.ok()) return done(StoreFailure(status, what));
        if ((*result)->created) observer_->TransactionStarted(mode);
        done(std::move(*result));
      });
  if (!submitted.ok()) done(submitted);
}

std::string TransactionEngine::NewGidLocked() {
  return absl::StrFormat("tcc-%x-%016x", clock_->NowMs(), absl::Uniform<uint64_t>(random_));
}

TimelineEvent TransactionEngine::Event(std::string kind, std::string detail,
                                       std::string actor) const {
  return {clock_->NowMs(), std::move(kind), std::move(detail), std::move(actor)};
}

void TransactionEngine::TouchLocked(Active& active) {
  active.gt.updated_ms = clock_->NowMs();
  bool was_stuck = active.gt.stuck;
  active.gt.stuck = IsStuck(active.gt, options_.stuck, active.gt.updated_ms);
  if (active.gt.stuck && !was_stuck) {
    spdlog::warn("{} is stuck in {}: still retrying; see tccctl", LogTag(active.gt),
                 TxStateName(active.gt.state));
  }
}

void TransactionEngine::PersistLocked(Active& active, const std::vector<size_t>& added,
                                      std::vector<size_t> changed, StatusFn durable,
                                      std::vector<TimelineEvent> events) {
  active.TakeUnwritten(changed, events);
  if (active.gt.stuck && !active.stuck_recorded) {
    active.stuck_recorded = true;
    events.push_back(Event("stuck", "flagged stuck: still retrying; an operator should look"));
  }
  // Fenced on the owner and epoch known so far; a GT another instance owns
  // is claimed by this write (a decision reaching a non-owner).
  std::string expected_owner = active.gt.owner;
  const int64_t expected_epoch = active.gt.epoch;
  if (!MineLocked(active.gt)) {
    active.gt.owner = options_.instance_id;
    ++active.gt.epoch;
  }
  // The write runs later on the store thread: it gets its own copy of what
  // changed, taken now under the lock, so later changes cannot leak in.
  auto write = std::make_shared<TransactionWrite>(
      TransactionWrite::Of(active.gt, added, changed, std::move(events)));
  write->ExpectOwner(std::move(expected_owner), expected_epoch);
  // Every failed write is handled here, for every caller: memory is now
  // ahead of the store, so the GT is dropped and reloaded from the store
  // (or, refused by the fence, only dropped) before the caller (if it gave
  // a callback) hears of the failure.
  // The chain breaks on the store's threads: at once when the write itself
  // fails, and in the completion when its batch fails (the executor runs a
  // failed batch's completions before the next batch), so no later write of
  // this copy lands after a lost one.
  std::shared_ptr<WriteChain> chain = active.writes;
  auto on_durable = [this, gid = active.gt.gid, tag = LogTag(active.gt), chain,
                     durable = std::move(durable)](absl::Status status) {
    if (!status.ok()) {
      chain->broken = true;
      Evict(gid, tag, status, chain.get());
    }
    if (durable) durable(std::move(status));
  };
  absl::Status submitted = store_->Submit(
      [write, chain, gid = active.gt.gid](TransactionStore& store) -> absl::Status {
        if (chain->broken) {
          return absl::UnavailableError(absl::StrCat(
              "an earlier store write of ", gid,
              " failed, so this later one was dropped; the transaction is reloaded from the "
              "store: retry"));
        }
        absl::Status applied = write->ApplyTo(store);
        if (!applied.ok()) chain->broken = true;
        return applied;
      },
      on_durable);
  if (!submitted.ok()) {
    spdlog::error("{} could not queue a store write: {}", LogTag(active.gt), submitted.message());
    // Not inline: the caller holds the engine's lock, which the callback may take.
    scheduler_->Schedule(clock_->Now(), [on_durable, submitted] { on_durable(submitted); });
  }
}

void TransactionEngine::AfterQueuedWritesLocked(Active& active, StatusFn done) {
  std::shared_ptr<WriteChain> chain = active.writes;
  absl::Status submitted = store_->Submit(
      [chain, gid = active.gt.gid](TransactionStore&) -> absl::Status {
        if (!chain->broken) return absl::OkStatus();
        return absl::UnavailableError(
            absl::StrCat("an earlier store write of ", gid,
                         " failed; the transaction is reloaded from the store: retry"));
      },
      done);
  // Not inline: the caller holds the engine's lock, which `done` may take.
  if (!submitted.ok()) scheduler_->Schedule(clock_->Now(), [done, submitted] { done(submitted); });
}

void TransactionEngine::FinalizeLocked(Active& active, TxState final_state,
                                       std::vector<TimelineEvent> events, StatusFn durable) {
  active.gt.state = final_state;
  TouchLocked(active);
  const std::string gid = active.gt.gid;
  spdlog::info("{} {}", LogTag(active.gt), TxStateName(final_state));
  events.push_back(Event("state", std::string(TxStateName(final_state))));
  // Once durable the GT leaves memory; later reads come from the store.
  PersistLocked(
      active, {}, {},
      [this, gid, durable, mode = active.gt.mode, final_state,
       created = absl::FromUnixMillis(active.gt.created_ms)](absl::Status status) {
        if (status.ok()) {
          observer_->TransactionFinished(mode, final_state, clock_->Now() - created);
          OnFinalDurable(gid);
        }
        if (!durable) return;
        durable(StoreFailure(status, "recording the outcome failed"));
      },
      std::move(events));
}

void TransactionEngine::OnFinalDurable(const std::string& gid) {
  std::unique_ptr<Active> finished;
  {
    tcc::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    if (it != active_.end() && IsFinal(it->second->gt.state)) {
      finished = std::move(it->second);
      active_.erase(it);
    }
  }
  if (!finished) return;
  for (auto& waiter : finished->waiters) waiter(finished->gt);
}

void TransactionEngine::Evict(const std::string& gid, const std::string& log_tag,
                              const absl::Status& why, const WriteChain* chain) {
  std::optional<std::string> moved_to = MovedTo(why);
  const bool fenced = moved_to && *moved_to != options_.instance_id;
  if (fenced) observer_->WriteFenced();
  {
    tcc::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    // Already dropped, or a newer copy (reloaded since) that this failure
    // says nothing about.
    if (it == active_.end() || it->second->writes.get() != chain) return;
    active_.erase(it);
  }
  if (fenced) {  // Its new owner drives it; reloading would claim it back.
    spdlog::warn("{} write refused by the fence, dropped from memory: {}", log_tag, why.message());
    return;
  }
  spdlog::error("{} dropped from memory after a store error; reloading it from the store", log_tag);
  ReloadAfterStoreError(gid, absl::Seconds(1));
}

bool TransactionEngine::FencedAway(const absl::Status& status) const {
  std::optional<std::string> moved_to = MovedTo(status);
  return moved_to.has_value() && *moved_to != options_.instance_id;
}

void TransactionEngine::ReloadAfterStoreError(const std::string& gid, absl::Duration delay) {
  scheduler_->Schedule(clock_->Now() + delay, [this, gid, delay] {
    {
      tcc::MutexLock lock(&mu_);
      if (stopping_) return;  // Recovery at the next start resumes it.
    }
    WithTransaction(
        gid, [](Active&, After&) {},
        [this, gid, delay](absl::Status status) {
          if (absl::IsNotFound(status)) return;  // Deleted meanwhile: nothing to drive.
          absl::Duration next = std::min(delay * 2, absl::Seconds(30));
          spdlog::error("gid={} reload failed: {}; trying again in {}", gid, status.message(),
                        absl::FormatDuration(next));
          ReloadAfterStoreError(gid, next);
        });
  });
}

void TransactionEngine::Shutdown(absl::Duration grace) {
  {
    tcc::MutexLock lock(&mu_);
    stopping_ = true;
  }
  limiter_.WaitUntilIdle(grace);
}

}  // namespace tcc
