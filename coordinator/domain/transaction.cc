#include "coordinator/domain/transaction.h"

namespace tcc {

bool IsFinal(TxState state) {
  return state == TxState::kCommitted || state == TxState::kRolledBack;
}

bool IsValidTxState(int value) {
  return value >= static_cast<int>(TxState::kTrying) &&
         value <= static_cast<int>(TxState::kCompensating);
}

bool IsValidBranchState(int value) {
  return value >= static_cast<int>(BranchState::kRegistered) &&
         value <= static_cast<int>(BranchState::kCancelled);
}

absl::string_view TxStateName(TxState state) {
  switch (state) {
    case TxState::kTrying:
      return "TRYING";
    case TxState::kCommitting:
      return "COMMITTING";
    case TxState::kCommitted:
      return "COMMITTED";
    case TxState::kRollingBack:
      return "ROLLING_BACK";
    case TxState::kRolledBack:
      return "ROLLED_BACK";
    case TxState::kRunning:
      return "RUNNING";
    case TxState::kCompensating:
      return "COMPENSATING";
  }
  return "UNKNOWN";
}

absl::string_view BranchStateName(BranchState state) {
  switch (state) {
    case BranchState::kRegistered:
      return "REGISTERED";
    case BranchState::kTried:
      return "TRIED";
    case BranchState::kTryRefused:
      return "TRY_REFUSED";
    case BranchState::kConfirmed:
      return "CONFIRMED";
    case BranchState::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

absl::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kTry:
      return "Try";
    case Phase::kConfirm:
      return "Confirm";
    case Phase::kCancel:
      return "Cancel";
  }
  return "?";
}

Branch* GlobalTransaction::FindBranch(absl::string_view branch_id) {
  for (Branch& branch : branches) {
    if (branch.branch_id == branch_id) return &branch;
  }
  return nullptr;
}

}  // namespace tcc
