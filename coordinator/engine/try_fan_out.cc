#include "coordinator/engine/try_fan_out.h"

#include <algorithm>

namespace tcc {
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

void TryFanOut::Plan(const TryPlan& plan, const std::vector<Branch>& branches) {
  for (size_t index : plan.requested) outcomes_.push_back(OutcomeFromState(branches[index]));
  for (size_t index : plan.to_call) {
    to_call_.push_back(index);
    auto slot = std::find(plan.requested.begin(), plan.requested.end(), index);
    slot_of_call_.push_back(slot - plan.requested.begin());
  }
}

void TryFanOut::Start() {
  tcc::MutexLock lock(&mu_);
  pending_ = to_call_.size() + 1;
  results_left_ = to_call_.size();
}

bool TryFanOut::Record(size_t call, const CallResult& result) {
  BranchTryOutcome& outcome = outcomes_[slot_of_call_[call]];
  outcome.outcome = result.outcome;
  outcome.detail = result.detail;
  tcc::MutexLock lock(&mu_);
  return --results_left_ == 0;
}

CallResult TryFanOut::ResultOf(size_t call) const {
  const BranchTryOutcome& outcome = outcomes_[slot_of_call_[call]];
  return {outcome.outcome, outcome.detail};
}

void TryFanOut::MarkCommittable() {
  tcc::MutexLock lock(&mu_);
  committable_ = true;
}

void TryFanOut::Finish(absl::Status status) {
  absl::Status error;
  bool committable = false;
  {
    tcc::MutexLock lock(&mu_);
    if (!status.ok() && error_.ok()) error_ = std::move(status);
    if (--pending_ > 0) return;
    error = error_;
    committable = committable_;
  }
  if (!error.ok()) return done_(error);
  done_(TryAnswer{std::move(outcomes_), committable});
}

}  // namespace tcc
