// The participant's (or initiator's) own database, as the SDK sees it: one
// write transaction at a time per call, with statements that take bound
// parameters. Handlers write their business rows through the same LocalTx
// that the SDK uses for its barrier or decision row, so that both commit or
// roll back together.
//
// Database is an adapter interface: SQLite is provided here; a PostgreSQL
// adapter can be added later without touching handlers, because handlers and
// the SDK only use portable SQL (`INSERT ... ON CONFLICT DO NOTHING`,
// `SAVEPOINT`) with '?' placeholders (an adapter for another engine rewrites
// them, e.g. to $1, $2, ...).
//
// Your own tables: create them once at startup, before Start, in one
// transaction (CREATE TABLE IF NOT EXISTS makes it safe on every start):
//
//   TCC_RETURN_IF_ERROR(db->RunInTransaction([](tcc::sdk::LocalTx& tx) {
//     return tx.Exec("CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY, "
//                    "available INTEGER NOT NULL, reserved INTEGER NOT NULL)").status();
//   }));
//
// The SDK's own tables (the barrier, the decision table) are created by
// ParticipantServer::Start and StatusEndpoint::Start; never write to them.
//
// Plain reads that decide nothing by themselves (show an order, look up a
// recorded outcome) go through RunReadOnly, which takes no write lock and
// does not join a group commit; a read whose answer decides a write stays in
// the write transaction with that write.
//
// Thread-safety: a Database is safe to use from many threads. A LocalTx
// belongs to the one call that received it and must not escape it.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace tcc::sdk {

// One bound parameter or one column value.
class SqlValue {
 public:
  enum class Type { kNull, kInt, kReal, kText, kBlob };

  SqlValue() = default;
  SqlValue(std::nullptr_t) {}
  // Any integer type (int, long, long long, int64_t, size_t, bool, ...) is
  // an INTEGER; an unsigned value above INT64_MAX wraps around (store such
  // values as text).
  template <std::integral T>
  SqlValue(T v) : type_(Type::kInt), int_(static_cast<int64_t>(v)) {}
  SqlValue(double v) : type_(Type::kReal), real_(v) {}
  SqlValue(const char* v) : type_(Type::kText), bytes_(v) {}
  SqlValue(std::string_view v) : type_(Type::kText), bytes_(v) {}
  SqlValue(std::string v) : type_(Type::kText), bytes_(std::move(v)) {}
  // Raw bytes (e.g. a branch payload) stored as a BLOB.
  static SqlValue Blob(std::string bytes);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  // Integer value; a REAL is truncated, anything else reads as 0.
  int64_t AsInt() const;
  double AsReal() const;
  // TEXT or BLOB bytes; numbers are formatted; NULL reads as "".
  std::string AsText() const;
  // TEXT or BLOB bytes without a copy; empty for other types.
  std::string_view bytes() const { return bytes_; }

 private:
  Type type_ = Type::kNull;
  int64_t int_ = 0;
  double real_ = 0;
  std::string bytes_;
};

using Row = std::vector<SqlValue>;

// The open local transaction handed to a handler. Statements take '?'
// placeholders bound in order from `params`.
class LocalTx {
 public:
  virtual ~LocalTx() = default;

  // Runs one statement and returns how many rows it changed.
  virtual absl::StatusOr<int64_t> Exec(std::string_view sql,
                                       absl::Span<const SqlValue> params = {}) = 0;
  // Runs one query and returns every row.
  virtual absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                                 absl::Span<const SqlValue> params = {}) = 0;
};

// Adapter over one database. Errors map onto absl codes (for SQLite, as
// tcc/common/sqlite_status.h documents): lock contention and transient I/O
// trouble -> UNAVAILABLE (retry), a full disk -> RESOURCE_EXHAUSTED, a
// damaged database file -> DATA_LOSS, unique key violation ->
// ALREADY_EXISTS, other constraint violation or a file that cannot be
// opened or written -> FAILED_PRECONDITION, a bug in the SQL -> INTERNAL.
class Database {
 public:
  virtual ~Database() = default;

  // Runs fn inside one write transaction (SQLite: BEGIN IMMEDIATE). Commits
  // when fn returns OK; otherwise rolls back every write, the SDK's and the
  // handler's, and returns fn's status. Returns only once the commit is
  // durable. fn runs on the calling thread. fn must not end the transaction
  // itself (BEGIN / COMMIT / ROLLBACK) nor call RunInTransaction on the
  // same Database.
  virtual absl::Status RunInTransaction(absl::FunctionRef<absl::Status(LocalTx&)> fn) = 0;

  // Runs fn inside one read-only transaction: every query of fn sees the
  // same consistent snapshot of committed data (SQLite: BEGIN DEFERRED on a
  // read connection of its own; in WAL mode it neither waits for nor blocks
  // the writer). A statement that would write fails with INVALID_ARGUMENT
  // and writes nothing. Returns fn's status. fn runs on the calling thread
  // and does not see writes of a RunInTransaction still in progress, even on
  // its own thread. fn must not end the transaction itself nor call
  // RunReadOnly on the same Database (with every read connection taken it
  // would wait forever).
  virtual absl::Status RunReadOnly(absl::FunctionRef<absl::Status(LocalTx&)> fn) = 0;
};

struct SqliteOptions {
  // How long a writer waits for another connection's write lock before the
  // call fails with UNAVAILABLE.
  absl::Duration busy_timeout = absl::Seconds(5);
  // FULL fsyncs every commit (the default: an acknowledged Try survives power
  // loss). NORMAL is durable against process crashes only; tests use it.
  bool synchronous_full = true;
  // Connections kept open for concurrent callers; callers beyond that wait.
  // Used only without group commit.
  int max_connections = 8;
  // Group commit: concurrent RunInTransaction calls share one connection,
  // one SQLite transaction and one COMMIT (one fsync), so a participant is
  // not capped at one fsync per call. Each call's fn runs in a SAVEPOINT of
  // its own: a call whose fn fails rolls back only its own writes and gets
  // its own status (a deferred foreign key it leaves unresolved fails it
  // with FAILED_PRECONDITION, as its COMMIT would have). A fn sees the
  // writes of the calls that ran before it in its group, so every caller,
  // even one whose fn failed, returns only after the shared COMMIT
  // succeeded; if that COMMIT fails, every call of the group gets its error
  // (UNAVAILABLE when the failure is transient) and none of their writes
  // persist. The calls of a group run one after another, each on its own
  // thread, so a slow fn (a handler that sleeps) delays its group's commit;
  // without group commit it held SQLite's write lock and delayed every
  // other call anyway. A call never waits for a group to fill: a lone
  // caller commits at once.
  bool group_commit = true;
  // Most calls sharing one commit, so that a long queue of callers cannot
  // hold back the first one's answer indefinitely.
  int max_group_calls = 128;
  // Read connections for RunReadOnly, opened on first use; callers beyond
  // that wait.
  int max_read_connections = 4;
  // Prepared statements kept per connection, by SQL text; the least
  // recently used one is finalized beyond that. Preparing is a large part
  // of a short statement's cost.
  int statement_cache_size = 64;
};

// Opens (creating if needed) a SQLite database in WAL mode.
absl::StatusOr<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                             const SqliteOptions& options = {});

// What the SQLite adapter did so far: how many calls ran and how many SQLite
// transactions (each one COMMIT, one fsync with synchronous=FULL) they took.
// With group commit, calls / transactions is the average group size. The
// statement counters cover every connection, the read ones included.
struct SqliteCommitStats {
  int64_t calls = 0;
  int64_t transactions = 0;
  int64_t largest_group = 0;
  // Calls inside RunInTransaction right now: waiting for their turn or a
  // connection, running, or waiting for their commit.
  int64_t calls_in_progress = 0;
  // RunReadOnly calls (not counted in `calls`).
  int64_t read_only_calls = 0;
  // Statements found in a connection's cache, and statements prepared
  // (cache misses).
  int64_t statement_cache_hits = 0;
  int64_t statements_prepared = 0;
};

// The counters of a Database returned by OpenSqliteDatabase; all zero for
// any other Database (a decorator, a fake). Safe to call at any time.
SqliteCommitStats GetSqliteCommitStats(const Database& db);

}  // namespace tcc::sdk
