#include "examples/points-pay/common/schema.h"

#include <initializer_list>

#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

absl::Status ExecAll(tcc::sdk::Database& db, std::initializer_list<const char*> statements) {
  return db.RunInTransaction([&](tcc::sdk::LocalTx& tx) -> absl::Status {
    for (const char* sql : statements) TCC_RETURN_IF_ERROR(tx.Exec(sql).status());
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status CreatePointsSchema(tcc::sdk::Database& db) {
  return ExecAll(db, {
                         "CREATE TABLE IF NOT EXISTS accounts ("
                         " user TEXT PRIMARY KEY,"
                         " balance INTEGER NOT NULL,"
                         " frozen INTEGER NOT NULL DEFAULT 0,"
                         " CHECK (frozen >= 0 AND frozen <= balance))",
                         // The ledger: at most one row per (order, pay|refund);
                         // a compensated refund saga deletes its row again.
                         "CREATE TABLE IF NOT EXISTS account_log ("
                         " order_no TEXT NOT NULL,"
                         " op_type TEXT NOT NULL,"
                         " user TEXT NOT NULL,"
                         " amount INTEGER NOT NULL,"
                         " gid TEXT NOT NULL,"
                         " created_unix_ms INTEGER NOT NULL,"
                         " UNIQUE (order_no, op_type))",
                     });
}

absl::Status CreatePaylogSchema(tcc::sdk::Database& db) {
  return ExecAll(db, {
                         "CREATE TABLE IF NOT EXISTS pay_log ("
                         " gid TEXT PRIMARY KEY,"
                         " order_no TEXT NOT NULL,"
                         " user TEXT NOT NULL,"
                         " amount INTEGER NOT NULL,"
                         " status TEXT NOT NULL,"
                         " updated_unix_ms INTEGER NOT NULL)",
                         "CREATE UNIQUE INDEX IF NOT EXISTS pay_log_one_final"
                         " ON pay_log (order_no) WHERE status = 'FINAL'",
                         "CREATE TABLE IF NOT EXISTS refund_log ("
                         " gid TEXT PRIMARY KEY,"
                         " order_no TEXT NOT NULL,"
                         " user TEXT NOT NULL,"
                         " amount INTEGER NOT NULL,"
                         " status TEXT NOT NULL,"
                         " updated_unix_ms INTEGER NOT NULL)",
                         "CREATE UNIQUE INDEX IF NOT EXISTS refund_log_one_final"
                         " ON refund_log (order_no) WHERE status = 'FINAL'",
                     });
}

absl::Status CreateOrdersSchema(tcc::sdk::Database& db) {
  return ExecAll(db, {
                         "CREATE TABLE IF NOT EXISTS orders ("
                         " order_no TEXT PRIMARY KEY,"
                         " user TEXT NOT NULL,"
                         " amount INTEGER NOT NULL CHECK (amount > 0),"
                         " status TEXT NOT NULL,"
                         " pay_gid TEXT NOT NULL DEFAULT '',"
                         " refund_gid TEXT NOT NULL DEFAULT '',"
                         " updated_unix_ms INTEGER NOT NULL DEFAULT 0)",
                         // Business refusals seen by this service, so that a
                         // duplicate of the request answers the same even after
                         // the coordinator's Cancel erased the refusal from the
                         // branch state.
                         "CREATE TABLE IF NOT EXISTS refusals ("
                         " gid TEXT PRIMARY KEY,"
                         " reason TEXT NOT NULL,"
                         " created_unix_ms INTEGER NOT NULL)",
                     });
}

}  // namespace pointspay
