// The invariants a simulated run must keep, checked once its faults healed
// and it went quiet (DESIGN.md's guarantees):
//   - no branch both confirmed and cancelled at its participant;
//   - every acknowledged decision carried out (Commit -> COMMITTED,
//     Rollback -> ROLLED_BACK);
//   - every transaction final in the store;
//   - an initiator with a status endpoint committed locally iff the
//     coordinator committed;
//   - the store and the participants agree: a committed GT's branches are
//     confirmed and spent, a rolled-back GT holds nothing, and nothing is
//     held for a branch the store does not know (write ahead); a committed
//     saga's steps all took effect, a compensated saga's none.
// Each violation is one line naming the invariant and the GT.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "tests/sim/sim_initiator.h"
#include "tests/sim/sim_participant.h"
#include "tests/sim/sim_store.h"

namespace tcc::sim {

struct RunOutcome {
  const SimStore::Table* store = nullptr;
  std::vector<Hold> holds;              // Every participant's.
  std::set<std::string> local_commits;  // Gids the initiators committed locally.
  std::vector<const SimFlow*> flows;
};

std::vector<std::string> CheckInvariants(const RunOutcome& run);

}  // namespace tcc::sim
