// A plain SQLite connection for the tools around the services: the checker
// and the launcher read the four databases (read-only, while or after the
// services run), and tests plant violations in copies. The services
// themselves go through the SDK's Database, never through this.
//
// Thread-safety: one SqliteFile per thread.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pointspay {

// Column values as text; NULL reads as "".
using TextRow = std::vector<std::string>;

class SqliteFile {
 public:
  enum class Mode { kReadOnly, kReadWrite };

  // NOT_FOUND when the file does not exist (never creates it).
  static absl::StatusOr<std::unique_ptr<SqliteFile>> Open(const std::string& path,
                                                          Mode mode = Mode::kReadOnly);
  ~SqliteFile();
  SqliteFile(const SqliteFile&) = delete;
  SqliteFile& operator=(const SqliteFile&) = delete;

  // Runs one statement with '?' parameters bound as text; returns every row.
  absl::StatusOr<std::vector<TextRow>> Query(std::string_view sql,
                                             const std::vector<std::string>& params = {});
  // The first column of the first row as an integer (0 when no row).
  absl::StatusOr<int64_t> QueryInt(std::string_view sql,
                                   const std::vector<std::string>& params = {});
  // Runs statements without results (several, separated by ';').
  absl::Status Exec(std::string_view sql);

  const std::string& path() const { return path_; }

 private:
  SqliteFile(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  absl::Status Error(std::string_view what) const;

  sqlite3* db_;
  std::string path_;
};

}  // namespace pointspay
