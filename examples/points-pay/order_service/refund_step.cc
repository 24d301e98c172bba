#include "examples/points-pay/order_service/refund_step.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "examples/points-pay/common/fault_database.h"
#include "examples/points-pay/common/payload.h"
#include "examples/points-pay/common/schema.h"
#include "examples/points-pay/order_service/order_store.h"
#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

using tcc::sdk::BranchRequest;
using tcc::sdk::LocalTx;
using tcc::sdk::TryOutcome;
using tcc::sdk::TryResult;

// Why the order cannot be refunded (it is not PAID).
absl::StatusOr<std::string> NotRefundable(LocalTx& tx, const std::string& order_no) {
  TCC_ASSIGN_OR_RETURN(std::optional<OrderRow> order, OrderStore::Find(tx, order_no));
  if (!order.has_value()) return absl::StrCat("no order ", order_no);
  if (order->status == kRefunded) {
    return absl::StrCat("order ", order_no, " was refunded already (by ", order->refund_gid, ")");
  }
  return absl::StrCat("order ", order_no, " is ", order->status, "; only a PAID order is refunded");
}

TryResult RefundOrder(FaultInjector& faults, LocalTx& tx, const BranchRequest& r) {
  if (faults.Roll(Fault::kFailTry, r.gid())) return InjectedFault(Fault::kFailTry, r);
  TCC_ASSIGN_OR_RETURN(BranchPayload p, ParsePayload(r.payload()));
  if (faults.Roll(Fault::kRefuseRefund, r.gid())) {
    return TryOutcome::Refused(InjectedRefusal(r));
  }
  TCC_ASSIGN_OR_RETURN(bool moved, OrderStore::MarkRefunded(tx, p.order_no, r.gid()));
  if (!moved) {
    TCC_ASSIGN_OR_RETURN(std::string why, NotRefundable(tx, p.order_no));
    return TryOutcome::Refused(why);
  }
  MaybeFailAfterCommit(faults, Fault::kCrashAfterTry, r);
  return TryOutcome::Reserved();
}

absl::Status UnrefundOrder(FaultInjector& faults, LocalTx& tx, const BranchRequest& r) {
  if (faults.Roll(Fault::kFailCancel, r.gid())) return InjectedFault(Fault::kFailCancel, r);
  TCC_ASSIGN_OR_RETURN(BranchPayload p, ParsePayload(r.payload()));
  TCC_ASSIGN_OR_RETURN(bool moved, OrderStore::UnmarkRefunded(tx, p.order_no, r.gid()));
  // The barrier compensates only an action that succeeded, and nothing else
  // moves a REFUNDED order: fail loudly (retried, shown as stuck).
  if (!moved) {
    return absl::InternalError(absl::StrCat("order ", p.order_no, " is not REFUNDED by ", r.gid(),
                                            "; cannot move it back to PAID"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AddOrderRefundStep(tcc::sdk::ParticipantServer& server, FaultInjector& faults) {
  return server.AddAction(kOrderRefundAction,
                          tcc::sdk::SagaStepHandlers(WithFaults(faults, RefundOrder),
                                                     WithFaults(faults, UnrefundOrder)));
}

}  // namespace pointspay
