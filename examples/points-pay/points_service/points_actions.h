// The points service's two TCC actions (scenarios S1 and S2):
//
//   points.freeze  Try freezes the order's amount (refused, as a business
//                  "no", when balance - frozen is short); Confirm deducts it
//                  and writes the ledger row (order, 'pay'); Cancel unfreezes.
//   points.refund  Try checks that the order was paid with points and not yet
//                  refunded, and records a pending refund; Confirm returns the
//                  points with the ledger row (order, 'refund'); Cancel voids
//                  the pending refund.
//
// The ledger's UNIQUE (order_no, op_type) makes "deducted at most once" and
// "returned at most once" properties of the database, not of timing: even a
// second refund transaction that reached Confirm could not insert a second
// 'refund' row, and returns nothing.
//
// Thread-safety: the handlers keep no state; the SDK runs them concurrently,
// each inside its own local transaction.
#pragma once

#include "absl/status/status.h"
#include "common/faults.h"
#include "tcc/sdk/participant_server.h"

namespace pointspay {

inline constexpr char kFreezeAction[] = "points.freeze";
inline constexpr char kRefundPointsAction[] = "points.refund";

// `faults` must outlive the server.
absl::Status AddPointsActions(tcc::sdk::ParticipantServer& server, FaultInjector& faults);

}  // namespace pointspay
