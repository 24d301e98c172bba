// What both SQLite Database flavours (PooledDatabase and
// GroupCommitDatabase) share: read-only transactions on a pool of read
// connections of their own, and the counters behind GetSqliteCommitStats.
// Each flavour adds its own way of running write transactions.
//
// Owns the read pool and the StatementCounters, which outlive every
// connection (the derived classes' too, since a base is destroyed last).
// Thread-safe: stats_mu_ guards stats_; the statement counters are atomics;
// the read pool has its own lock.
#pragma once

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "participant-sdk/src/sqlite_connection.h"
#include "participant-sdk/src/sqlite_connection_pool.h"
#include "participant-sdk/src/sqlite_statement_cache.h"
#include "tcc/common/mutex.h"
#include "tcc/sdk/local_db.h"

namespace tcc::sdk::internal {

class SqliteDatabase : public Database {
 public:
  SqliteDatabase(const std::string& path, const SqliteOptions& options)
      : readers_(path, options, options.max_read_connections, Access::kReadOnly, counters_) {}

  // BEGIN DEFERRED reads nothing yet: the snapshot is taken by fn's first
  // query, and in WAL mode it never waits for the writer.
  absl::Status RunReadOnly(TxFn fn) final;

  SqliteCommitStats Stats() const;

 protected:
  // Counts a call as in progress for as long as it lives.
  class CallInProgress {
   public:
    explicit CallInProgress(SqliteDatabase& db) : db_(db) { db_.AddInProgress(1); }
    ~CallInProgress() { db_.AddInProgress(-1); }
    CallInProgress(const CallInProgress&) = delete;
    CallInProgress& operator=(const CallInProgress&) = delete;

   private:
    SqliteDatabase& db_;
  };

  // Records one SQLite transaction in which `calls` calls ran.
  void CountTransaction(int64_t calls);

  StatementCounters& counters() { return counters_; }

 private:
  void AddInProgress(int64_t delta);

  mutable tcc::Mutex stats_mu_;
  SqliteCommitStats stats_ ABSL_GUARDED_BY(stats_mu_);
  // Outlives every connection, the derived classes' included.
  StatementCounters counters_;
  ConnectionPool readers_;
};

}  // namespace tcc::sdk::internal
