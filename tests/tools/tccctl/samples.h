// Sample Admin replies for tccctl's unit tests: a transaction stuck
// committing because one of its two participants is down, and a saga that
// compensated after its second step was refused, and one timed out while
// its initiator's status endpoint is down.
#pragma once

#include "absl/time/time.h"
#include "tcc/v1/admin.pb.h"

namespace tcc::tccctl::testing {

// "Now" in the samples: 2024-05-01 12:03:04 UTC.
inline absl::Time SampleNow() { return absl::FromUnixSeconds(1714564984); }
inline int64_t SampleNowMs() { return absl::ToUnixMillis(SampleNow()); }

inline v1::Transaction StuckTransaction(const std::string& gid = "pay-42") {
  v1::Transaction gt;
  gt.set_gid(gid);
  gt.set_state(v1::TRANSACTION_STATE_COMMITTING);
  gt.set_created_unix_ms(SampleNowMs() - 192000);  // 3m12s ago
  gt.set_updated_unix_ms(SampleNowMs() - 2000);
  gt.set_deadline_unix_ms(SampleNowMs() - 162000);
  gt.set_timeout_ms(30000);
  gt.set_stuck(true);
  gt.set_decision_reason("committed by the initiator");
  v1::Branch* points = gt.add_branches();
  points->set_branch_id("points");
  points->set_target("127.0.0.1:9001");
  points->set_action("points.freeze");
  points->set_state(v1::BRANCH_STATE_CONFIRMED);
  points->set_attempts(1);
  v1::Branch* stock = gt.add_branches();
  stock->set_branch_id("stock");
  stock->set_target("127.0.0.1:9002");
  stock->set_action("stock.reserve");
  stock->set_state(v1::BRANCH_STATE_TRIED);
  stock->set_attempts(7);
  stock->set_last_error("UNAVAILABLE: failed to connect to all addresses");
  stock->set_next_retry_unix_ms(SampleNowMs() + 2000);
  stock->set_payload_size(12);
  return gt;
}

inline v1::TransactionDetail StuckDetail() {
  v1::TransactionDetail detail;
  *detail.mutable_transaction() = StuckTransaction();
  auto add = [&](int64_t ago_ms, const char* actor, const char* kind, const char* text) {
    v1::TimelineEvent* event = detail.add_timeline();
    event->set_unix_ms(SampleNowMs() - ago_ms);
    event->set_actor(actor);
    event->set_kind(kind);
    event->set_detail(text);
  };
  add(192000, "tccd", "begin", "timeout 30000ms");
  add(191000, "tccd", "state", "COMMITTING (committed by the initiator)");
  add(190000, "tccd", "branch", "branch points: CONFIRMED after 1 attempt");
  add(60000, "tccd", "stuck", "branch stock failed 3 times");
  return detail;
}

// A concurrent refund saga: "order" ran, "paylog" (after "order") was
// refused, so "order" was compensated and the saga ROLLED_BACK. The refused
// step keeps its error; the saga is finished.
inline v1::Transaction CompensatedSaga(const std::string& gid = "refund-7") {
  v1::Transaction saga;
  saga.set_gid(gid);
  saga.set_mode("SAGA");
  saga.set_state(v1::TRANSACTION_STATE_ROLLED_BACK);
  saga.set_created_unix_ms(SampleNowMs() - 5000);
  saga.set_updated_unix_ms(SampleNowMs() - 4000);
  saga.set_decision_reason("step paylog refused: already refunded");
  v1::Branch* order = saga.add_branches();
  order->set_branch_id("order");
  order->set_target("127.0.0.1:9003");
  order->set_action("order.refund");
  order->set_state(v1::BRANCH_STATE_CANCELLED);
  order->set_attempts(1);  // Its compensation's (counted from 0 again).
  v1::Branch* paylog = saga.add_branches();
  paylog->set_branch_id("paylog");
  paylog->set_target("127.0.0.1:9002");
  paylog->set_action("paylog.refund");
  paylog->set_state(v1::BRANCH_STATE_TRY_REFUSED);
  paylog->set_attempts(1);
  paylog->set_last_error("already refunded");
  paylog->add_depends_on("order");
  return saga;
}

inline v1::TransactionDetail CompensatedSagaDetail() {
  v1::TransactionDetail detail;
  *detail.mutable_transaction() = CompensatedSaga();
  auto add = [&](int64_t ago_ms, const char* kind, const char* text) {
    v1::TimelineEvent* event = detail.add_timeline();
    event->set_unix_ms(SampleNowMs() - ago_ms);
    event->set_actor("tccd");
    event->set_kind(kind);
    event->set_detail(text);
  };
  add(5000, "begin", "saga submitted with 2 steps, concurrent (by dependencies)");
  add(4900, "branch", "step order: action done");
  add(4800, "branch", "step paylog: already refunded");
  add(4800, "state", "COMPENSATING (step paylog refused: already refunded)");
  add(4000, "branch", "step order: CANCELLED after 1 attempt(s)");
  add(4000, "state", "ROLLED_BACK");
  return detail;
}

// Timed out TRYING 40s ago; its status endpoint refuses connections, so
// the back-query has failed 4 times and the transaction is stuck.
inline v1::TransactionDetail FailingBackQueryDetail() {
  v1::TransactionDetail detail;
  v1::Transaction& gt = *detail.mutable_transaction();
  gt.set_gid("order-9");
  gt.set_state(v1::TRANSACTION_STATE_TRYING);
  gt.set_created_unix_ms(SampleNowMs() - 45000);
  gt.set_updated_unix_ms(SampleNowMs() - 44000);
  gt.set_deadline_unix_ms(SampleNowMs() - 40000);
  gt.set_timeout_ms(5000);
  gt.set_status_endpoint("127.0.0.1:7001");
  gt.set_stuck(true);
  v1::Branch* points = gt.add_branches();
  points->set_branch_id("points");
  points->set_target("127.0.0.1:9001");
  points->set_action("points.freeze");
  points->set_state(v1::BRANCH_STATE_TRIED);
  points->set_attempts(1);
  v1::BackQuery& query = *detail.mutable_back_query();
  query.set_endpoint("127.0.0.1:7001");
  query.set_attempts(4);
  query.set_failed_attempts(4);
  query.set_last_error("UNAVAILABLE: status endpoint 127.0.0.1:7001: gRPC 14: Connection refused");
  query.set_last_attempt_unix_ms(SampleNowMs() - 1000);
  query.set_next_retry_unix_ms(SampleNowMs() + 7000);
  auto add = [&](int64_t ago_ms, const char* kind, const char* text) {
    v1::TimelineEvent* event = detail.add_timeline();
    event->set_unix_ms(SampleNowMs() - ago_ms);
    event->set_actor("tccd");
    event->set_kind(kind);
    event->set_detail(text);
  };
  add(45000, "begin", "timeout 5000ms, status endpoint 127.0.0.1:7001");
  add(40000, "back-query",
      "back-query failed: UNAVAILABLE: status endpoint 127.0.0.1:7001: gRPC 14: Connection "
      "refused; asking again with backoff");
  add(8000, "stuck",
      "flagged stuck: the back-query to status endpoint 127.0.0.1:7001 failed 3 times in a row; "
      "still asking; an operator should look");
  return detail;
}

}  // namespace tcc::tccctl::testing
