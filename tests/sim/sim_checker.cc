#include "tests/sim/sim_checker.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tcc::sim {
namespace {

using Violations = std::vector<std::string>;
using HoldIndex = std::map<std::pair<std::string, std::string>, const Hold*>;

bool Registered(const GlobalTransaction& gt, const std::string& branch_id) {
  for (const Branch& branch : gt.branches) {
    if (branch.branch_id == branch_id) return true;
  }
  return false;
}

void CheckHolds(const RunOutcome& run, Violations& out) {
  for (const Hold& hold : run.holds) {
    std::string where = absl::StrCat(hold.gid, "/", hold.branch_id);
    if (hold.confirmed && hold.cancelled) {
      out.push_back(absl::StrCat("confirmed-and-cancelled: ", where));
    }
    auto gt = run.store->find(hold.gid);
    bool saga = gt != run.store->end() && gt->second.mode == TxMode::kSaga;
    // A saga's completed action stays in place; a TCC reservation must not.
    if (hold.state == "held" && !saga) {
      out.push_back(absl::StrCat("hanging-reservation: ", where, " is still held"));
    }
    if (gt == run.store->end() || !Registered(gt->second, hold.branch_id)) {
      if (hold.state == "held" || hold.state == "spent") {
        out.push_back(absl::StrCat("store-participant-disagree: ", where, " is ", hold.state,
                                   " but the store never registered it"));
      }
    }
  }
}

// A committed saga's actions all took effect once; a compensated one's are
// all undone (or never ran).
void CheckSaga(const GlobalTransaction& gt, const HoldIndex& holds, Violations& out) {
  bool committed = gt.state == TxState::kCommitted;
  for (const Branch& step : gt.branches) {
    std::string where = absl::StrCat(gt.gid, "/", step.branch_id);
    auto it = holds.find({gt.gid, step.branch_id});
    std::string held = it == holds.end() ? "nothing" : it->second->state;
    if (committed && (step.state != BranchState::kTried || held != "held")) {
      out.push_back(absl::StrCat("store-participant-disagree: saga step ", where,
                                 " of COMMITTED is ", BranchStateName(step.state), " with ", held,
                                 " at its participant"));
    }
    if (!committed && held != "nothing" && held != "released") {
      out.push_back(absl::StrCat("store-participant-disagree: saga step ", where,
                                 " of ROLLED_BACK is ", held, " at its participant"));
    }
  }
}

void CheckStore(const RunOutcome& run, const HoldIndex& holds, Violations& out) {
  for (const auto& [gid, gt] : *run.store) {
    if (!IsFinal(gt.state)) {
      out.push_back(absl::StrCat("not-final: ", gid, " is ", TxStateName(gt.state)));
      continue;
    }
    bool committed = gt.state == TxState::kCommitted;
    if (gt.mode == TxMode::kSaga) {
      CheckSaga(gt, holds, out);
      continue;
    }
    for (const Branch& branch : gt.branches) {
      std::string where = absl::StrCat(gid, "/", branch.branch_id);
      auto it = holds.find({gid, branch.branch_id});
      std::string held = it == holds.end() ? "nothing" : it->second->state;
      if (committed && (branch.state != BranchState::kConfirmed || held != "spent")) {
        out.push_back(absl::StrCat("store-participant-disagree: ", where, " of COMMITTED is ",
                                   BranchStateName(branch.state), " with ", held, " held"));
      }
      if (!committed && (held == "held" || held == "spent")) {
        out.push_back(absl::StrCat("store-participant-disagree: ", where, " of ROLLED_BACK is ",
                                   held, " at its participant"));
      }
    }
  }
}

void CheckFlows(const RunOutcome& run, Violations& out) {
  for (const SimFlow* flow : run.flows) {
    const std::string& gid = flow->plan().gid;
    auto gt = run.store->find(gid);
    std::optional<TxState> state;
    if (gt != run.store->end()) state = gt->second.state;
    const FlowRecord& record = flow->record();
    if (record.acknowledged) {
      TxState expected =
          *record.acknowledged == Decision::kCommit ? TxState::kCommitted : TxState::kRolledBack;
      if (state != expected) {
        out.push_back(absl::StrCat("acknowledged-decision-lost: ", gid, " acknowledged ",
                                   TxStateName(expected), " but the store has ",
                                   state ? TxStateName(*state) : "nothing"));
      }
    }
    if (flow->plan().endpoint.empty()) continue;
    bool local = run.local_commits.contains(gid);
    bool coordinator = state == TxState::kCommitted;
    if (local != coordinator) {
      out.push_back(absl::StrCat(
          "local-commit-mismatch: ", gid, local ? " committed" : " did not commit",
          " locally but the coordinator ", coordinator ? "committed" : "did not commit"));
    }
  }
}

}  // namespace

std::vector<std::string> CheckInvariants(const RunOutcome& run) {
  Violations out;
  HoldIndex holds;
  for (const Hold& hold : run.holds) holds[{hold.gid, hold.branch_id}] = &hold;
  CheckHolds(run, out);
  CheckStore(run, holds, out);
  CheckFlows(run, out);
  return out;
}

}  // namespace tcc::sim
