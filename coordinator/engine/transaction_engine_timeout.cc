// Timeouts of TRYING GTs: at the deadline a GT without a status endpoint is
// rolled back; one with an endpoint is decided by the initiator's answer to
// a back-query, asked again with backoff (and flagged stuck) for as long as
// the initiator cannot answer. The engine never guesses. Each GT's
// back-query attempts, last error and next retry are kept for operators
// (BackQueryOf, FailingStatusEndpoints), and the timeline records when they
// start failing and when they recover.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "coordinator/domain/trace_context.h"
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
    tcc::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    if (it == active_.end() || stopping_) return;
    Active& active = *it->second;
    if (active.gt.state != TxState::kTrying || active.querying) return;
    // A retry timer that a RetryNow overtook: its back-query has been sent.
    if (clock_->NowMs() < active.back_query.next_retry_ms) return;
    if (active.gt.status_endpoint.empty()) {
      ApplyDecisionLocked(
          active, Decision::kRollback,
          absl::StrCat("rolled back by timeout: no decision within ", active.gt.timeout_ms, "ms"),
          kCoordinatorActor, nullptr);
    } else {
      SendBackQueryLocked(active, after);
    }
  }
  Run(after);
}

void TransactionEngine::SendBackQueryLocked(Active& active, After& after) {
  active.querying = true;
  bool wait_for_ready = active.back_query.operator_retry;
  active.back_query.Sent(clock_->NowMs());
  after.push_back([this, gid = active.gt.gid, endpoint = active.gt.status_endpoint, wait_for_ready,
                   traceparent = active.gt.traceparent] {
    absl::Time sent = clock_->Now();
    transport_->QueryInitiator(endpoint, gid, options_.query_timeout, wait_for_ready, traceparent,
                               [this, gid, sent](absl::StatusOr<InitiatorAnswer> answer) {
                                 ReportBackQuery(answer, clock_->Now() - sent);
                                 OnInitiatorAnswer(gid, std::move(answer));
                               });
  });
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
                                          absl::StatusOr<InitiatorAnswer> answer, bool may_reask) {
  After after;
  {
    tcc::MutexLock lock(&mu_);
    auto it = active_.find(gid);
    if (it == active_.end()) return;
    JudgeAnswerLocked(*it->second, answer, may_reask, after);
  }
  Run(after);
}

void TransactionEngine::JudgeAnswerLocked(Active& active,
                                          const absl::StatusOr<InitiatorAnswer>& answer,
                                          bool may_reask, After& after) {
  active.querying = false;
  if (active.gt.state != TxState::kTrying) return;
  bool committed = answer.ok() && *answer == InitiatorAnswer::kCommitted;
  if (committed && may_reask && HasUnknownTries(active)) {
    // The initiator committed locally on Try answers whose results were
    // lost here in a crash (or are still unknown): ask those Tries again,
    // then judge the same answer once more.
    active.querying = true;  // no second back-query meanwhile
    ReaskTriesLocked(active, after, [this, gid = active.gt.gid] {
      OnInitiatorAnswer(gid, InitiatorAnswer::kCommitted, /*may_reask=*/false);
    });
    return;
  }
  BackQueryVerdict verdict = JudgeBackQuery(active.gt, answer);
  if (!verdict.decision) return RetryQueryLocked(active, verdict.ask_again_because);
  if (active.back_query.failing()) RecordBackQueryRecoveredLocked(active);
  ApplyDecisionLocked(active, *verdict.decision, std::move(verdict.reason), kCoordinatorActor,
                      nullptr);
}

void TransactionEngine::RetryQueryLocked(Active& active, const absl::Status& why) {
  BackQueryProgress& progress = active.back_query;
  absl::Duration delay = BackoffLocked(progress.failures + 1);
  absl::Time next = clock_->Now() + delay;
  progress.Failed(why, absl::ToUnixMillis(next));
  LogBackQueryFailureLocked(active, delay);
  const std::string& endpoint = active.gt.status_endpoint;
  std::vector<TimelineEvent> events;
  // Only the first failure goes to the timeline, as for a branch: attempts
  // are counted in memory, and a long outage must not flood the history.
  if (progress.failures == 1) {
    events.push_back(Event("back-query", absl::StrCat("back-query failed: ", progress.last_error,
                                                      "; asking again with backoff")));
  }
  if (progress.failures >= options_.stuck.attempts && !active.gt.stuck) {
    active.gt.stuck = true;
    active.stuck_recorded = true;
    spdlog::warn("{} is stuck in TRYING: its status endpoint {} does not answer; see tccctl",
                 LogTag(active.gt), endpoint);
    events.push_back(
        Event("stuck", absl::StrCat("flagged stuck: the back-query to status endpoint ", endpoint,
                                    " failed ", progress.failures,
                                    " times in a row; still asking; an operator "
                                    "should look")));
  }
  if (!events.empty()) PersistLocked(active, {}, {}, nullptr, std::move(events));
  scheduler_->Schedule(next, [this, gid = active.gt.gid] { OnDeadline(gid); });
}

void TransactionEngine::RecordBackQueryRecoveredLocked(Active& active) {
  BackQueryProgress& progress = active.back_query;
  std::string detail = absl::StrCat("status endpoint ", active.gt.status_endpoint,
                                    " answered after ", progress.attempts, " attempt(s)");
  spdlog::info("{} {}", LogTag(active.gt), detail);
  progress.failures = 0;
  progress.last_error.clear();
  progress.next_retry_ms = 0;
  PersistLocked(active, {}, {}, nullptr, {Event("back-query", std::move(detail))});
}

void TransactionEngine::LogBackQueryFailureLocked(const Active& active, absl::Duration delay) {
  const std::string& endpoint = active.gt.status_endpoint;
  std::optional<int64_t> unlogged = failure_log_.Admit(endpoint);
  if (!unlogged) return;
  spdlog::warn("{} back-query to status endpoint {} failed: {} (attempt {}); asking again in {}{}",
               LogTag(active.gt), endpoint, active.back_query.last_error,
               active.back_query.attempts, absl::FormatDuration(delay),
               *unlogged == 0 ? std::string()
                              : absl::StrCat("; ", *unlogged,
                                             " more failed call(s) to this endpoint not logged"));
}

std::optional<BackQueryProgress> TransactionEngine::BackQueryOf(const std::string& gid) const {
  tcc::MutexLock lock(&mu_);
  auto it = active_.find(gid);
  if (it == active_.end() || it->second->back_query.attempts == 0) return std::nullopt;
  BackQueryProgress progress = it->second->back_query;
  if (it->second->gt.state != TxState::kTrying) {
    // Decided meanwhile (by the initiator's Commit, or an operator): no
    // back-query is failing or due any more.
    progress.failures = 0;
    progress.last_error.clear();
    progress.next_retry_ms = 0;
  }
  return progress;
}

std::vector<FailingEndpoint> TransactionEngine::FailingStatusEndpoints() const {
  FailingEndpoints by_endpoint;
  {
    tcc::MutexLock lock(&mu_);
    for (const auto& [gid, active] : active_) {
      if (active->gt.state != TxState::kTrying) continue;
      CountFailingEndpoint(active->gt.status_endpoint, active->back_query, by_endpoint);
    }
  }
  std::vector<FailingEndpoint> endpoints;
  for (auto& [unused, failing] : by_endpoint) endpoints.push_back(std::move(failing));
  std::sort(endpoints.begin(), endpoints.end(), [](const auto& a, const auto& b) {
    return a.failed_attempts != b.failed_attempts ? a.failed_attempts > b.failed_attempts
                                                  : a.endpoint < b.endpoint;
  });
  return endpoints;
}

}  // namespace tcc
