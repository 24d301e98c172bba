// The points service's actions (scenarios S1 and S2):
//
//   points.freeze  TCC. Try freezes the order's amount (refused, as a
//                  business "no", when balance - frozen is short); Confirm
//                  deducts it and writes the ledger row (order, 'pay');
//                  Cancel unfreezes.
//   points.refund  A step of the refund saga. The action returns the points
//                  with the ledger row (order, 'refund'), refused when the
//                  order was not paid with points or was refunded already;
//                  the compensation takes them back and deletes that row.
//
// The ledger's UNIQUE (order_no, op_type) makes "deducted at most once" and
// "returned at most once" properties of the database, not of timing: a
// second refund could not insert a second 'refund' row.
//
// A saga has no isolation: between the action and a compensation the user
// may spend the returned points. The compensation then fails (UNAVAILABLE,
// retried by the coordinator and flagged stuck) rather than overdraw the
// account; an operator settles it. That is why this is the saga's last
// step: it is compensated only if its own attempts run out with the outcome
// unknown, never because a later step refused.
//
// Thread-safety: the handlers keep no state; the SDK runs them concurrently,
// each inside its own local transaction.
#pragma once

#include "absl/status/status.h"
#include "examples/points-pay/common/faults.h"
#include "tcc/sdk/participant_server.h"

namespace pointspay {

inline constexpr char kFreezeAction[] = "points.freeze";
inline constexpr char kRefundPointsAction[] = "points.refund";

// `faults` must outlive the server.
absl::Status AddPointsActions(tcc::sdk::ParticipantServer& server, FaultInjector& faults);

}  // namespace pointspay
