#include "coordinator/domain/resolution.h"

#include "absl/strings/str_cat.h"

namespace tcc {
namespace {

absl::Status CheckTccSide(const GlobalTransaction& gt, bool commit_side) {
  TxState opposite = commit_side ? TxState::kRollingBack : TxState::kCommitting;
  if (gt.state == opposite) {
    return absl::FailedPreconditionError(absl::StrCat(
        "transaction ", gt.gid, " is ", TxStateName(gt.state), ": ",
        commit_side ? "Cancels" : "Confirms",
        " may already have run, so it cannot be driven the other way; drive it to its own end, "
        "or mark it by hand after fixing the participants"));
  }
  if (!commit_side || gt.state != TxState::kTrying) return absl::OkStatus();
  for (const Branch& branch : gt.branches) {
    if (branch.state == BranchState::kTryRefused) {
      return absl::FailedPreconditionError(absl::StrCat(
          "branch ", branch.branch_id, " of ", gt.gid, " was refused by its participant (",
          branch.last_error, "); a refused branch cannot be committed"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckResolution(const GlobalTransaction& gt, Resolution resolution) {
  if (IsFinal(gt.state)) {
    return absl::FailedPreconditionError(
        absl::StrCat("transaction ", gt.gid, " is already ", TxStateName(gt.state),
                     "; only unfinished transactions can be resolved"));
  }
  bool drive = resolution == Resolution::kCommit || resolution == Resolution::kRollback;
  if (!drive) return absl::OkStatus();
  bool commit_side = resolution == Resolution::kCommit;
  if (gt.mode == TxMode::kTcc) return CheckTccSide(gt, commit_side);
  if (commit_side && gt.state == TxState::kCompensating) {
    return absl::FailedPreconditionError(
        absl::StrCat("saga ", gt.gid,
                     " is COMPENSATING: completed steps are being undone, "
                     "so it cannot run forward; let it finish, or mark it by hand"));
  }
  return absl::OkStatus();
}

}  // namespace tcc
