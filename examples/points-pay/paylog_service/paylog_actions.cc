#include "examples/points-pay/paylog_service/paylog_actions.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "examples/points-pay/common/fault_database.h"
#include "examples/points-pay/common/payload.h"
#include "examples/points-pay/common/schema.h"
#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

using tcc::sdk::BranchRequest;
using tcc::sdk::LocalTx;
using tcc::sdk::TryOutcome;
using tcc::sdk::TryResult;

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// One of the two log tables; the table name is ours, never the caller's.
struct LogTable {
  const char* name;
  const char* what;  // "payment" / "refund", for messages
};
constexpr LogTable kPayLog{"pay_log", "payment"};
constexpr LogTable kRefundLog{"refund_log", "refund"};

absl::StatusOr<bool> HasFinalRow(LocalTx& tx, const LogTable& table, const std::string& order) {
  TCC_ASSIGN_OR_RETURN(std::vector<tcc::sdk::Row> rows,
                       tx.Query(absl::StrCat("SELECT COUNT(*) FROM ", table.name,
                                             " WHERE order_no = ? AND status = ?"),
                                {order, kFinal}));
  return rows[0][0].AsInt() > 0;
}

absl::Status InsertRow(LocalTx& tx, const LogTable& table, const BranchRequest& r,
                       const BranchPayload& p, const char* status) {
  return tx
      .Exec(absl::StrCat("INSERT INTO ", table.name,
                         " (gid, order_no, user, amount, status, updated_unix_ms)"
                         " VALUES (?, ?, ?, ?, ?, ?)"),
            {r.gid(), p.order_no, p.user, p.amount, status, NowMs()})
      .status();
}

// Why the order cannot get a FINAL row in `table`, or "" when it can.
absl::StatusOr<std::string> LogObstacle(LocalTx& tx, const LogTable& table,
                                        const BranchPayload& p) {
  TCC_ASSIGN_OR_RETURN(bool done, HasFinalRow(tx, table, p.order_no));
  if (done)
    return absl::StrCat("order ", p.order_no, " already has a final ", table.what, " log row");
  if (&table == &kRefundLog) {
    TCC_ASSIGN_OR_RETURN(bool paid, HasFinalRow(tx, kPayLog, p.order_no));
    if (!paid) return absl::StrCat("order ", p.order_no, " has no final payment");
  }
  return std::string();
}

TryResult PayTry(FaultInjector& faults, LocalTx& tx, const BranchRequest& r) {
  if (faults.Roll(Fault::kFailTry, r.gid())) return InjectedFault(Fault::kFailTry, r);
  TCC_ASSIGN_OR_RETURN(BranchPayload p, ParsePayload(r.payload()));
  TCC_ASSIGN_OR_RETURN(std::string obstacle, LogObstacle(tx, kPayLog, p));
  if (!obstacle.empty()) return TryOutcome::Refused(obstacle);
  TCC_RETURN_IF_ERROR(InsertRow(tx, kPayLog, r, p, kPending));
  MaybeFailAfterCommit(faults, Fault::kCrashAfterTry, r);
  return TryOutcome::Reserved();
}

// A saga action is final once done: the row is FINAL at once.
TryResult RefundAction(FaultInjector& faults, LocalTx& tx, const BranchRequest& r) {
  if (faults.Roll(Fault::kFailTry, r.gid())) return InjectedFault(Fault::kFailTry, r);
  TCC_ASSIGN_OR_RETURN(BranchPayload p, ParsePayload(r.payload()));
  if (faults.Roll(Fault::kRefuseRefund, r.gid())) {
    return TryOutcome::Refused(InjectedRefusal(r));
  }
  TCC_ASSIGN_OR_RETURN(std::string obstacle, LogObstacle(tx, kRefundLog, p));
  if (!obstacle.empty()) return TryOutcome::Refused(obstacle);
  TCC_RETURN_IF_ERROR(InsertRow(tx, kRefundLog, r, p, kFinal));
  MaybeFailAfterCommit(faults, Fault::kCrashAfterTry, r);
  return TryOutcome::Reserved();
}

absl::Status SetStatus(LocalTx& tx, const LogTable& table, const BranchRequest& r, const char* from,
                       const char* to) {
  TCC_ASSIGN_OR_RETURN(int64_t changed, tx.Exec(absl::StrCat("UPDATE ", table.name,
                                                             " SET status = ?, updated_unix_ms = ?"
                                                             " WHERE gid = ? AND status = ?"),
                                                {to, NowMs(), r.gid(), from}));
  if (changed != 1) {
    return absl::InternalError(
        absl::StrCat(table.name, " row of ", r.gid(), " is not ", from, "; cannot make it ", to));
  }
  return absl::OkStatus();
}

absl::Status PayConfirm(FaultInjector& faults, LocalTx& tx, const BranchRequest& r) {
  if (faults.Roll(Fault::kFailConfirm, r.gid())) return InjectedFault(Fault::kFailConfirm, r);
  // A second FINAL row for the order violates the partial unique index:
  // ALREADY_EXISTS, retried and shown as stuck, never recorded twice.
  TCC_RETURN_IF_ERROR(SetStatus(tx, kPayLog, r, kPending, kFinal));
  MaybeFailAfterCommit(faults, Fault::kCrashAfterConfirm, r);
  return absl::OkStatus();
}

absl::Status PayCancel(FaultInjector& faults, LocalTx& tx, const BranchRequest& r) {
  if (faults.Roll(Fault::kFailCancel, r.gid())) return InjectedFault(Fault::kFailCancel, r);
  return SetStatus(tx, kPayLog, r, kPending, kVoid);
}

absl::Status RefundCompensation(FaultInjector& faults, LocalTx& tx, const BranchRequest& r) {
  if (faults.Roll(Fault::kFailCancel, r.gid())) return InjectedFault(Fault::kFailCancel, r);
  return SetStatus(tx, kRefundLog, r, kFinal, kVoid);
}

}  // namespace

absl::Status AddPaylogActions(tcc::sdk::ParticipantServer& server, FaultInjector& faults) {
  TCC_RETURN_IF_ERROR(
      server.AddAction(kPayLogAction, {.on_try = WithFaults(faults, PayTry),
                                       .on_confirm = WithFaults(faults, PayConfirm),
                                       .on_cancel = WithFaults(faults, PayCancel)}));
  return server.AddAction(kRefundLogAction,
                          tcc::sdk::SagaStepHandlers(WithFaults(faults, RefundAction),
                                                     WithFaults(faults, RefundCompensation)));
}

}  // namespace pointspay
