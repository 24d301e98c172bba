#include "paylog_service/paylog_actions.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/fault_database.h"
#include "common/payload.h"
#include "common/schema.h"
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
  ASSIGN_OR_RETURN(std::vector<tcc::sdk::Row> rows,
                   tx.Query(absl::StrCat("SELECT COUNT(*) FROM ", table.name,
                                         " WHERE order_no = ? AND status = ?"),
                            {order, kFinal}));
  return rows[0][0].AsInt() > 0;
}

absl::Status InsertPending(LocalTx& tx, const LogTable& table, const BranchRequest& r,
                           const BranchPayload& p) {
  return tx
      .Exec(absl::StrCat("INSERT INTO ", table.name,
                         " (gid, order_no, user, amount, status, updated_unix_ms)"
                         " VALUES (?, ?, ?, ?, ?, ?)"),
            {r.gid(), p.order_no, p.user, p.amount, kPending, NowMs()})
      .status();
}

TryResult LogTry(FaultInjector& faults, const LogTable& table, LocalTx& tx,
                 const BranchRequest& r) {
  if (faults.Roll(Fault::kFailTry, r.gid())) return InjectedFault(Fault::kFailTry, r);
  ASSIGN_OR_RETURN(BranchPayload p, ParsePayload(r.payload()));
  ASSIGN_OR_RETURN(bool done, HasFinalRow(tx, table, p.order_no));
  if (done) {
    return TryOutcome::Refused(
        absl::StrCat("order ", p.order_no, " already has a final ", table.what, " log row"));
  }
  if (&table == &kRefundLog) {
    ASSIGN_OR_RETURN(bool paid, HasFinalRow(tx, kPayLog, p.order_no));
    if (!paid) {
      return TryOutcome::Refused(absl::StrCat("order ", p.order_no, " has no final payment"));
    }
  }
  RETURN_IF_ERROR(InsertPending(tx, table, r, p));
  MaybeFailAfterCommit(faults, Fault::kCrashAfterTry, r);
  return TryOutcome::Reserved();
}

absl::Status SetStatus(LocalTx& tx, const LogTable& table, const BranchRequest& r,
                       const char* status) {
  ASSIGN_OR_RETURN(int64_t changed, tx.Exec(absl::StrCat("UPDATE ", table.name,
                                                         " SET status = ?, updated_unix_ms = ?"
                                                         " WHERE gid = ? AND status = ?"),
                                            {status, NowMs(), r.gid(), kPending}));
  if (changed != 1) {
    return absl::InternalError(
        absl::StrCat(table.name, " row of ", r.gid(), " is not PENDING; cannot make it ", status));
  }
  return absl::OkStatus();
}

absl::Status LogConfirm(FaultInjector& faults, const LogTable& table, LocalTx& tx,
                        const BranchRequest& r) {
  if (faults.Roll(Fault::kFailConfirm, r.gid())) return InjectedFault(Fault::kFailConfirm, r);
  // A second FINAL row for the order violates the partial unique index:
  // ALREADY_EXISTS, retried and shown as stuck, never recorded twice.
  RETURN_IF_ERROR(SetStatus(tx, table, r, kFinal));
  MaybeFailAfterCommit(faults, Fault::kCrashAfterConfirm, r);
  return absl::OkStatus();
}

absl::Status LogCancel(FaultInjector& faults, const LogTable& table, LocalTx& tx,
                       const BranchRequest& r) {
  if (faults.Roll(Fault::kFailCancel, r.gid())) return InjectedFault(Fault::kFailCancel, r);
  return SetStatus(tx, table, r, kVoid);
}

tcc::sdk::ActionHandlers HandlersFor(FaultInjector& faults, const LogTable& table) {
  FaultInjector* f = &faults;
  const LogTable* t = &table;
  return {
      .on_try = [f, t](LocalTx& tx, const BranchRequest& r) { return LogTry(*f, *t, tx, r); },
      .on_confirm = [f, t](LocalTx& tx,
                           const BranchRequest& r) { return LogConfirm(*f, *t, tx, r); },
      .on_cancel = [f, t](LocalTx& tx, const BranchRequest& r) { return LogCancel(*f, *t, tx, r); },
  };
}

}  // namespace

absl::Status AddPaylogActions(tcc::sdk::ParticipantServer& server, FaultInjector& faults) {
  RETURN_IF_ERROR(server.AddAction(kPayLogAction, HandlersFor(faults, kPayLog)));
  return server.AddAction(kRefundLogAction, HandlersFor(faults, kRefundLog));
}

}  // namespace pointspay
