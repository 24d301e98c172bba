#include "tools/tccctl/summary.h"

#include "tools/tccctl/states.h"

namespace tcc::tccctl {

int64_t AgeMillis(const v1::Transaction& gt, absl::Time now) {
  if (gt.created_unix_ms() == 0) return 0;
  return absl::ToUnixMillis(now) - gt.created_unix_ms();
}

int BranchesDone(const v1::Transaction& gt) {
  int done = 0;
  for (const v1::Branch& branch : gt.branches()) done += IsBranchDone(gt, branch);
  return done;
}

const v1::Branch* FirstFailingBranch(const v1::Transaction& gt) {
  // A final transaction's errors are history (a compensated saga keeps its
  // refused step's error): nothing is failing any more.
  if (IsFinal(gt.state())) return nullptr;
  for (const v1::Branch& branch : gt.branches()) {
    if (!branch.last_error().empty() && !IsBranchDone(gt, branch)) return &branch;
  }
  return nullptr;
}

int64_t StuckSinceMillis(const v1::TransactionDetail& detail) {
  if (!detail.transaction().stuck()) return 0;
  for (auto it = detail.timeline().rbegin(); it != detail.timeline().rend(); ++it) {
    if (it->kind() == "stuck") return it->unix_ms();
  }
  return 0;
}

}  // namespace tcc::tccctl
