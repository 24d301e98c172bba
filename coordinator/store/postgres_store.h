// The shared store: PostgreSQL through libpq, selected by
// `tccd --store=postgresql://...`. A batch is one database transaction (group
// commit: one WAL flush for every operation in it; synchronous_commit is
// left as the server has it, on by default, so a committed batch is
// durable), and each operation inside it is a savepoint, so a failed
// operation leaves none of its writes while the rest commits. Round trips
// are kept to one per operation: its SAVEPOINT (with the previous kept
// operation's RELEASE; COMMIT releases the last) goes with its first
// statement (libpq's pipeline mode), and an update (header, events, new and
// changed branches) is one statement. The StoreQueue's batches, which it
// can run again, go further (BeginReplayableBatch): their writes are sent
// without waiting, so a batch is one round trip and its COMMIT.
//
// A connection that breaks (server restart, failover, a terminated backend)
// fails the batch in flight with UNAVAILABLE; the next BeginBatch connects
// anew. Multi-host URIs with target_session_attrs=read-write are passed to
// libpq as they are, so a reconnect finds the new primary after a failover.
//
// Several tccd instances may share one database (docs/ownership.md): each
// store writes as `instance_id`, every GT write is fenced on the owner and
// epoch the engine last knew (a write that finds them changed writes
// nothing and answers OwnershipMovedError), LoadUnfinished and
// ClaimOrphans take over the GTs of instances whose heartbeat (kept by
// PostgresInstances, on the database's clock) is older than `lease`.
//
// Not thread-safe: the StoreQueue's writer thread is its only user.
// OpenQueries opens a separate connection for the admin queries.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "coordinator/store/postgres_connection.h"
#include "coordinator/store/transaction_store.h"

namespace tcc {

struct PostgresStoreOptions {
  // A libpq connection URI or key=value string; several hosts allowed.
  std::string uri;
  // Shown in pg_stat_activity unless the URI names one.
  std::string application_name = "tccd";
  // Migrate only up to this version (tests of the migration path); 0 = all.
  int migrate_to_version = 0;
  // This coordinator among those sharing the database. "" (tests of the
  // store alone): the owner of GTs that were never claimed.
  std::string instance_id;
  // An instance whose heartbeat is older than this, on the database's
  // clock, is dead: its GTs are claimed.
  absl::Duration lease = absl::Seconds(5);
};

class PostgresStore final : public TransactionStore {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(const PostgresStoreOptions& options);

  static int LatestSchemaVersion();
  const std::string& instance_id() const { return options_.instance_id; }
  absl::StatusOr<int> SchemaVersion();
  // The server process of the writer connection (for tests that kill it).
  int BackendPid() const { return conn_.BackendPid(); }

  absl::Status BeginBatch() override;
  // Writes (creates, updates, events) are sent without waiting for their
  // answers, and without savepoints: the batch costs one round trip and its
  // COMMIT. Each is presumed to succeed (a new gid, the fence held); when
  // one did not, or an operation failed after writing, CommitBatch rolls
  // the batch back and ReplayBatch says so. Reads wait for the answers
  // sent before them and are answered as they happen.
  absl::Status BeginReplayableBatch() override;
  bool ReplayBatch() const override { return replay_; }
  absl::Status CommitBatch() override;
  void AbortBatch() override;
  absl::Status BeginOperation() override;
  void EndOperation(bool keep) override;
  // Each operation's savepoint is a subtransaction. A backend keeps the
  // ids of 64 of them in shared memory; past that every snapshot taken
  // anywhere in the database must consult pg_subtrans (the "suboverflowed"
  // case) and a batch of 140 operations ran at two thirds of the speed of
  // batches of 60. So batches stay below 64.
  size_t MaxOperationsPerBatch() const override { return kMaxOperationsPerBatch; }
  static constexpr size_t kMaxOperationsPerBatch = 60;

  absl::StatusOr<bool> Create(const GlobalTransaction& gt) override;
  absl::Status Update(const TransactionUpdate& update) override;
  absl::StatusOr<std::optional<GlobalTransaction>> Find(absl::string_view gid) override;
  absl::StatusOr<std::vector<GlobalTransaction>> LoadUnfinished() override;
  absl::StatusOr<std::vector<GlobalTransaction>> ClaimOrphans(size_t limit) override;
  absl::Status AppendEvents(absl::string_view gid,
                            const std::vector<TimelineEvent>& events) override;
  absl::StatusOr<size_t> DeleteFinishedBefore(int64_t before_ms, size_t limit) override;
  absl::StatusOr<size_t> DeleteFinished(const std::vector<std::string>& gids) override;
  absl::StatusOr<std::unique_ptr<TransactionQueries>> OpenQueries() override;

 private:
  PostgresStore(pg::Connection conn, PostgresStoreOptions options)
      : conn_(std::move(conn)), options_(std::move(options)) {}

  absl::Status ConfigureSession();
  absl::Status StartBatch(bool replayable);
  // Runs a write. In a replayable batch it is sent without waiting and
  // `check` judges its answer at COMMIT; nullopt then stands for the answer
  // presumed. Otherwise it runs now and its rows are returned.
  absl::StatusOr<std::optional<pg::Rows>> Write(absl::string_view sql, const pg::Params& params,
                                                pg::Connection::AnswerCheck check);
  absl::Status InsertBranch(absl::string_view gid, const Branch& branch, int position);
  absl::Status UpdateBranch(absl::string_view gid, const Branch& branch);
  // The whole update as one statement; only for updates naming each
  // branch once.
  absl::Status UpdateInOneStatement(const TransactionUpdate& update);
  // NOT_FOUND naming those of `branches` that `gid` lacks.
  absl::Status MissingBranches(absl::string_view gid, const std::vector<const Branch*>& branches);
  // $1..$10 of a fenced header write.
  static void BindHeader(pg::Params& params, const GlobalTransaction& gt,
                         absl::string_view expected_owner, int64_t expected_epoch);
  // Why a fenced write changed nothing: NOT_FOUND or OwnershipMovedError.
  absl::Status FenceFailure(absl::string_view gid);

  pg::Connection conn_;
  const PostgresStoreOptions options_;
  // The last operation kept its writes and its savepoint is still open.
  bool release_pending_ = false;
  // This batch is replayable and sends its writes (BeginReplayableBatch).
  bool sending_ = false;
  // It failed only because of an answer that differed from the presumed one.
  bool replay_ = false;
  // conn_.statements() when the operation in progress began.
  int64_t operation_start_ = 0;
};

}  // namespace tcc
