// The prepared statements of one SQLite connection, kept by SQL text, and
// the lease that puts a cached statement back to its idle state after use.
//
// Owns the statements (RAII handles finalize them); the connection they were
// prepared on must outlive the cache. Not thread-safe: a StatementCache
// belongs to one connection, which one transaction uses at a time. Only the
// StatementCounters are shared: every connection of one Database adds to
// them and Stats() reads them from any thread, so they are atomics.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/statusor.h"

namespace tcc::sdk::internal {

struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// Counters that every connection of one Database adds to, read by Stats()
// from any thread.
struct StatementCounters {
  std::atomic<int64_t> hits{0};
  std::atomic<int64_t> prepared{0};
};

// Puts a cached statement back to its idle state however the call that
// used it ends: a statement left mid-step would keep its read transaction,
// and so its snapshot and its WAL frames, alive until the next use.
class StatementLease {
 public:
  explicit StatementLease(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementLease() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;

  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* const stmt_;
};

// One connection's prepared statements by SQL text, the least recently
// used finalized first. The SDK and the handlers run the same few
// statements on every call; SQL that embeds its values only churns the
// back of the list.
class StatementCache {
 public:
  StatementCache(size_t capacity, StatementCounters& counters)
      : capacity_(capacity), counters_(counters) {}

  // The idle statement for sql, prepared now if it is not cached. Valid
  // until the next Get: only one statement of a connection runs at a time.
  absl::StatusOr<sqlite3_stmt*> Get(sqlite3* db, std::string_view sql);

 private:
  struct Entry {
    std::string sql;
    StatementHandle stmt;
  };

  static absl::StatusOr<StatementHandle> Prepare(sqlite3* db, std::string_view sql);
  void Evict();

  const size_t capacity_;
  StatementCounters& counters_;
  std::list<Entry> lru_;  // most recently used first
  // Keys view the sql of the entries in lru_, whose nodes never move.
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

}  // namespace tcc::sdk::internal
