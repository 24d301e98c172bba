// The business tables of the three services, one function per database.
// Each service creates its own tables at start; the launcher calls the same
// functions to seed users and orders before the services start, and the
// checker reads these tables. Every function is idempotent (IF NOT EXISTS).
//
// The invariants the database itself enforces (scenarios S1, S2, S5):
//   - points:  account_log UNIQUE (order_no, op_type): an order is paid at
//              most once and refunded at most once, whatever is retried;
//              accounts CHECK frozen >= 0 AND frozen <= balance.
//   - paylog:  one row per global transaction; at most one FINAL pay_log row
//              and one FINAL refund_log row per order (partial unique index).
//   - orders:  status moves UNPAID -> PAID -> REFUNDED by conditional
//              updates; a compensated refund moves it back to PAID.
//
// Thread-safety: safe to call from any thread (one transaction each).
#pragma once

#include "absl/status/status.h"
#include "tcc/sdk/local_db.h"

namespace pointspay {

// Row states of pay_log (PENDING until Confirm) and refund_log (a saga
// step: FINAL at once, VOID when compensated).
inline constexpr char kPending[] = "PENDING";
inline constexpr char kFinal[] = "FINAL";
inline constexpr char kVoid[] = "VOID";
// account_log.op_type
inline constexpr char kOpPay[] = "pay";
inline constexpr char kOpRefund[] = "refund";
// orders.status
inline constexpr char kUnpaid[] = "UNPAID";
inline constexpr char kPaid[] = "PAID";
inline constexpr char kRefunded[] = "REFUNDED";

absl::Status CreatePointsSchema(tcc::sdk::Database& db);
absl::Status CreatePaylogSchema(tcc::sdk::Database& db);
absl::Status CreateOrdersSchema(tcc::sdk::Database& db);

}  // namespace pointspay
