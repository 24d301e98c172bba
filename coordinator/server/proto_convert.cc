#include "coordinator/server/proto_convert.h"

namespace tcc {

v1::TransactionState ToProto(TxState state) {
  return static_cast<v1::TransactionState>(static_cast<int>(state));
}

v1::BranchState ToProto(BranchState state) {
  return static_cast<v1::BranchState>(static_cast<int>(state));
}

v1::TryResult ToProto(CallOutcome outcome) {
  switch (outcome) {
    case CallOutcome::kSuccess:
      return v1::TRY_RESULT_SUCCEEDED;
    case CallOutcome::kRefused:
      return v1::TRY_RESULT_REFUSED;
    case CallOutcome::kUnknown:
      return v1::TRY_RESULT_UNKNOWN;
  }
  return v1::TRY_RESULT_UNSPECIFIED;
}

Branch FromProto(const v1::SagaStep& step) {
  Branch branch;
  branch.branch_id = step.step_id();
  branch.target = step.target();
  branch.action = step.action();
  branch.payload = step.payload();
  for (const auto& [key, value] : step.headers()) branch.headers.emplace(key, value);
  branch.depends_on.assign(step.depends_on().begin(), step.depends_on().end());
  branch.max_attempts = step.max_attempts();
  branch.timeout_ms = step.timeout_ms();
  return branch;
}

Branch FromProto(const v1::BranchSpec& spec) {
  Branch branch;
  branch.branch_id = spec.branch_id();
  branch.target = spec.target();
  branch.action = spec.action();
  branch.payload = spec.payload();
  for (const auto& [key, value] : spec.headers()) branch.headers.emplace(key, value);
  return branch;
}

void ToProto(const GlobalTransaction& gt, v1::Transaction& out) {
  out.set_gid(gt.gid);
  out.set_state(ToProto(gt.state));
  out.set_created_unix_ms(gt.created_ms);
  out.set_updated_unix_ms(gt.updated_ms);
  out.set_deadline_unix_ms(gt.deadline_ms);
  out.set_status_endpoint(gt.status_endpoint);
  out.set_stuck(gt.stuck);
  out.set_decision_reason(gt.decision_reason);
  out.set_owner(gt.owner);
  out.set_epoch(gt.epoch);
  out.set_traceparent(gt.traceparent);
  out.set_timeout_ms(gt.timeout_ms);
  out.set_mode(gt.mode == TxMode::kSaga ? "SAGA" : "TCC");
  for (const Branch& branch : gt.branches) {
    v1::Branch* proto = out.add_branches();
    proto->set_branch_id(branch.branch_id);
    proto->set_target(branch.target);
    proto->set_action(branch.action);
    proto->set_state(ToProto(branch.state));
    proto->set_attempts(branch.attempts);
    proto->set_last_error(branch.last_error);
    proto->set_next_retry_unix_ms(branch.next_retry_ms);
    proto->set_payload_size(static_cast<uint32_t>(branch.payload.size()));
    for (const std::string& dependency : branch.depends_on) proto->add_depends_on(dependency);
  }
}

void ToProto(const std::string& endpoint, const BackQueryProgress& progress, v1::BackQuery& out) {
  out.set_endpoint(endpoint);
  out.set_attempts(progress.attempts);
  out.set_failed_attempts(progress.failures);
  out.set_last_error(progress.last_error);
  out.set_last_attempt_unix_ms(progress.last_attempt_ms);
  out.set_next_retry_unix_ms(progress.next_retry_ms);
}

void ToProto(const FailingEndpoint& endpoint, v1::TargetFailures& out) {
  out.set_target(endpoint.endpoint);
  out.set_role(v1::TARGET_ROLE_STATUS_ENDPOINT);
  out.set_failing_back_queries(endpoint.transactions);
  out.set_failed_attempts(endpoint.failed_attempts);
  out.set_last_error(endpoint.last_error);
}

}  // namespace tcc
