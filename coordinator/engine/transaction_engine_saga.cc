// Saga mode of the engine: submit, run steps as their dependencies
// complete, compensate completed and in-doubt steps in reverse dependency
// order. Same store, scheduler, transport and retry policy as TCC.
#include <algorithm>
#include <limits>

#include "absl/strings/str_format.h"
#include "coordinator/domain/saga.h"
#include "coordinator/domain/trace_context.h"
#include "coordinator/engine/store_error.h"
#include "coordinator/engine/transaction_engine.h"
#include "tcc/common/logging.h"

namespace tcc {
namespace {

bool SameSteps(const std::vector<Branch>& a, const std::vector<Branch>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].branch_id != b[i].branch_id || a[i].target != b[i].target ||
        a[i].action != b[i].action || a[i].payload != b[i].payload ||
        a[i].headers != b[i].headers || a[i].depends_on != b[i].depends_on) {
      return false;
    }
  }
  return true;
}

// How often a repeated submission waiting at a non-owner reads the saga.
constexpr absl::Duration kForeignPoll = absl::Milliseconds(200);

SagaResult ResultOf(const GlobalTransaction& saga, bool created) {
  return {saga.gid, created, saga.state, saga.decision_reason};
}

}  // namespace

void TransactionEngine::SubmitSaga(SagaParams params, Callback<SagaResult> done) {
  if (params.gid.empty()) {
    tcc::MutexLock lock(&mu_);
    params.gid = NewGidLocked();
  }
  if (absl::Status valid = ValidateGid(params.gid); !valid.ok()) return done(valid);
  if (absl::Status valid = PrepareSagaSteps(params.steps, params.concurrent, options_.limits);
      !valid.ok()) {
    return done(valid);
  }
  GlobalTransaction saga;
  saga.gid = params.gid;
  saga.mode = TxMode::kSaga;
  saga.state = TxState::kRunning;
  saga.created_ms = saga.updated_ms = clock_->NowMs();
  saga.branches = params.steps;
  saga.traceparent = params.traceparent;
  absl::string_view trace_id = TraceIdOf(saga.traceparent);
  TimelineEvent begun =
      Event("begin", absl::StrCat("saga submitted with ", params.steps.size(), " steps, ",
                                  params.concurrent ? "concurrent (by dependencies)" : "in order",
                                  trace_id.empty() ? "" : ", trace ", trace_id));
  CreateOrLoad(
      std::move(saga), std::move(begun), "recording the saga failed",
      [this, params = std::move(params), done](absl::StatusOr<CreateOrLoadResult> created) mutable {
        if (!created.ok()) return done(created.status());
        OnSagaCreated(std::move(params), std::move(*created), done);
      });
}

void TransactionEngine::OnSagaCreated(SagaParams params, CreateOrLoadResult created,
                                      Callback<SagaResult> done) {
  const GlobalTransaction& saga = created.gt;
  if (!created.created && (saga.mode != TxMode::kSaga || !SameSteps(saga.branches, params.steps))) {
    return done(absl::AlreadyExistsError(
        absl::StrCat("transaction ", saga.gid,
                     " already exists with other steps (or is not a saga); use a new gid")));
  }
  After after;
  {
    tcc::MutexLock lock(&mu_);
    auto it = active_.find(saga.gid);
    Active* active = it != active_.end() ? it->second.get() : nullptr;
    // A repeat on a saga another instance owns leaves it to that instance
    // (and answers its state now, without waiting).
    if (active == nullptr && !IsFinal(saga.state) && MineLocked(saga)) {
      active = &InstallLocked(saga, after);
    }
    if (active != nullptr && params.wait_for_result) {
      AwaitFinalLocked(*active, params.wait_timeout, done, created.created);
    } else if (params.wait_for_result && !IsFinal(saga.state)) {
      // Another instance drives it: wait for the store to say it is final.
      after.push_back(
          [this, gid = saga.gid, deadline = clock_->Now() + params.wait_timeout, done,
           created = created.created] { AwaitForeignFinal(gid, deadline, done, created); });
    } else {
      SagaResult result = ResultOf(active != nullptr ? active->gt : saga, created.created);
      after.push_back([done, result] { done(result); });
    }
  }
  Run(after);
}

void TransactionEngine::AwaitFinalLocked(Active& active, absl::Duration timeout,
                                         Callback<SagaResult> done, bool created) {
  // Whichever comes first, the final state or the timeout, answers.
  auto answered = std::make_shared<std::atomic<bool>>(false);
  active.waiters.push_back([done, created, answered](const GlobalTransaction& saga) {
    if (!answered->exchange(true)) done(ResultOf(saga, created));
  });
  scheduler_->Schedule(
      clock_->Now() + timeout, [this, gid = active.gt.gid, done, created, answered] {
        if (answered->load()) return;
        Get(gid, [done, created, answered](absl::StatusOr<GlobalTransaction> saga) {
          if (answered->exchange(true)) return;
          if (!saga.ok()) return done(saga.status());
          done(ResultOf(*saga, created));
        });
      });
}

void TransactionEngine::AwaitForeignFinal(std::string gid, absl::Time deadline,
                                          Callback<SagaResult> done, bool created) {
  scheduler_->Schedule(std::min(clock_->Now() + kForeignPoll, deadline), [=, this] {
    Get(gid, [=, this](absl::StatusOr<GlobalTransaction> saga) {
      if (!saga.ok()) return done(saga.status());
      if (IsFinal(saga->state) || clock_->Now() >= deadline) return done(ResultOf(*saga, created));
      AwaitForeignFinal(gid, deadline, done, created);
    });
  });
}

void TransactionEngine::DriveSagaLocked(Active& active, int64_t now, After& after) {
  GlobalTransaction& saga = active.gt;
  // Final but its write not yet durable (it stays in memory until then): a
  // late reply must not drive it, least of all into compensating a saga
  // that COMMITTED.
  if (IsFinal(saga.state)) return;
  bool running = saga.state == TxState::kRunning;
  if (!running && active.compensation_pending) return;  // CompensationDurable drives it.
  int64_t next_due = std::numeric_limits<int64_t>::max();
  std::vector<size_t> ready = running ? RunnableSteps(saga) : CompensableSteps(saga);
  for (size_t i : ready) {
    Branch& step = saga.branches[i];
    if (active.in_flight[i]) continue;
    if (step.next_retry_ms > now) {
      next_due = std::min(next_due, step.next_retry_ms);
      continue;
    }
    if (!limiter_.TryAcquire(saga.gid)) break;
    active.in_flight[i] = true;
    if (!running) {
      BranchCall call = MakeCall(saga, step, Phase::kCancel);
      call.wait_for_ready = TakeFlag(active.operator_retry, i);
      StartCallLocked(
          std::move(call),
          [this, gid = saga.gid, i](CallResult result) {
            OnPhaseResult(gid, i, Phase::kCancel, std::move(result));
          },
          after);
      continue;
    }
    // Write ahead: the mark and the attempt are durable before the action
    // is sent, so a restart knows this step may have run and must be
    // compensated.
    step.action_sent = true;
    ++step.attempts;
    PersistLocked(active, {}, {i}, [this, gid = saga.gid, i](absl::Status status) {
      SendSagaAction(gid, i, status.ok());
    });
  }
  if (next_due != std::numeric_limits<int64_t>::max()) ScheduleDriveLocked(active, next_due);
  if (std::optional<TxState> final_state = SagaFinalStateIfDone(saga);
      final_state && active.Idle()) {
    FinalizeLocked(active, *final_state, {}, nullptr);
  }
}

void TransactionEngine::SendSagaAction(const std::string& gid, size_t index, bool durable) {
  After after;
  bool release = false;
  {
    tcc::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    if (it == active_.end() || !durable) {
      release = true;
    } else if (Active& active = *it->second; stopping_ || active.gt.state != TxState::kRunning) {
      active.in_flight[index] = false;  // Compensation (or a restart) takes it from here.
      release = true;
      DriveLocked(active, after);
    } else {
      BranchCall call = MakeCall(active.gt, active.gt.branches[index], Phase::kTry);
      call.wait_for_ready = TakeFlag(active.operator_retry, index);
      StartCallLocked(
          std::move(call),
          [this, gid, index](CallResult result) {
            OnSagaActionResult(gid, index, std::move(result));
          },
          after);
    }
  }
  if (release) ReleaseBackgroundSlot();
  Run(after);
}

void TransactionEngine::OnSagaActionResult(const std::string& gid, size_t index,
                                           CallResult result) {
  After after;
  {
    tcc::MutexLock lock(&mu_);
    Active* answered = AnsweredLocked(gid, index);
    if (answered == nullptr) return;
    Active& active = *answered;
    Branch& step = active.gt.branches[index];
    uint32_t max_attempts = step.max_attempts > 0 ? step.max_attempts : options_.saga_max_attempts;
    absl::Duration delay = BackoffLocked(step.attempts);
    bool first_attempt = step.attempts == 1;
    // Applied even while compensating: a late success is a completed step
    // that the compensation must now undo.
    std::optional<std::string> failure =
        ApplyActionResult(step, result, max_attempts, absl::ToUnixMillis(clock_->Now() + delay));
    std::vector<TimelineEvent> events;
    if (result.outcome != CallOutcome::kUnknown || first_attempt || failure) {
      std::string detail = result.outcome == CallOutcome::kSuccess
                               ? absl::StrCat("step ", step.branch_id, ": action done")
                               : absl::StrCat("step ", step.branch_id, ": ", step.last_error);
      events.push_back(Event("branch", std::move(detail)));
    }
    std::vector<size_t> changed = {index};
    StatusFn durable;
    if (failure && active.gt.state == TxState::kRunning) {
      for (size_t reset :
           StartCompensatingLocked(active, std::move(*failure), kCoordinatorActor, events)) {
        if (reset != index) changed.push_back(reset);
      }
      durable = [this, gid](absl::Status status) {
        if (status.ok()) CompensationDurable(gid);
      };
    } else if (active.gt.state == TxState::kCompensating && NeedsCompensation(step)) {
      EnterCompensation(step);  // It answered after compensation began.
    }
    TouchLocked(active);
    PersistLocked(active, {}, changed, std::move(durable), std::move(events));
    DriveLocked(active, after);
  }
  Run(after);
}

std::vector<size_t> TransactionEngine::StartCompensatingLocked(Active& active, std::string reason,
                                                               std::string actor,
                                                               std::vector<TimelineEvent>& events) {
  active.gt.state = TxState::kCompensating;
  active.gt.decision_reason = std::move(reason);
  active.compensation_pending = true;
  spdlog::info("{} COMPENSATING ({})", LogTag(active.gt), active.gt.decision_reason);
  events.push_back(Event("state", absl::StrCat("COMPENSATING (", active.gt.decision_reason, ")"),
                         std::move(actor)));
  // Steps whose action is still in flight enter compensation when it
  // answers (OnSagaActionResult); the others now.
  std::vector<size_t> reset;
  for (size_t i = 0; i < active.gt.branches.size(); ++i) {
    Branch& step = active.gt.branches[i];
    if (active.in_flight[i] || !NeedsCompensation(step)) continue;
    EnterCompensation(step);
    reset.push_back(i);
  }
  return reset;
}

void TransactionEngine::CompensationDurable(const std::string& gid) {
  After after;
  {
    tcc::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    if (it == active_.end()) return;
    it->second->compensation_pending = false;
    DriveLocked(*it->second, after);
  }
  Run(after);
}

}  // namespace tcc
