// One open SQLite connection as the LocalTx a call writes through: bound
// parameters, cached statements, and the transaction helpers that every way
// of running a call shares (commit after fn, roll back whatever happens).
//
// A SqliteConnection owns its sqlite3 handle and its StatementCache (the
// statements are finalized before the handle is closed). Not thread-safe:
// it is opened with SQLITE_OPEN_NOMUTEX and used by one transaction, on one
// thread, at a time; whoever hands it out (a ConnectionPool, or
// GroupCommitDatabase under its mutex) guarantees that.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "participant-sdk/src/sqlite_statement_cache.h"
#include "tcc/sdk/local_db.h"

namespace tcc::sdk::internal {

struct ConnectionCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using ConnectionHandle = std::unique_ptr<sqlite3, ConnectionCloser>;

enum class Access { kReadWrite, kReadOnly };

using TxFn = absl::FunctionRef<absl::Status(LocalTx&)>;

// One open connection; used by one transaction at a time.
class SqliteConnection : public LocalTx {
 public:
  SqliteConnection(ConnectionHandle db, size_t cache_size, StatementCounters& counters)
      : db_(std::move(db)), statements_(cache_size, counters) {}

  absl::StatusOr<int64_t> Exec(std::string_view sql, absl::Span<const SqlValue> params) override;
  absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                         absl::Span<const SqlValue> params) override;

  absl::Status Run(std::string_view sql) { return Exec(sql, {}).status(); }

  // From now on every statement that would write fails before it runs, with
  // a status that says why; query_only also stops what sqlite3_stmt_readonly
  // lets through (a write hidden in a PRAGMA).
  absl::Status RefuseWrites();

  // False once a COMMIT or ROLLBACK (ours, a handler's, or SQLite's own after
  // some I/O errors) ended the transaction.
  bool InTransaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

  // Foreign keys declared DEFERRABLE INITIALLY DEFERRED (or deferred by
  // PRAGMA defer_foreign_keys) still unresolved in the open transaction.
  bool HasUnresolvedDeferredKeys() const;

 private:
  absl::StatusOr<sqlite3_stmt*> Statement(std::string_view sql);

  // Declared before the statements, which must be finalized first.
  ConnectionHandle db_;
  StatementCache statements_;
  Access access_ = Access::kReadWrite;
};

// Opens path in WAL mode with options' busy timeout and synchronous level;
// a kReadOnly connection refuses writes (RefuseWrites).
absl::StatusOr<std::unique_ptr<SqliteConnection>> OpenConnection(const std::string& path,
                                                                 const SqliteOptions& options,
                                                                 StatementCounters& counters,
                                                                 Access access);

// Rolls back unless dismissed: when fn fails, when COMMIT fails, or when fn
// throws.
class RollbackGuard {
 public:
  explicit RollbackGuard(SqliteConnection& conn) : conn_(&conn) {}
  ~RollbackGuard() {
    if (conn_ != nullptr) conn_->Run("ROLLBACK").IgnoreError();
  }
  RollbackGuard(const RollbackGuard&) = delete;
  RollbackGuard& operator=(const RollbackGuard&) = delete;

  void Dismiss() { conn_ = nullptr; }

 private:
  SqliteConnection* conn_;
};

// Runs fn after `begin` (already run) and commits.
absl::Status CommitAfter(SqliteConnection& conn, TxFn fn);

}  // namespace tcc::sdk::internal
