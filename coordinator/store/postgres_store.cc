#include "coordinator/store/postgres_store.h"

#include <array>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coordinator/store/headers_codec.h"
#include "coordinator/store/ownership.h"
#include "coordinator/store/postgres_queries.h"
#include "coordinator/store/postgres_rows.h"
#include "coordinator/store/postgres_schema.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

using pg::kBranchColumns;
using pg::kHeaderColumns;
using pg::Params;
using pg::Rows;

// bytea as a text[] element: its hex input form.
std::string HexBytes(absl::string_view bytes) {
  return absl::StrCat("\\x", absl::BytesToHexString(bytes));
}

// The columns of an update's events, one array each.
struct EventArrays {
  std::vector<std::string> at_ms, kind, detail, actor;

  explicit EventArrays(const std::vector<TimelineEvent>& events) {
    for (const TimelineEvent& event : events) {
      at_ms.push_back(absl::StrCat(event.at_ms));
      kind.push_back(event.kind);
      detail.push_back(event.detail);
      actor.push_back(event.actor);
    }
  }
  void Bind(Params& params) const {
    params.TextArray(at_ms).TextArray(kind).TextArray(detail).TextArray(actor);
  }
};

// The columns of new branches, one array each, positions from `first`.
struct NewBranchArrays {
  std::vector<std::string> position, id, target, action, payload, headers, state, attempts,
      last_error, next_retry_ms, depends_on, max_attempts, timeout_ms, action_sent;

  NewBranchArrays(const std::vector<const Branch*>& branches, size_t first) {
    for (const Branch* branch : branches) {
      position.push_back(absl::StrCat(first++));
      id.push_back(branch->branch_id);
      target.push_back(branch->target);
      action.push_back(branch->action);
      payload.push_back(HexBytes(branch->payload));
      headers.push_back(HexBytes(EncodeHeaders(branch->headers)));
      state.push_back(absl::StrCat(static_cast<int>(branch->state)));
      attempts.push_back(absl::StrCat(branch->attempts));
      last_error.push_back(branch->last_error);
      next_retry_ms.push_back(absl::StrCat(branch->next_retry_ms));
      depends_on.push_back(pg::JoinDependencies(branch->depends_on));
      max_attempts.push_back(absl::StrCat(branch->max_attempts));
      timeout_ms.push_back(absl::StrCat(branch->timeout_ms));
      action_sent.push_back(branch->action_sent ? "t" : "f");
    }
  }
  void Bind(Params& params) const {
    params.TextArray(position).TextArray(id).TextArray(target).TextArray(action);
    params.TextArray(payload).TextArray(headers).TextArray(state).TextArray(attempts);
    params.TextArray(last_error).TextArray(next_retry_ms).TextArray(depends_on);
    params.TextArray(max_attempts).TextArray(timeout_ms).TextArray(action_sent);
  }
};

// The progress columns of changed branches, one array each.
struct ProgressArrays {
  std::vector<std::string> id, state, attempts, last_error, next_retry_ms, action_sent;

  explicit ProgressArrays(const std::vector<const Branch*>& branches) {
    for (const Branch* branch : branches) {
      id.push_back(branch->branch_id);
      state.push_back(absl::StrCat(static_cast<int>(branch->state)));
      attempts.push_back(absl::StrCat(branch->attempts));
      last_error.push_back(branch->last_error);
      next_retry_ms.push_back(absl::StrCat(branch->next_retry_ms));
      action_sent.push_back(branch->action_sent ? "t" : "f");
    }
  }
  void Bind(Params& params) const {
    params.TextArray(id).TextArray(state).TextArray(attempts).TextArray(last_error);
    params.TextArray(next_retry_ms).TextArray(action_sent);
  }
};

// `count` placeholders from $next on, each cast to text[].
std::string TextArrays(int& next, int count) {
  std::vector<std::string> marks;
  for (int i = 0; i < count; ++i) marks.push_back(absl::StrCat("$", next++, "::text[]"));
  return absl::StrJoin(marks, ", ");
}

// The CTE "added": inserts the new branches (their arrays from $next on,
// as NewBranchArrays binds them) for the gid the CTE "header" answers, so
// nothing is inserted when the header's write was refused.
std::string AddedBranchesSql(int& next) {
  return absl::StrCat(
      "added AS (INSERT INTO branches (gid, position, ", kBranchColumns,
      ") SELECT header.gid, a.position::integer, a.branch_id, a.target, a.action, "
      "a.payload::bytea, a.headers::bytea, a.state::smallint, a.attempts::bigint, "
      "a.last_error, a.next_retry_ms::bigint, a.depends_on, a.max_attempts::bigint, "
      "a.timeout_ms::bigint, a.action_sent::boolean FROM header, unnest(",
      TextArrays(next, 14),
      ") AS a(position, branch_id, target, action, payload, headers, state, attempts, "
      "last_error, next_retry_ms, depends_on, max_attempts, timeout_ms, action_sent))");
}

// A fenced update as one statement: the header write ($1..$10, as
// BindHeader binds them) and, joined to its RETURNING row (so a refused
// write writes none of them), the parts an update has: its events in their
// order, its new branches, its changed branches' progress (each part's
// arrays as EventArrays, NewBranchArrays and ProgressArrays bind them).
// Answers one row: whether the header was written, and the changed count.
std::string UpdateSql(bool events, bool added, bool changed) {
  int next = 11;
  std::string sql =
      "WITH header AS (UPDATE global_transactions SET state = $1, updated_ms = $2, stuck = $3, "
      "decision_reason = $4, finished = $5, "
      "finished_ms = CASE WHEN $5::boolean THEN $2::bigint ELSE 0 END, owner = $6, epoch = $7 "
      "WHERE gid = $8 AND owner = $9 AND epoch = $10 RETURNING gid)";
  if (events) {
    absl::StrAppend(&sql,
                    ", events AS (INSERT INTO transaction_events (gid, at_ms, kind, detail, actor) "
                    "SELECT header.gid, e.at_ms::bigint, e.kind, e.detail, e.actor FROM header, "
                    "unnest(",
                    TextArrays(next, 4),
                    ") WITH ORDINALITY AS e(at_ms, kind, detail, actor, n) ORDER BY e.n)");
  }
  if (added) absl::StrAppend(&sql, ", ", AddedBranchesSql(next));
  if (changed) {
    absl::StrAppend(&sql,
                    ", changed AS (UPDATE branches b SET state = v.state::smallint, "
                    "attempts = v.attempts::bigint, last_error = v.last_error, "
                    "next_retry_ms = v.next_retry_ms::bigint, action_sent = v.action_sent::boolean "
                    "FROM header, unnest(",
                    TextArrays(next, 6),
                    ") AS v(branch_id, state, attempts, last_error, next_retry_ms, action_sent) "
                    "WHERE b.gid = header.gid AND b.branch_id = v.branch_id RETURNING 1)");
  }
  absl::StrAppend(&sql, " SELECT (SELECT count(*) FROM header), ",
                  changed ? "(SELECT count(*) FROM changed)" : "0");
  return sql;
}

// The judgement of a sent write's answer, `as_presumed` read from it: a
// refusal only makes the batch run again, where the write's true answer is
// found and given.
absl::Status Presumed(absl::StatusOr<bool> as_presumed) {
  if (!as_presumed.ok()) return as_presumed.status();
  if (*as_presumed) return absl::OkStatus();
  return absl::AbortedError("a write's answer was not the one presumed");
}

// Whether an update's answer says it wrote: the header within the fence
// (column 0) and each of its `changed` branches (column 1).
absl::StatusOr<bool> UpdateWrote(const Rows& rows, size_t changed) {
  TCC_ASSIGN_OR_RETURN(int64_t written, rows.Int(0, 0));
  TCC_ASSIGN_OR_RETURN(int64_t changed_count, rows.Int(0, 1));
  return written == 1 && changed_count == static_cast<int64_t>(changed);
}

// Whether one statement can write `update`: every branch it names once (a
// CTE cannot change a row twice, nor see a row another CTE inserts).
bool FitsOneStatement(const TransactionUpdate& update) {
  absl::flat_hash_set<absl::string_view> ids;
  for (const Branch* branch : update.new_branches) {
    if (!ids.insert(branch->branch_id).second) return false;
  }
  for (const Branch* branch : update.changed_branches) {
    if (!ids.insert(branch->branch_id).second) return false;
  }
  return true;
}

}  // namespace

int PostgresStore::LatestSchemaVersion() { return pg::LatestSchemaVersion(); }

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(
    const PostgresStoreOptions& options) {
  TCC_ASSIGN_OR_RETURN(pg::Connection conn,
                       pg::Connection::Open(options.uri, options.application_name));
  auto store = std::unique_ptr<PostgresStore>(new PostgresStore(std::move(conn), options));
  TCC_RETURN_IF_ERROR(pg::Migrate(store->conn_, options.migrate_to_version));
  TCC_RETURN_IF_ERROR(store->ConfigureSession());
  return store;
}

absl::Status PostgresStore::ConfigureSession() {
  // A writer paused in the middle of a batch (SIGSTOP, a long GC-like
  // stall) holds row locks that would stall the instances taking over its
  // GTs; the server ends such a session after one lease, which frees them
  // (the paused batch then fails, UNAVAILABLE, and writes nothing).
  return conn_
      .Exec(absl::StrCat("SET idle_in_transaction_session_timeout = ",
                         std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.lease))))
      .status();
}

absl::StatusOr<int> PostgresStore::SchemaVersion() { return pg::SchemaVersion(conn_); }

absl::Status PostgresStore::BeginBatch() { return StartBatch(/*replayable=*/false); }

absl::Status PostgresStore::BeginReplayableBatch() { return StartBatch(/*replayable=*/true); }

absl::Status PostgresStore::StartBatch(bool replayable) {
  // The batch that met a broken connection failed with UNAVAILABLE; this
  // one starts on a new connection (to whichever host is the primary now).
  if (conn_.lost()) {
    TCC_RETURN_IF_ERROR(conn_.Reconnect());
    TCC_RETURN_IF_ERROR(ConfigureSession());
  }
  release_pending_ = false;
  replay_ = false;
  sending_ = replayable;
  conn_.DropDeferred();
  if (sending_) return conn_.Send("BEGIN", Params());
  return conn_.Exec("BEGIN").status();
}

absl::Status PostgresStore::CommitBatch() {
  // The last operation's savepoint needs no RELEASE: COMMIT keeps its writes.
  release_pending_ = false;
  conn_.DropDeferred();
  if (std::exchange(sending_, false)) {
    absl::Status answers = conn_.FinishSent();
    if (conn_.lost()) return answers;
    if (!answers.ok() || replay_) {
      // Nothing of it commits; the queue runs it again, one answer at a time.
      replay_ = true;
      return absl::AbortedError(
          absl::StrCat("postgresql: an answer in the batch was not the one presumed (",
                       answers.ok() ? "an operation failed after writing" : answers.message(),
                       "); the batch is rolled back and runs again"));
    }
  }
  if (conn_.InFailedTransaction()) {
    return absl::AbortedError(
        "postgresql: the batch's transaction failed and was rolled back; retry");
  }
  TCC_ASSIGN_OR_RETURN(Rows done, conn_.Exec("COMMIT"));
  // COMMIT of a transaction the server aborted answers ROLLBACK, not an error.
  if (done.Command() != "COMMIT") {
    return absl::AbortedError(absl::StrCat("postgresql: COMMIT answered ", done.Command(),
                                           ": the batch was rolled back; retry"));
  }
  return absl::OkStatus();
}

void PostgresStore::AbortBatch() {
  release_pending_ = false;
  sending_ = false;
  conn_.DropDeferred();
  conn_.FinishSent().IgnoreError();  // Answers of a failed batch: not needed.
  if (!conn_.lost()) conn_.Exec("ROLLBACK").IgnoreError();
}

absl::Status PostgresStore::BeginOperation() {
  if (sending_) {
    // No savepoint: an operation failing after it wrote fails the batch,
    // whose replay has them (EndOperation).
    operation_start_ = conn_.statements();
    return absl::OkStatus();
  }
  // The savepoint (and the previous operation's RELEASE) ride in the round
  // trip of the operation's first statement: the writer's round trips, not
  // the server's work, bound a batch's length.
  if (release_pending_) conn_.Defer("RELEASE SAVEPOINT operation");
  conn_.Defer("SAVEPOINT operation");
  return absl::OkStatus();
}

void PostgresStore::EndOperation(bool keep) {
  if (sending_) {
    if (!keep && conn_.statements() != operation_start_) replay_ = true;
    return;
  }
  if (conn_.HasDeferred()) {
    // The operation sent nothing: no savepoint of its own to release or to
    // roll back to (the previous one's RELEASE stays pending).
    conn_.DropDeferred();
    return;
  }
  if (conn_.DeferredFailed()) {
    // The savepoint itself failed (the connection, most likely): there is
    // nothing of this operation's to undo, and rolling back to "operation"
    // would undo the previous one. The batch fails at COMMIT.
    release_pending_ = false;
    return;
  }
  // Kept: released with the next operation's SAVEPOINT (or by COMMIT).
  release_pending_ = keep;
  if (keep) return;
  // Errors surface at COMMIT (a lost connection) or are harmless.
  conn_.Exec("ROLLBACK TO SAVEPOINT operation; RELEASE SAVEPOINT operation").IgnoreError();
}

absl::StatusOr<bool> PostgresStore::Create(const GlobalTransaction& gt) {
  // The header, and its branches joined to the inserted row: one round trip
  // (a GT begun in its first Try comes with them).
  static const std::string kSql =
      absl::StrCat("INSERT INTO global_transactions (", kHeaderColumns,
                   ", finished, finished_ms) "
                   "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) "
                   "ON CONFLICT (gid) DO NOTHING");
  static const std::string kWithBranchesSql = [] {
    int next = 16;
    return absl::StrCat("WITH header AS (", kSql, " RETURNING gid), ", AddedBranchesSql(next),
                        " SELECT count(*) FROM header");
  }();
  Params params;
  params.Text(gt.gid).Int(static_cast<int>(gt.state)).Int(gt.created_ms).Int(gt.updated_ms);
  params.Int(gt.timeout_ms).Int(gt.deadline_ms).Text(gt.status_endpoint).Bool(gt.stuck);
  params.Text(gt.decision_reason).Int(static_cast<int>(gt.mode)).Text(gt.owner).Int(gt.epoch);
  params.Text(gt.traceparent).Bool(IsFinal(gt.state)).Int(IsFinal(gt.state) ? gt.updated_ms : 0);
  const bool with_branches = !gt.branches.empty();
  if (with_branches) {
    std::vector<const Branch*> branches;
    for (const Branch& branch : gt.branches) branches.push_back(&branch);
    NewBranchArrays(branches, 0).Bind(params);
  }
  auto created = [with_branches](const Rows& rows) -> absl::StatusOr<bool> {
    if (!with_branches) return rows.Changed() == 1;
    TCC_ASSIGN_OR_RETURN(int64_t headers, rows.Int(0, 0));
    return headers == 1;
  };
  TCC_ASSIGN_OR_RETURN(std::optional<Rows> inserted,
                       Write(with_branches ? kWithBranchesSql : kSql, params,
                             [created](const Rows& rows) { return Presumed(created(rows)); }));
  if (!inserted) return true;  // Sent: a new gid, presumed.
  return created(*inserted);
}

absl::StatusOr<std::optional<Rows>> PostgresStore::Write(absl::string_view sql,
                                                         const Params& params,
                                                         pg::Connection::AnswerCheck check) {
  if (sending_) {
    TCC_RETURN_IF_ERROR(conn_.Send(sql, params, std::move(check)));
    return std::nullopt;
  }
  TCC_ASSIGN_OR_RETURN(Rows rows, conn_.Query(sql, params));
  return std::optional<Rows>(std::move(rows));
}

absl::Status PostgresStore::InsertBranch(absl::string_view gid, const Branch& branch,
                                         int position) {
  static const std::string kSql =
      absl::StrCat("INSERT INTO branches (gid, position, ", kBranchColumns,
                   ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)");
  Params params;
  params.Text(gid).Int(position).Text(branch.branch_id).Text(branch.target).Text(branch.action);
  params.Bytes(branch.payload).Bytes(EncodeHeaders(branch.headers));
  params.Int(static_cast<int>(branch.state)).Int(branch.attempts).Text(branch.last_error);
  params.Int(branch.next_retry_ms).Text(pg::JoinDependencies(branch.depends_on));
  params.Int(branch.max_attempts).Int(branch.timeout_ms).Bool(branch.action_sent);
  return conn_.Query(kSql, params).status();
}

absl::Status PostgresStore::UpdateBranch(absl::string_view gid, const Branch& branch) {
  constexpr absl::string_view kSql =
      "UPDATE branches SET state = $1, attempts = $2, last_error = $3, next_retry_ms = $4, "
      "action_sent = $5 WHERE gid = $6 AND branch_id = $7";
  Params params;
  params.Int(static_cast<int>(branch.state)).Int(branch.attempts).Text(branch.last_error);
  params.Int(branch.next_retry_ms).Bool(branch.action_sent).Text(gid).Text(branch.branch_id);
  TCC_ASSIGN_OR_RETURN(Rows updated, conn_.Query(kSql, params));
  if (updated.Changed() == 0) {
    return absl::NotFoundError(absl::StrCat("no branch ", branch.branch_id, " in ", gid));
  }
  return absl::OkStatus();
}

absl::Status PostgresStore::FenceFailure(absl::string_view gid) {
  TCC_ASSIGN_OR_RETURN(Rows rows,
                       conn_.Query("SELECT owner, epoch FROM global_transactions WHERE gid = $1",
                                   Params().Text(gid)));
  if (rows.size() == 0) return absl::NotFoundError(absl::StrCat("no transaction ", gid));
  TCC_ASSIGN_OR_RETURN(int64_t epoch, rows.Int(0, 1));
  return OwnershipMovedError(gid, rows.Text(0, 0), epoch);
}

void PostgresStore::BindHeader(Params& params, const GlobalTransaction& gt,
                               absl::string_view expected_owner, int64_t expected_epoch) {
  params.Int(static_cast<int>(gt.state)).Int(gt.updated_ms).Bool(gt.stuck);
  params.Text(gt.decision_reason).Bool(IsFinal(gt.state)).Text(gt.owner).Int(gt.epoch);
  params.Text(gt.gid).Text(expected_owner).Int(expected_epoch);
}

absl::Status PostgresStore::Update(const TransactionUpdate& update) {
  if (FitsOneStatement(update)) return UpdateInOneStatement(update);
  // A branch named twice: the header and events first, then each branch
  // write on its own, in order (the last write of a branch wins).
  const GlobalTransaction& gt = *update.header;
  TCC_RETURN_IF_ERROR(UpdateInOneStatement({.header = &gt,
                                            .events = update.events,
                                            .expected_owner = update.expected_owner,
                                            .expected_epoch = update.expected_epoch}));
  int position = static_cast<int>(update.first_new_position);
  for (const Branch* branch : update.new_branches) {
    TCC_RETURN_IF_ERROR(InsertBranch(gt.gid, *branch, position++));
  }
  for (const Branch* branch : update.changed_branches) {
    TCC_RETURN_IF_ERROR(UpdateBranch(gt.gid, *branch));
  }
  return absl::OkStatus();
}

absl::Status PostgresStore::UpdateInOneStatement(const TransactionUpdate& update) {
  const bool events = !update.events.empty();
  const bool added = !update.new_branches.empty();
  const bool changed = !update.changed_branches.empty();
  // One prepared statement per shape: the server sets up only the parts an
  // update has (each part costs executor set-up even when it writes nothing).
  static const std::array<std::string, 8> kSql = [] {
    std::array<std::string, 8> sql;
    for (int shape = 0; shape < 8; ++shape) sql[shape] = UpdateSql(shape & 1, shape & 2, shape & 4);
    return sql;
  }();
  const GlobalTransaction& gt = *update.header;
  Params params;
  BindHeader(params, gt, update.expected_owner, update.expected_epoch);
  if (events) EventArrays(update.events).Bind(params);
  if (added) NewBranchArrays(update.new_branches, update.first_new_position).Bind(params);
  if (changed) ProgressArrays(update.changed_branches).Bind(params);
  const size_t expected = update.changed_branches.size();
  TCC_ASSIGN_OR_RETURN(
      std::optional<Rows> updated,
      Write(kSql[(events ? 1 : 0) | (added ? 2 : 0) | (changed ? 4 : 0)], params,
            [expected](const Rows& rows) { return Presumed(UpdateWrote(rows, expected)); }));
  if (!updated) return absl::OkStatus();  // Sent: written, presumed.
  TCC_ASSIGN_OR_RETURN(bool wrote, UpdateWrote(*updated, expected));
  if (wrote) return absl::OkStatus();
  // Which part was refused: the fence, or a branch the store lacks (the
  // operation's savepoint takes the header and the rest back).
  TCC_ASSIGN_OR_RETURN(int64_t written, updated->Int(0, 0));
  if (written == 0) return FenceFailure(gt.gid);
  return MissingBranches(gt.gid, update.changed_branches);
}

absl::Status PostgresStore::MissingBranches(absl::string_view gid,
                                            const std::vector<const Branch*>& branches) {
  std::vector<std::string> ids;
  for (const Branch* branch : branches) ids.push_back(branch->branch_id);
  TCC_ASSIGN_OR_RETURN(
      Rows rows,
      conn_.Query("SELECT branch_id FROM branches WHERE gid = $1 AND branch_id = ANY($2::text[])",
                  Params().Text(gid).TextArray(ids)));
  absl::flat_hash_set<std::string> present;
  for (int row = 0; row < rows.size(); ++row) present.insert(rows.Text(row, 0));
  std::vector<std::string> missing;
  for (const std::string& id : ids) {
    if (!present.contains(id)) missing.push_back(id);
  }
  return absl::NotFoundError(absl::StrCat("no branch ", absl::StrJoin(missing, ", "), " in ", gid));
}

absl::Status PostgresStore::AppendEvents(absl::string_view gid,
                                         const std::vector<TimelineEvent>& events) {
  constexpr absl::string_view kSql =
      "INSERT INTO transaction_events (gid, at_ms, kind, detail, actor) VALUES ($1,$2,$3,$4,$5)";
  for (const TimelineEvent& event : events) {
    Params params;
    params.Text(gid).Int(event.at_ms).Text(event.kind).Text(event.detail).Text(event.actor);
    TCC_RETURN_IF_ERROR(Write(kSql, params, nullptr).status());
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> PostgresStore::DeleteFinishedBefore(int64_t before_ms, size_t limit) {
  TCC_ASSIGN_OR_RETURN(Rows rows,
                       conn_.Query(pg::kFinishedBeforeSql,
                                   Params().Int(before_ms).Int(static_cast<int64_t>(limit))));
  std::vector<std::string> gids;
  for (int row = 0; row < rows.size(); ++row) gids.push_back(rows.Text(row, 0));
  return DeleteFinished(gids);
}

absl::StatusOr<size_t> PostgresStore::DeleteFinished(const std::vector<std::string>& gids) {
  if (gids.empty()) return 0;
  // The GT rows first, and only final ones; their children only if they went.
  constexpr absl::string_view kSql =
      "WITH gone AS (DELETE FROM global_transactions WHERE gid = ANY($1::text[]) AND finished "
      "RETURNING gid), "
      "branches_gone AS (DELETE FROM branches WHERE gid IN (SELECT gid FROM gone)), "
      "events_gone AS (DELETE FROM transaction_events WHERE gid IN (SELECT gid FROM gone)) "
      "SELECT COUNT(*) FROM gone";
  TCC_ASSIGN_OR_RETURN(Rows rows, conn_.Query(kSql, Params().TextArray(gids)));
  TCC_ASSIGN_OR_RETURN(int64_t deleted, rows.Int(0, 0));
  return static_cast<size_t>(deleted);
}

absl::StatusOr<std::unique_ptr<TransactionQueries>> PostgresStore::OpenQueries() {
  TCC_ASSIGN_OR_RETURN(
      auto queries,
      PostgresQueries::Open(options_.uri, options_.application_name + "-queries", options_.lease));
  return std::unique_ptr<TransactionQueries>(std::move(queries));
}

absl::StatusOr<std::optional<GlobalTransaction>> PostgresStore::Find(absl::string_view gid) {
  return pg::FindTransaction(conn_, gid);
}

absl::StatusOr<std::vector<GlobalTransaction>> PostgresStore::ClaimOrphans(size_t limit) {
  // Epoch + 1 fences out the previous owner should it still be writing (a
  // paused process); SKIP LOCKED lets instances claiming at once take
  // disjoint sets, and skips GTs whose owner is writing right now. Liveness
  // is judged on the database's clock only.
  static const std::string kSql = absl::StrCat(
      "UPDATE global_transactions SET owner = $1, epoch = epoch + 1 WHERE gid IN ("
      "SELECT gid FROM global_transactions WHERE NOT finished AND owner <> $1 AND owner NOT IN ("
      "SELECT instance_id FROM coordinator_instances "
      "WHERE heartbeat_at > now() - $2::bigint * interval '1 millisecond') "
      "ORDER BY created_ms, gid LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING ",
      kHeaderColumns);
  Params params;
  params.Text(options_.instance_id).Int(absl::ToInt64Milliseconds(options_.lease));
  params.Int(static_cast<int64_t>(limit));
  TCC_ASSIGN_OR_RETURN(Rows rows, conn_.Query(kSql, params));
  std::vector<GlobalTransaction> claimed;
  for (int row = 0; row < rows.size(); ++row) {
    TCC_ASSIGN_OR_RETURN(GlobalTransaction gt, pg::ReadHeader(rows, row));
    claimed.push_back(std::move(gt));
  }
  TCC_RETURN_IF_ERROR(pg::LoadBranches(conn_, claimed));
  return claimed;
}

absl::StatusOr<std::vector<GlobalTransaction>> PostgresStore::LoadUnfinished() {
  // Everything orphaned becomes ours first: a restart after kill -9 comes
  // back under a new instance id, and finds its old GTs once its old
  // heartbeat is older than the lease (a clean stop released them).
  TCC_RETURN_IF_ERROR(ClaimOrphans(std::numeric_limits<int32_t>::max()).status());
  // One ordered scan of the headers joined with their branches (a GT's rows
  // are adjacent), instead of one branch query per GT.
  static const std::string kSql = absl::StrCat(
      "SELECT ", pg::Qualified("g.", kHeaderColumns), ", ", pg::Qualified("b.", kBranchColumns),
      " FROM global_transactions g LEFT JOIN branches b ON b.gid = g.gid "
      "WHERE NOT g.finished AND g.owner = $1 ORDER BY g.created_ms, g.gid, b.position");
  TCC_ASSIGN_OR_RETURN(Rows rows, conn_.Query(kSql, Params().Text(options_.instance_id)));
  std::vector<GlobalTransaction> unfinished;
  for (int row = 0; row < rows.size(); ++row) {
    if (unfinished.empty() || unfinished.back().gid != rows.Text(row, 0)) {
      TCC_ASSIGN_OR_RETURN(GlobalTransaction gt, pg::ReadHeader(rows, row));
      unfinished.push_back(std::move(gt));
    }
    if (rows.IsNull(row, pg::kHeaderColumnCount)) continue;  // No branch yet.
    GlobalTransaction& gt = unfinished.back();
    TCC_ASSIGN_OR_RETURN(Branch branch, pg::ReadBranch(rows, row, pg::kHeaderColumnCount, gt.gid));
    gt.branches.push_back(std::move(branch));
  }
  return unfinished;
}

}  // namespace tcc
