// The invariants of scenarios S1, S2 and S5, checked on a Snapshot taken
// once every global transaction should be final:
//
//   - every GT is final (COMMITTED or ROLLED_BACK);
//   - per order, all or nothing (S1): UNPAID with no deduction, no live pay
//     or refund log row; or PAID with exactly one deduction, one FINAL pay
//     log row and a COMMITTED GT, all under the order's pay_gid;
//   - refunds (S2): REFUNDED iff the points came back exactly once (ledger
//     row 'refund') and a FINAL refund log row exists, under refund_gid;
//   - duplicates (S5): a rolled-back GT left no effect anywhere, and every
//     committed GT is the one its order names;
//   - no points left frozen, no pending refund or log row left open;
//   - conservation: sum(balances) + deducted - refunded == initial total.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "checker/snapshot.h"

namespace pointspay {

struct Violation {
  std::string order_no;  // empty when not about one order
  std::string gid;       // empty when not about one transaction
  std::string what;
};

std::vector<Violation> CheckInvariants(const Snapshot& snapshot);

}  // namespace pointspay
