#include "examples/points-pay/checker/snapshot.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "examples/points-pay/common/postgres_db.h"
#include "examples/points-pay/common/sqlite_file.h"
#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

int64_t Int(const std::string& text) {
  int64_t value = 0;
  (void)absl::SimpleAtoi(text, &value);
  return value;
}

absl::StatusOr<std::vector<TextRow>> ReadAll(const std::string& path, std::string_view sql) {
  TCC_ASSIGN_OR_RETURN(std::unique_ptr<SqliteFile> db, SqliteFile::Open(path));
  return db->Query(sql);
}

absl::StatusOr<std::vector<LogRecord>> ReadLog(const std::string& path, const char* table) {
  TCC_ASSIGN_OR_RETURN(
      std::vector<TextRow> rows,
      ReadAll(path, absl::StrCat("SELECT gid, order_no, user, amount, status FROM ", table)));
  std::vector<LogRecord> records;
  for (const TextRow& r : rows) records.push_back({r[0], r[1], r[2], Int(r[3]), r[4]});
  return records;
}

absl::Status ReadSeed(const std::string& seed_file, Snapshot& s) {
  std::ifstream in(seed_file);
  if (!in) return absl::NotFoundError(absl::StrCat("no seed file ", seed_file));
  nlohmann::json seed = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (seed.is_discarded() || !seed.contains("initial_total") ||
      !seed["initial_total"].is_number_integer()) {
    return absl::DataLossError(absl::StrCat(seed_file, " has no initial_total"));
  }
  s.initial_total = seed["initial_total"].get<int64_t>();
  if (!seed.contains("balances")) return absl::OkStatus();
  if (!seed["balances"].is_object()) {
    return absl::DataLossError(absl::StrCat(seed_file, ": balances is not an object"));
  }
  for (const auto& [user, balance] : seed["balances"].items()) {
    if (!balance.is_number_integer()) {
      return absl::DataLossError(
          absl::StrCat(seed_file, ": balance of ", user, " is not a number"));
    }
    s.initial_balances[user] = balance.get<int64_t>();
  }
  return absl::OkStatus();
}

// The same table and state numbers in either store.
absl::Status LoadCoordinator(const CheckerPaths& paths, Snapshot& s) {
  constexpr char kSql[] = "SELECT gid, state FROM global_transactions";
  std::vector<TextRow> rows;
  if (!paths.tccd_store.empty()) {
    TCC_ASSIGN_OR_RETURN(std::unique_ptr<PostgresDb> db, PostgresDb::Open(paths.tccd_store));
    TCC_ASSIGN_OR_RETURN(rows, db->Query(kSql));
  } else {
    TCC_ASSIGN_OR_RETURN(rows, ReadAll(paths.tccd_db, kSql));
  }
  for (const TextRow& r : rows) s.gt_states[r[0]] = static_cast<int>(Int(r[1]));
  return absl::OkStatus();
}

absl::Status LoadPoints(const std::string& path, Snapshot& s) {
  TCC_ASSIGN_OR_RETURN(std::vector<TextRow> accounts,
                       ReadAll(path, "SELECT user, balance, frozen FROM accounts"));
  for (const TextRow& r : accounts) s.accounts.push_back({r[0], Int(r[1]), Int(r[2])});
  TCC_ASSIGN_OR_RETURN(
      std::vector<TextRow> ledger,
      ReadAll(path, "SELECT order_no, op_type, user, amount, gid FROM account_log"));
  for (const TextRow& r : ledger) s.ledger.push_back({r[0], r[1], r[2], Int(r[3]), r[4]});
  return absl::OkStatus();
}

absl::Status LoadOrders(const std::string& path, Snapshot& s) {
  TCC_ASSIGN_OR_RETURN(
      std::vector<TextRow> orders,
      ReadAll(path, "SELECT order_no, user, amount, status, pay_gid, refund_gid FROM orders"));
  for (const TextRow& r : orders) s.orders.push_back({r[0], r[1], Int(r[2]), r[3], r[4], r[5]});
  // The SDK creates tcc_decision with the status endpoint; a run that never
  // started the order service has none.
  absl::StatusOr<std::vector<TextRow>> decisions =
      ReadAll(path, "SELECT gid, decision FROM tcc_decision");
  if (decisions.ok()) {
    for (const TextRow& r : *decisions) s.decisions[r[0]] = r[1];
  }
  return absl::OkStatus();
}

}  // namespace

CheckerPaths CheckerPaths::InDataDir(const std::string& dir) {
  std::filesystem::path d(dir);
  return {.tccd_db = (d / "tccd.db").string(),
          .points_db = (d / "points.db").string(),
          .paylog_db = (d / "paylog.db").string(),
          .orders_db = (d / "orders.db").string(),
          .seed_file = (d / "seed.json").string()};
}

absl::StatusOr<Snapshot> LoadSnapshot(const CheckerPaths& paths) {
  Snapshot s;
  TCC_RETURN_IF_ERROR(ReadSeed(paths.seed_file, s));
  TCC_RETURN_IF_ERROR(LoadCoordinator(paths, s));
  TCC_RETURN_IF_ERROR(LoadPoints(paths.points_db, s));
  TCC_ASSIGN_OR_RETURN(s.pay_log, ReadLog(paths.paylog_db, "pay_log"));
  TCC_ASSIGN_OR_RETURN(s.refund_log, ReadLog(paths.paylog_db, "refund_log"));
  TCC_RETURN_IF_ERROR(LoadOrders(paths.orders_db, s));
  return s;
}

}  // namespace pointspay
