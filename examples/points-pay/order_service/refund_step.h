// The order service's own step of the refund saga, "order.refund", served
// by a ParticipantServer on the orders database (so the order row and the
// barrier row commit together):
//
//   action        PAID -> REFUNDED, recording the saga's gid as refund_gid;
//                 refused (a business "no" with the reason) when the order
//                 is not PAID, e.g. refunded already by another request;
//   compensation  REFUNDED (by this gid) -> PAID, refund_gid cleared.
//
// It is the saga's first step, so a refusal comes before any points move,
// and a crash of the order service anywhere leaves the order to the
// coordinator, which re-sends the step or compensates it: an order is never
// PAID with its points returned, nor REFUNDED without them, once the saga
// is final.
//
// Thread-safety: stateless handlers, run concurrently by the SDK.
#pragma once

#include "absl/status/status.h"
#include "examples/points-pay/common/faults.h"
#include "tcc/sdk/participant_server.h"

namespace pointspay {

inline constexpr char kOrderRefundAction[] = "order.refund";

// `faults` must outlive the server.
absl::Status AddOrderRefundStep(tcc::sdk::ParticipantServer& server, FaultInjector& faults);

}  // namespace pointspay
