#include "coordinator/engine/back_query.h"

#include "absl/strings/str_cat.h"

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

void BackQueryProgress::Sent(int64_t now_ms) {
  ++attempts;
  last_attempt_ms = now_ms;
  next_retry_ms = 0;
  operator_retry = false;
}

void BackQueryProgress::Failed(const absl::Status& why, int64_t next_retry) {
  ++failures;
  last_error = absl::StrCat(absl::StatusCodeToString(why.code()), ": ", why.message());
  next_retry_ms = next_retry;
}

void CountFailingEndpoint(const std::string& endpoint, const BackQueryProgress& progress,
                          FailingEndpoints& endpoints) {
  if (!progress.failing()) return;
  FailingEndpoint& totals = endpoints[endpoint];
  totals.endpoint = endpoint;
  ++totals.transactions;
  totals.failed_attempts += progress.failures;
  if (progress.last_attempt_ms >= totals.last_attempt_ms) {
    totals.last_attempt_ms = progress.last_attempt_ms;
    totals.last_error = progress.last_error;
  }
}

}  // namespace tcc
