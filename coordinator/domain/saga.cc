#include "coordinator/domain/saga.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

std::map<std::string, size_t> IndexById(const std::vector<Branch>& steps) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < steps.size(); ++i) index.emplace(steps[i].branch_id, i);
  return index;
}

// Kahn's algorithm: a cycle leaves steps with unmet dependencies.
absl::Status CheckAcyclic(const std::vector<Branch>& steps) {
  std::map<std::string, size_t> index = IndexById(steps);
  std::vector<int> unmet(steps.size(), 0);
  std::vector<std::vector<size_t>> dependents(steps.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    for (const std::string& dependency : steps[i].depends_on) {
      ++unmet[i];
      dependents[index.at(dependency)].push_back(i);
    }
  }
  std::vector<size_t> ready;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (unmet[i] == 0) ready.push_back(i);
  }
  size_t visited = 0;
  while (!ready.empty()) {
    size_t next = ready.back();
    ready.pop_back();
    ++visited;
    for (size_t dependent : dependents[next]) {
      if (--unmet[dependent] == 0) ready.push_back(dependent);
    }
  }
  if (visited == steps.size()) return absl::OkStatus();
  for (size_t i = 0; i < steps.size(); ++i) {
    if (unmet[i] > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("the saga's dependencies form a cycle through step ", steps[i].branch_id));
    }
  }
  return absl::InternalError("cycle check lost track of a step");
}

bool Completed(const Branch& step) { return step.state == BranchState::kTried; }

}  // namespace

absl::Status PrepareSagaSteps(std::vector<Branch>& steps, bool concurrent, const Limits& limits) {
  if (steps.empty()) return absl::InvalidArgumentError("a saga needs at least one step");
  if (steps.size() > limits.max_branches_per_transaction) {
    return absl::InvalidArgumentError(absl::StrCat("the saga has ", steps.size(),
                                                   " steps; the limit is ",
                                                   limits.max_branches_per_transaction));
  }
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < steps.size(); ++i) {
    Branch& step = steps[i];
    if (step.branch_id.empty()) step.branch_id = absl::StrCat("s", i + 1);
    TCC_RETURN_IF_ERROR(ValidateBranch(step, limits));
    if (!seen.emplace(step.branch_id, i).second) {
      return absl::InvalidArgumentError(absl::StrCat("step id ", step.branch_id, " is used twice"));
    }
    if (!concurrent && !step.depends_on.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("step ", step.branch_id,
                       " has depends_on, which needs concurrent mode; an ordered "
                       "saga runs its steps in the order given"));
    }
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!concurrent && i > 0) steps[i].depends_on = {steps[i - 1].branch_id};
    for (const std::string& dependency : steps[i].depends_on) {
      if (!seen.contains(dependency)) {
        return absl::InvalidArgumentError(
            absl::StrCat("step ", steps[i].branch_id, " depends on unknown step ", dependency));
      }
    }
  }
  return CheckAcyclic(steps);
}

std::vector<size_t> RunnableSteps(const GlobalTransaction& saga) {
  std::map<std::string, size_t> index = IndexById(saga.branches);
  std::vector<size_t> runnable;
  for (size_t i = 0; i < saga.branches.size(); ++i) {
    const Branch& step = saga.branches[i];
    if (step.state != BranchState::kRegistered) continue;
    bool ready = std::all_of(step.depends_on.begin(), step.depends_on.end(), [&](const auto& id) {
      auto it = index.find(id);
      return it != index.end() && Completed(saga.branches[it->second]);
    });
    if (ready) runnable.push_back(i);
  }
  return runnable;
}

bool NeedsCompensation(const Branch& step) {
  return step.state == BranchState::kTried ||
         (step.state == BranchState::kRegistered && step.action_sent);
}

std::vector<size_t> CompensableSteps(const GlobalTransaction& saga) {
  std::vector<size_t> compensable;
  for (size_t i = 0; i < saga.branches.size(); ++i) {
    if (!NeedsCompensation(saga.branches[i])) continue;
    const std::string& id = saga.branches[i].branch_id;
    bool dependents_done =
        std::none_of(saga.branches.begin(), saga.branches.end(), [&](const Branch& other) {
          bool depends = std::find(other.depends_on.begin(), other.depends_on.end(), id) !=
                         other.depends_on.end();
          return depends && NeedsCompensation(other);
        });
    if (dependents_done) compensable.push_back(i);
  }
  return compensable;
}

std::optional<TxState> SagaFinalStateIfDone(const GlobalTransaction& saga) {
  if (saga.state == TxState::kRunning &&
      std::all_of(saga.branches.begin(), saga.branches.end(), Completed)) {
    return TxState::kCommitted;
  }
  if (saga.state == TxState::kCompensating &&
      std::none_of(saga.branches.begin(), saga.branches.end(), NeedsCompensation)) {
    return TxState::kRolledBack;
  }
  return std::nullopt;
}

void EnterCompensation(Branch& step) {
  step.attempts = 0;
  step.next_retry_ms = 0;
}

std::optional<std::string> ApplyActionResult(Branch& step, const CallResult& result,
                                             uint32_t max_attempts, int64_t retry_at_ms) {
  if (step.state != BranchState::kRegistered) return std::nullopt;
  switch (result.outcome) {
    case CallOutcome::kSuccess:
      step.state = BranchState::kTried;
      step.last_error.clear();
      step.next_retry_ms = 0;
      return std::nullopt;
    case CallOutcome::kRefused:
      step.state = BranchState::kTryRefused;
      step.last_error = result.detail;
      return absl::StrCat("step ", step.branch_id, " refused: ", result.detail);
    case CallOutcome::kUnknown:
      step.last_error = absl::StrCat("action failed: ", result.detail);
      step.next_retry_ms = retry_at_ms;
      if (step.attempts < max_attempts) return std::nullopt;
      return absl::StrCat("step ", step.branch_id, " failed ", step.attempts,
                          " times: ", result.detail);
  }
  return std::nullopt;
}

}  // namespace tcc
