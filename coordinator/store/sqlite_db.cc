#include "coordinator/store/sqlite_db.h"

#include "absl/strings/str_cat.h"
#include "tcc/common/sqlite_status.h"

namespace tcc::sqlite {

Statement& Statement::Checked(int rc, int index) {
  if (rc != SQLITE_OK && bind_status_.ok()) {
    bind_status_ = SqliteError(rc, db_, absl::StrCat("bind ?", index, " of ", sqlite3_sql(stmt_)));
  }
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  return Checked(sqlite3_bind_int64(stmt_, index, value), index);
}

Statement& Statement::Bind(int index, absl::string_view text) {
  return Checked(
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT),
      index);
}

Statement& Statement::BindBlob(int index, absl::string_view bytes) {
  // A zero-length blob must still be non-NULL for NOT NULL columns.
  static const char kEmpty = 0;
  const char* data = bytes.empty() ? &kEmpty : bytes.data();
  return Checked(
      sqlite3_bind_blob(stmt_, index, data, static_cast<int>(bytes.size()), SQLITE_TRANSIENT),
      index);
}

absl::StatusOr<bool> Statement::Step() {
  if (!bind_status_.ok()) return bind_status_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(rc, db_, sqlite3_sql(stmt_));
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

std::string Statement::Text(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
}

absl::StatusOr<Database> Database::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  // NOMUTEX: a connection has one owner thread, so SQLite's own per-call
  // locking of the connection is pure overhead.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbHandle db(raw);
  if (rc != SQLITE_OK) return SqliteError(rc, raw, absl::StrCat("open ", path));
  sqlite3_extended_result_codes(raw, 1);
  return Database(std::move(db));
}

absl::Status Database::Exec(absl::string_view sql) {
  std::string owned(sql);
  int rc = sqlite3_exec(db_.get(), owned.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(rc, db_.get(), owned);
  return absl::OkStatus();
}

absl::Status Database::Run(absl::string_view sql) {
  absl::StatusOr<std::unique_ptr<Statement>> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  return (*stmt)->Run();
}

absl::StatusOr<std::unique_ptr<Statement>> Database::Prepare(absl::string_view sql) {
  auto [it, inserted] = cache_.try_emplace(std::string(sql));
  if (inserted) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      cache_.erase(it);
      return SqliteError(rc, db_.get(), absl::StrCat("prepare ", sql));
    }
    it->second.reset(stmt);
  }
  return std::make_unique<Statement>(db_.get(), it->second.get());
}

}  // namespace tcc::sqlite
