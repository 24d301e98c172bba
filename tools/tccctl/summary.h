// Facts tccctl derives from a transaction for its tables and JSON: age,
// progress of the current phase, the branch to blame, when it got stuck.
// Stateless and thread-safe.
#pragma once

#include <cstdint>

#include "absl/time/time.h"
#include "tcc/v1/admin.pb.h"

namespace tcc::tccctl {

// now - created (0 when the creation time is unset).
int64_t AgeMillis(const v1::Transaction& gt, absl::Time now);

// Branches that finished the current phase (see IsBranchDone).
int BranchesDone(const v1::Transaction& gt);

// The first branch that has not finished its phase and whose last call
// failed; nullptr when there is none or the transaction is final
// (COMMITTED, ROLLED_BACK: a saga ends in these too).
const v1::Branch* FirstFailingBranch(const v1::Transaction& gt);

// When the transaction was last flagged stuck (the newest "stuck" timeline
// event), or 0 when it is not stuck or the timeline does not say.
int64_t StuckSinceMillis(const v1::TransactionDetail& detail);

}  // namespace tcc::tccctl
