#include "examples/points-pay/points_service/points_actions.h"

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

absl::StatusOr<std::string> Shortfall(LocalTx& tx, const BranchPayload& p) {
  TCC_ASSIGN_OR_RETURN(std::vector<tcc::sdk::Row> rows,
                       tx.Query("SELECT balance - frozen FROM accounts WHERE user = ?", {p.user}));
  if (rows.empty()) return absl::StrCat("no points account for user ", p.user);
  return absl::StrCat("not enough points: ", p.user, " has ", rows[0][0].AsInt(),
                      " available, order ", p.order_no, " needs ", p.amount);
}

TryResult FreezeTry(FaultInjector& faults, LocalTx& tx, const BranchRequest& r) {
  if (faults.Roll(Fault::kFailTry, r.gid())) return InjectedFault(Fault::kFailTry, r);
  TCC_ASSIGN_OR_RETURN(BranchPayload p, ParsePayload(r.payload()));
  TCC_ASSIGN_OR_RETURN(int64_t changed, tx.Exec("UPDATE accounts SET frozen = frozen + ?1"
                                                " WHERE user = ?2 AND balance - frozen >= ?1",
                                                {p.amount, p.user}));
  if (changed == 0) {
    TCC_ASSIGN_OR_RETURN(std::string why, Shortfall(tx, p));
    return TryOutcome::Refused(why);
  }
  MaybeFailAfterCommit(faults, Fault::kCrashAfterTry, r);
  return TryOutcome::Reserved();
}

absl::Status FreezeConfirm(FaultInjector& faults, LocalTx& tx, const BranchRequest& r) {
  if (faults.Roll(Fault::kFailConfirm, r.gid())) return InjectedFault(Fault::kFailConfirm, r);
  TCC_ASSIGN_OR_RETURN(BranchPayload p, ParsePayload(r.payload()));
  absl::StatusOr<int64_t> logged = tx.Exec(
      "INSERT INTO account_log (order_no, op_type, user, amount, gid, created_unix_ms)"
      " VALUES (?, ?, ?, ?, ?, ?)",
      {p.order_no, kOpPay, p.user, p.amount, r.gid(), NowMs()});
  if (absl::IsAlreadyExists(logged.status())) {
    // Only one transaction per order can commit at the order service, so
    // this is a bug or a restored backup: fail loudly (the coordinator keeps
    // retrying, tccctl shows it stuck) rather than deduct twice.
    return absl::FailedPreconditionError(absl::StrCat("order ", p.order_no,
                                                      " was already paid by another transaction; ",
                                                      r.gid(), " must not deduct again"));
  }
  TCC_RETURN_IF_ERROR(logged.status());
  TCC_ASSIGN_OR_RETURN(int64_t changed,
                       tx.Exec("UPDATE accounts SET balance = balance - ?1, frozen = frozen - ?1"
                               " WHERE user = ?2",
                               {p.amount, p.user}));
  if (changed != 1) return absl::InternalError(absl::StrCat("no account for user ", p.user));
  MaybeFailAfterCommit(faults, Fault::kCrashAfterConfirm, r);
  return absl::OkStatus();
}

absl::Status FreezeCancel(FaultInjector& faults, LocalTx& tx, const BranchRequest& r) {
  if (faults.Roll(Fault::kFailCancel, r.gid())) return InjectedFault(Fault::kFailCancel, r);
  TCC_ASSIGN_OR_RETURN(BranchPayload p, ParsePayload(r.payload()));
  return tx.Exec("UPDATE accounts SET frozen = frozen - ?1 WHERE user = ?2", {p.amount, p.user})
      .status();
}

// Why `p` cannot be refunded, or "" when it can.
absl::StatusOr<std::string> RefundObstacle(LocalTx& tx, const BranchPayload& p) {
  TCC_ASSIGN_OR_RETURN(
      std::vector<tcc::sdk::Row> rows,
      tx.Query("SELECT op_type, user, amount, gid FROM account_log WHERE order_no = ?",
               {p.order_no}));
  bool paid = false;
  for (const tcc::sdk::Row& row : rows) {
    if (row[0].AsText() == kOpRefund) {
      return absl::StrCat("order ", p.order_no, " was refunded already (by ", row[3].AsText(), ")");
    }
    paid = paid ||
           (row[0].AsText() == kOpPay && row[1].AsText() == p.user && row[2].AsInt() == p.amount);
  }
  if (!paid) return absl::StrCat("order ", p.order_no, " has no matching points payment");
  return std::string();
}

TryResult RefundAction(FaultInjector& faults, LocalTx& tx, const BranchRequest& r) {
  if (faults.Roll(Fault::kFailTry, r.gid())) return InjectedFault(Fault::kFailTry, r);
  TCC_ASSIGN_OR_RETURN(BranchPayload p, ParsePayload(r.payload()));
  if (faults.Roll(Fault::kRefuseRefund, r.gid())) {
    return TryOutcome::Refused(InjectedRefusal(r));
  }
  TCC_ASSIGN_OR_RETURN(std::string obstacle, RefundObstacle(tx, p));
  if (!obstacle.empty()) return TryOutcome::Refused(obstacle);
  TCC_RETURN_IF_ERROR(
      tx.Exec("INSERT INTO account_log (order_no, op_type, user, amount, gid, created_unix_ms)"
              " VALUES (?, ?, ?, ?, ?, ?)",
              {p.order_no, kOpRefund, p.user, p.amount, r.gid(), NowMs()})
          .status());
  TCC_RETURN_IF_ERROR(
      tx.Exec("UPDATE accounts SET balance = balance + ?1 WHERE user = ?2", {p.amount, p.user})
          .status());
  MaybeFailAfterCommit(faults, Fault::kCrashAfterTry, r);
  return TryOutcome::Reserved();
}

absl::Status RefundCompensation(FaultInjector& faults, LocalTx& tx, const BranchRequest& r) {
  if (faults.Roll(Fault::kFailCancel, r.gid())) return InjectedFault(Fault::kFailCancel, r);
  TCC_ASSIGN_OR_RETURN(BranchPayload p, ParsePayload(r.payload()));
  TCC_ASSIGN_OR_RETURN(int64_t removed, tx.Exec("DELETE FROM account_log WHERE order_no = ? AND"
                                                " op_type = ? AND gid = ?",
                                                {p.order_no, kOpRefund, r.gid()}));
  // The barrier runs this only after a successful action, so the row is
  // there; without it there is nothing this saga returned.
  if (removed == 0) return absl::OkStatus();
  TCC_ASSIGN_OR_RETURN(int64_t debited, tx.Exec("UPDATE accounts SET balance = balance - ?1"
                                                " WHERE user = ?2 AND balance - frozen >= ?1",
                                                {p.amount, p.user}));
  if (debited == 1) return absl::OkStatus();
  // Rolls the ledger delete back too; the coordinator retries (the points
  // may come free again if the payment holding them is cancelled).
  return absl::UnavailableError(absl::StrCat("cannot take back the ", p.amount,
                                             " points refunded by ", r.gid(), ": user ", p.user,
                                             " has spent them; retrying"));
}

}  // namespace

absl::Status AddPointsActions(tcc::sdk::ParticipantServer& server, FaultInjector& faults) {
  TCC_RETURN_IF_ERROR(
      server.AddAction(kFreezeAction, {.on_try = WithFaults(faults, FreezeTry),
                                       .on_confirm = WithFaults(faults, FreezeConfirm),
                                       .on_cancel = WithFaults(faults, FreezeCancel)}));
  return server.AddAction(kRefundPointsAction,
                          tcc::sdk::SagaStepHandlers(WithFaults(faults, RefundAction),
                                                     WithFaults(faults, RefundCompensation)));
}

}  // namespace pointspay
