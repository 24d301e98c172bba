// TCC mode of the engine: Begin, the initiator's decision, and driving every
// branch's Confirm or Cancel (with backoff, under the call limiter) until
// the GT is final. Also the call plumbing the saga driver shares.
#include <algorithm>
#include <iterator>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "coordinator/domain/saga.h"
#include "coordinator/domain/trace_context.h"
#include "coordinator/engine/store_error.h"
#include "coordinator/engine/transaction_engine.h"
#include "tcc/common/logging.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

// What the timeline calls a branch: sagas have steps.
absl::string_view UnitName(const GlobalTransaction& gt) {
  return gt.mode == TxMode::kSaga ? "step" : "branch";
}

// The begin event's note of the initiator's trace, if it sent one.
std::string TraceNote(const GlobalTransaction& gt) {
  absl::string_view trace_id = TraceIdOf(gt.traceparent);
  return trace_id.empty() ? std::string() : absl::StrCat(", trace ", trace_id);
}

}  // namespace

void TransactionEngine::Begin(BeginParams params, Callback<BeginResult> done) {
  absl::StatusOr<GlobalTransaction> gt = NewTcc(params);
  if (!gt.ok()) return done(gt.status());
  TimelineEvent begun = BeginEvent(*gt);
  params.gid = gt->gid;
  params.timeout_ms = gt->timeout_ms;
  CreateOrLoad(*std::move(gt), std::move(begun), "recording the transaction failed",
               [this, params, done](absl::StatusOr<CreateOrLoadResult> created) {
                 if (!created.ok()) return done(created.status());
                 OnBegun(params, std::move(*created), done);
               });
}

absl::Status TransactionEngine::SameBegin(const GlobalTransaction& existing,
                                          const BeginParams& params) {
  if (existing.mode == TxMode::kTcc && existing.timeout_ms == params.timeout_ms &&
      existing.status_endpoint == params.status_endpoint) {
    return absl::OkStatus();
  }
  return absl::AlreadyExistsError(absl::StrFormat(
      "transaction %s already exists with other parameters (timeout_ms %d, status_endpoint "
      "\"%s\"); use a new gid",
      existing.gid, existing.timeout_ms, existing.status_endpoint));
}

absl::StatusOr<GlobalTransaction> TransactionEngine::NewTcc(const BeginParams& params) {
  if (params.timeout_ms > options_.limits.max_timeout_ms) {
    return absl::InvalidArgumentError(absl::StrCat("timeout_ms ", params.timeout_ms,
                                                   " is over the limit of ",
                                                   options_.limits.max_timeout_ms));
  }
  if (!params.status_endpoint.empty()) {
    TCC_RETURN_IF_ERROR(ValidateTarget(params.status_endpoint, "status_endpoint"));
  }
  GlobalTransaction gt;
  gt.gid = params.gid;
  if (gt.gid.empty()) {
    tcc::MutexLock lock(&mu_);
    gt.gid = NewGidLocked();
  }
  TCC_RETURN_IF_ERROR(ValidateGid(gt.gid));
  gt.created_ms = gt.updated_ms = clock_->NowMs();
  gt.timeout_ms = params.timeout_ms != 0
                      ? params.timeout_ms
                      : static_cast<uint32_t>(absl::ToInt64Milliseconds(options_.default_timeout));
  gt.deadline_ms = gt.created_ms + gt.timeout_ms;
  gt.status_endpoint = params.status_endpoint;
  gt.traceparent = params.traceparent;
  return gt;
}

TimelineEvent TransactionEngine::BeginEvent(const GlobalTransaction& gt) const {
  return Event("begin", absl::StrCat("begun with timeout ", gt.timeout_ms, "ms",
                                     gt.status_endpoint.empty()
                                         ? ", no status endpoint"
                                         : absl::StrCat(", status endpoint ", gt.status_endpoint),
                                     TraceNote(gt)));
}

void TransactionEngine::OnBegun(BeginParams params, CreateOrLoadResult created,
                                Callback<BeginResult> done) {
  GlobalTransaction& gt = created.gt;
  if (!created.created) {
    if (absl::Status same = SameBegin(gt, params); !same.ok()) return done(same);
  }
  BeginResult result{gt.gid, created.created, gt.state};
  if (created.created) spdlog::debug("{} begun, timeout {}ms", LogTag(gt), params.timeout_ms);
  After after;
  {
    tcc::MutexLock lock(&mu_);
    // A repeat on a GT another instance owns leaves it to that instance.
    if (!IsFinal(gt.state) && !active_.contains(gt.gid) && MineLocked(gt)) {
      InstallLocked(std::move(gt), after);
    }
  }
  Run(after);
  done(std::move(result));
}

void TransactionEngine::Decide(std::string gid, Decision decision, Callback<TxState> done) {
  if (absl::Status valid = ValidateGid(gid); !valid.ok()) return done(valid);
  RetryOnceIfFencedAway<TxState>(
      [this, gid, decision](Callback<TxState> attempt_done) {
        DecideOnce(gid, decision, /*may_reask=*/true, std::move(attempt_done));
      },
      std::move(done));
}

void TransactionEngine::DecideOnce(const std::string& gid, Decision decision, bool may_reask,
                                   Callback<TxState> done) {
  WithTransaction(
      gid,
      [this, decision, may_reask, done](Active& active, After& after) {
        mu_.AssertHeld();
        if (decision == Decision::kCommit && may_reask && HasUnknownTries(active)) {
          // A branch whose Try result is not known here (lost in a crash
          // before the decision's write, or not answered): its Try is asked
          // again, then the Commit is decided on what it answers.
          ReaskTriesLocked(active, after, [this, gid = active.gt.gid, done] {
            DecideOnce(gid, Decision::kCommit, /*may_reask=*/false, done);
          });
          return;
        }
        DecideLocked(active, decision, done, after);
      },
      done);
}

void TransactionEngine::DecideLocked(Active& active, Decision decision, Callback<TxState> done,
                                     After& after) {
  absl::StatusOr<DecisionCheck> check = CheckDecision(active.gt, decision);
  if (!check.ok()) {
    after.push_back([done, status = check.status()] { done(status); });
    return;
  }
  TxState state = active.gt.state;
  if (*check == DecisionCheck::kAlreadyDecided) {
    // The first decision may still be on its way to disk: answer only
    // once it is, or with the error that lost it.
    AfterQueuedWritesLocked(active, [done, state](absl::Status status) {
      if (!status.ok()) return done(StoreFailure(status, "recording the decision failed"));
      done(state);
    });
    return;
  }
  std::string reason =
      decision == Decision::kCommit ? "committed by the initiator" : "rolled back by the initiator";
  ApplyDecisionLocked(
      active, decision, std::move(reason), kCoordinatorActor,
      [done, decision](absl::Status status) {
        if (!status.ok()) return done(status);
        done(decision == Decision::kCommit ? TxState::kCommitting : TxState::kRollingBack);
      });
}

void TransactionEngine::ApplyDecisionLocked(Active& active, Decision decision, std::string reason,
                                            std::string actor, StatusFn durable) {
  active.gt.state = decision == Decision::kCommit ? TxState::kCommitting : TxState::kRollingBack;
  active.gt.decision_reason = std::move(reason);
  TouchLocked(active);
  const std::string gid = active.gt.gid;
  spdlog::info("{} {} ({})", LogTag(active.gt), TxStateName(active.gt.state),
               active.gt.decision_reason);
  TimelineEvent event = Event(
      "state", absl::StrCat(TxStateName(active.gt.state), " (", active.gt.decision_reason, ")"),
      std::move(actor));
  PersistLocked(active, {}, {},
                [this, gid, durable](absl::Status status) {
                  if (!status.ok()) {
                    if (durable) durable(StoreFailure(status, "recording the decision failed"));
                    return;
                  }
                  if (durable) durable(absl::OkStatus());
                  Drive(gid);  // Confirms / Cancels start only once the decision is durable.
                },
                {std::move(event)});
}

void TransactionEngine::Drive(const std::string& gid) {
  After after;
  {
    tcc::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    if (it == active_.end()) return;
    DriveLocked(*it->second, after);
  }
  Run(after);
}

void TransactionEngine::DriveLocked(Active& active, After& after) {
  if (stopping_) return;
  int64_t now = clock_->NowMs();
  if (active.drive_at_ms <= now) active.drive_at_ms = std::numeric_limits<int64_t>::max();
  if (active.gt.mode == TxMode::kSaga) return DriveSagaLocked(active, now, after);
  DriveTccLocked(active, now, after);
}

void TransactionEngine::DriveTccLocked(Active& active, int64_t now, After& after) {
  GlobalTransaction& gt = active.gt;
  int64_t next_due = std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < gt.branches.size(); ++i) {
    const Branch& branch = gt.branches[i];
    std::optional<Phase> phase = PendingPhase(gt.state, branch.state);
    if (!phase || active.in_flight[i]) continue;
    if (branch.next_retry_ms > now) {
      next_due = std::min(next_due, branch.next_retry_ms);
      continue;
    }
    if (!limiter_.TryAcquire(gt.gid)) break;
    active.in_flight[i] = true;
    BranchCall call = MakeCall(gt, branch, *phase);
    call.wait_for_ready = TakeFlag(active.operator_retry, i);
    StartCallLocked(
        std::move(call),
        [this, gid = gt.gid, i, phase = *phase](CallResult result) {
          OnPhaseResult(gid, i, phase, std::move(result));
        },
        after);
  }
  if (next_due != std::numeric_limits<int64_t>::max()) ScheduleDriveLocked(active, next_due);
  // A decided GT with nothing left to call (e.g. no branches) is final now.
  if (std::optional<TxState> final_state = FinalStateIfDone(gt); final_state && active.Idle()) {
    FinalizeLocked(active, *final_state, {}, nullptr);
  }
}

void TransactionEngine::ScheduleDriveLocked(Active& active, int64_t at_ms) {
  if (active.drive_at_ms <= at_ms) return;  // An earlier Drive will reschedule.
  active.drive_at_ms = at_ms;
  scheduler_->Schedule(absl::FromUnixMillis(at_ms), [this, gid = active.gt.gid] { Drive(gid); });
}

void TransactionEngine::StartCallLocked(BranchCall call, std::function<void(CallResult)> done,
                                        After& after, bool background) {
  limiter_.CallStarted();
  after.push_back([this, call = std::move(call), done = std::move(done), background]() mutable {
    Phase phase = call.phase;
    absl::Time sent = clock_->Now();
    transport_->Call(std::move(call), [this, done = std::move(done), background, phase,
                                       sent](CallResult result) {
      observer_->ParticipantCallFinished(phase, result.outcome, clock_->Now() - sent);
      done(std::move(result));
      if (background) ReleaseBackgroundSlot();
      // Last: Shutdown may return (and the engine go) as soon as no call
      // is counted.
      limiter_.CallFinished();
    });
  });
}

void TransactionEngine::ReleaseBackgroundSlot() {
  limiter_.Release();
  std::optional<std::string> next;
  {
    tcc::MutexLock lock(&mu_);
    // Skips the GTs that finished while they waited.
    while ((next = limiter_.PopWaiting()) && !active_.contains(*next)) {
    }
  }
  if (next) Drive(*next);
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
  call.traceparent = gt.traceparent;
  // A saga step may set its own deadline, for its action and compensation.
  call.timeout =
      branch.timeout_ms > 0 ? absl::Milliseconds(branch.timeout_ms) : options_.call_timeout;
  return call;
}

std::optional<Phase> TransactionEngine::PhaseNeeded(const GlobalTransaction& gt,
                                                    const Branch& branch) {
  if (gt.mode == TxMode::kTcc) return PendingPhase(gt.state, branch.state);
  if (gt.state == TxState::kRunning && branch.state == BranchState::kRegistered) {
    return Phase::kTry;
  }
  if (gt.state == TxState::kCompensating && NeedsCompensation(branch)) return Phase::kCancel;
  return std::nullopt;
}

TransactionEngine::Active* TransactionEngine::AnsweredLocked(const std::string& gid, size_t index) {
  auto it = active_.find(gid);
  if (it == active_.end()) return nullptr;
  it->second->in_flight[index] = false;
  return it->second.get();
}

absl::Duration TransactionEngine::BackoffLocked(uint32_t failed_attempts) {
  return options_.retry.DelayAfter(failed_attempts, random_);
}

void TransactionEngine::OnPhaseResult(const std::string& gid, size_t index, Phase phase,
                                      CallResult result) {
  After after;
  {
    tcc::MutexLock lock(&mu_);
    Active* answered = AnsweredLocked(gid, index);
    if (answered == nullptr) return;
    Active& active = *answered;
    Branch& branch = active.gt.branches[index];
    if (PhaseNeeded(active.gt, branch) != phase) return;
    absl::Duration delay = BackoffLocked(branch.attempts + 1);
    ApplyPhaseResult(branch, phase, result, absl::ToUnixMillis(clock_->Now() + delay));
    absl::string_view unit = UnitName(active.gt);
    std::vector<TimelineEvent> events;
    if (result.outcome == CallOutcome::kSuccess) {
      events.push_back(Event(
          "branch", absl::StrCat(unit, " ", branch.branch_id, ": ", BranchStateName(branch.state),
                                 " after ", branch.attempts, " attempt(s)")));
    } else {
      LogPhaseFailureLocked(LogTag(active.gt), branch, delay);
      // Only the first failure goes to the timeline: attempts are counted
      // on the branch, and a long outage must not flood the history.
      if (branch.attempts == 1) {
        events.push_back(Event("branch", absl::StrCat(unit, " ", branch.branch_id, ": ",
                                                      branch.last_error, "; retrying")));
      }
    }
    TouchLocked(active);
    if (result.outcome == CallOutcome::kSuccess && SuccessCanWaitLocked(active)) {
      active.unwritten[index] = true;
      std::move(events.begin(), events.end(), std::back_inserter(active.unwritten_events));
    } else if (RetryStateDueLocked(active, index, result.outcome == CallOutcome::kSuccess)) {
      active.retry_state_written_ms[index] = clock_->NowMs();
      PersistLocked(active, {}, {index}, nullptr, std::move(events));
    }
    DriveLocked(active, after);
  }
  Run(after);
}

bool TransactionEngine::SuccessCanWaitLocked(const Active& active) const {
  if (active.gt.mode != TxMode::kTcc) return false;
  // Another call's result will write it along, or the final state will
  // (DriveLocked finalizes a GT with nothing left to call at once).
  return !active.Idle() || FinalStateIfDone(active.gt).has_value();
}

bool TransactionEngine::RetryStateDueLocked(const Active& active, size_t index,
                                            bool succeeded) const {
  const Branch& branch = active.gt.branches[index];
  if (succeeded || branch.attempts == 1) return true;          // A new state, or the first failure.
  if (active.gt.stuck && !active.stuck_recorded) return true;  // The flag is news.
  int64_t interval_ms = absl::ToInt64Milliseconds(options_.retry_state_write_interval);
  return clock_->NowMs() - active.retry_state_written_ms[index] >= interval_ms;
}

void TransactionEngine::LogPhaseFailureLocked(const std::string& log_tag, const Branch& branch,
                                              absl::Duration delay) {
  std::optional<int64_t> unlogged = failure_log_.Admit(branch.target);
  if (!unlogged) return;
  spdlog::warn("{} branch={} target={} {} (attempt {}); retry in {}{}", log_tag, branch.branch_id,
               branch.target, branch.last_error, branch.attempts, absl::FormatDuration(delay),
               *unlogged == 0 ? std::string()
                              : absl::StrCat("; ", *unlogged,
                                             " more failed call(s) to this target not logged"));
}

}  // namespace tcc
