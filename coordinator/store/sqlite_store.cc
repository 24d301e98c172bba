#include "coordinator/store/sqlite_store.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "coordinator/store/headers_codec.h"
#include "coordinator/store/sqlite_queries.h"
#include "coordinator/store/sqlite_rows.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

// Migration N (1-based) takes the schema from version N-1 to N. Append
// only: a released migration is never edited. SQL stays portable to
// PostgreSQL (no SQLite-only types; partial indexes and ON CONFLICT exist
// in both).
constexpr std::array<absl::string_view, 8> kMigrations = {
    // 1: transactions and branches. `owner` is the seam for coordinators
    // sharing one database (leases); a lone coordinator leaves it empty.
    R"sql(
CREATE TABLE global_transactions (
  gid             TEXT PRIMARY KEY,
  state           INTEGER NOT NULL,
  finished        INTEGER NOT NULL,
  created_ms      BIGINT NOT NULL,
  updated_ms      BIGINT NOT NULL,
  timeout_ms      BIGINT NOT NULL,
  deadline_ms     BIGINT NOT NULL,
  status_endpoint TEXT NOT NULL,
  stuck           INTEGER NOT NULL,
  owner           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX global_transactions_unfinished
  ON global_transactions (created_ms) WHERE finished = 0;
CREATE TABLE branches (
  gid           TEXT NOT NULL,
  branch_id     TEXT NOT NULL,
  position      INTEGER NOT NULL,
  target        TEXT NOT NULL,
  action        TEXT NOT NULL,
  payload       BLOB NOT NULL,
  headers       BLOB NOT NULL,
  state         INTEGER NOT NULL,
  attempts      INTEGER NOT NULL,
  last_error    TEXT NOT NULL,
  next_retry_ms BIGINT NOT NULL,
  PRIMARY KEY (gid, branch_id)
);
)sql",
    // 2: why a GT was decided (e.g. rolled back by timeout), for error
    // messages and operators.
    R"sql(
ALTER TABLE global_transactions ADD COLUMN decision_reason TEXT NOT NULL DEFAULT '';
)sql",
    // 3: the timeline operators read (state changes, branch outcomes,
    // operator actions), and an index for listing by age.
    R"sql(
CREATE TABLE transaction_events (
  seq    INTEGER PRIMARY KEY,
  gid    TEXT NOT NULL,
  at_ms  BIGINT NOT NULL,
  kind   TEXT NOT NULL,
  detail TEXT NOT NULL,
  actor  TEXT NOT NULL
);
CREATE INDEX transaction_events_gid ON transaction_events (gid, seq);
CREATE INDEX global_transactions_created ON global_transactions (created_ms, gid);
)sql",
    // 4: saga mode: the GT's mode, and per step its dependencies, retry
    // limit and call timeout.
    R"sql(
ALTER TABLE global_transactions ADD COLUMN mode INTEGER NOT NULL DEFAULT 0;
ALTER TABLE branches ADD COLUMN depends_on TEXT NOT NULL DEFAULT '';
ALTER TABLE branches ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE branches ADD COLUMN timeout_ms INTEGER NOT NULL DEFAULT 0;
)sql",
    // 5: recovery reads the unfinished GTs in (created_ms, gid) order, one
    // GT's rows next to each other; this index serves that order without
    // visiting finished rows (the planner would otherwise walk
    // global_transactions_created, finished rows and all).
    R"sql(
CREATE INDEX global_transactions_unfinished_by_age
  ON global_transactions (created_ms, gid) WHERE finished = 0;
DROP INDEX global_transactions_unfinished;
)sql",
    // 6: a saga step's "action sent" mark, apart from its attempt count
    // (which now restarts when the step enters compensation). Until now
    // attempts > 0 was that mark.
    R"sql(
ALTER TABLE branches ADD COLUMN action_sent INTEGER NOT NULL DEFAULT 0;
UPDATE branches SET action_sent = 1 WHERE attempts > 0
  AND gid IN (SELECT gid FROM global_transactions WHERE mode = 1);
)sql",
    // 7: retention finds the oldest finished GTs without visiting the
    // unfinished ones (a GT enters this index once, when it becomes final).
    R"sql(
CREATE INDEX global_transactions_finished_by_age
  ON global_transactions (updated_ms, gid) WHERE finished = 1;
)sql",
    // 8: the initiator's W3C traceparent, passed on to participants.
    R"sql(
ALTER TABLE global_transactions ADD COLUMN traceparent TEXT NOT NULL DEFAULT '';
)sql",
};

absl::string_view SyncPragma(SyncMode mode) {
  switch (mode) {
    case SyncMode::kFull:
      return "PRAGMA synchronous=FULL";
    case SyncMode::kNormal:
      return "PRAGMA synchronous=NORMAL";
    case SyncMode::kOff:
      return "PRAGMA synchronous=OFF";
  }
  return "PRAGMA synchronous=FULL";
}

// "a, b" -> "t.a, t.b", for a join of tables sharing column names (gid,
// state, timeout_ms).
std::string Qualified(absl::string_view table, absl::string_view columns) {
  std::vector<std::string> qualified;
  for (absl::string_view column : absl::StrSplit(columns, ", ")) {
    qualified.push_back(absl::StrCat(table, column));
  }
  return absl::StrJoin(qualified, ", ");
}

}  // namespace

int SqliteStore::LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions& options) {
  TCC_ASSIGN_OR_RETURN(sqlite::Database db, sqlite::Database::Open(options.path));
  auto store = std::unique_ptr<SqliteStore>(new SqliteStore(std::move(db), options.path));
  TCC_RETURN_IF_ERROR(store->db_.Exec("PRAGMA journal_mode=WAL"));
  TCC_RETURN_IF_ERROR(store->db_.Exec(SyncPragma(options.sync)));
  TCC_RETURN_IF_ERROR(store->db_.Exec("PRAGMA busy_timeout=5000"));
  TCC_RETURN_IF_ERROR(store->db_.Exec("PRAGMA foreign_keys=ON"));
  int target = options.migrate_to_version > 0 ? options.migrate_to_version : LatestSchemaVersion();
  TCC_RETURN_IF_ERROR(store->Migrate(target));
  return store;
}

absl::StatusOr<int> SqliteStore::SchemaVersion() {
  TCC_RETURN_IF_ERROR(
      db_.Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  TCC_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT MAX(version) FROM schema_version"));
  TCC_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? static_cast<int>(stmt->Int(0)) : 0;
}

absl::Status SqliteStore::Migrate(int target_version) {
  TCC_ASSIGN_OR_RETURN(int version, SchemaVersion());
  if (version > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(absl::StrCat("the database has schema version ", version,
                                                      ", newer than this tccd (",
                                                      LatestSchemaVersion(), "); upgrade tccd"));
  }
  for (int next = version + 1; next <= target_version; ++next) {
    TCC_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
    absl::Status applied = db_.Exec(kMigrations[next - 1]);
    if (applied.ok()) {
      applied = db_.Exec(absl::StrCat("INSERT INTO schema_version (version) VALUES (", next, ")"));
    }
    if (!applied.ok()) {
      db_.Exec("ROLLBACK").IgnoreError();
      // The failure's own code: a damaged file (DATA_LOSS) or a full disk
      // needs an operator, a busy one (UNAVAILABLE) only a retry.
      return absl::Status(applied.code(), absl::StrCat("migration to schema version ", next,
                                                       " failed: ", applied.message()));
    }
    TCC_RETURN_IF_ERROR(db_.Exec("COMMIT"));
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::BeginBatch() { return db_.Run("BEGIN IMMEDIATE"); }

// After some errors (a full disk, an I/O error) SQLite may roll the whole
// transaction back by itself. Then the batch is gone: a later operation must
// not run in autocommit mode (its SAVEPOINT would start and RELEASE commit a
// transaction of its own), and the commit must say what happened.
absl::Status SqliteStore::CheckBatchOpen() const {
  if (!sqlite3_get_autocommit(db_.raw())) return absl::OkStatus();
  return absl::UnavailableError(
      "sqlite: the batch's transaction was rolled back by SQLite after an earlier error (a full "
      "disk or an I/O error); nothing of it was written; retry");
}

absl::Status SqliteStore::CommitBatch() {
  TCC_RETURN_IF_ERROR(CheckBatchOpen());
  return db_.Run("COMMIT");
}

void SqliteStore::AbortBatch() {
  if (!sqlite3_get_autocommit(db_.raw())) db_.Exec("ROLLBACK").IgnoreError();
}

absl::Status SqliteStore::BeginOperation() {
  TCC_RETURN_IF_ERROR(CheckBatchOpen());
  return db_.Run("SAVEPOINT operation");
}

void SqliteStore::EndOperation(bool keep) {
  if (!keep) db_.Run("ROLLBACK TO operation").IgnoreError();
  db_.Run("RELEASE operation").IgnoreError();
}

absl::StatusOr<bool> SqliteStore::Create(const GlobalTransaction& gt) {
  TCC_RETURN_IF_ERROR(InsertHeader(gt));
  if (db_.Changes() == 0) return false;
  for (size_t i = 0; i < gt.branches.size(); ++i) {
    TCC_RETURN_IF_ERROR(InsertBranch(gt.gid, gt.branches[i], static_cast<int>(i)));
  }
  return true;
}

absl::Status SqliteStore::InsertHeader(const GlobalTransaction& gt) {
  TCC_ASSIGN_OR_RETURN(
      auto stmt, db_.Prepare(absl::StrCat(
                     "INSERT INTO global_transactions (", sqlite::kHeaderColumns,
                     ", finished) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (gid) DO NOTHING")));
  stmt->Bind(1, gt.gid).Bind(2, static_cast<int64_t>(gt.state)).Bind(3, gt.created_ms);
  stmt->Bind(4, gt.updated_ms).Bind(5, static_cast<int64_t>(gt.timeout_ms)).Bind(6, gt.deadline_ms);
  stmt->Bind(7, gt.status_endpoint).Bind(8, static_cast<int64_t>(gt.stuck));
  stmt->Bind(9, gt.decision_reason).Bind(10, static_cast<int64_t>(gt.mode));
  stmt->Bind(11, gt.traceparent).Bind(12, static_cast<int64_t>(IsFinal(gt.state)));
  return stmt->Run();
}

absl::Status SqliteStore::InsertBranch(absl::string_view gid, const Branch& branch, int position) {
  TCC_ASSIGN_OR_RETURN(
      auto stmt, db_.Prepare("INSERT INTO branches (gid, branch_id, position, target, action, "
                             "payload, headers, state, attempts, last_error, next_retry_ms, "
                             "depends_on, max_attempts, timeout_ms, action_sent) "
                             "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  stmt->Bind(1, gid).Bind(2, branch.branch_id).Bind(3, static_cast<int64_t>(position));
  stmt->Bind(4, branch.target).Bind(5, branch.action).BindBlob(6, branch.payload);
  stmt->BindBlob(7, EncodeHeaders(branch.headers)).Bind(8, static_cast<int64_t>(branch.state));
  stmt->Bind(9, static_cast<int64_t>(branch.attempts)).Bind(10, branch.last_error);
  stmt->Bind(11, branch.next_retry_ms).Bind(12, sqlite::JoinDependencies(branch.depends_on));
  stmt->Bind(13, static_cast<int64_t>(branch.max_attempts));
  stmt->Bind(14, static_cast<int64_t>(branch.timeout_ms));
  stmt->Bind(15, static_cast<int64_t>(branch.action_sent));
  return stmt->Run();
}

absl::Status SqliteStore::UpdateBranch(absl::string_view gid, const Branch& branch) {
  TCC_ASSIGN_OR_RETURN(auto stmt,
                       db_.Prepare("UPDATE branches SET state=?, attempts=?, last_error=?, "
                                   "next_retry_ms=?, action_sent=? WHERE gid=? AND branch_id=?"));
  stmt->Bind(1, static_cast<int64_t>(branch.state)).Bind(2, static_cast<int64_t>(branch.attempts));
  stmt->Bind(3, branch.last_error).Bind(4, branch.next_retry_ms);
  stmt->Bind(5, static_cast<int64_t>(branch.action_sent)).Bind(6, gid);
  stmt->Bind(7, branch.branch_id);
  TCC_RETURN_IF_ERROR(stmt->Run());
  if (db_.Changes() == 0) {
    return absl::NotFoundError(absl::StrCat("no branch ", branch.branch_id, " in ", gid));
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::UpdateHeader(const GlobalTransaction& gt) {
  // `finished` is set only when it changes (to 1, once): naming it in the
  // SET makes SQLite rewrite the partial index entry of every update.
  bool final = IsFinal(gt.state);
  TCC_ASSIGN_OR_RETURN(auto stmt,
                       db_.Prepare(final ? "UPDATE global_transactions SET state=?, updated_ms=?, "
                                           "stuck=?, decision_reason=?, finished=1 WHERE gid=?"
                                         : "UPDATE global_transactions SET state=?, updated_ms=?, "
                                           "stuck=?, decision_reason=? WHERE gid=?"));
  stmt->Bind(1, static_cast<int64_t>(gt.state)).Bind(2, gt.updated_ms);
  stmt->Bind(3, static_cast<int64_t>(gt.stuck)).Bind(4, gt.decision_reason).Bind(5, gt.gid);
  TCC_RETURN_IF_ERROR(stmt->Run());
  if (db_.Changes() == 0) return absl::NotFoundError(absl::StrCat("no transaction ", gt.gid));
  return absl::OkStatus();
}

absl::Status SqliteStore::Update(const TransactionUpdate& update) {
  const GlobalTransaction& gt = *update.header;
  TCC_RETURN_IF_ERROR(UpdateHeader(gt));
  int position = static_cast<int>(update.first_new_position);
  for (const Branch* branch : update.new_branches) {
    TCC_RETURN_IF_ERROR(InsertBranch(gt.gid, *branch, position++));
  }
  for (const Branch* branch : update.changed_branches) {
    TCC_RETURN_IF_ERROR(UpdateBranch(gt.gid, *branch));
  }
  return AppendEvents(gt.gid, update.events);
}

absl::Status SqliteStore::AppendEvents(absl::string_view gid,
                                       const std::vector<TimelineEvent>& events) {
  for (const TimelineEvent& event : events) {
    TCC_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("INSERT INTO transaction_events (gid, at_ms, kind, "
                                                "detail, actor) VALUES (?,?,?,?,?)"));
    stmt->Bind(1, gid).Bind(2, event.at_ms).Bind(3, event.kind).Bind(4, event.detail);
    stmt->Bind(5, event.actor);
    TCC_RETURN_IF_ERROR(stmt->Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> SqliteStore::DeleteFinishedBefore(int64_t before_ms, size_t limit) {
  TCC_ASSIGN_OR_RETURN(std::vector<std::string> gids,
                       sqlite::FinishedBefore(db_, before_ms, limit));
  return DeleteFinished(gids);
}

absl::StatusOr<size_t> SqliteStore::DeleteFinished(const std::vector<std::string>& gids) {
  size_t deleted = 0;
  for (const std::string& gid : gids) {
    // The GT row first, and only while it is final; its children only if it went.
    TCC_ASSIGN_OR_RETURN(
        auto remove, db_.Prepare("DELETE FROM global_transactions WHERE gid = ? AND finished = 1"));
    remove->Bind(1, gid);
    TCC_RETURN_IF_ERROR(remove->Run());
    if (db_.Changes() == 0) continue;
    ++deleted;
    for (absl::string_view sql :
         {"DELETE FROM transaction_events WHERE gid = ?", "DELETE FROM branches WHERE gid = ?"}) {
      TCC_ASSIGN_OR_RETURN(auto child, db_.Prepare(sql));  // Cached; reset when released.
      child->Bind(1, gid);
      TCC_RETURN_IF_ERROR(child->Run());
    }
  }
  return deleted;
}

absl::StatusOr<std::unique_ptr<TransactionQueries>> SqliteStore::OpenQueries() {
  TCC_ASSIGN_OR_RETURN(auto queries, SqliteQueries::Open(path_));
  return std::unique_ptr<TransactionQueries>(std::move(queries));
}

absl::StatusOr<std::optional<GlobalTransaction>> SqliteStore::Find(absl::string_view gid) {
  return FindTransaction(db_, gid);
}

absl::StatusOr<std::vector<GlobalTransaction>> SqliteStore::LoadUnfinished() {
  // One ordered scan of the headers joined with their branches (a GT's rows
  // are adjacent), instead of one branch query per GT.
  static const std::string kSql = absl::StrCat(
      "SELECT ", Qualified("g.", sqlite::kHeaderColumns), ", ",
      Qualified("b.", sqlite::kBranchColumns),
      " FROM global_transactions g LEFT JOIN branches b ON b.gid = g.gid WHERE g.finished = 0 "
      "ORDER BY g.created_ms, g.gid, b.position");
  constexpr int kFirstBranchColumn = 11;  // After the header columns.
  TCC_ASSIGN_OR_RETURN(auto stmt, db_.Prepare(kSql));
  std::vector<GlobalTransaction> unfinished;
  while (true) {
    TCC_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return unfinished;
    if (unfinished.empty() || unfinished.back().gid != stmt->Text(0)) {
      TCC_ASSIGN_OR_RETURN(GlobalTransaction gt, sqlite::ReadHeader(*stmt));
      unfinished.push_back(std::move(gt));
    }
    if (stmt->Type(kFirstBranchColumn) == SQLITE_NULL) continue;  // No branch yet.
    GlobalTransaction& gt = unfinished.back();
    TCC_ASSIGN_OR_RETURN(Branch branch, sqlite::ReadBranch(*stmt, kFirstBranchColumn, gt.gid));
    gt.branches.push_back(std::move(branch));
  }
}

}  // namespace tcc
