// TransactionQueries on its own read-only SQLite connection: WAL lets it
// read a consistent snapshot while the writer commits, so an operator's
// query never delays a transaction. Not thread-safe: one owner thread.
#pragma once

#include <memory>
#include <string>

#include "coordinator/store/sqlite_db.h"
#include "coordinator/store/transaction_queries.h"

namespace tcc {

class SqliteQueries final : public TransactionQueries {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteQueries>> Open(const std::string& path);

  absl::StatusOr<std::vector<GlobalTransaction>> List(const ListQuery& query) override;
  absl::StatusOr<std::optional<GlobalTransaction>> Find(absl::string_view gid) override;
  absl::StatusOr<std::vector<TimelineEvent>> Timeline(absl::string_view gid) override;
  absl::StatusOr<StoreStats> Stats() override;
  absl::StatusOr<std::vector<std::string>> FinishedBefore(int64_t before_ms, size_t limit) override;

 private:
  SqliteQueries(sqlite::Database db, std::string path)
      : db_(std::move(db)), path_(std::move(path)) {}

  absl::Status AddSizes(StoreStats& stats);

  sqlite::Database db_;
  const std::string path_;
};

}  // namespace tcc
