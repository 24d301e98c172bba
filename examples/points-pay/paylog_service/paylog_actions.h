// The pay-log service's actions: the audit trail of payments and refunds
// (scenarios S1 and S2).
//
//   paylog.pay     TCC. Try writes a PENDING pay_log row for the
//                  transaction; Confirm makes it FINAL; Cancel makes it VOID.
//   paylog.refund  A step of the refund saga. The action writes the FINAL
//                  refund_log row (it needs the order's FINAL pay_log row and
//                  is refused when a FINAL refund row exists); the
//                  compensation makes it VOID.
//
// Rows are keyed by gid (one per global transaction: a retried Try is a
// duplicate the barrier absorbs), and a partial unique index allows at most
// ONE FINAL row per order in each table: two payments of one order can never
// both be recorded, whatever the timing. VOID rows stay for the audit trail.
//
// Thread-safety: stateless handlers, run concurrently by the SDK.
#pragma once

#include "absl/status/status.h"
#include "examples/points-pay/common/faults.h"
#include "tcc/sdk/participant_server.h"

namespace pointspay {

inline constexpr char kPayLogAction[] = "paylog.pay";
inline constexpr char kRefundLogAction[] = "paylog.refund";

// `faults` must outlive the server.
absl::Status AddPaylogActions(tcc::sdk::ParticipantServer& server, FaultInjector& faults);

}  // namespace pointspay
