// Thin RAII wrappers over the SQLite C API: an owned connection and cached
// prepared statements with bind/step helpers that turn SQLite errors into
// absl::Status (tcc/common/sqlite_status.h: one mapping with the SDK's).
// Not thread-safe: one owner thread per connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tcc::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// A prepared statement in use: bind by 1-based index, step, read columns.
// Resets the statement on destruction so the cached one can be reused.
//
// Binds chain (stmt->Bind(1, a).Bind(2, b)), so a bind that fails (an index
// out of range, a value too big) is kept, and Step and Run return the first
// such error without running the statement: a failed bind would otherwise
// leave its parameter NULL and the statement would run with it.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, absl::string_view text);
  Statement& BindBlob(int index, absl::string_view bytes);

  // True while a row is available; false when done.
  absl::StatusOr<bool> Step();
  absl::Status Run();  // Steps to completion, ignoring rows.

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string Text(int column) const;
  // SQLITE_INTEGER, SQLITE_TEXT, SQLITE_NULL...: the stored value's type.
  int Type(int column) const { return sqlite3_column_type(stmt_, column); }

 private:
  // Keeps the first failed bind's error.
  Statement& Checked(int rc, int index);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  absl::Status bind_status_;
};

class Database {
 public:
  static absl::StatusOr<Database> Open(const std::string& path);

  absl::Status Exec(absl::string_view sql);
  // Exec for a statement run over and over (BEGIN, SAVEPOINT...): prepared
  // once and cached instead of parsed on every call.
  absl::Status Run(absl::string_view sql);
  // Returns a ready statement for `sql`, prepared once and cached.
  absl::StatusOr<std::unique_ptr<Statement>> Prepare(absl::string_view sql);
  int Changes() const { return sqlite3_changes(db_.get()); }
  sqlite3* raw() const { return db_.get(); }

 private:
  explicit Database(DbHandle db) : db_(std::move(db)) {}

  DbHandle db_;
  std::unordered_map<std::string, StmtHandle> cache_;
};

}  // namespace tcc::sqlite
