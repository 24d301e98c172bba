// The SQLite Database without group commit: each RunInTransaction call
// takes a write connection of its own from a pool and runs one
// BEGIN IMMEDIATE ... COMMIT transaction on it.
//
// Owns the pool of write connections (SqliteOptions.max_connections).
// Thread-safe: the pool has its own lock, and a leased connection is used
// only by the call that holds it; SQLite's write lock orders the calls.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "participant-sdk/src/sqlite_connection.h"
#include "participant-sdk/src/sqlite_connection_pool.h"
#include "participant-sdk/src/sqlite_database.h"
#include "tcc/sdk/local_db.h"

namespace tcc::sdk::internal {

// Without group commit: one connection and one transaction per call.
class PooledDatabase final : public SqliteDatabase {
 public:
  PooledDatabase(const std::string& path, const SqliteOptions& options)
      : SqliteDatabase(path, options),
        writers_(path, options, options.max_connections, Access::kReadWrite, counters()) {}

  absl::Status RunInTransaction(TxFn fn) override;

  // Opens one connection now so that a bad path fails here, not in a
  // handler.
  absl::Status Warm() { return writers_.Acquire().status(); }

 private:
  ConnectionPool writers_;
};

}  // namespace tcc::sdk::internal
