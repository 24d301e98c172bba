#include "coordinator/store/sqlite_db.h"

#include "absl/strings/str_cat.h"

namespace tcc::sqlite {

absl::Status Error(sqlite3* db, absl::string_view context) {
  int code = sqlite3_extended_errcode(db);
  std::string message =
      absl::StrCat(context, ": ", sqlite3_errmsg(db), " (sqlite code ", code, ")");
  int primary = code & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_FULL ||
      primary == SQLITE_IOERR) {
    return absl::UnavailableError(message);
  }
  if (primary == SQLITE_CONSTRAINT) return absl::AlreadyExistsError(message);
  return absl::InternalError(message);
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, absl::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindBlob(int index, absl::string_view bytes) {
  // A zero-length blob must still be non-NULL for NOT NULL columns.
  static const char kEmpty = 0;
  const char* data = bytes.empty() ? &kEmpty : bytes.data();
  sqlite3_bind_blob(stmt_, index, data, static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(db_, sqlite3_sql(stmt_));
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
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(absl::StrCat("cannot open SQLite database ", path, ": ",
                                               raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  return Database(std::move(db));
}

absl::Status Database::Exec(absl::string_view sql) {
  std::string owned(sql);
  if (sqlite3_exec(db_.get(), owned.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error(db_.get(), owned);
  }
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
    if (sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      cache_.erase(it);
      return Error(db_.get(), absl::StrCat("prepare ", sql));
    }
    it->second.reset(stmt);
  }
  return std::make_unique<Statement>(db_.get(), it->second.get());
}

}  // namespace tcc::sqlite
