// What the answer to a back-query means for a GT that timed out while
// TRYING: decide it the way the initiator says, or ask again later (an
// unreachable endpoint, or a COMMITTED answer that the branches cannot
// honour). Never a guess. Pure: no I/O, no locks.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/domain/state_machine.h"
#include "coordinator/transport/participant_transport.h"

namespace tcc {

struct BackQueryVerdict {
  std::optional<Decision> decision;  // Set: decide now, for `reason`.
  std::string reason;
  absl::Status ask_again_because;  // Not OK: no decision; ask again.
};

BackQueryVerdict JudgeBackQuery(const GlobalTransaction& gt,
                                const absl::StatusOr<InitiatorAnswer>& answer);

}  // namespace tcc
