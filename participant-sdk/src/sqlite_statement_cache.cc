#include "participant-sdk/src/sqlite_statement_cache.h"

#include <utility>

#include "absl/status/status.h"
#include "participant-sdk/src/absl_compat.h"
#include "tcc/common/sqlite_status.h"
#include "tcc/common/status_macros.h"

namespace tcc::sdk::internal {

absl::StatusOr<sqlite3_stmt*> StatementCache::Get(sqlite3* db, std::string_view sql) {
  if (auto it = index_.find(sql); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    counters_.hits.fetch_add(1, std::memory_order_relaxed);
    return it->second->stmt.get();
  }
  TCC_ASSIGN_OR_RETURN(StatementHandle stmt, Prepare(db, sql));
  counters_.prepared.fetch_add(1, std::memory_order_relaxed);
  if (lru_.size() >= capacity_) Evict();
  lru_.push_front(Entry{std::string(sql), std::move(stmt)});
  index_.emplace(lru_.front().sql, lru_.begin());
  return lru_.front().stmt.get();
}

absl::StatusOr<StatementHandle> StatementCache::Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  StatementHandle stmt(raw);
  if (rc != SQLITE_OK) return SqliteError(rc, db, ToAbsl(sql));
  // Empty SQL (only whitespace or comments) prepares to no statement.
  if (stmt == nullptr) return absl::InvalidArgumentError("sqlite: empty statement");
  return stmt;
}

void StatementCache::Evict() {
  index_.erase(lru_.back().sql);
  lru_.pop_back();
}

}  // namespace tcc::sdk::internal
