#include "coordinator/domain/state_machine.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "coordinator/domain/saga.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

bool SameBranchRequest(const Branch& a, const Branch& b) {
  return a.target == b.target && a.action == b.action && a.payload == b.payload &&
         a.headers == b.headers;
}

size_t IndexOf(const std::vector<Branch>& branches, absl::string_view branch_id) {
  size_t index = 0;
  while (index < branches.size() && branches[index].branch_id != branch_id) ++index;
  return index;
}

// Gives every unnamed branch an id "b<N>" that no branch has: N starts at
// the branch's 1-based position in the GT and goes up past every id that is
// taken, whether registered before or given in this same request.
void NameUnnamedBranches(const GlobalTransaction& gt, std::vector<Branch>& requested) {
  absl::flat_hash_set<std::string> taken;
  for (const Branch& branch : gt.branches) taken.insert(branch.branch_id);
  for (const Branch& branch : requested) {
    if (!branch.branch_id.empty()) taken.insert(branch.branch_id);
  }
  size_t position = gt.branches.size();
  for (Branch& branch : requested) {
    ++position;
    if (!branch.branch_id.empty()) continue;
    size_t n = position;
    while (taken.contains(absl::StrCat("b", n))) ++n;
    branch.branch_id = absl::StrCat("b", n);
    taken.insert(branch.branch_id);
  }
}

// One Try request names each branch once: two copies would get two answers
// for one participant call.
absl::Status CheckNoRepeatedBranch(const std::vector<Branch>& requested) {
  absl::flat_hash_set<absl::string_view> seen;
  for (const Branch& branch : requested) {
    if (branch.branch_id.empty() || seen.insert(branch.branch_id).second) continue;
    return absl::InvalidArgumentError(
        absl::StrCat("branch ", branch.branch_id,
                     " is listed more than once in one Try request; list each branch once"));
  }
  return absl::OkStatus();
}

absl::Status Precondition(const GlobalTransaction& gt, absl::string_view what) {
  std::string why = gt.decision_reason.empty() ? "" : absl::StrCat(" (", gt.decision_reason, ")");
  return absl::FailedPreconditionError(
      absl::StrCat("transaction ", gt.gid, " is ", TxStateName(gt.state), why, ": ", what));
}

absl::Status CheckAllTried(const GlobalTransaction& gt) {
  for (const Branch& branch : gt.branches) {
    if (branch.state != BranchState::kTried) {
      std::string detail = branch.last_error.empty() ? "" : absl::StrCat(": ", branch.last_error);
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot commit transaction ", gt.gid, ": branch ", branch.branch_id, " is ",
          BranchStateName(branch.state), detail, "; every branch must have tried successfully"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DecisionCheck> CheckDecision(const GlobalTransaction& gt, Decision decision) {
  bool commit = decision == Decision::kCommit;
  switch (gt.state) {
    case TxState::kTrying:
      if (commit) TCC_RETURN_IF_ERROR(CheckAllTried(gt));
      return DecisionCheck::kApply;
    case TxState::kCommitting:
    case TxState::kCommitted:
      if (commit) return DecisionCheck::kAlreadyDecided;
      return Precondition(gt, "it was committed and cannot be rolled back");
    case TxState::kRollingBack:
    case TxState::kRolledBack:
      if (!commit) return DecisionCheck::kAlreadyDecided;
      return Precondition(gt, "it was rolled back and cannot be committed");
    case TxState::kRunning:
    case TxState::kCompensating:
      return Precondition(gt,
                          "it is a saga, which decides by itself; Commit and Rollback are "
                          "for TCC transactions");
  }
  return absl::InternalError("unknown transaction state");
}

absl::Status CheckTryAllowed(const GlobalTransaction& gt) {
  if (gt.state == TxState::kTrying) return absl::OkStatus();
  return Precondition(gt, "Try is only allowed while the transaction is TRYING");
}

absl::StatusOr<TryPlan> PlanTry(GlobalTransaction& gt, std::vector<Branch> requested,
                                const Limits& limits) {
  TCC_RETURN_IF_ERROR(CheckTryAllowed(gt));
  if (requested.empty()) return absl::InvalidArgumentError("Try needs at least one branch");
  if (requested.size() > limits.max_branches_per_transaction) {
    return absl::InvalidArgumentError(absl::StrCat("Try carries ", requested.size(),
                                                   " branches; the limit is ",
                                                   limits.max_branches_per_transaction));
  }
  TCC_RETURN_IF_ERROR(CheckNoRepeatedBranch(requested));
  NameUnnamedBranches(gt, requested);
  // New branches are collected apart so that a refused request leaves `gt`
  // untouched, without copying the payloads already registered.
  std::vector<Branch> added;
  TryPlan plan;
  for (Branch& branch : requested) {
    size_t total = gt.branches.size() + added.size();
    TCC_RETURN_IF_ERROR(ValidateBranch(branch, limits));
    size_t index = IndexOf(gt.branches, branch.branch_id);
    if (index == gt.branches.size()) index += IndexOf(added, branch.branch_id);
    if (index == total) {
      plan.added.push_back(index);
      added.push_back(std::move(branch));
    } else {
      const Branch& existing =
          index < gt.branches.size() ? gt.branches[index] : added[index - gt.branches.size()];
      if (!SameBranchRequest(existing, branch)) {
        return absl::AlreadyExistsError(
            absl::StrCat("branch ", branch.branch_id, " of transaction ", gt.gid,
                         " is already registered with a different target, action or payload"));
      }
    }
    plan.requested.push_back(index);
  }
  size_t total = gt.branches.size() + added.size();
  if (total > limits.max_branches_per_transaction) {
    return absl::InvalidArgumentError(absl::StrCat("transaction ", gt.gid, " would have ", total,
                                                   " branches; the limit is ",
                                                   limits.max_branches_per_transaction));
  }
  for (Branch& branch : added) gt.branches.push_back(std::move(branch));
  for (size_t index : plan.requested) {
    bool unknown = gt.branches[index].state == BranchState::kRegistered;
    bool listed = std::find(plan.to_call.begin(), plan.to_call.end(), index) != plan.to_call.end();
    if (unknown && !listed) plan.to_call.push_back(index);
  }
  return plan;
}

std::optional<Phase> PendingPhase(TxState tx_state, BranchState branch_state) {
  if (tx_state == TxState::kCommitting && branch_state == BranchState::kTried) {
    return Phase::kConfirm;
  }
  if (tx_state == TxState::kRollingBack && branch_state != BranchState::kCancelled) {
    return Phase::kCancel;
  }
  return std::nullopt;
}

void ApplyTryResult(Branch& branch, const CallResult& result) {
  if (branch.state != BranchState::kRegistered) return;
  switch (result.outcome) {
    case CallOutcome::kSuccess:
      branch.state = BranchState::kTried;
      branch.last_error.clear();
      return;
    case CallOutcome::kRefused:
      branch.state = BranchState::kTryRefused;
      branch.last_error = result.detail;  // The state already says "refused".
      return;
    case CallOutcome::kUnknown:
      branch.last_error = absl::StrCat("Try outcome unknown: ", result.detail);
      return;
  }
}

void ApplyPhaseResult(Branch& branch, Phase phase, const CallResult& result, int64_t retry_at_ms) {
  ++branch.attempts;
  if (result.outcome == CallOutcome::kSuccess) {
    // A refused branch keeps its refusal reason: it explains the rollback.
    bool refused = branch.state == BranchState::kTryRefused;
    branch.state = phase == Phase::kConfirm ? BranchState::kConfirmed : BranchState::kCancelled;
    if (!refused) branch.last_error.clear();
    branch.next_retry_ms = 0;
    return;
  }
  // A refusal of Confirm/Cancel breaks the participant contract; it is
  // retried like a transport error, and the text tells the operator why.
  absl::string_view kind = result.outcome == CallOutcome::kRefused ? "refused" : "failed";
  branch.last_error = absl::StrCat(PhaseName(phase), " ", kind, ": ", result.detail);
  branch.next_retry_ms = retry_at_ms;
}

std::optional<TxState> FinalStateIfDone(const GlobalTransaction& gt) {
  if (gt.state != TxState::kCommitting && gt.state != TxState::kRollingBack) return std::nullopt;
  for (const Branch& branch : gt.branches) {
    if (PendingPhase(gt.state, branch.state)) return std::nullopt;
  }
  return gt.state == TxState::kCommitting ? TxState::kCommitted : TxState::kRolledBack;
}

bool IsStuck(const GlobalTransaction& gt, const StuckThreshold& threshold, int64_t now_ms) {
  if (IsFinal(gt.state)) return false;
  if (now_ms - gt.created_ms >= threshold.age_ms) return true;
  for (const Branch& branch : gt.branches) {
    bool pending = PendingPhase(gt.state, branch.state).has_value();
    if (gt.mode == TxMode::kSaga) {
      pending = gt.state == TxState::kRunning ? branch.state == BranchState::kRegistered
                                              : NeedsCompensation(branch);
    }
    if (pending && branch.attempts >= threshold.attempts) return true;
  }
  return false;
}

}  // namespace tcc
