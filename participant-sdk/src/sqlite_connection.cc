#include "participant-sdk/src/sqlite_connection.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "participant-sdk/src/absl_compat.h"
#include "tcc/common/sqlite_status.h"
#include "tcc/common/status_macros.h"

namespace tcc::sdk::internal {
namespace {

absl::Status Bind(sqlite3* db, sqlite3_stmt* stmt, absl::Span<const SqlValue> params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const SqlValue& v = params[i];
    int index = static_cast<int>(i) + 1;
    int rc = SQLITE_OK;
    switch (v.type()) {
      case SqlValue::Type::kNull:
        rc = sqlite3_bind_null(stmt, index);
        break;
      case SqlValue::Type::kInt:
        rc = sqlite3_bind_int64(stmt, index, v.AsInt());
        break;
      case SqlValue::Type::kReal:
        rc = sqlite3_bind_double(stmt, index, v.AsReal());
        break;
      case SqlValue::Type::kText:
        rc = sqlite3_bind_text(stmt, index, v.bytes().data(), static_cast<int>(v.bytes().size()),
                               SQLITE_TRANSIENT);
        break;
      case SqlValue::Type::kBlob:
        rc = sqlite3_bind_blob(stmt, index, v.bytes().data(), static_cast<int>(v.bytes().size()),
                               SQLITE_TRANSIENT);
        break;
    }
    if (rc != SQLITE_OK) return SqliteError(rc, db, absl::StrCat("bind ?", index));
  }
  return absl::OkStatus();
}

SqlValue ColumnValue(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER:
      return SqlValue(static_cast<int64_t>(sqlite3_column_int64(stmt, col)));
    case SQLITE_FLOAT:
      return SqlValue(sqlite3_column_double(stmt, col));
    case SQLITE_BLOB: {
      const char* data = static_cast<const char*>(sqlite3_column_blob(stmt, col));
      return SqlValue::Blob(std::string(data, sqlite3_column_bytes(stmt, col)));
    }
    case SQLITE_TEXT: {
      const char* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      return SqlValue(std::string(data, sqlite3_column_bytes(stmt, col)));
    }
    default:
      return SqlValue();
  }
}

}  // namespace

absl::StatusOr<int64_t> SqliteConnection::Exec(std::string_view sql,
                                               absl::Span<const SqlValue> params) {
  TCC_ASSIGN_OR_RETURN(sqlite3_stmt * raw, Statement(sql));
  StatementLease stmt(raw);
  TCC_RETURN_IF_ERROR(Bind(db_.get(), stmt.get(), params));
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return SqliteError(rc, db_.get(), ToAbsl(sql));
  return static_cast<int64_t>(sqlite3_changes(db_.get()));
}

absl::StatusOr<std::vector<Row>> SqliteConnection::Query(std::string_view sql,
                                                         absl::Span<const SqlValue> params) {
  TCC_ASSIGN_OR_RETURN(sqlite3_stmt * raw, Statement(sql));
  StatementLease stmt(raw);
  TCC_RETURN_IF_ERROR(Bind(db_.get(), stmt.get(), params));
  const int columns = sqlite3_column_count(stmt.get());
  std::vector<Row> rows;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    Row row;
    row.reserve(columns);
    for (int c = 0; c < columns; ++c) row.push_back(ColumnValue(stmt.get(), c));
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return SqliteError(rc, db_.get(), ToAbsl(sql));
  return rows;
}

absl::Status SqliteConnection::RefuseWrites() {
  TCC_RETURN_IF_ERROR(Run("PRAGMA query_only=1"));
  access_ = Access::kReadOnly;
  return absl::OkStatus();
}

bool SqliteConnection::HasUnresolvedDeferredKeys() const {
  int current = 0;
  int highwater = 0;
  sqlite3_db_status(db_.get(), SQLITE_DBSTATUS_DEFERRED_FKS, &current, &highwater, 0);
  return current != 0;
}

absl::StatusOr<sqlite3_stmt*> SqliteConnection::Statement(std::string_view sql) {
  TCC_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, statements_.Get(db_.get(), sql));
  if (access_ == Access::kReadOnly && !sqlite3_stmt_readonly(stmt)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sqlite: a read-only transaction (RunReadOnly) cannot write: ", ToAbsl(sql)));
  }
  return stmt;
}

absl::StatusOr<std::unique_ptr<SqliteConnection>> OpenConnection(const std::string& path,
                                                                 const SqliteOptions& options,
                                                                 StatementCounters& counters,
                                                                 Access access) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  ConnectionHandle db(raw);
  if (rc != SQLITE_OK) return SqliteError(rc, db.get(), absl::StrCat("open ", path));
  sqlite3_busy_timeout(db.get(), static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  sqlite3_extended_result_codes(db.get(), 1);
  auto conn = std::make_unique<SqliteConnection>(
      std::move(db), static_cast<size_t>(options.statement_cache_size), counters);
  TCC_RETURN_IF_ERROR(conn->Query("PRAGMA journal_mode=WAL", {}).status());
  TCC_RETURN_IF_ERROR(conn->Run(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                                         : "PRAGMA synchronous=NORMAL"));
  if (access == Access::kReadOnly) TCC_RETURN_IF_ERROR(conn->RefuseWrites());
  return conn;
}

absl::Status CommitAfter(SqliteConnection& conn, TxFn fn) {
  RollbackGuard guard(conn);
  TCC_RETURN_IF_ERROR(fn(conn));
  TCC_RETURN_IF_ERROR(conn.Run("COMMIT"));
  guard.Dismiss();
  return absl::OkStatus();
}

}  // namespace tcc::sdk::internal
