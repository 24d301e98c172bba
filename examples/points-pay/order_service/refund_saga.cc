#include "examples/points-pay/order_service/refund_saga.h"

#include "absl/strings/str_cat.h"
#include "examples/points-pay/common/payload.h"
#include "examples/points-pay/common/schema.h"
#include "examples/points-pay/order_service/refund_step.h"
#include "examples/points-pay/order_service/replies.h"
#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

using pointspay::v1::OperationReply;

// How long a refund waits for its payment's Confirms before it answers
// UNAVAILABLE (retry later).
constexpr int kSettleChecks = 10;
constexpr absl::Duration kSettleInterval = absl::Milliseconds(20);
// Attempts of each action on transport errors before the saga gives up and
// compensates: with tccd's backoff this rides out a participant (or the
// order service itself) being restarted for several seconds. A refund that
// is merely slow should finish, not be undone.
constexpr uint32_t kStepAttempts = 12;

tcc::v1::SagaStep MakeStep(const char* id, const std::string& target, const char* action,
                           const std::string& payload) {
  tcc::v1::SagaStep step;
  step.set_step_id(id);
  step.set_target(target);
  step.set_action(action);
  step.set_payload(payload);
  step.set_max_attempts(kStepAttempts);
  return step;
}

}  // namespace

RefundSaga::RefundSaga(OrderStore& store, tcc::sdk::InitiatorClient& client, FaultInjector& faults,
                       RefundConfig config)
    : store_(store), client_(client), faults_(faults), config_(std::move(config)) {}

absl::StatusOr<OperationReply> RefundSaga::Refund(const pointspay::v1::RefundRequest& request) {
  TCC_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  std::string gid = absl::StrCat("refund-", request.request_id());
  faults_.Delay(gid);
  TCC_ASSIGN_OR_RETURN(OrderRow order, store_.Load(request.order_no()));
  // Not PAID: the saga's first step refuses (or, for a retry, the saga
  // exists and answers), so there is no payment to wait for.
  if (order.status == kPaid) TCC_RETURN_IF_ERROR(EnsureSettled(order.pay_gid));
  TCC_ASSIGN_OR_RETURN(
      tcc::sdk::SagaOutcome saga,
      client_.SubmitSaga({.gid = gid, .steps = Steps(order), .wait_for_result = config_.wait}));
  TCC_ASSIGN_OR_RETURN(OperationReply reply, Answer(saga, order.order_no));
  if (reply.outcome() == v1::OUTCOME_DONE && faults_.Roll(Fault::kDropReply, gid)) {
    return absl::UnavailableError(
        absl::StrCat("injected fault drop_reply: ", gid, " is done, reply dropped"));
  }
  return reply;
}

absl::Status RefundSaga::EnsureSettled(const std::string& pay_gid) {
  tcc::v1::Transaction gt;
  // Confirms usually land within milliseconds; wait a little before asking
  // the client to come back.
  for (int i = 0; i < kSettleChecks; ++i) {
    if (i > 0) absl::SleepFor(kSettleInterval);
    TCC_ASSIGN_OR_RETURN(gt, client_.Get(pay_gid));
    if (gt.state() == tcc::v1::TRANSACTION_STATE_COMMITTED) return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat("payment ", pay_gid, " is still ",
                                             tcc::v1::TransactionState_Name(gt.state()),
                                             "; retry the refund shortly"));
}

std::vector<tcc::v1::SagaStep> RefundSaga::Steps(const OrderRow& order) const {
  // The same order always gives the same steps, so a resubmission is
  // recognised as the same saga. The points credit runs last: compensating
  // it takes points back that the user may have spent meanwhile, so it is
  // the step that should (almost) never need undoing. The order step runs
  // first so that a refusal (not PAID) comes before anything moves.
  std::string payload = EncodePayload({order.order_no, order.user, order.amount});
  return {MakeStep("order", config_.order_target, kOrderRefundAction, payload),
          MakeStep("paylog", config_.paylog_target, "paylog.refund", payload),
          MakeStep("points", config_.points_target, "points.refund", payload)};
}

absl::StatusOr<OperationReply> RefundSaga::Answer(const tcc::sdk::SagaOutcome& saga,
                                                  const std::string& order_no) {
  bool replayed = !saga.created;
  if (saga.state == tcc::v1::TRANSACTION_STATE_COMMITTED) {
    return MakeReply(v1::OUTCOME_DONE, saga.gid, kRefunded, "", replayed);
  }
  if (saga.state != tcc::v1::TRANSACTION_STATE_ROLLED_BACK) {
    return absl::UnavailableError(absl::StrCat(
        "refund ", saga.gid, " is still ", tcc::v1::TransactionState_Name(saga.state), " after ",
        absl::FormatDuration(config_.wait), "; retry with the same request id"));
  }
  // Compensated: the order is back as it was (PAID, or whatever made the
  // first step refuse).
  TCC_ASSIGN_OR_RETURN(OrderRow order, store_.Load(order_no));
  if (!saga.refusal.empty()) {
    return MakeReply(v1::OUTCOME_REFUSED, saga.gid, order.status, saga.refusal, replayed);
  }
  return MakeReply(v1::OUTCOME_ABORTED, saga.gid, order.status, saga.reason, replayed);
}

}  // namespace pointspay
