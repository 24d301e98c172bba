// SQLite adapter of Database: a small pool of connections, one per
// concurrent transaction, each statement prepared, bound and finalized
// through RAII handles.
#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl_compat.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/local_db.h"

namespace tcc::sdk {
namespace {

struct ConnectionCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using ConnectionHandle = std::unique_ptr<sqlite3, ConnectionCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

absl::StatusCode CodeFor(int extended_code) {
  switch (extended_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return extended_code == SQLITE_CONSTRAINT_UNIQUE ||
                     extended_code == SQLITE_CONSTRAINT_PRIMARYKEY
                 ? absl::StatusCode::kAlreadyExists
                 : absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  return absl::Status(CodeFor(extended),
                      absl::StrCat("sqlite: ", internal::ToAbsl(what), ": ", message));
}

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
    if (rc != SQLITE_OK) return SqliteError(db, rc, "bind");
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

// One open connection; used by one transaction at a time.
class SqliteConnection : public LocalTx {
 public:
  explicit SqliteConnection(ConnectionHandle db) : db_(std::move(db)) {}

  absl::StatusOr<int64_t> Exec(std::string_view sql, absl::Span<const SqlValue> params) override {
    ASSIGN_OR_RETURN(StatementHandle stmt, Prepare(sql, params));
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return SqliteError(db_.get(), rc, sql);
    return static_cast<int64_t>(sqlite3_changes(db_.get()));
  }

  absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                         absl::Span<const SqlValue> params) override {
    ASSIGN_OR_RETURN(StatementHandle stmt, Prepare(sql, params));
    std::vector<Row> rows;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      Row row;
      for (int c = 0; c < sqlite3_column_count(stmt.get()); ++c) {
        row.push_back(ColumnValue(stmt.get(), c));
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return SqliteError(db_.get(), rc, sql);
    return rows;
  }

  absl::Status Run(std::string_view sql) { return Exec(sql, {}).status(); }

 private:
  absl::StatusOr<StatementHandle> Prepare(std::string_view sql, absl::Span<const SqlValue> params) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    StatementHandle stmt(raw);
    if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, sql);
    RETURN_IF_ERROR(Bind(db_.get(), stmt.get(), params));
    return stmt;
  }

  ConnectionHandle db_;
};

absl::StatusOr<std::unique_ptr<SqliteConnection>> OpenConnection(const std::string& path,
                                                                 const SqliteOptions& options) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  ConnectionHandle db(raw);
  if (rc != SQLITE_OK) return SqliteError(db.get(), rc, absl::StrCat("open ", path));
  sqlite3_busy_timeout(db.get(), static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  sqlite3_extended_result_codes(db.get(), 1);
  auto conn = std::make_unique<SqliteConnection>(std::move(db));
  RETURN_IF_ERROR(conn->Query("PRAGMA journal_mode=WAL", {}).status());
  RETURN_IF_ERROR(conn->Run(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                                     : "PRAGMA synchronous=NORMAL"));
  return conn;
}

class SqliteDatabase : public Database {
 public:
  SqliteDatabase(std::string path, SqliteOptions options)
      : path_(std::move(path)), options_(options) {}

  absl::Status RunInTransaction(absl::FunctionRef<absl::Status(LocalTx&)> fn) override {
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> conn, Acquire());
    // Returns the connection to the pool even when fn throws; otherwise the
    // pool would shrink until every caller waited forever.
    struct Lease {
      SqliteDatabase* db;
      std::unique_ptr<SqliteConnection>* conn;
      ~Lease() { db->Release(std::move(*conn)); }
    } lease{this, &conn};
    return RunOn(*conn, fn);
  }

  absl::Status Warm() {
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> conn, Acquire());
    Release(std::move(conn));
    return absl::OkStatus();
  }

 private:
  // BEGIN IMMEDIATE takes the write lock up front, so two transactions never
  // both read a state and then race to write it; the unique keys still
  // decide every duplicate.
  static absl::Status RunOn(SqliteConnection& conn, absl::FunctionRef<absl::Status(LocalTx&)> fn) {
    RETURN_IF_ERROR(conn.Run("BEGIN IMMEDIATE"));
    // Rolls back when fn fails, when COMMIT fails, or when fn throws.
    struct RollbackGuard {
      SqliteConnection* conn;
      ~RollbackGuard() {
        if (conn != nullptr) conn->Run("ROLLBACK").IgnoreError();
      }
    } guard{&conn};
    RETURN_IF_ERROR(fn(conn));
    RETURN_IF_ERROR(conn.Run("COMMIT"));
    guard.conn = nullptr;
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<SqliteConnection>> Acquire() {
    {
      absl::MutexLock lock(&mu_);
      auto can_go = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < options_.max_connections;
      };
      mu_.Await(absl::Condition(&can_go));
      if (!idle_.empty()) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
      ++open_;
    }
    auto conn = OpenConnection(path_, options_);
    if (!conn.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
    }
    return conn;
  }

  void Release(std::unique_ptr<SqliteConnection> conn) {
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(conn));
  }

  const std::string path_;
  const SqliteOptions options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

SqlValue SqlValue::Blob(std::string bytes) {
  SqlValue v(std::move(bytes));
  v.type_ = Type::kBlob;
  return v;
}

int64_t SqlValue::AsInt() const {
  if (type_ == Type::kReal) return static_cast<int64_t>(real_);
  return type_ == Type::kInt ? int_ : 0;
}

double SqlValue::AsReal() const {
  if (type_ == Type::kInt) return static_cast<double>(int_);
  return type_ == Type::kReal ? real_ : 0;
}

std::string SqlValue::AsText() const {
  switch (type_) {
    case Type::kInt:
      return absl::StrCat(int_);
    case Type::kReal:
      return absl::StrCat(real_);
    case Type::kText:
    case Type::kBlob:
      return bytes_;
    default:
      return "";
  }
}

absl::StatusOr<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                             const SqliteOptions& options) {
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError("SqliteOptions.max_connections must be at least 1");
  }
  auto db = std::make_unique<SqliteDatabase>(path, options);
  // Open one connection now so that a bad path fails here, not in a handler.
  RETURN_IF_ERROR(db->Warm());
  return db;
}

}  // namespace tcc::sdk
