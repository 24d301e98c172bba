#include "coordinator/store/postgres_schema.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "tcc/common/status_macros.h"

namespace tcc::pg {
namespace {

// Migration N (1-based) takes the schema from version N-1 to N. Append
// only: a released migration is never edited.
//
// gids compare bytewise (COLLATE "C"), as in SQLite, so that list order,
// cursors and gid prefixes mean the same in both stores whatever the
// database's locale. uint32 fields are BIGINT (INTEGER is signed 32-bit).
// Payloads and encoded headers are bytea.
constexpr std::array<absl::string_view, 5> kMigrations = {
    // 1: the schema of SQLite's version 7 in one step.
    R"sql(
CREATE TABLE global_transactions (
  gid             TEXT COLLATE "C" PRIMARY KEY,
  mode            SMALLINT NOT NULL,
  state           SMALLINT NOT NULL,
  finished        BOOLEAN NOT NULL,
  created_ms      BIGINT NOT NULL,
  updated_ms      BIGINT NOT NULL,
  timeout_ms      BIGINT NOT NULL,
  deadline_ms     BIGINT NOT NULL,
  status_endpoint TEXT NOT NULL,
  stuck           BOOLEAN NOT NULL,
  decision_reason TEXT NOT NULL
);
CREATE INDEX global_transactions_created ON global_transactions (created_ms, gid);
CREATE INDEX global_transactions_unfinished_by_age
  ON global_transactions (created_ms, gid) WHERE NOT finished;
CREATE INDEX global_transactions_finished_by_age
  ON global_transactions (updated_ms, gid) WHERE finished;
CREATE TABLE branches (
  gid           TEXT COLLATE "C" NOT NULL,
  branch_id     TEXT NOT NULL,
  position      INTEGER NOT NULL,
  target        TEXT NOT NULL,
  action        TEXT NOT NULL,
  payload       BYTEA NOT NULL,
  headers       BYTEA NOT NULL,
  state         SMALLINT NOT NULL,
  attempts      BIGINT NOT NULL,
  last_error    TEXT NOT NULL,
  next_retry_ms BIGINT NOT NULL,
  depends_on    TEXT NOT NULL,
  max_attempts  BIGINT NOT NULL,
  timeout_ms    BIGINT NOT NULL,
  action_sent   BOOLEAN NOT NULL,
  PRIMARY KEY (gid, branch_id)
);
CREATE TABLE transaction_events (
  seq    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  gid    TEXT COLLATE "C" NOT NULL,
  at_ms  BIGINT NOT NULL,
  kind   TEXT NOT NULL,
  detail TEXT NOT NULL,
  actor  TEXT NOT NULL
);
CREATE INDEX transaction_events_gid ON transaction_events (gid, seq);
)sql",
    // 2: several coordinators on one database. Each live instance has a row
    // whose heartbeat is the database's clock; each GT an owner ('' when
    // released) and the epoch of its claim, the fencing token.
    R"sql(
CREATE TABLE coordinator_instances (
  instance_id  TEXT COLLATE "C" PRIMARY KEY,
  address      TEXT NOT NULL,
  started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER TABLE global_transactions
  ADD COLUMN owner TEXT COLLATE "C" NOT NULL DEFAULT '',
  ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
CREATE INDEX global_transactions_unfinished_by_owner
  ON global_transactions (owner, gid) WHERE NOT finished;
)sql",
    // 3: the initiator's W3C traceparent, passed on to participants.
    R"sql(
ALTER TABLE global_transactions ADD COLUMN traceparent TEXT NOT NULL DEFAULT '';
)sql",
    // 4: a write that leaves a GT unfinished changes no indexed column, so
    // PostgreSQL keeps the new row version on its page without new index
    // entries (a heap-only tuple): retention's index moves from updated_ms,
    // which every write changes, to finished_ms, set when the GT becomes
    // final (0 until then). Room on each page for those versions.
    R"sql(
ALTER TABLE global_transactions ADD COLUMN finished_ms BIGINT NOT NULL DEFAULT 0;
UPDATE global_transactions SET finished_ms = updated_ms WHERE finished;
CREATE INDEX global_transactions_finished_by_time
  ON global_transactions (finished_ms, gid) WHERE finished;
DROP INDEX global_transactions_finished_by_age;
ALTER TABLE global_transactions SET (fillfactor = 80);
ALTER TABLE branches SET (fillfactor = 80);
)sql",
    // 5: events are read and deleted by gid (transaction_events_gid, in
    // seq order); the primary key on seq only cost every event an index
    // entry. seq keeps numbering them in the order they were written.
    R"sql(
ALTER TABLE transaction_events DROP CONSTRAINT transaction_events_pkey;
)sql",
};

// Any constant: serializes migrations of tccd instances sharing a database.
constexpr int64_t kMigrationLock = 0x7463636d69677261;  // "tccmigra"

absl::Status ApplyPending(Connection& conn, int target_version) {
  TCC_RETURN_IF_ERROR(
      conn.Query("SELECT pg_advisory_xact_lock($1)", Params().Int(kMigrationLock)).status());
  TCC_RETURN_IF_ERROR(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)").status());
  TCC_ASSIGN_OR_RETURN(int version, SchemaVersion(conn));
  if (version > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(absl::StrCat("the database has schema version ", version,
                                                      ", newer than this tccd (",
                                                      LatestSchemaVersion(), "); upgrade tccd"));
  }
  for (int next = version + 1; next <= target_version; ++next) {
    absl::Status applied = conn.Exec(kMigrations[next - 1]).status();
    if (applied.ok()) {
      applied = conn.Query("INSERT INTO schema_version (version) VALUES ($1)", Params().Int(next))
                    .status();
    }
    if (!applied.ok()) {
      return absl::Status(applied.code(), absl::StrCat("migration to schema version ", next,
                                                       " failed: ", applied.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

absl::StatusOr<int> SchemaVersion(Connection& conn) {
  TCC_ASSIGN_OR_RETURN(Rows exists, conn.Exec("SELECT to_regclass('schema_version') IS NOT NULL"));
  TCC_ASSIGN_OR_RETURN(int64_t present, exists.Int(0, 0));
  if (present == 0) return 0;
  TCC_ASSIGN_OR_RETURN(Rows rows, conn.Exec("SELECT MAX(version) FROM schema_version"));
  TCC_ASSIGN_OR_RETURN(int64_t version, rows.Int(0, 0));  // NULL (no row) reads 0.
  return static_cast<int>(version);
}

absl::Status Migrate(Connection& conn, int target_version) {
  if (target_version <= 0) target_version = LatestSchemaVersion();
  TCC_RETURN_IF_ERROR(conn.Exec("BEGIN").status());
  absl::Status applied = ApplyPending(conn, target_version);
  if (!applied.ok()) {
    conn.Exec("ROLLBACK").IgnoreError();
    return applied;
  }
  return conn.Exec("COMMIT").status();
}

}  // namespace tcc::pg
