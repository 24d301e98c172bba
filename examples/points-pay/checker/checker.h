// The points-payment invariant checker: loads a snapshot of a run's four
// databases (see snapshot.h), checks the invariants (see checks.h) and
// reports each violation with its order and gid. Used in-process by the
// launcher at the end of a run and by the points_pay_check tool.
//
// Thread-safety: stateless functions.
#pragma once

#include <ostream>
#include <vector>

#include "absl/status/statusor.h"
#include "examples/points-pay/checker/checks.h"
#include "examples/points-pay/checker/snapshot.h"

namespace pointspay {

struct CheckReport {
  int orders = 0;
  int unpaid = 0;
  int paid = 0;
  int refunded = 0;
  int transactions = 0;
  int committed = 0;
  int rolled_back = 0;
  std::vector<Violation> violations;

  bool clean() const { return violations.empty(); }
};

// An error only when a database or the seed file cannot be read.
absl::StatusOr<CheckReport> RunChecker(const CheckerPaths& paths);

// One summary line, then one line per violation.
void PrintReport(const CheckReport& report, std::ostream& out);

}  // namespace pointspay
