// The invariants of scenarios S1, S2 and S5, checked on a Snapshot taken
// once every global transaction should be final:
//
//   - every GT (TCC payment or refund saga) is final (COMMITTED or
//     ROLLED_BACK);
//   - per order, all or nothing (S1): UNPAID with no deduction, no live pay
//     or refund log row; or PAID with exactly one deduction, one FINAL pay
//     log row and a COMMITTED GT, all under the order's pay_gid;
//   - refunds (S2): an order is REFUNDED iff its points came back (one
//     ledger row 'refund') iff a FINAL refund log row exists, all under
//     refund_gid, whose saga COMMITTED; a PAID order has neither;
//   - duplicates (S5): a rolled-back GT (a compensated saga included) left
//     no effect anywhere: no ledger row, no live log row, no order naming
//     it; and every committed GT is the one its order names;
//   - no points left frozen, no log row left PENDING where none may be;
//   - conservation: each user's balance is their seed balance - paid +
//     refunded (from the ledger), and so is the sum.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "examples/points-pay/checker/snapshot.h"

namespace pointspay {

struct Violation {
  std::string order_no;  // empty when not about one order
  std::string gid;       // empty when not about one transaction
  std::string what;
};

std::vector<Violation> CheckInvariants(const Snapshot& snapshot);

}  // namespace pointspay
