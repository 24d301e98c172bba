// The pay-log service's two TCC actions: the audit trail of payments and
// refunds (scenarios S1 and S2).
//
//   paylog.pay     Try writes a PENDING pay_log row for the transaction;
//                  Confirm makes it FINAL; Cancel makes it VOID.
//   paylog.refund  the same on refund_log; Try needs the order's FINAL pay
//                  log row.
//
// Rows are keyed by gid (one per global transaction: a retried Try is a
// duplicate the barrier absorbs), and a partial unique index allows at most
// ONE FINAL row per order in each table: two payments of one order can never
// both be recorded, whatever the timing. VOID rows stay for the audit trail.
//
// Thread-safety: stateless handlers, run concurrently by the SDK.
#pragma once

#include "absl/status/status.h"
#include "common/faults.h"
#include "tcc/sdk/participant_server.h"

namespace pointspay {

inline constexpr char kPayLogAction[] = "paylog.pay";
inline constexpr char kRefundLogAction[] = "paylog.refund";

// `faults` must outlive the server.
absl::Status AddPaylogActions(tcc::sdk::ParticipantServer& server, FaultInjector& faults);

}  // namespace pointspay
