// The order service's own data: the orders table, the SDK's decision table
// (payments) and barrier table (its step of the refund saga), in one SQLite
// file (the status endpoint must read the same file as the local commit it
// fences). The status changes are conditional updates, each inside a local
// transaction of the SDK: MarkPaid inside CommitWithLocalTransaction (with
// the decision row), MarkRefunded and UnmarkRefunded inside the refund
// step's action and compensation (with the barrier row):
//
//   UNPAID --MarkPaid(gid)--> PAID --MarkRefunded(gid)--> REFUNDED
//                              ^----UnmarkRefunded(gid)-----'
//
// The plain reads (Load, CommittedLocally, Refusal) read a snapshot in a
// read-only transaction: none of them decides a write by itself (each
// status change re-checks the status in its own conditional update), so
// they need neither the write lock nor a place in a group commit.
//
// Thread-safety: safe from any number of threads (each call is one local
// transaction of its own).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "pointspay/v1/order_service.pb.h"
#include "tcc/sdk/local_db.h"

namespace pointspay {

struct OrderRow {
  std::string order_no;
  std::string user;
  int64_t amount = 0;
  std::string status;  // kUnpaid, kPaid, kRefunded
  std::string pay_gid;
  std::string refund_gid;
};

pointspay::v1::OrderStatus ToProtoStatus(std::string_view status);

class OrderStore {
 public:
  explicit OrderStore(std::shared_ptr<tcc::sdk::Database> db) : db_(std::move(db)) {}

  tcc::sdk::Database& db() { return *db_; }

  // NOT_FOUND for an unknown order.
  absl::StatusOr<OrderRow> Load(std::string_view order_no);
  // As Load, inside a local transaction; nullopt for an unknown order.
  static absl::StatusOr<std::optional<OrderRow>> Find(tcc::sdk::LocalTx& tx,
                                                      std::string_view order_no);
  // True when this service committed `gid` locally (its decision row says
  // 'committed'): the global transaction's outcome is then commit.
  absl::StatusOr<bool> CommittedLocally(std::string_view gid);
  // Remembers that `gid` was refused (first reason wins), before it is rolled
  // back; Refusal reads it back ("" when none).
  absl::Status RecordRefusal(std::string_view gid, std::string_view reason);
  absl::StatusOr<std::string> Refusal(std::string_view gid);

  // Move the order UNPAID -> PAID (resp. PAID -> REFUNDED) and remember the
  // gid. False when the order was not in the expected status (another
  // transaction got there first).
  static absl::StatusOr<bool> MarkPaid(tcc::sdk::LocalTx& tx, std::string_view order_no,
                                       std::string_view gid);
  static absl::StatusOr<bool> MarkRefunded(tcc::sdk::LocalTx& tx, std::string_view order_no,
                                           std::string_view gid);
  // Undoes MarkRefunded of `gid`: REFUNDED -> PAID, refund_gid cleared.
  // False when the order is not REFUNDED by `gid`.
  static absl::StatusOr<bool> UnmarkRefunded(tcc::sdk::LocalTx& tx, std::string_view order_no,
                                             std::string_view gid);

 private:
  const std::shared_ptr<tcc::sdk::Database> db_;
};

}  // namespace pointspay
