#include "coordinator/engine/back_query.h"

namespace tcc {

BackQueryVerdict JudgeBackQuery(const GlobalTransaction& gt,
                                const absl::StatusOr<InitiatorAnswer>& answer) {
  if (!answer.ok()) return {std::nullopt, "", answer.status()};
  if (*answer == InitiatorAnswer::kRolledBack) {
    return {Decision::kRollback,
            "rolled back by timeout: the initiator's status endpoint answered ROLLED_BACK",
            absl::OkStatus()};
  }
  absl::StatusOr<DecisionCheck> check = CheckDecision(gt, Decision::kCommit);
  if (!check.ok()) return {std::nullopt, "", check.status()};
  return {Decision::kCommit,
          "committed after timeout: the initiator's status endpoint answered COMMITTED",
          absl::OkStatus()};
}

}  // namespace tcc
