#include "examples/points-pay/common/sqlite_file.h"

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pointspay {
namespace {

struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteFile>> SqliteFile::Open(const std::string& path, Mode mode) {
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrCat("no database file ", path));
  }
  sqlite3* db = nullptr;
  int flags = mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<SqliteFile> file(new SqliteFile(db, path));
  if (rc != SQLITE_OK) return file->Error("open");
  // The services may hold the write lock for a moment.
  sqlite3_busy_timeout(db, 5000);
  return file;
}

SqliteFile::~SqliteFile() { sqlite3_close_v2(db_); }

absl::Status SqliteFile::Error(std::string_view what) const {
  return absl::UnavailableError(
      absl::StrCat(path_, ": ", absl::string_view(what.data(), what.size()), ": ",
                   db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory"));
}

absl::StatusOr<std::vector<TextRow>> SqliteFile::Query(std::string_view sql,
                                                       const std::vector<std::string>& params) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, nullptr) !=
      SQLITE_OK) {
    return Error(absl::StrCat("prepare ", absl::string_view(sql.data(), sql.size())));
  }
  std::unique_ptr<sqlite3_stmt, StatementFinalizer> stmt(raw);
  for (size_t i = 0; i < params.size(); ++i) {
    sqlite3_bind_text(raw, static_cast<int>(i) + 1, params[i].data(),
                      static_cast<int>(params[i].size()), SQLITE_TRANSIENT);
  }
  std::vector<TextRow> rows;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    TextRow row;
    for (int c = 0; c < sqlite3_column_count(raw); ++c) {
      const unsigned char* text = sqlite3_column_text(raw, c);
      row.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE)
    return Error(absl::StrCat("step ", absl::string_view(sql.data(), sql.size())));
  return rows;
}

absl::StatusOr<int64_t> SqliteFile::QueryInt(std::string_view sql,
                                             const std::vector<std::string>& params) {
  absl::StatusOr<std::vector<TextRow>> rows = Query(sql, params);
  if (!rows.ok()) return rows.status();
  int64_t value = 0;
  if (!rows->empty() && !(*rows)[0].empty()) (void)absl::SimpleAtoi((*rows)[0][0], &value);
  return value;
}

absl::Status SqliteFile::Exec(std::string_view sql) {
  std::string owned(sql);
  if (sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error(absl::StrCat("exec ", owned));
  }
  return absl::OkStatus();
}

}  // namespace pointspay
