// A pool of SQLite connections to one file, opened on first need up to a
// limit and kept open, and the lease that gives one back.
//
// The pool owns its idle connections; a PooledConnection owns the one it
// leases until it ends. Thread-safe: mu_ guards the idle list and the count
// of open connections; a caller waits in Acquire while every connection is
// leased and the limit is reached. Opening a connection happens outside mu_.
// A leased connection itself is not thread-safe (see sqlite_connection.h).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "participant-sdk/src/sqlite_connection.h"
#include "participant-sdk/src/sqlite_statement_cache.h"
#include "tcc/common/mutex.h"
#include "tcc/sdk/local_db.h"

namespace tcc::sdk::internal {

class ConnectionPool;

// A connection taken from a pool, given back when the lease ends, even when
// fn throws; otherwise the pool would shrink until every caller waited
// forever.
class PooledConnection {
 public:
  PooledConnection(ConnectionPool& pool, std::unique_ptr<SqliteConnection> conn)
      : pool_(&pool), conn_(std::move(conn)) {}
  PooledConnection(PooledConnection&&) = default;
  PooledConnection& operator=(PooledConnection&&) = delete;
  ~PooledConnection();

  SqliteConnection& operator*() const { return *conn_; }
  SqliteConnection* operator->() const { return conn_.get(); }

 private:
  ConnectionPool* pool_;
  std::unique_ptr<SqliteConnection> conn_;
};

// Connections opened on first need, up to a limit, and kept open.
class ConnectionPool {
 public:
  ConnectionPool(std::string path, const SqliteOptions& options, int limit, Access access,
                 StatementCounters& counters)
      : path_(std::move(path)),
        options_(options),
        limit_(limit),
        access_(access),
        counters_(counters) {}

  absl::StatusOr<PooledConnection> Acquire();
  void Release(std::unique_ptr<SqliteConnection> conn);

 private:
  const std::string path_;
  const SqliteOptions options_;
  const int limit_;
  const Access access_;
  StatementCounters& counters_;
  tcc::Mutex mu_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tcc::sdk::internal
