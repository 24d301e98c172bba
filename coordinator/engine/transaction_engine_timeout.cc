// Timeouts of TRYING GTs: at the deadline a GT without a status endpoint is
// rolled back; one with an endpoint is decided by the initiator's answer to
// a back-query, asked again with backoff (and flagged stuck) for as long as
// the initiator cannot answer. The engine never guesses.
#include "absl/strings/str_cat.h"
#include "coordinator/engine/back_query.h"
#include "coordinator/engine/transaction_engine.h"
#include "tcc/common/logging.h"

namespace tcc {

void TransactionEngine::ScheduleDeadlineLocked(const Active& active) {
  scheduler_->Schedule(absl::FromUnixMillis(active.gt.deadline_ms),
                       [this, gid = active.gt.gid] { OnDeadline(gid); });
}

void TransactionEngine::OnDeadline(const std::string& gid) {
  After after;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    if (it == active_.end() || stopping_) return;
    Active& active = *it->second;
    if (active.gt.state != TxState::kTrying || active.querying) return;
    if (active.gt.status_endpoint.empty()) {
      ApplyDecisionLocked(
          active, Decision::kRollback,
          absl::StrCat("rolled back by timeout: no decision within ", active.gt.timeout_ms, "ms"),
          kCoordinatorActor, nullptr);
    } else {
      active.querying = true;
      after.push_back([this, gid, endpoint = active.gt.status_endpoint] {
        absl::Time sent = clock_->Now();
        transport_->QueryInitiator(endpoint, gid, options_.query_timeout,
                                   [this, gid, sent](absl::StatusOr<InitiatorAnswer> answer) {
                                     ReportBackQuery(answer, clock_->Now() - sent);
                                     OnInitiatorAnswer(gid, std::move(answer));
                                   });
      });
    }
  }
  Run(after);
}

void TransactionEngine::ReportBackQuery(const absl::StatusOr<InitiatorAnswer>& answer,
                                        absl::Duration latency) {
  BackQueryOutcome outcome = !answer.ok() ? BackQueryOutcome::kFailed
                             : *answer == InitiatorAnswer::kCommitted
                                 ? BackQueryOutcome::kCommitted
                                 : BackQueryOutcome::kRolledBack;
  observer_->BackQueryFinished(outcome, latency);
}

void TransactionEngine::OnInitiatorAnswer(const std::string& gid,
                                          absl::StatusOr<InitiatorAnswer> answer) {
  absl::MutexLock lock(&mu_);
  auto it = active_.find(gid);
  if (it == active_.end()) return;
  Active& active = *it->second;
  active.querying = false;
  if (active.gt.state != TxState::kTrying) return;
  BackQueryVerdict verdict = JudgeBackQuery(active.gt, answer);
  if (!verdict.decision) return RetryQueryLocked(active, verdict.ask_again_because);
  ApplyDecisionLocked(active, *verdict.decision, std::move(verdict.reason), kCoordinatorActor,
                      nullptr);
}

void TransactionEngine::RetryQueryLocked(Active& active, const absl::Status& why) {
  ++active.query_failures;
  absl::Duration delay = BackoffLocked(active.query_failures);
  spdlog::warn("gid={} back-query failed ({}); asking again in {}", active.gt.gid, why.message(),
               absl::FormatDuration(delay));
  if (active.query_failures >= options_.stuck.attempts && !active.gt.stuck) {
    active.gt.stuck = true;
    PersistLocked(active, {}, {}, nullptr);
  }
  scheduler_->Schedule(clock_->Now() + delay, [this, gid = active.gt.gid] { OnDeadline(gid); });
}

}  // namespace tcc
