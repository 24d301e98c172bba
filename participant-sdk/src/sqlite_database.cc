// SQLite adapter of Database. Each connection keeps its prepared statements
// by SQL text (RAII handles finalize them; a lease resets each after use).
// Two ways to run write transactions: group commit (one connection;
// concurrent calls share one transaction, each in a savepoint, and one
// COMMIT), or a small pool of connections, one per concurrent call. Reads
// (RunReadOnly) use a pool of read connections of their own either way.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <exception>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "participant-sdk/src/absl_compat.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/local_db.h"

namespace tcc::sdk {
namespace {

struct ConnectionCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using ConnectionHandle = std::unique_ptr<sqlite3, ConnectionCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

absl::StatusCode CodeFor(int extended_code) {
  switch (extended_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return extended_code == SQLITE_CONSTRAINT_UNIQUE ||
                     extended_code == SQLITE_CONSTRAINT_PRIMARYKEY
                 ? absl::StatusCode::kAlreadyExists
                 : absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  return absl::Status(CodeFor(extended),
                      absl::StrCat("sqlite: ", internal::ToAbsl(what), ": ", message));
}

absl::Status Bind(sqlite3* db, sqlite3_stmt* stmt, absl::Span<const SqlValue> params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const SqlValue& v = params[i];
    int index = static_cast<int>(i) + 1;
    int rc = SQLITE_OK;
    switch (v.type()) {
      case SqlValue::Type::kNull:
        rc = sqlite3_bind_null(stmt, index);
        break;
      case SqlValue::Type::kInt:
        rc = sqlite3_bind_int64(stmt, index, v.AsInt());
        break;
      case SqlValue::Type::kReal:
        rc = sqlite3_bind_double(stmt, index, v.AsReal());
        break;
      case SqlValue::Type::kText:
        rc = sqlite3_bind_text(stmt, index, v.bytes().data(), static_cast<int>(v.bytes().size()),
                               SQLITE_TRANSIENT);
        break;
      case SqlValue::Type::kBlob:
        rc = sqlite3_bind_blob(stmt, index, v.bytes().data(), static_cast<int>(v.bytes().size()),
                               SQLITE_TRANSIENT);
        break;
    }
    if (rc != SQLITE_OK) return SqliteError(db, rc, "bind");
  }
  return absl::OkStatus();
}

SqlValue ColumnValue(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER:
      return SqlValue(static_cast<int64_t>(sqlite3_column_int64(stmt, col)));
    case SQLITE_FLOAT:
      return SqlValue(sqlite3_column_double(stmt, col));
    case SQLITE_BLOB: {
      const char* data = static_cast<const char*>(sqlite3_column_blob(stmt, col));
      return SqlValue::Blob(std::string(data, sqlite3_column_bytes(stmt, col)));
    }
    case SQLITE_TEXT: {
      const char* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      return SqlValue(std::string(data, sqlite3_column_bytes(stmt, col)));
    }
    default:
      return SqlValue();
  }
}

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
  absl::StatusOr<sqlite3_stmt*> Get(sqlite3* db, std::string_view sql) {
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

 private:
  struct Entry {
    std::string sql;
    StatementHandle stmt;
  };

  static absl::StatusOr<StatementHandle> Prepare(sqlite3* db, std::string_view sql) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    StatementHandle stmt(raw);
    if (rc != SQLITE_OK) return SqliteError(db, rc, sql);
    // Empty SQL (only whitespace or comments) prepares to no statement.
    if (stmt == nullptr) return absl::InvalidArgumentError("sqlite: empty statement");
    return stmt;
  }

  void Evict() {
    index_.erase(lru_.back().sql);
    lru_.pop_back();
  }

  const size_t capacity_;
  StatementCounters& counters_;
  std::list<Entry> lru_;  // most recently used first
  // Keys view the sql of the entries in lru_, whose nodes never move.
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

enum class Access { kReadWrite, kReadOnly };

// One open connection; used by one transaction at a time.
class SqliteConnection : public LocalTx {
 public:
  SqliteConnection(ConnectionHandle db, size_t cache_size, StatementCounters& counters)
      : db_(std::move(db)), statements_(cache_size, counters) {}

  absl::StatusOr<int64_t> Exec(std::string_view sql, absl::Span<const SqlValue> params) override {
    TCC_ASSIGN_OR_RETURN(sqlite3_stmt * raw, Statement(sql));
    StatementLease stmt(raw);
    TCC_RETURN_IF_ERROR(Bind(db_.get(), stmt.get(), params));
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return SqliteError(db_.get(), rc, sql);
    return static_cast<int64_t>(sqlite3_changes(db_.get()));
  }

  absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                         absl::Span<const SqlValue> params) override {
    TCC_ASSIGN_OR_RETURN(sqlite3_stmt * raw, Statement(sql));
    StatementLease stmt(raw);
    TCC_RETURN_IF_ERROR(Bind(db_.get(), stmt.get(), params));
    const int columns = sqlite3_column_count(stmt.get());
    std::vector<Row> rows;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      Row row;
      row.reserve(columns);
      for (int c = 0; c < columns; ++c) row.push_back(ColumnValue(stmt.get(), c));
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return SqliteError(db_.get(), rc, sql);
    return rows;
  }

  absl::Status Run(std::string_view sql) { return Exec(sql, {}).status(); }

  // From now on every statement that would write fails before it runs, with
  // a status that says why; query_only also stops what sqlite3_stmt_readonly
  // lets through (a write hidden in a PRAGMA).
  absl::Status RefuseWrites() {
    TCC_RETURN_IF_ERROR(Run("PRAGMA query_only=1"));
    access_ = Access::kReadOnly;
    return absl::OkStatus();
  }

  // False once a COMMIT or ROLLBACK (ours, a handler's, or SQLite's own after
  // some I/O errors) ended the transaction.
  bool InTransaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

  // Foreign keys declared DEFERRABLE INITIALLY DEFERRED (or deferred by
  // PRAGMA defer_foreign_keys) still unresolved in the open transaction.
  bool HasUnresolvedDeferredKeys() const {
    int current = 0;
    int highwater = 0;
    sqlite3_db_status(db_.get(), SQLITE_DBSTATUS_DEFERRED_FKS, &current, &highwater, 0);
    return current != 0;
  }

 private:
  absl::StatusOr<sqlite3_stmt*> Statement(std::string_view sql) {
    TCC_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, statements_.Get(db_.get(), sql));
    if (access_ == Access::kReadOnly && !sqlite3_stmt_readonly(stmt)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sqlite: a read-only transaction (RunReadOnly) cannot write: ", internal::ToAbsl(sql)));
    }
    return stmt;
  }

  // Declared before the statements, which must be finalized first.
  ConnectionHandle db_;
  StatementCache statements_;
  Access access_ = Access::kReadWrite;
};

absl::StatusOr<std::unique_ptr<SqliteConnection>> OpenConnection(const std::string& path,
                                                                 const SqliteOptions& options,
                                                                 StatementCounters& counters,
                                                                 Access access) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  ConnectionHandle db(raw);
  if (rc != SQLITE_OK) return SqliteError(db.get(), rc, absl::StrCat("open ", path));
  sqlite3_busy_timeout(db.get(), static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  sqlite3_extended_result_codes(db.get(), 1);
  auto conn = std::make_unique<SqliteConnection>(
      std::move(db), static_cast<size_t>(options.statement_cache_size), counters);
  TCC_RETURN_IF_ERROR(conn->Query("PRAGMA journal_mode=WAL", {}).status());
  TCC_RETURN_IF_ERROR(conn->Run(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                                         : "PRAGMA synchronous=NORMAL"));
  if (access == Access::kReadOnly) TCC_RETURN_IF_ERROR(conn->RefuseWrites());
  return conn;
}

using TxFn = absl::FunctionRef<absl::Status(LocalTx&)>;

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
absl::Status CommitAfter(SqliteConnection& conn, TxFn fn) {
  RollbackGuard guard(conn);
  TCC_RETURN_IF_ERROR(fn(conn));
  TCC_RETURN_IF_ERROR(conn.Run("COMMIT"));
  guard.Dismiss();
  return absl::OkStatus();
}

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

  absl::StatusOr<PooledConnection> Acquire() {
    {
      absl::MutexLock lock(&mu_);
      auto can_go = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < limit_;
      };
      mu_.Await(absl::Condition(&can_go));
      if (!idle_.empty()) {
        PooledConnection conn(*this, std::move(idle_.back()));
        idle_.pop_back();
        return conn;
      }
      ++open_;
    }
    absl::StatusOr<std::unique_ptr<SqliteConnection>> conn =
        OpenConnection(path_, options_, counters_, access_);
    if (!conn.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
      return conn.status();
    }
    return PooledConnection(*this, *std::move(conn));
  }

  void Release(std::unique_ptr<SqliteConnection> conn) {
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(conn));
  }

 private:
  const std::string path_;
  const SqliteOptions options_;
  const int limit_;
  const Access access_;
  StatementCounters& counters_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

PooledConnection::~PooledConnection() {
  if (conn_ != nullptr) pool_->Release(std::move(conn_));
}

// What both ways of running write transactions share: the counters and the
// read connections.
class SqliteDatabase : public Database {
 public:
  SqliteDatabase(const std::string& path, const SqliteOptions& options)
      : readers_(path, options, options.max_read_connections, Access::kReadOnly, counters_) {}

  // BEGIN DEFERRED reads nothing yet: the snapshot is taken by fn's first
  // query, and in WAL mode it never waits for the writer.
  absl::Status RunReadOnly(TxFn fn) final {
    TCC_ASSIGN_OR_RETURN(PooledConnection conn, readers_.Acquire());
    {
      absl::MutexLock lock(&stats_mu_);
      ++stats_.read_only_calls;
    }
    TCC_RETURN_IF_ERROR(conn->Run("BEGIN DEFERRED"));
    return CommitAfter(*conn, fn);
  }

  SqliteCommitStats Stats() const {
    absl::MutexLock lock(&stats_mu_);
    SqliteCommitStats stats = stats_;
    stats.statement_cache_hits = counters_.hits.load(std::memory_order_relaxed);
    stats.statements_prepared = counters_.prepared.load(std::memory_order_relaxed);
    return stats;
  }

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
  void CountTransaction(int64_t calls) {
    absl::MutexLock lock(&stats_mu_);
    stats_.calls += calls;
    ++stats_.transactions;
    stats_.largest_group = std::max(stats_.largest_group, calls);
  }

  StatementCounters& counters() { return counters_; }

 private:
  void AddInProgress(int64_t delta) {
    absl::MutexLock lock(&stats_mu_);
    stats_.calls_in_progress += delta;
  }

  mutable absl::Mutex stats_mu_;
  SqliteCommitStats stats_ ABSL_GUARDED_BY(stats_mu_);
  // Outlives every connection, the derived classes' included.
  StatementCounters counters_;
  ConnectionPool readers_;
};

// Without group commit: one connection and one transaction per call.
class PooledDatabase final : public SqliteDatabase {
 public:
  PooledDatabase(const std::string& path, const SqliteOptions& options)
      : SqliteDatabase(path, options),
        writers_(path, options, options.max_connections, Access::kReadWrite, counters()) {}

  absl::Status RunInTransaction(TxFn fn) override {
    CallInProgress in_progress(*this);
    TCC_ASSIGN_OR_RETURN(PooledConnection conn, writers_.Acquire());
    // BEGIN IMMEDIATE takes the write lock up front, so two transactions
    // never both read a state and then race to write it; the unique keys
    // still decide every duplicate.
    TCC_RETURN_IF_ERROR(conn->Run("BEGIN IMMEDIATE"));
    CountTransaction(1);
    return CommitAfter(*conn, fn);
  }

  // Opens one connection now so that a bad path fails here, not in a
  // handler.
  absl::Status Warm() { return writers_.Acquire().status(); }

 private:
  ConnectionPool writers_;
};

// Calls that share one SQLite transaction and its COMMIT. Every field is
// guarded by the owning GroupCommitDatabase's mu_.
struct Group {
  int joined = 0;        // calls admitted, at most max_group_calls
  int unfinished = 0;    // admitted calls not yet done with the connection
  int ran = 0;           // calls whose fn ran inside the transaction
  bool begun = false;    // BEGIN IMMEDIATE succeeded
  bool sealed = false;   // admits no more calls
  bool done = false;     // outcome is final and the group left the queue
  absl::Status lost;     // why the transaction ended before the group's COMMIT
  absl::Status outcome;  // BEGIN's or COMMIT's result, the same for every call
};

// One call's own result, apart from its group's outcome.
struct CallResult {
  absl::Status status;           // fn's, or why its savepoint failed
  std::exception_ptr exception;  // what fn threw, rethrown to its caller
  absl::Status lost;             // why the transaction did not survive the call
};

constexpr char kSavepoint[] = "SAVEPOINT tcc_sdk_call";
constexpr char kRollbackToSavepoint[] = "ROLLBACK TO tcc_sdk_call";
constexpr char kReleaseSavepoint[] = "RELEASE tcc_sdk_call";

// Deferred keys are checked at COMMIT, which the group shares; checking them
// per call fails only the call that left one unresolved, with the code its
// own COMMIT would have given, instead of failing its whole group.
absl::Status CheckDeferredKeys(const SqliteConnection& conn) {
  if (!conn.HasUnresolvedDeferredKeys()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "sqlite: COMMIT: FOREIGN KEY constraint failed (a deferred key left unresolved)");
}

absl::Status CloseSavepoint(SqliteConnection& conn, bool keep) {
  if (keep) return conn.Run(kReleaseSavepoint);
  TCC_RETURN_IF_ERROR(conn.Run(kRollbackToSavepoint));
  return conn.Run(kReleaseSavepoint);
}

// Runs fn in a savepoint of the group's transaction: a failure (or a throw)
// rolls back fn's writes and nobody else's.
CallResult RunInSavepoint(SqliteConnection& conn, TxFn fn) {
  CallResult result;
  if (absl::Status opened = conn.Run(kSavepoint); !opened.ok()) {
    result.status = result.lost = opened;
    return result;
  }
  try {
    result.status = fn(conn);
  } catch (...) {
    result.exception = std::current_exception();
    result.status = absl::InternalError("fn threw");
  }
  if (result.status.ok()) result.status = CheckDeferredKeys(conn);
  if (!conn.InTransaction()) {
    result.lost = absl::InternalError(absl::StrCat(
        "the transaction ended inside a call that returned: ", result.status.ToString()));
    return result;
  }
  result.lost = CloseSavepoint(conn, result.status.ok());
  return result;
}

absl::Status CommitOrRollBack(SqliteConnection& conn) {
  absl::Status committed = conn.Run("COMMIT");
  if (committed.ok()) return committed;
  // Some errors leave the transaction open (SQLITE_BUSY), some end it.
  if (conn.InTransaction()) conn.Run("ROLLBACK").IgnoreError();
  return absl::UnavailableError(absl::StrCat(
      "the commit failed, so this call's writes were rolled back: ", committed.message()));
}

absl::Status Abandon(SqliteConnection& conn, const absl::Status& lost) {
  if (conn.InTransaction()) conn.Run("ROLLBACK").IgnoreError();
  return absl::UnavailableError(
      absl::StrCat("the transaction shared with other calls was lost, so this call's writes were "
                   "rolled back: ",
                   lost.message()));
}

// Group commit, the leveldb way (DBImpl::Write) but with fn always run by its
// own caller, so handlers keep their thread and their thread-locals. Calls
// queue in groups; the front group owns the one connection's transaction.
// Its calls take turns on the connection, each fn in a savepoint; the last
// one to finish commits for all, then every call of the group returns. While
// a group commits (fsyncs), new calls gather in the next group, which is how
// groups grow under load without any timer.
class GroupCommitDatabase final : public SqliteDatabase {
 public:
  GroupCommitDatabase(const std::string& path, const SqliteOptions& options)
      : SqliteDatabase(path, options), max_group_calls_(options.max_group_calls) {}

  // Before the first call, which conn_ is not guarded for.
  absl::Status Open(const std::string& path, const SqliteOptions& options) {
    TCC_ASSIGN_OR_RETURN(conn_, OpenConnection(path, options, counters(), Access::kReadWrite));
    return absl::OkStatus();
  }

  absl::Status RunInTransaction(TxFn fn) override {
    absl::MutexLock lock(&mu_);
    if (busy_ && turn_holder_ == std::this_thread::get_id()) {
      // Waiting for the turn this thread holds would hang forever.
      return absl::InternalError("RunInTransaction called from inside fn on the same Database");
    }
    // Counted under mu_: a test that sees the count knows the call joins a
    // group before any running call can finish and commit.
    CallInProgress in_progress(*this);
    for (;;) {
      std::shared_ptr<Group> group = JoinLocked();
      AwaitTurnLocked(*group);
      if (!group->done && !group->begun) BeginLocked(*group);
      if (group->done) {  // BEGIN failed for the whole group.
        --returning_;
        return group->outcome;
      }
      if (!group->lost.ok()) {
        // The transaction died before this call ran: try a later group.
        LeaveLocked(*group);
        continue;
      }
      CallResult mine = RunCallLocked(*group, fn);
      LeaveLocked(*group);
      auto committed = [&group]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return group->done; };
      mu_.Await(absl::Condition(&committed));
      --returning_;
      if (mine.exception) std::rethrow_exception(mine.exception);
      return group->outcome.ok() ? mine.status : group->outcome;
    }
  }

 private:
  std::shared_ptr<Group> JoinLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (groups_.empty() || groups_.back()->sealed) groups_.push_back(std::make_shared<Group>());
    std::shared_ptr<Group> group = groups_.back();
    ++group->unfinished;
    if (++group->joined >= max_group_calls_) group->sealed = true;
    return group;
  }

  // Until the group failed, or it owns the transaction and the connection
  // is free. A group begins only once the calls of the group before it have
  // returned: callers that loop (a worker pool under load) are back by then
  // and join it, instead of the first one back committing alone. That waits
  // for threads already woken, never for a timer, and never for a lone call.
  void AwaitTurnLocked(const Group& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto my_turn = [this, &group]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return group.done ||
             (groups_.front().get() == &group && !busy_ && (group.begun || returning_ == 0));
    };
    mu_.Await(absl::Condition(&my_turn));
  }

  // The connection is used outside mu_ by the one thread that set busy_.
  void TakeConnectionLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    busy_ = true;
    turn_holder_ = std::this_thread::get_id();
  }

  void BeginLocked(Group& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    TakeConnectionLocked();
    mu_.Unlock();
    absl::Status begun = conn_->Run("BEGIN IMMEDIATE");
    mu_.Lock();
    busy_ = false;
    if (begun.ok()) {
      group.begun = true;
      return;
    }
    group.sealed = group.done = true;
    group.outcome = begun;
    returning_ += group.joined;
    groups_.pop_front();
  }

  CallResult RunCallLocked(Group& group, TxFn fn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    TakeConnectionLocked();
    mu_.Unlock();
    CallResult mine = RunInSavepoint(*conn_, fn);
    mu_.Lock();
    busy_ = false;
    ++group.ran;
    if (!mine.lost.ok() && group.lost.ok()) {
      group.lost = mine.lost;
      group.sealed = true;
    }
    return mine;
  }

  // The last call to leave commits (or, if the transaction was lost, rolls
  // back) for the whole group.
  void LeaveLocked(Group& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (--group.unfinished > 0) return;
    group.sealed = true;
    absl::Status lost = group.lost;
    TakeConnectionLocked();
    mu_.Unlock();
    absl::Status outcome = lost.ok() ? CommitOrRollBack(*conn_) : Abandon(*conn_, lost);
    mu_.Lock();
    busy_ = false;
    group.outcome = std::move(outcome);
    group.done = true;
    returning_ += group.ran;  // The calls that did not run went to a later group.
    groups_.pop_front();
    CountTransaction(group.ran);
  }

  std::unique_ptr<SqliteConnection> conn_;
  const int max_group_calls_;
  absl::Mutex mu_;
  // Front: the group that owns (or is about to open) the transaction.
  std::deque<std::shared_ptr<Group>> groups_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  std::thread::id turn_holder_ ABSL_GUARDED_BY(mu_);
  // Calls of finished groups that have not returned yet.
  int returning_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

SqlValue SqlValue::Blob(std::string bytes) {
  SqlValue v(std::move(bytes));
  v.type_ = Type::kBlob;
  return v;
}

int64_t SqlValue::AsInt() const {
  if (type_ == Type::kReal) return static_cast<int64_t>(real_);
  return type_ == Type::kInt ? int_ : 0;
}

double SqlValue::AsReal() const {
  if (type_ == Type::kInt) return static_cast<double>(int_);
  return type_ == Type::kReal ? real_ : 0;
}

std::string SqlValue::AsText() const {
  switch (type_) {
    case Type::kInt:
      return absl::StrCat(int_);
    case Type::kReal:
      return absl::StrCat(real_);
    case Type::kText:
    case Type::kBlob:
      return bytes_;
    default:
      return "";
  }
}

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
    auto db = std::make_unique<GroupCommitDatabase>(path, options);
    TCC_RETURN_IF_ERROR(db->Open(path, options));
    return db;
  }
  auto db = std::make_unique<PooledDatabase>(path, options);
  TCC_RETURN_IF_ERROR(db->Warm());
  return db;
}

SqliteCommitStats GetSqliteCommitStats(const Database& db) {
  const auto* sqlite = dynamic_cast<const SqliteDatabase*>(&db);
  return sqlite != nullptr ? sqlite->Stats() : SqliteCommitStats{};
}

}  // namespace tcc::sdk
