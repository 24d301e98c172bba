// The Try fan-out: one initiator request registers its branches (durable
// before any participant sees a Try), calls every branch whose outcome is
// not known yet, records each result durably, then answers one outcome per
// requested branch.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "coordinator/engine/store_error.h"
#include "coordinator/engine/transaction_engine.h"

namespace tcc {

// One Try request: the branches it asked for and what each answered.
// Thread-safe: `outcomes` slots are each written by one call's answer and
// read only after all answered; mu guards the countdown.
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
      [this, operation, requested](Active& active, After& after) {
        mu_.AssertHeld();
        PlanTryLocked(active, operation, std::move(*requested), after);
      },
      [operation](absl::Status status) { operation->done(status); });
}

void TransactionEngine::PlanTryLocked(Active& active, std::shared_ptr<TryOperation> operation,
                                      std::vector<Branch> requested, After& after) {
  absl::StatusOr<TryPlan> plan = PlanTry(active.gt, std::move(requested), options_.limits);
  if (!plan.ok()) {
    after.push_back([operation, status = plan.status()] { operation->done(status); });
    return;
  }
  active.FitFlags();
  for (size_t index : plan->requested) {
    operation->outcomes.push_back(OutcomeFromState(active.gt.branches[index]));
  }
  for (size_t index : plan->to_call) {
    operation->to_call.push_back(index);
    size_t slot =
        std::find(plan->requested.begin(), plan->requested.end(), index) - plan->requested.begin();
    operation->outcome_slot_of_call.push_back(slot);
  }
  if (plan->added.empty()) {
    after.push_back([this, operation] { StartTryCalls(operation); });
    return;
  }
  // Write ahead: the branches are durable before any participant sees a
  // Try, so that after a crash the coordinator knows what to cancel.
  TouchLocked(active);
  PersistLocked(active, plan->added, {}, [this, operation](absl::Status status) {
    if (!status.ok()) {
      return operation->done(StoreFailure(status, "registering the branches failed"));
    }
    StartTryCalls(operation);
  });
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
      StartCallLocked(
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
      TouchLocked(active);
      // Durable before the initiator sees it: a Commit can then rely on
      // every TRIED branch being on disk.
      PersistLocked(active, {}, {index},
                    [this, operation](absl::Status status) {
                      FinishTryCall(operation,
                                    StoreFailure(status, "recording the Try result failed"));
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

}  // namespace tcc
