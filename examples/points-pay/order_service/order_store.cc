#include "examples/points-pay/order_service/order_store.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "examples/points-pay/common/schema.h"
#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

absl::StatusOr<bool> Move(tcc::sdk::LocalTx& tx, std::string_view order_no, const char* from,
                          const char* to, const char* gid_column, std::string_view gid) {
  TCC_ASSIGN_OR_RETURN(int64_t changed,
                       tx.Exec(absl::StrCat("UPDATE orders SET status = ?, ", gid_column,
                                            " = ?, updated_unix_ms = ?"
                                            " WHERE order_no = ? AND status = ?"),
                               {to, gid, absl::ToUnixMillis(absl::Now()), order_no, from}));
  return changed == 1;
}

}  // namespace

pointspay::v1::OrderStatus ToProtoStatus(std::string_view status) {
  if (status == kUnpaid) return pointspay::v1::ORDER_STATUS_UNPAID;
  if (status == kPaid) return pointspay::v1::ORDER_STATUS_PAID;
  if (status == kRefunded) return pointspay::v1::ORDER_STATUS_REFUNDED;
  return pointspay::v1::ORDER_STATUS_UNSPECIFIED;
}

absl::StatusOr<std::optional<OrderRow>> OrderStore::Find(tcc::sdk::LocalTx& tx,
                                                         std::string_view order_no) {
  TCC_ASSIGN_OR_RETURN(std::vector<tcc::sdk::Row> rows,
                       tx.Query("SELECT order_no, user, amount, status, pay_gid, refund_gid"
                                " FROM orders WHERE order_no = ?",
                                {order_no}));
  if (rows.empty()) return std::nullopt;
  const tcc::sdk::Row& r = rows[0];
  return OrderRow{r[0].AsText(), r[1].AsText(), r[2].AsInt(),
                  r[3].AsText(), r[4].AsText(), r[5].AsText()};
}

absl::StatusOr<OrderRow> OrderStore::Load(std::string_view order_no) {
  std::optional<OrderRow> order;
  TCC_RETURN_IF_ERROR(db_->RunReadOnly([&](tcc::sdk::LocalTx& tx) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(order, Find(tx, order_no));
    return absl::OkStatus();
  }));
  if (!order.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("no order ", absl::string_view(order_no.data(), order_no.size())));
  }
  return *std::move(order);
}

absl::StatusOr<bool> OrderStore::CommittedLocally(std::string_view gid) {
  bool committed = false;
  TCC_RETURN_IF_ERROR(db_->RunReadOnly([&](tcc::sdk::LocalTx& tx) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(std::vector<tcc::sdk::Row> rows,
                         tx.Query("SELECT decision FROM tcc_decision WHERE gid = ?", {gid}));
    committed = !rows.empty() && rows[0][0].AsText() == "committed";
    return absl::OkStatus();
  }));
  return committed;
}

absl::Status OrderStore::RecordRefusal(std::string_view gid, std::string_view reason) {
  return db_->RunInTransaction([&](tcc::sdk::LocalTx& tx) -> absl::Status {
    return tx
        .Exec(
            "INSERT INTO refusals (gid, reason, created_unix_ms) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            {gid, reason, absl::ToUnixMillis(absl::Now())})
        .status();
  });
}

absl::StatusOr<std::string> OrderStore::Refusal(std::string_view gid) {
  std::string reason;
  TCC_RETURN_IF_ERROR(db_->RunReadOnly([&](tcc::sdk::LocalTx& tx) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(std::vector<tcc::sdk::Row> rows,
                         tx.Query("SELECT reason FROM refusals WHERE gid = ?", {gid}));
    if (!rows.empty()) reason = rows[0][0].AsText();
    return absl::OkStatus();
  }));
  return reason;
}

absl::StatusOr<bool> OrderStore::MarkPaid(tcc::sdk::LocalTx& tx, std::string_view order_no,
                                          std::string_view gid) {
  return Move(tx, order_no, kUnpaid, kPaid, "pay_gid", gid);
}

absl::StatusOr<bool> OrderStore::MarkRefunded(tcc::sdk::LocalTx& tx, std::string_view order_no,
                                              std::string_view gid) {
  return Move(tx, order_no, kPaid, kRefunded, "refund_gid", gid);
}

absl::StatusOr<bool> OrderStore::UnmarkRefunded(tcc::sdk::LocalTx& tx, std::string_view order_no,
                                                std::string_view gid) {
  TCC_ASSIGN_OR_RETURN(int64_t changed,
                       tx.Exec("UPDATE orders SET status = ?, refund_gid = '', updated_unix_ms = ?"
                               " WHERE order_no = ? AND status = ? AND refund_gid = ?",
                               {kPaid, absl::ToUnixMillis(absl::Now()), order_no, kRefunded, gid}));
  return changed == 1;
}

}  // namespace pointspay
