#include "tools/tccctl/json_convert.h"

#include "tools/tccctl/states.h"
#include "tools/tccctl/summary.h"

namespace tcc::tccctl {

using json = nlohmann::ordered_json;

json BranchToJson(const v1::Branch& branch) {
  return json{{"branch_id", branch.branch_id()},
              {"target", branch.target()},
              {"action", branch.action()},
              {"state", StateName(branch.state())},
              {"attempts", branch.attempts()},
              {"last_error", branch.last_error()},
              {"next_retry_unix_ms", branch.next_retry_unix_ms()},
              {"payload_size", branch.payload_size()},
              {"depends_on", branch.depends_on()}};
}

json TransactionToJson(const v1::Transaction& gt, absl::Time now) {
  json branches = json::array();
  for (const v1::Branch& branch : gt.branches()) branches.push_back(BranchToJson(branch));
  const v1::Branch* failing = FirstFailingBranch(gt);
  json failing_branch = nullptr;
  if (failing != nullptr) {
    failing_branch = json{{"branch_id", failing->branch_id()},
                          {"target", failing->target()},
                          {"error", failing->last_error()}};
  }
  return json{{"gid", gt.gid()},
              {"state", StateName(gt.state())},
              {"mode", gt.mode().empty() ? "TCC" : gt.mode()},
              {"stuck", gt.stuck()},
              {"created_unix_ms", gt.created_unix_ms()},
              {"updated_unix_ms", gt.updated_unix_ms()},
              {"deadline_unix_ms", gt.deadline_unix_ms()},
              {"age_ms", AgeMillis(gt, now)},
              {"timeout_ms", gt.timeout_ms()},
              {"status_endpoint", gt.status_endpoint()},
              {"decision_reason", gt.decision_reason()},
              {"owner", gt.owner()},
              {"epoch", gt.epoch()},
              {"traceparent", gt.traceparent()},
              {"branches_done", BranchesDone(gt)},
              {"branches_total", gt.branches_size()},
              {"failing_branch", failing_branch},
              {"branches", branches}};
}

json TimelineEventToJson(const v1::TimelineEvent& event) {
  return json{{"unix_ms", event.unix_ms()},
              {"actor", event.actor()},
              {"kind", event.kind()},
              {"detail", event.detail()}};
}

namespace {

// null until the first back-query was sent.
json BackQueryToJson(const v1::TransactionDetail& detail) {
  if (!detail.has_back_query()) return nullptr;
  const v1::BackQuery& query = detail.back_query();
  return json{{"endpoint", query.endpoint()},
              {"attempts", query.attempts()},
              {"failed_attempts", query.failed_attempts()},
              {"last_error", query.last_error()},
              {"last_attempt_unix_ms", query.last_attempt_unix_ms()},
              {"next_retry_unix_ms", query.next_retry_unix_ms()}};
}

}  // namespace

json DetailToJson(const v1::TransactionDetail& detail, absl::Time now) {
  json timeline = json::array();
  for (const v1::TimelineEvent& event : detail.timeline()) {
    timeline.push_back(TimelineEventToJson(event));
  }
  json gt = TransactionToJson(detail.transaction(), now);
  gt["stuck_since_unix_ms"] = StuckSinceMillis(detail);
  return json{{"transaction", gt}, {"timeline", timeline}, {"back_query", BackQueryToJson(detail)}};
}

json ListToJson(const std::vector<v1::Transaction>& transactions,
                const std::string& next_page_token, absl::Time now) {
  json list = json::array();
  for (const v1::Transaction& gt : transactions) list.push_back(TransactionToJson(gt, now));
  return json{{"transactions", list}, {"next_page_token", next_page_token}};
}

json StatsToJson(const v1::StatsReply& stats) {
  json by_state = json::object();
  for (const auto& [state, count] : stats.transactions_by_state()) by_state[state] = count;
  json targets = json::array();
  for (const v1::TargetFailures& target : stats.failing_targets()) {
    targets.push_back(json{{"target", target.target()},
                           {"role", TargetRoleName(target.role())},
                           {"failing_branches", target.failing_branches()},
                           {"failing_back_queries", target.failing_back_queries()},
                           {"failed_attempts", target.failed_attempts()},
                           {"last_error", target.last_error()}});
  }
  json instances = json::array();
  for (const v1::CoordinatorInstance& instance : stats.instances()) {
    instances.push_back(json{{"instance_id", instance.instance_id()},
                             {"address", instance.address()},
                             {"started_unix_ms", instance.started_unix_ms()},
                             {"heartbeat_age_ms", instance.heartbeat_age_ms()},
                             {"live", instance.live()}});
  }
  const v1::RetentionStatus& retention = stats.retention();
  return json{{"transactions_by_state", by_state},
              {"stuck", stats.stuck()},
              {"oldest_unfinished_age_ms", stats.oldest_unfinished_age_ms()},
              {"failing_targets", targets},
              {"store_bytes", stats.store_bytes()},
              {"store_free_bytes", stats.store_free_bytes()},
              {"oldest_finished_age_ms", stats.oldest_finished_age_ms()},
              {"retention", json{{"retention_s", retention.retention_s()},
                                 {"archiving", retention.archiving()},
                                 {"deleted", retention.deleted()},
                                 {"archived", retention.archived()},
                                 {"last_pruning_age_ms", retention.last_pruning_age_ms()}}},
              {"instances", instances}};
}

}  // namespace tcc::tccctl
