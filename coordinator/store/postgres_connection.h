// A thin RAII layer over libpq for the PostgreSQL store: one connection,
// statements prepared once per connection and cached, every value bound as
// a parameter (text, or binary for bytea), results read as text. Errors
// become absl::Status through postgres_status.h. A lost connection is
// remembered (lost()) and replaced by Reconnect(), which also forgets the
// prepared statements. Statements without values may be deferred: they go
// to the server with the next statement, in the same round trip (libpq's
// pipeline mode), which is how the store's savepoints cost no round trip of
// their own. Statements may also be sent without waiting for their answers
// (Send): a whole batch of writes then costs one round trip, and each
// answer is judged when it is read. Not thread-safe: one owner thread per
// connection.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tcc::pg {

struct ConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ConnHandle = std::unique_ptr<PGconn, ConnCloser>;
using ResultHandle = std::unique_ptr<PGresult, ResultClearer>;

// Bound values of one statement, $1 first.
class Params {
 public:
  // Text columns take valid UTF-8 without NUL only: other bytes (in a
  // participant's error text, say) become U+FFFD instead of failing the
  // write, which would leave the transaction unable to progress.
  Params& Text(absl::string_view value);
  // A text[] value (for "= ANY($n)").
  Params& TextArray(const std::vector<std::string>& values);
  Params& Int(int64_t value);
  Params& Bool(bool value) { return Text(value ? "t" : "f"); }
  // Sent in binary: any bytes, NUL included (a bytea column).
  Params& Bytes(absl::string_view value);

  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into this object: valid while it lives unchanged.
  std::vector<const char*> Values() const;
  std::vector<int> Lengths() const;
  const int* Formats() const { return formats_.data(); }

 private:
  std::vector<std::string> values_;
  std::vector<int> formats_;
};

// The rows of a statement that succeeded, read as text.
class Rows {
 public:
  explicit Rows(ResultHandle result) : result_(std::move(result)) {}

  int size() const { return PQntuples(result_.get()); }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column); }
  std::string Text(int row, int column) const;
  // 0 for NULL. Integers and booleans ("t" is 1).
  absl::StatusOr<int64_t> Int(int row, int column) const;
  // A bytea column (hex output).
  absl::StatusOr<std::string> Bytes(int row, int column) const;
  // Rows an INSERT, UPDATE or DELETE changed.
  int64_t Changed() const;
  // "COMMIT", "ROLLBACK", "INSERT 0 1"...
  absl::string_view Command() const { return PQcmdStatus(result_.get()); }

 private:
  ResultHandle result_;
};

class Connection {
 public:
  // `uri` is a libpq connection string or URI (several hosts allowed);
  // `application_name` shows in pg_stat_activity unless the URI sets one.
  static absl::StatusOr<Connection> Open(const std::string& uri,
                                         const std::string& application_name);

  // Statements without values (BEGIN, DDL; several separated by ';').
  absl::StatusOr<Rows> Exec(absl::string_view sql);
  // A statement with values, prepared on first use on this connection.
  absl::StatusOr<Rows> Query(absl::string_view sql, const Params& params);

  // Sends `sql` (one statement, no values) just before the next Query, in
  // its round trip; that call answers the first error among them. Exec
  // refuses to run while any wait (FAILED_PRECONDITION): drop them first.
  void Defer(std::string sql) { deferred_.push_back(std::move(sql)); }
  // Deferred statements not sent yet.
  bool HasDeferred() const { return !deferred_.empty(); }
  void DropDeferred() { deferred_.clear(); }
  // Whether the deferred statements last sent failed (then the statement
  // sent with them did not run).
  bool DeferredFailed() const { return deferred_failed_; }

  // Judges the answer of a statement sent with Send: OK, or why it is not
  // the answer the sender presumed.
  using AnswerCheck = std::function<absl::Status(const Rows&)>;
  // Sends a statement (prepared on first use) without waiting for its
  // answer; `check` (if any) judges the answer once it is read. The answers
  // are read by FinishSent, and by Exec and Query before they run: they
  // keep the first failure (an error, or a check's refusal) for FinishSent.
  // An error other than a broken connection makes the server skip the
  // statements sent after it until then. Fails at once only when the
  // statement cannot be sent (the connection broke).
  absl::Status Send(absl::string_view sql, const Params& params, AnswerCheck check = nullptr);
  // Reads every answer outstanding and returns the first failure among the
  // statements sent since the last call (OK if none), forgetting it.
  absl::Status FinishSent();
  // Statements run or sent so far: whether anything ran between two calls.
  int64_t statements() const { return statements_; }

  // True once an error said the connection is gone or unusable for writes.
  bool lost() const { return lost_; }
  absl::Status Reconnect();
  // The server process serving this connection (pg_stat_activity.pid).
  int BackendPid() const { return PQbackendPID(conn_.get()); }
  bool InFailedTransaction() const;

 private:
  Connection(ConnHandle conn, std::string uri, std::string application_name)
      : conn_(std::move(conn)), uri_(std::move(uri)), app_(std::move(application_name)) {}

  static absl::StatusOr<ConnHandle> Connect(const std::string& uri, const std::string& app);
  absl::StatusOr<std::string> Prepared(absl::string_view sql);
  // Rows for a result of the expected kind, else the error (and lost_).
  absl::StatusOr<Rows> Check(PGresult* raw, absl::string_view what);
  // The deferred statements, then the prepared statement `name`, in one
  // round trip; the deferred ones are forgotten either way.
  absl::StatusOr<Rows> Pipelined(const std::string& name, absl::string_view sql,
                                 const Params& params);
  // Reads every result up to the pipeline's sync point; fewer than
  // `commands` results means the connection broke.
  std::vector<ResultHandle> PipelineResults(size_t commands);
  // Sends the statement prepared as `name`, or `sql` itself when it takes
  // no values, in pipeline mode; false if the connection broke.
  bool SendInPipeline(absl::string_view name, absl::string_view sql, const Params& params);
  // Reads the answers of everything sent, judges them, leaves pipeline
  // mode; the first failure goes to sent_failure_.
  void ReadSent();

  // A statement sent and not yet answered, or a statement's preparation.
  struct Sent {
    std::string what;  // Its SQL, for error messages.
    AnswerCheck check;
    std::string prepared_sql;  // A preparation: forgotten if it fails.
  };
  ConnHandle conn_;
  std::string uri_;
  std::string app_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name.
  std::vector<std::string> deferred_;
  bool deferred_failed_ = false;
  std::vector<Sent> sent_;  // Non-empty: in pipeline mode, answers unread.
  absl::Status sent_failure_;
  int64_t statements_ = 0;
  bool lost_ = false;
};

}  // namespace tcc::pg
