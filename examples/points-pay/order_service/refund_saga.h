// The order service's refund, one saga "refund-<request_id>" whose steps run
// in this order (each an action, undone by its compensation if a later step
// refuses):
//
//   order   order.refund  on this service's own participant port: the
//                         order PAID -> REFUNDED (refund_step.h); refused
//                         when it is not PAID, so nothing moves after it;
//   points  points.refund on points_service: the points come back, with
//                         the ledger row (order, 'refund');
//   paylog  paylog.refund on paylog_service: the FINAL refund log row.
//
// Refund waits (bounded) until the payment's GT is COMMITTED, since the
// points and pay-log steps refuse a payment whose Confirms have not landed
// yet, then submits the saga and waits (bounded) for its outcome: DONE when
// it committed, REFUSED with the refusing step's reason when it was
// compensated after a refusal, ABORTED (retry with a new request id) when it
// was compensated for a technical reason, and UNAVAILABLE (retry with the
// same request id; the coordinator carries on meanwhile) when it is not
// final yet. The gid comes from the request id and the steps from the
// order, so a duplicate or retried request resubmits the same saga and gets
// its outcome: one effect, one answer.
//
// Thread-safety: Refund may run concurrently from many threads.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "examples/points-pay/common/faults.h"
#include "examples/points-pay/order_service/order_store.h"
#include "pointspay/v1/order_service.pb.h"
#include "tcc/sdk/initiator_client.h"

namespace pointspay {

struct RefundConfig {
  std::string order_target;   // host:port of this service's participant port
  std::string points_target;  // host:port of points_service
  std::string paylog_target;  // host:port of paylog_service
  // How long one Refund call waits for the saga's outcome.
  absl::Duration wait = absl::Seconds(3);
};

class RefundSaga {
 public:
  // All references must outlive the object.
  RefundSaga(OrderStore& store, tcc::sdk::InitiatorClient& client, FaultInjector& faults,
             RefundConfig config);

  absl::StatusOr<pointspay::v1::OperationReply> Refund(const pointspay::v1::RefundRequest& request);

 private:
  absl::Status EnsureSettled(const std::string& pay_gid);
  std::vector<tcc::v1::SagaStep> Steps(const OrderRow& order) const;
  absl::StatusOr<pointspay::v1::OperationReply> Answer(const tcc::sdk::SagaOutcome& saga,
                                                       const std::string& order_no);

  OrderStore& store_;
  tcc::sdk::InitiatorClient& client_;
  FaultInjector& faults_;
  const RefundConfig config_;
};

}  // namespace pointspay
