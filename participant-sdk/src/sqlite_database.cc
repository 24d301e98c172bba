// The SQLite adapter of Database: OpenSqliteDatabase picks a flavour
// (sqlite_group_commit_database.h or sqlite_pooled_database.h); both share
// the read path and counters defined here.
#include "participant-sdk/src/sqlite_database.h"

#include <algorithm>
#include <memory>

#include "participant-sdk/src/sqlite_group_commit_database.h"
#include "participant-sdk/src/sqlite_pooled_database.h"
#include "tcc/common/status_macros.h"

namespace tcc::sdk {
namespace internal {

absl::Status SqliteDatabase::RunReadOnly(TxFn fn) {
  TCC_ASSIGN_OR_RETURN(PooledConnection conn, readers_.Acquire());
  {
    tcc::MutexLock lock(&stats_mu_);
    ++stats_.read_only_calls;
  }
  TCC_RETURN_IF_ERROR(conn->Run("BEGIN DEFERRED"));
  return CommitAfter(*conn, fn);
}

SqliteCommitStats SqliteDatabase::Stats() const {
  tcc::MutexLock lock(&stats_mu_);
  SqliteCommitStats stats = stats_;
  stats.statement_cache_hits = counters_.hits.load(std::memory_order_relaxed);
  stats.statements_prepared = counters_.prepared.load(std::memory_order_relaxed);
  return stats;
}

void SqliteDatabase::CountTransaction(int64_t calls) {
  tcc::MutexLock lock(&stats_mu_);
  stats_.calls += calls;
  ++stats_.transactions;
  stats_.largest_group = std::max(stats_.largest_group, calls);
}

void SqliteDatabase::AddInProgress(int64_t delta) {
  tcc::MutexLock lock(&stats_mu_);
  stats_.calls_in_progress += delta;
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                             const SqliteOptions& options) {
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError("SqliteOptions.max_connections must be at least 1");
  }
  if (options.max_group_calls < 1) {
    return absl::InvalidArgumentError("SqliteOptions.max_group_calls must be at least 1");
  }
  if (options.max_read_connections < 1) {
    return absl::InvalidArgumentError("SqliteOptions.max_read_connections must be at least 1");
  }
  if (options.statement_cache_size < 1) {
    return absl::InvalidArgumentError("SqliteOptions.statement_cache_size must be at least 1");
  }
  if (options.group_commit) {
    auto db = std::make_unique<internal::GroupCommitDatabase>(path, options);
    TCC_RETURN_IF_ERROR(db->Open(path, options));
    return db;
  }
  auto db = std::make_unique<internal::PooledDatabase>(path, options);
  TCC_RETURN_IF_ERROR(db->Warm());
  return db;
}

SqliteCommitStats GetSqliteCommitStats(const Database& db) {
  const auto* sqlite = dynamic_cast<const internal::SqliteDatabase*>(&db);
  return sqlite != nullptr ? sqlite->Stats() : SqliteCommitStats{};
}

}  // namespace tcc::sdk
