#include "coordinator/engine/transaction_engine.h"

#include <limits>

#include "absl/random/distributions.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "coordinator/domain/saga.h"
#include "coordinator/engine/transaction_engine_internal.h"
#include "tcc/common/logging.h"
#include "tcc/common/status_macros.h"

namespace tcc {

// One Try request: the branches it asked for and what each answered.
struct TransactionEngine::TryOperation {
  std::string gid;
  std::vector<size_t> to_call;               // Branch indexes whose Try is called.
  std::vector<BranchTryOutcome> outcomes;    // In request order.
  std::vector<size_t> outcome_slot_of_call;  // to_call[i] fills outcomes[slot].
  absl::Mutex mu;
  size_t pending ABSL_GUARDED_BY(mu) = 0;
  absl::Status error ABSL_GUARDED_BY(mu);
  Callback<std::vector<BranchTryOutcome>> done;
};

namespace {

// Copies what a store write needs of a GT, leaving out branches.
GlobalTransaction HeaderOf(const GlobalTransaction& gt) {
  GlobalTransaction header;
  header.gid = gt.gid;
  header.mode = gt.mode;
  header.state = gt.state;
  header.created_ms = gt.created_ms;
  header.updated_ms = gt.updated_ms;
  header.timeout_ms = gt.timeout_ms;
  header.deadline_ms = gt.deadline_ms;
  header.status_endpoint = gt.status_endpoint;
  header.stuck = gt.stuck;
  header.decision_reason = gt.decision_reason;
  return header;
}

// Copies a branch's progress fields, leaving out the (possibly large)
// payload that a progress update never rewrites.
Branch ProgressOf(const Branch& branch) {
  Branch progress;
  progress.branch_id = branch.branch_id;
  progress.state = branch.state;
  progress.attempts = branch.attempts;
  progress.last_error = branch.last_error;
  progress.next_retry_ms = branch.next_retry_ms;
  return progress;
}

BranchTryOutcome OutcomeFromState(const Branch& branch) {
  switch (branch.state) {
    case BranchState::kTried:
    case BranchState::kConfirmed:
      return {branch.branch_id, CallOutcome::kSuccess, ""};
    case BranchState::kTryRefused:
      return {branch.branch_id, CallOutcome::kRefused, branch.last_error};
    default:
      return {branch.branch_id, CallOutcome::kUnknown, branch.last_error};
  }
}

}  // namespace

TransactionEngine::TransactionEngine(EngineOptions options, StoreQueue* store,
                                     ParticipantTransport* transport, TimerQueue* timers,
                                     const Clock* clock)
    : options_(std::move(options)),
      store_(store),
      transport_(transport),
      timers_(timers),
      clock_(clock) {}

TransactionEngine::~TransactionEngine() = default;

void TransactionEngine::Run(After& after) {
  for (auto& action : after) action();
  after.clear();
}

size_t TransactionEngine::ActiveCount() const {
  absl::MutexLock lock(&mu_);
  return active_.size();
}

// ---------------------------------------------------------------- recovery

absl::Status TransactionEngine::Recover() {
  auto loaded = std::make_shared<std::vector<GlobalTransaction>>();
  TCC_RETURN_IF_ERROR(store_->RunAndWait([loaded](TransactionStore& store) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(*loaded, store.LoadUnfinished());
    return absl::OkStatus();
  }));
  After after;
  {
    absl::MutexLock lock(&mu_);
    active_.reserve(active_.size() + loaded->size());  // One allocation, not a rehash per doubling.
    for (GlobalTransaction& gt : *loaded) {
      spdlog::debug("gid={} resumed in state {} with {} branches", gt.gid, TxStateName(gt.state),
                    gt.branches.size());
      Install(std::move(gt), after);
    }
  }
  Run(after);
  spdlog::info("recovered {} unfinished transactions", loaded->size());
  return absl::OkStatus();
}

TransactionEngine::Active& TransactionEngine::Install(GlobalTransaction gt, After& after) {
  auto active = std::make_unique<Active>();
  active->in_flight.assign(gt.branches.size(), false);
  active->operator_retry.assign(gt.branches.size(), false);
  active->stuck_recorded = gt.stuck;
  active->gt = std::move(gt);
  Active& installed = *active;
  active_[installed.gt.gid] = std::move(active);
  if (installed.gt.state == TxState::kTrying) {
    ScheduleDeadline(installed);
  } else {
    DriveLocked(installed, after);
  }
  return installed;
}

// ----------------------------------------------------------------- lookups

void TransactionEngine::WithTransaction(const std::string& gid, WithFn fn,
                                        std::function<void(absl::Status)> fail) {
  After after;
  bool found = false;
  {
    absl::MutexLock lock(&mu_);
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
        if (!status.ok()) return fail(Unavailable(status, "reading the transaction failed"));
        OnLoaded(gid, std::move(*loaded), fn, fail);
      });
  if (!submitted.ok()) fail(submitted);
}

void TransactionEngine::OnLoaded(const std::string& gid, std::optional<GlobalTransaction> loaded,
                                 WithFn fn, std::function<void(absl::Status)> fail) {
  if (!loaded) return fail(absl::NotFoundError(absl::StrCat("no transaction with gid ", gid)));
  After after;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    if (it != active_.end()) {
      fn(*it->second, after);  // Installed meanwhile by another request.
    } else if (IsFinal(loaded->state)) {
      Active final_gt;  // Read-only view: final GTs are not kept in memory.
      final_gt.gt = std::move(*loaded);
      fn(final_gt, after);
    } else {
      fn(Install(std::move(*loaded), after), after);
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
      [gid, loaded, done](absl::Status status) {
        if (!status.ok()) return done(Unavailable(status, "reading the transaction failed"));
        if (!*loaded)
          return done(absl::NotFoundError(absl::StrCat("no transaction with gid ", gid)));
        done(std::move(**loaded));
      });
  if (!submitted.ok()) done(submitted);
}

// ------------------------------------------------------------------- begin

void TransactionEngine::Begin(BeginParams params, Callback<BeginResult> done) {
  if (params.timeout_ms > options_.limits.max_timeout_ms) {
    return done(absl::InvalidArgumentError(absl::StrCat("timeout_ms ", params.timeout_ms,
                                                        " is over the limit of ",
                                                        options_.limits.max_timeout_ms)));
  }
  if (!params.status_endpoint.empty()) {
    if (absl::Status valid = ValidateTarget(params.status_endpoint, "status_endpoint");
        !valid.ok()) {
      return done(valid);
    }
  }
  if (params.timeout_ms == 0) {
    params.timeout_ms = static_cast<uint32_t>(absl::ToInt64Milliseconds(options_.default_timeout));
  }
  GlobalTransaction gt;
  {
    absl::MutexLock lock(&mu_);
    if (params.gid.empty()) params.gid = NewGid();
  }
  if (absl::Status valid = ValidateGid(params.gid); !valid.ok()) return done(valid);
  gt.gid = params.gid;
  gt.created_ms = gt.updated_ms = clock_->NowMs();
  gt.timeout_ms = params.timeout_ms;
  gt.deadline_ms = gt.created_ms + params.timeout_ms;
  gt.status_endpoint = params.status_endpoint;

  // Insert-if-absent in the store decides between concurrent Begins of one
  // gid; an existing GT is read back in the same operation.
  auto result = std::make_shared<std::pair<bool, GlobalTransaction>>(false, gt);
  TimelineEvent begun =
      Event("begin", absl::StrCat("begun with timeout ", gt.timeout_ms, "ms",
                                  gt.status_endpoint.empty()
                                      ? ", no status endpoint"
                                      : absl::StrCat(", status endpoint ", gt.status_endpoint)));
  absl::Status submitted = store_->Submit(
      [result, begun](TransactionStore& store) -> absl::Status {
        TCC_ASSIGN_OR_RETURN(result->first, store.Create(result->second));
        if (result->first) return store.AppendEvents(result->second.gid, {begun});
        TCC_ASSIGN_OR_RETURN(std::optional<GlobalTransaction> existing,
                             store.Find(result->second.gid));
        if (!existing) return absl::InternalError("transaction vanished during Begin");
        result->second = std::move(*existing);
        return absl::OkStatus();
      },
      [this, params, result, done](absl::Status status) {
        if (!status.ok()) return done(Unavailable(status, "recording the transaction failed"));
        OnCreated(params, std::move(result->second), result->first, done);
      });
  if (!submitted.ok()) done(submitted);
}

void TransactionEngine::OnCreated(BeginParams params, GlobalTransaction gt, bool inserted,
                                  Callback<BeginResult> done) {
  if (!inserted &&
      (gt.timeout_ms != params.timeout_ms || gt.status_endpoint != params.status_endpoint)) {
    return done(absl::AlreadyExistsError(absl::StrFormat(
        "transaction %s already exists with other parameters (timeout_ms %d, status_endpoint "
        "\"%s\"); use a new gid",
        gt.gid, gt.timeout_ms, gt.status_endpoint)));
  }
  BeginResult result{gt.gid, inserted, gt.state};
  After after;
  {
    absl::MutexLock lock(&mu_);
    if (!IsFinal(gt.state) && !active_.contains(gt.gid)) Install(std::move(gt), after);
  }
  Run(after);
  if (inserted) spdlog::debug("gid={} begun, timeout {}ms", result.gid, params.timeout_ms);
  done(std::move(result));
}

std::string TransactionEngine::NewGid() {
  return absl::StrFormat("tcc-%x-%016x", clock_->NowMs(), absl::Uniform<uint64_t>(random_));
}

// ---------------------------------------------------------------- decision

void TransactionEngine::Decide(std::string gid, Decision decision, Callback<TxState> done) {
  if (absl::Status valid = ValidateGid(gid); !valid.ok()) return done(valid);
  WithTransaction(
      gid,
      [this, decision, done](Active& active, After& after) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        absl::StatusOr<DecisionCheck> check = CheckDecision(active.gt, decision);
        if (!check.ok()) {
          after.push_back([done, status = check.status()] { done(status); });
          return;
        }
        TxState state = active.gt.state;
        if (*check == DecisionCheck::kAlreadyDecided) {
          // The first decision may still be on its way to disk: answer only
          // after everything queued before this point is durable.
          absl::Status queued = store_->Submit([](TransactionStore&) { return absl::OkStatus(); },
                                               [done, state](absl::Status status) {
                                                 if (!status.ok())
                                                   return done(Unavailable(status, "store"));
                                                 done(state);
                                               });
          if (!queued.ok()) after.push_back([done, queued] { done(queued); });
          return;
        }
        std::string reason = decision == Decision::kCommit ? "committed by the initiator"
                                                           : "rolled back by the initiator";
        ApplyDecision(
            active, decision, std::move(reason), kCoordinatorActor,
            [done, decision](absl::Status status) {
              if (!status.ok()) return done(status);
              done(decision == Decision::kCommit ? TxState::kCommitting : TxState::kRollingBack);
            },
            after);
      },
      [done](absl::Status status) { done(status); });
}

void TransactionEngine::ApplyDecision(Active& active, Decision decision, std::string reason,
                                      std::string actor, std::function<void(absl::Status)> durable,
                                      After& after) {
  if (!durable) durable = [](absl::Status) {};  // Callers may not wait.
  active.gt.state = decision == Decision::kCommit ? TxState::kCommitting : TxState::kRollingBack;
  active.gt.decision_reason = std::move(reason);
  Touch(active);
  const std::string gid = active.gt.gid;
  spdlog::info("gid={} {} ({})", gid, TxStateName(active.gt.state), active.gt.decision_reason);
  TimelineEvent event = Event(
      "state", absl::StrCat(TxStateName(active.gt.state), " (", active.gt.decision_reason, ")"),
      std::move(actor));
  Persist(active, {}, {},
          [this, gid, durable](absl::Status status) {
            if (!status.ok()) return durable(Unavailable(status, "recording the decision failed"));
            durable(absl::OkStatus());
            Drive(gid);  // Confirms / Cancels start only once the decision is durable.
          },
          {std::move(event)});
}

TimelineEvent TransactionEngine::Event(std::string kind, std::string detail,
                                       std::string actor) const {
  return {clock_->NowMs(), std::move(kind), std::move(detail), std::move(actor)};
}

// ----------------------------------------------------------------- persist

void TransactionEngine::Persist(Active& active, const std::vector<size_t>& added,
                                const std::vector<size_t>& changed,
                                std::function<void(absl::Status)> durable,
                                std::vector<TimelineEvent> events) {
  if (active.gt.stuck && !active.stuck_recorded) {
    active.stuck_recorded = true;
    events.push_back(Event("stuck", "flagged stuck: still retrying; an operator should look"));
  }
  // The write runs later on the store thread: it gets its own copy of what
  // changed, taken now under the lock, so later changes cannot leak in.
  struct Snapshot {
    GlobalTransaction header;
    std::vector<Branch> added;
    std::vector<Branch> changed;
    size_t first_new_position = 0;
    std::vector<TimelineEvent> events;
  };
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->header = HeaderOf(active.gt);
  if (!added.empty()) snapshot->first_new_position = added.front();
  for (size_t index : added) snapshot->added.push_back(active.gt.branches[index]);
  for (size_t index : changed) snapshot->changed.push_back(ProgressOf(active.gt.branches[index]));
  snapshot->events = std::move(events);
  // Every failed write is handled here, for every caller: memory is now
  // ahead of the store, so the GT is dropped and reloaded from the store
  // before the caller (if it gave a callback) hears of the failure.
  auto on_durable = [this, gid = active.gt.gid, durable = std::move(durable)](absl::Status status) {
    if (!status.ok()) Evict(gid);
    if (durable) durable(std::move(status));
  };
  absl::Status submitted = store_->Submit(
      [snapshot](TransactionStore& store) {
        TransactionUpdate update;
        update.header = &snapshot->header;
        update.first_new_position = snapshot->first_new_position;
        for (const Branch& branch : snapshot->added) update.new_branches.push_back(&branch);
        for (const Branch& branch : snapshot->changed) update.changed_branches.push_back(&branch);
        update.events = std::move(snapshot->events);
        return store.Update(update);
      },
      on_durable);
  if (!submitted.ok()) {
    spdlog::error("gid={} could not queue a store write: {}", active.gt.gid, submitted.message());
    // Not inline: the caller holds the engine's lock, which the callback may take.
    timers_->Schedule(clock_->Now(), [on_durable, submitted] { on_durable(submitted); });
  }
}

void TransactionEngine::Evict(const std::string& gid) {
  {
    absl::MutexLock lock(&mu_);
    if (active_.erase(gid) == 0) return;
  }
  spdlog::error("gid={} dropped from memory after a store error; reloading it from the store", gid);
  // Reload the durable state and resume from it.
  timers_->Schedule(clock_->Now() + absl::Seconds(1), [this, gid] {
    WithTransaction(
        gid, [](Active&, After&) {},
        [gid](absl::Status status) {
          spdlog::error("gid={} reload failed: {}", gid, status.message());
        });
  });
}

void TransactionEngine::Touch(Active& active) {
  active.gt.updated_ms = clock_->NowMs();
  bool was_stuck = active.gt.stuck;
  active.gt.stuck = IsStuck(active.gt, options_.stuck, active.gt.updated_ms);
  if (active.gt.stuck && !was_stuck) {
    spdlog::warn("gid={} is stuck in {}: still retrying; see tccctl", active.gt.gid,
                 TxStateName(active.gt.state));
  }
}

// ------------------------------------------------------- confirm / cancel

void TransactionEngine::Drive(const std::string& gid) {
  After after;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    if (it == active_.end()) return;
    DriveLocked(*it->second, after);
  }
  Run(after);
}

void TransactionEngine::DriveLocked(Active& active, After& after) {
  GlobalTransaction& gt = active.gt;
  if (stopping_) return;
  int64_t now = clock_->NowMs();
  if (active.drive_at_ms <= now) active.drive_at_ms = std::numeric_limits<int64_t>::max();
  int64_t next_due = std::numeric_limits<int64_t>::max();
  if (gt.mode == TxMode::kSaga) return DriveSagaLocked(active, now, next_due, after);
  for (size_t i = 0; i < gt.branches.size(); ++i) {
    const Branch& branch = gt.branches[i];
    std::optional<Phase> phase = PendingPhase(gt.state, branch.state);
    if (!phase || active.in_flight[i]) continue;
    if (branch.next_retry_ms > now) {
      next_due = std::min(next_due, branch.next_retry_ms);
      continue;
    }
    if (!TakeBackgroundSlot(active)) break;
    active.in_flight[i] = true;
    BranchCall call = MakeCall(gt, branch, *phase);
    call.wait_for_ready = TakeFlag(active.operator_retry, i);
    StartCall(
        std::move(call),
        [this, gid = gt.gid, i, phase = *phase](CallResult result) {
          OnPhaseResult(gid, i, phase, std::move(result));
        },
        after);
  }
  if (next_due != std::numeric_limits<int64_t>::max()) ScheduleDrive(active, next_due);
  // A decided GT with nothing left to call (e.g. no branches) is final now.
  if (std::optional<TxState> final_state = FinalStateIfDone(gt);
      final_state &&
      std::find(active.in_flight.begin(), active.in_flight.end(), true) == active.in_flight.end()) {
    Finalize(active, *final_state, {}, nullptr);
  }
}

void TransactionEngine::Finalize(Active& active, TxState final_state,
                                 std::vector<TimelineEvent> events,
                                 std::function<void(absl::Status)> durable) {
  if (!durable) durable = [](absl::Status) {};  // Callers may not wait.
  active.gt.state = final_state;
  Touch(active);
  const std::string gid = active.gt.gid;
  spdlog::info("gid={} {}", gid, TxStateName(final_state));
  events.push_back(Event("state", std::string(TxStateName(final_state))));
  // Once durable the GT leaves memory; later reads come from the store.
  Persist(
      active, {}, {},
      [this, gid, durable](absl::Status status) {
        if (!status.ok()) return durable(Unavailable(status, "recording the outcome failed"));
        std::unique_ptr<Active> finished;
        {
          absl::MutexLock lock(&mu_);
          auto it = active_.find(gid);
          if (it != active_.end() && IsFinal(it->second->gt.state)) {
            finished = std::move(it->second);
            active_.erase(it);
          }
        }
        if (finished) {
          for (auto& waiter : finished->waiters) waiter(finished->gt);
        }
        durable(absl::OkStatus());
      },
      std::move(events));
}

void TransactionEngine::ScheduleDrive(Active& active, int64_t at_ms) {
  if (active.drive_at_ms <= at_ms) return;  // An earlier Drive will reschedule.
  active.drive_at_ms = at_ms;
  timers_->Schedule(absl::FromUnixMillis(at_ms), [this, gid = active.gt.gid] { Drive(gid); });
}

void TransactionEngine::StartCall(BranchCall call, std::function<void(CallResult)> done,
                                  After& after, bool background) {
  ++calls_in_flight_;
  after.push_back([this, call = std::move(call), done = std::move(done), background]() mutable {
    transport_->Call(std::move(call),
                     [this, done = std::move(done), background](CallResult result) {
                       done(std::move(result));
                       After next;
                       {
                         absl::MutexLock lock(&mu_);
                         --calls_in_flight_;
                         if (background) ReleaseBackgroundSlot(next);
                       }
                       Run(next);
                     });
  });
}

bool TransactionEngine::TakeBackgroundSlot(Active& active) {
  if (background_calls_ < options_.max_background_calls) {
    ++background_calls_;
    return true;
  }
  if (!active.waiting_for_slot) {
    active.waiting_for_slot = true;
    waiting_for_slot_.push_back(active.gt.gid);
  }
  return false;
}

void TransactionEngine::ReleaseBackgroundSlot(After& after) {
  --background_calls_;
  while (!waiting_for_slot_.empty()) {
    std::string gid = std::move(waiting_for_slot_.front());
    waiting_for_slot_.pop_front();
    auto it = active_.find(gid);
    if (it == active_.end()) continue;
    it->second->waiting_for_slot = false;
    after.push_back([this, gid] { Drive(gid); });
    return;
  }
}

BranchCall TransactionEngine::MakeCall(const GlobalTransaction& gt, const Branch& branch,
                                       Phase phase) const {
  BranchCall call;
  call.target = branch.target;
  call.phase = phase;
  call.gid = gt.gid;
  call.branch_id = branch.branch_id;
  call.action = branch.action;
  call.payload = branch.payload;
  call.headers = branch.headers;
  call.timeout = options_.call_timeout;
  return call;
}

TransactionEngine::Active* TransactionEngine::AnsweredLocked(const std::string& gid, size_t index) {
  auto it = active_.find(gid);
  if (it == active_.end()) return nullptr;
  it->second->in_flight[index] = false;
  return it->second.get();
}

void TransactionEngine::OnPhaseResult(const std::string& gid, size_t index, Phase phase,
                                      CallResult result) {
  After after;
  {
    absl::MutexLock lock(&mu_);
    Active* answered = AnsweredLocked(gid, index);
    if (answered == nullptr) return;
    Active& active = *answered;
    Branch& branch = active.gt.branches[index];
    if (PhaseNeeded(active.gt, branch) != phase) return;
    absl::Duration delay = options_.retry.DelayAfter(branch.attempts + 1, random_);
    ApplyPhaseResult(branch, phase, result, absl::ToUnixMillis(clock_->Now() + delay));
    std::vector<TimelineEvent> events;
    if (result.outcome == CallOutcome::kSuccess) {
      events.push_back(Event(
          "branch", absl::StrCat("branch ", branch.branch_id, ": ", BranchStateName(branch.state),
                                 " after ", branch.attempts, " attempt(s)")));
    } else {
      LogPhaseFailure(gid, branch, delay);
      // Only the first failure goes to the timeline: attempts are counted
      // on the branch, and a long outage must not flood the history.
      if (branch.attempts == 1) {
        events.push_back(Event("branch", absl::StrCat("branch ", branch.branch_id, ": ",
                                                      branch.last_error, "; retrying")));
      }
    }
    Touch(active);
    Persist(active, {}, {index}, nullptr, std::move(events));
    DriveLocked(active, after);
  }
  Run(after);
}

void TransactionEngine::LogPhaseFailure(const std::string& gid, const Branch& branch,
                                        absl::Duration delay) {
  constexpr int64_t kLogIntervalMs = 1000;
  FailureLog& log = failure_log_[branch.target];
  int64_t now_ms = clock_->NowMs();
  if (now_ms - log.last_logged_ms < kLogIntervalMs) {
    ++log.not_logged;
    return;
  }
  spdlog::warn(
      "gid={} branch={} target={} {} (attempt {}); retry in {}{}", gid, branch.branch_id,
      branch.target, branch.last_error, branch.attempts, absl::FormatDuration(delay),
      log.not_logged == 0
          ? std::string()
          : absl::StrCat("; ", log.not_logged, " more failed call(s) to this target not logged"));
  log.last_logged_ms = now_ms;
  log.not_logged = 0;
}

// --------------------------------------------------------------------- try

void TransactionEngine::Try(std::string gid, std::vector<Branch> branches,
                            Callback<std::vector<BranchTryOutcome>> done) {
  if (absl::Status valid = ValidateGid(gid); !valid.ok()) return done(valid);
  auto operation = std::make_shared<TryOperation>();
  operation->gid = gid;
  operation->done = done;
  // Shared so the (possibly large) payloads are moved, not copied, into the
  // GT when the lookup completes.
  auto requested = std::make_shared<std::vector<Branch>>(std::move(branches));
  WithTransaction(
      gid,
      [this, operation, requested](Active& active, After& after) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        absl::StatusOr<TryPlan> plan = PlanTry(active.gt, std::move(*requested), options_.limits);
        if (!plan.ok()) {
          after.push_back([operation, status = plan.status()] { operation->done(status); });
          return;
        }
        active.in_flight.resize(active.gt.branches.size(), false);
        active.operator_retry.resize(active.gt.branches.size(), false);
        for (size_t index : plan->requested) {
          operation->outcomes.push_back(OutcomeFromState(active.gt.branches[index]));
        }
        for (size_t index : plan->to_call) {
          operation->to_call.push_back(index);
          size_t slot = std::find(plan->requested.begin(), plan->requested.end(), index) -
                        plan->requested.begin();
          operation->outcome_slot_of_call.push_back(slot);
        }
        if (plan->added.empty()) {
          after.push_back([this, operation] { StartTryCalls(operation); });
          return;
        }
        // Write ahead: the branches are durable before any participant sees
        // a Try, so that after a crash the coordinator knows what to cancel.
        Touch(active);
        Persist(active, plan->added, {}, [this, operation](absl::Status status) {
          if (!status.ok()) {
            return operation->done(Unavailable(status, "registering the branches failed"));
          }
          StartTryCalls(operation);
        });
      },
      [operation](absl::Status status) { operation->done(status); });
}

void TransactionEngine::StartTryCalls(std::shared_ptr<TryOperation> operation) {
  After after;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(operation->gid);
    {
      absl::MutexLock op_lock(&operation->mu);
      operation->pending = operation->to_call.size() + 1;  // +1 released below.
    }
    for (size_t call = 0; call < operation->to_call.size(); ++call) {
      bool still_trying = it != active_.end() && it->second->gt.state == TxState::kTrying;
      if (!still_trying || stopping_) {
        after.push_back([this, operation, call] {
          OnTryResult(operation, call,
                      {CallOutcome::kUnknown,
                       "the transaction was decided or the coordinator "
                       "is stopping before Try was sent"});
        });
        continue;
      }
      const GlobalTransaction& gt = it->second->gt;
      StartCall(
          MakeCall(gt, gt.branches[operation->to_call[call]], Phase::kTry),
          [this, operation, call](CallResult result) {
            OnTryResult(operation, call, std::move(result));
          },
          after, /*background=*/false);
    }
  }
  Run(after);
  FinishTryCall(operation, absl::OkStatus());
}

void TransactionEngine::OnTryResult(std::shared_ptr<TryOperation> operation, size_t call,
                                    CallResult result) {
  size_t slot = operation->outcome_slot_of_call[call];
  {
    // Each slot is written by exactly one call; done reads after all.
    BranchTryOutcome& outcome = operation->outcomes[slot];
    outcome.outcome = result.outcome;
    outcome.detail = result.detail;
  }
  bool recorded = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(operation->gid);
    // A GT decided meanwhile (e.g. timed out) no longer needs the result.
    if (it != active_.end() && it->second->gt.state == TxState::kTrying) {
      Active& active = *it->second;
      size_t index = operation->to_call[call];
      const Branch& branch = active.gt.branches[index];
      ApplyTryResult(active.gt.branches[index], result);
      std::string detail = absl::StrCat("branch ", branch.branch_id, " on ", branch.target, ": ",
                                        BranchStateName(branch.state));
      if (!branch.last_error.empty()) absl::StrAppend(&detail, " (", branch.last_error, ")");
      Touch(active);
      // Durable before the initiator sees it: a Commit can then rely on
      // every TRIED branch being on disk.
      Persist(active, {}, {index},
              [this, operation](absl::Status status) {
                FinishTryCall(
                    operation,
                    status.ok() ? status : Unavailable(status, "recording the Try result failed"));
              },
              {Event("branch", std::move(detail))});
      recorded = true;
    }
  }
  if (!recorded) FinishTryCall(operation, absl::OkStatus());
}

void TransactionEngine::FinishTryCall(std::shared_ptr<TryOperation> operation,
                                      absl::Status status) {
  absl::Status error;
  {
    absl::MutexLock lock(&operation->mu);
    if (!status.ok() && operation->error.ok()) operation->error = status;
    if (--operation->pending > 0) return;
    error = operation->error;
  }
  if (!error.ok()) return operation->done(error);
  operation->done(std::move(operation->outcomes));
}

// ------------------------------------------------------- timeouts

void TransactionEngine::ScheduleDeadline(const Active& active) {
  timers_->Schedule(absl::FromUnixMillis(active.gt.deadline_ms),
                    [this, gid = active.gt.gid] { OnDeadline(gid); });
}

void TransactionEngine::OnDeadline(const std::string& gid) {
  After after;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    if (it == active_.end() || stopping_) return;
    Active& active = *it->second;
    if (active.gt.state != TxState::kTrying || active.querying) return;
    if (active.gt.status_endpoint.empty()) {
      ApplyDecision(
          active, Decision::kRollback,
          absl::StrCat("rolled back by timeout: no decision within ", active.gt.timeout_ms, "ms"),
          kCoordinatorActor, nullptr, after);
    } else {
      active.querying = true;
      after.push_back([this, gid, endpoint = active.gt.status_endpoint] {
        transport_->QueryInitiator(endpoint, gid, options_.query_timeout,
                                   [this, gid](absl::StatusOr<InitiatorAnswer> answer) {
                                     OnInitiatorAnswer(gid, std::move(answer));
                                   });
      });
    }
  }
  Run(after);
}

void TransactionEngine::OnInitiatorAnswer(const std::string& gid,
                                          absl::StatusOr<InitiatorAnswer> answer) {
  After after;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    if (it == active_.end()) return;
    Active& active = *it->second;
    active.querying = false;
    if (active.gt.state != TxState::kTrying) return;
    absl::Status outcome = answer.status();
    if (answer.ok() && *answer == InitiatorAnswer::kRolledBack) {
      ApplyDecision(active, Decision::kRollback,
                    "rolled back by timeout: the initiator's status endpoint answered ROLLED_BACK",
                    kCoordinatorActor, nullptr, after);
    } else if (answer.ok()) {
      absl::StatusOr<DecisionCheck> check = CheckDecision(active.gt, Decision::kCommit);
      outcome = check.status();
      if (check.ok()) {
        ApplyDecision(active, Decision::kCommit,
                      "committed after timeout: the initiator's status endpoint answered "
                      "COMMITTED",
                      kCoordinatorActor, nullptr, after);
      }
    }
    if (!outcome.ok()) {
      // Never guess: keep asking, with backoff, and flag the GT as stuck.
      ++active.query_failures;
      absl::Duration delay = options_.retry.DelayAfter(active.query_failures, random_);
      spdlog::warn("gid={} back-query failed ({}); asking again in {}", gid, outcome.message(),
                   absl::FormatDuration(delay));
      if (active.query_failures >= options_.stuck.attempts && !active.gt.stuck) {
        active.gt.stuck = true;
        Persist(active, {}, {}, nullptr);
      }
      timers_->Schedule(clock_->Now() + delay, [this, gid] { OnDeadline(gid); });
    }
  }
  Run(after);
}

// --------------------------------------------------------------- operators

void TransactionEngine::Resolve(std::string gid, Resolution resolution, std::string reason,
                                std::string actor, Callback<TxState> done) {
  if (absl::Status valid = ValidateGid(gid); !valid.ok()) return done(valid);
  if (reason.empty()) {
    return done(absl::InvalidArgumentError(
        "a reason is required to resolve a transaction by hand; it is kept in the timeline"));
  }
  if (absl::Status valid = ValidateText(reason, "reason", 1024); !valid.ok()) return done(valid);
  if (absl::Status valid = ValidateText(actor, "operator", 128); !valid.ok()) return done(valid);
  if (actor.empty()) actor = "unknown";
  WithTransaction(
      gid,
      [=, this](Active& active, After& after) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        absl::Status refused = ApplyResolution(active, resolution, reason, actor, done, after);
        if (!refused.ok()) after.push_back([done, refused] { done(refused); });
      },
      [done](absl::Status status) { done(status); });
}

absl::Status TransactionEngine::ApplyResolution(Active& active, Resolution resolution,
                                                const std::string& reason, const std::string& actor,
                                                Callback<TxState> done, After& after) {
  GlobalTransaction& gt = active.gt;
  if (IsFinal(gt.state)) {
    return absl::FailedPreconditionError(
        absl::StrCat("transaction ", gt.gid, " is already ", TxStateName(gt.state),
                     "; only unfinished transactions can be resolved"));
  }
  std::string why = absl::StrCat("resolved by ", actor, ": ", reason);
  auto reply = [done](TxState state) {
    return [done, state](absl::Status status) {
      if (!status.ok()) return done(status);
      done(state);
    };
  };
  bool drive = resolution == Resolution::kCommit || resolution == Resolution::kRollback;
  if (gt.mode == TxMode::kSaga && drive) {
    return ResolveSaga(active, resolution == Resolution::kCommit, std::move(why), actor, done,
                       after);
  }
  bool commit_side = resolution == Resolution::kCommit;
  if (resolution == Resolution::kCommit || resolution == Resolution::kRollback) {
    TxState driving = commit_side ? TxState::kCommitting : TxState::kRollingBack;
    TxState opposite = commit_side ? TxState::kRollingBack : TxState::kCommitting;
    if (gt.state == opposite) {
      return absl::FailedPreconditionError(absl::StrCat(
          "transaction ", gt.gid, " is ", TxStateName(gt.state), ": ",
          commit_side ? "Cancels" : "Confirms",
          " may already have run, so it cannot be driven the other way; drive it to its own end, "
          "or mark it by hand after fixing the participants"));
    }
    if (gt.state == driving) {  // Already on that side: just push it now.
      ClearBackoff(active, "", actor);
      after.push_back([done, driving] { done(driving); });
      return absl::OkStatus();
    }
    if (commit_side) {
      std::vector<size_t> taken_as_tried;
      for (size_t i = 0; i < gt.branches.size(); ++i) {
        Branch& branch = gt.branches[i];
        if (branch.state == BranchState::kTryRefused) {
          return absl::FailedPreconditionError(absl::StrCat(
              "branch ", branch.branch_id, " of ", gt.gid, " was refused by its participant (",
              branch.last_error, "); a refused branch cannot be committed"));
        }
        if (branch.state == BranchState::kRegistered) {
          branch.state = BranchState::kTried;  // On the operator's word.
          taken_as_tried.push_back(i);
        }
      }
      // Queued before the decision, so durable no later than it.
      if (!taken_as_tried.empty()) Persist(active, {}, taken_as_tried, nullptr);
    }
    ApplyDecision(active, commit_side ? Decision::kCommit : Decision::kRollback, std::move(why),
                  actor, reply(driving), after);
    return absl::OkStatus();
  }
  TxState final_state =
      resolution == Resolution::kMarkCommitted ? TxState::kCommitted : TxState::kRolledBack;
  gt.decision_reason = std::move(why);
  Finalize(active, final_state,
           {Event("operator",
                  absl::StrCat("marked ", TxStateName(final_state),
                               " by hand, without calling participants: ", reason),
                  actor)},
           reply(final_state));
  return absl::OkStatus();
}

absl::Status TransactionEngine::ResolveSaga(Active& active, bool forward, std::string why,
                                            const std::string& actor, Callback<TxState> done,
                                            After& after) {
  TxState state = active.gt.state;
  if (forward && state == TxState::kCompensating) {
    return absl::FailedPreconditionError(
        absl::StrCat("saga ", active.gt.gid,
                     " is COMPENSATING: completed steps are being undone, "
                     "so it cannot run forward; let it finish, or mark it by hand"));
  }
  if (forward || state == TxState::kCompensating) {  // Push it on the side it is on.
    ClearBackoff(active, "", actor);
    after.push_back([done, state] { done(state); });
    return absl::OkStatus();
  }
  std::vector<TimelineEvent> events;
  StartCompensating(active, std::move(why), actor, events);
  Touch(active);
  Persist(
      active, {}, {},
      [this, gid = active.gt.gid, done](absl::Status status) {
        if (!status.ok()) return done(Unavailable(status, "recording the resolution failed"));
        done(TxState::kCompensating);
        Drive(gid);
      },
      std::move(events));
  return absl::OkStatus();
}

bool TransactionEngine::ClearBackoff(Active& active, absl::string_view target,
                                     const std::string& actor) {
  GlobalTransaction& gt = active.gt;
  std::vector<size_t> changed;
  for (size_t i = 0; i < gt.branches.size(); ++i) {
    Branch& branch = gt.branches[i];
    bool matches = target.empty() || branch.target == target;
    if (matches && PhaseNeeded(gt, branch) && branch.next_retry_ms > 0) {
      branch.next_retry_ms = 0;
      changed.push_back(i);
      active.operator_retry[i] = true;
      transport_->ResetBackoff(branch.target);
    }
  }
  bool query_again = gt.state == TxState::kTrying && !active.querying &&
                     active.query_failures > 0 && target.empty();
  if (changed.empty() && !query_again) return false;
  std::string what = target.empty() ? "retry now requested"
                                    : absl::StrCat("retry now requested for target ", target);
  Persist(active, {}, changed, nullptr, {Event("operator", what, actor)});
  spdlog::info("gid={} {} by {}", gt.gid, what, actor);
  if (query_again) timers_->Schedule(clock_->Now(), [this, gid = gt.gid] { OnDeadline(gid); });
  active.drive_at_ms = std::numeric_limits<int64_t>::max();
  timers_->Schedule(clock_->Now(), [this, gid = gt.gid] { Drive(gid); });
  return true;
}

void TransactionEngine::RetryNow(std::string gid, std::string target, std::string actor,
                                 Callback<uint32_t> done) {
  if (gid.empty() == target.empty()) {
    return done(absl::InvalidArgumentError("RetryNow needs exactly one of gid and target"));
  }
  if (absl::Status valid = ValidateText(actor, "operator", 128); !valid.ok()) return done(valid);
  if (actor.empty()) actor = "unknown";
  if (!gid.empty()) {
    if (absl::Status valid = ValidateGid(gid); !valid.ok()) return done(valid);
    return WithTransaction(
        gid,
        [=, this](Active& active, After& after) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          if (IsFinal(active.gt.state)) {
            absl::Status final = absl::FailedPreconditionError(
                absl::StrCat("transaction ", active.gt.gid, " is already ",
                             TxStateName(active.gt.state), "; there is nothing to retry"));
            return after.push_back([done, final] { done(final); });
          }
          uint32_t count = ClearBackoff(active, "", actor) ? 1 : 0;
          after.push_back([done, count] { done(count); });
        },
        [done](absl::Status status) { done(status); });
  }
  if (absl::Status valid = ValidateTarget(target, "target"); !valid.ok()) return done(valid);
  uint32_t count = 0;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [unused, active] : active_) count += ClearBackoff(*active, target, actor) ? 1 : 0;
  }
  done(count);
}

// ---------------------------------------------------------------- shutdown

void TransactionEngine::Shutdown(absl::Duration grace) {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  mu_.AwaitWithTimeout(absl::Condition(
                           +[](TransactionEngine* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                             return self->calls_in_flight_ == 0;
                           },
                           this),
                       grace);
}

}  // namespace tcc
