#include "examples/points-pay/checker/checker.h"

#include "examples/points-pay/common/schema.h"
#include "tcc/common/status_macros.h"

namespace pointspay {

absl::StatusOr<CheckReport> RunChecker(const CheckerPaths& paths) {
  TCC_ASSIGN_OR_RETURN(Snapshot snapshot, LoadSnapshot(paths));
  CheckReport report;
  for (const OrderRecord& o : snapshot.orders) {
    ++report.orders;
    report.unpaid += o.status == kUnpaid;
    report.paid += o.status == kPaid;
    report.refunded += o.status == kRefunded;
  }
  for (const auto& [gid, state] : snapshot.gt_states) {
    ++report.transactions;
    report.committed += state == kGtCommitted;
    report.rolled_back += state == kGtRolledBack;
  }
  report.violations = CheckInvariants(snapshot);
  return report;
}

void PrintReport(const CheckReport& report, std::ostream& out) {
  // Order states, in the schema's words: PAID is how many orders are paid
  // now, not how many payments succeeded (refunded ones are REFUNDED).
  out << "checker: orders now " << report.paid << " PAID, " << report.refunded << " REFUNDED, "
      << report.unpaid << " UNPAID (" << report.orders << " in all); " << report.transactions
      << " transactions (" << report.committed << " committed, " << report.rolled_back
      << " rolled back): ";
  if (report.clean()) {
    out << "CLEAN, every invariant holds\n";
    return;
  }
  out << report.violations.size() << " VIOLATION(S)\n";
  for (const Violation& v : report.violations) {
    out << "  VIOLATION order=" << (v.order_no.empty() ? "-" : v.order_no)
        << " gid=" << (v.gid.empty() ? "-" : v.gid) << ": " << v.what << "\n";
  }
}

}  // namespace pointspay
