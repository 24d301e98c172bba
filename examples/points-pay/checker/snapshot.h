// Everything the checker looks at, read once from the four databases of a
// run (tccd's store, its SQLite file or its PostgreSQL database, and the
// three services' SQLite files, opened read-only) and the seed
// file the launcher wrote (the points in circulation before the run, in
// total and per user).
//
// Thread-safety: plain values; LoadSnapshot opens its own connections.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pointspay {

// tccd's global_transactions.state values.
inline constexpr int kGtTrying = 1;
inline constexpr int kGtCommitting = 2;
inline constexpr int kGtCommitted = 3;
inline constexpr int kGtRollingBack = 4;
inline constexpr int kGtRolledBack = 5;

struct CheckerPaths {
  std::string tccd_db;
  // tccd on PostgreSQL (points_pay --store postgres): a libpq URI to read
  // global_transactions from instead of tccd_db.
  std::string tccd_store;
  std::string points_db;
  std::string paylog_db;
  std::string orders_db;
  std::string seed_file;

  // The launcher's layout: DIR/tccd.db, points.db, paylog.db, orders.db,
  // seed.json.
  static CheckerPaths InDataDir(const std::string& dir);
};

struct AccountRecord {
  std::string user;
  int64_t balance = 0;
  int64_t frozen = 0;
};

// One account_log row: op_type "pay" or "refund".
struct LedgerRecord {
  std::string order_no;
  std::string op_type;
  std::string user;
  int64_t amount = 0;
  std::string gid;
};

// A pay_log / refund_log row.
struct LogRecord {
  std::string gid;
  std::string order_no;
  std::string user;
  int64_t amount = 0;
  std::string status;
};

struct OrderRecord {
  std::string order_no;
  std::string user;
  int64_t amount = 0;
  std::string status;
  std::string pay_gid;
  std::string refund_gid;
};

struct Snapshot {
  int64_t initial_total = 0;
  // user -> balance before the run; empty for a seed file without them.
  std::map<std::string, int64_t> initial_balances;
  std::map<std::string, int> gt_states;  // gid -> state (TCC GTs and sagas)
  std::vector<AccountRecord> accounts;
  std::vector<LedgerRecord> ledger;
  std::vector<LogRecord> pay_log;
  std::vector<LogRecord> refund_log;
  std::vector<OrderRecord> orders;
  std::map<std::string, std::string> decisions;  // order service: gid -> decision
};

absl::StatusOr<Snapshot> LoadSnapshot(const CheckerPaths& paths);

}  // namespace pointspay
