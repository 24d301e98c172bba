#include "tools/tccctl/states.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tools/tccctl/format.h"

namespace tcc::tccctl {
namespace {

constexpr absl::string_view kStatePrefix = "TRANSACTION_STATE_";

// "rolling-back" -> "ROLLING_BACK".
std::string Normalize(const std::string& text) {
  std::string name = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  std::replace(name.begin(), name.end(), '-', '_');
  std::replace(name.begin(), name.end(), ' ', '_');
  return name;
}

// Drops the enum prefix: "TRANSACTION_STATE_COMMITTING" -> "COMMITTING".
std::string ShortName(const std::string& full, absl::string_view prefix) {
  if (!absl::StartsWith(full, prefix)) return "UNSPECIFIED";
  return full.substr(prefix.size());
}

std::vector<v1::TransactionState> StatesFromDescriptor() {
  std::vector<v1::TransactionState> states;
  const google::protobuf::EnumDescriptor* descriptor = v1::TransactionState_descriptor();
  for (int i = 0; i < descriptor->value_count(); ++i) {
    int number = descriptor->value(i)->number();
    if (number != v1::TRANSACTION_STATE_UNSPECIFIED) {
      states.push_back(static_cast<v1::TransactionState>(number));
    }
  }
  return states;
}

// On the compensation side a saga step is done once nothing of it is left
// to undo: compensated, or refused (its action had no effect). A REGISTERED
// step may be in doubt (its action sent, outcome unknown: it will be
// compensated) or never started, and the protocol does not say which (its
// attempts count the compensation from 0), so it counts as done only once
// the saga is ROLLED_BACK.
bool IsStepUndone(const v1::Transaction& saga, const v1::Branch& step) {
  switch (step.state()) {
    case v1::BRANCH_STATE_CANCELLED:
    case v1::BRANCH_STATE_TRY_REFUSED:
      return true;
    case v1::BRANCH_STATE_REGISTERED:
      return saga.state() == v1::TRANSACTION_STATE_ROLLED_BACK;
    default:
      return false;
  }
}

}  // namespace

bool IsSaga(const v1::Transaction& gt) { return absl::AsciiStrToUpper(gt.mode()) == "SAGA"; }

const std::vector<v1::TransactionState>& AllTransactionStates() {
  static const std::vector<v1::TransactionState>* const kStates =
      new std::vector<v1::TransactionState>(StatesFromDescriptor());
  return *kStates;
}

absl::StatusOr<v1::TransactionState> ParseTransactionState(const std::string& text) {
  std::string name = Normalize(text);
  if (absl::StartsWith(name, kStatePrefix)) name = ShortName(name, kStatePrefix);
  for (v1::TransactionState state : AllTransactionStates()) {
    if (StateName(state) == name) return state;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown state \"", OneLine(text),
                                                 "\" (valid: ", ValidTransactionStateNames(), ")"));
}

std::string ValidTransactionStateNames() {
  std::string names;
  for (v1::TransactionState state : AllTransactionStates()) {
    std::string name = absl::AsciiStrToLower(StateName(state));
    std::replace(name.begin(), name.end(), '_', '-');
    absl::StrAppend(&names, names.empty() ? "" : ", ", name);
  }
  return names;
}

std::string StateName(v1::TransactionState state) {
  return ShortName(v1::TransactionState_Name(state), kStatePrefix);
}

std::string StateName(v1::BranchState state) {
  return ShortName(v1::BranchState_Name(state), "BRANCH_STATE_");
}

std::string TargetRoleName(v1::TargetRole role) {
  return role == v1::TARGET_ROLE_STATUS_ENDPOINT ? "status_endpoint" : "participant";
}

std::string TargetRoleText(v1::TargetRole role) {
  return role == v1::TARGET_ROLE_STATUS_ENDPOINT ? "status endpoint" : "participant";
}

bool IsFinal(v1::TransactionState state) {
  return state == v1::TRANSACTION_STATE_COMMITTED || state == v1::TRANSACTION_STATE_ROLLED_BACK;
}

bool IsBranchDone(const v1::Transaction& gt, const v1::Branch& branch) {
  switch (gt.state()) {
    case v1::TRANSACTION_STATE_TRYING:
    case v1::TRANSACTION_STATE_RUNNING:
      return branch.state() == v1::BRANCH_STATE_TRIED;
    case v1::TRANSACTION_STATE_COMMITTING:
    case v1::TRANSACTION_STATE_COMMITTED:
      return branch.state() == (IsSaga(gt) ? v1::BRANCH_STATE_TRIED : v1::BRANCH_STATE_CONFIRMED);
    case v1::TRANSACTION_STATE_ROLLING_BACK:
    case v1::TRANSACTION_STATE_ROLLED_BACK:
    case v1::TRANSACTION_STATE_COMPENSATING:
      if (IsSaga(gt)) return IsStepUndone(gt, branch);
      return branch.state() == v1::BRANCH_STATE_CANCELLED;
    default:
      return false;
  }
}

}  // namespace tcc::tccctl
