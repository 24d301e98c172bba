// The embedded default store: one SQLite file in WAL mode. With
// synchronous=FULL (the default) a committed batch survives kill -9 and
// power loss. The schema is versioned; Open applies pending migrations.
// Not thread-safe: the StoreQueue's writer thread is its only user.
#pragma once

#include <string>

#include "coordinator/store/sqlite_db.h"
#include "coordinator/store/transaction_store.h"

namespace tcc {

enum class SyncMode { kFull, kNormal, kOff };

struct SqliteStoreOptions {
  std::string path;
  // FULL: fsync on every commit (durable against power loss). NORMAL and OFF
  // trade that away; they exist for benchmarks and are logged loudly.
  SyncMode sync = SyncMode::kFull;
  // Migrate only up to this version (tests of the migration path); 0 = all.
  int migrate_to_version = 0;
};

class SqliteStore final : public TransactionStore {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const SqliteStoreOptions& options);

  static int LatestSchemaVersion();
  absl::StatusOr<int> SchemaVersion();

  absl::Status BeginBatch() override;
  absl::Status CommitBatch() override;
  void AbortBatch() override;
  absl::Status BeginOperation() override;
  void EndOperation(bool keep) override;

  absl::StatusOr<bool> Create(const GlobalTransaction& gt) override;
  absl::Status Update(const TransactionUpdate& update) override;
  absl::StatusOr<std::optional<GlobalTransaction>> Find(absl::string_view gid) override;
  absl::StatusOr<std::vector<GlobalTransaction>> LoadUnfinished() override;
  absl::Status AppendEvents(absl::string_view gid,
                            const std::vector<TimelineEvent>& events) override;
  absl::StatusOr<size_t> DeleteFinishedBefore(int64_t before_ms, size_t limit) override;
  absl::StatusOr<size_t> DeleteFinished(const std::vector<std::string>& gids) override;
  absl::StatusOr<std::unique_ptr<TransactionQueries>> OpenQueries() override;

 private:
  SqliteStore(sqlite::Database db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  absl::Status Migrate(int target_version);
  // UNAVAILABLE when no batch transaction is open (SQLite rolled it back).
  absl::Status CheckBatchOpen() const;
  absl::Status InsertHeader(const GlobalTransaction& gt);
  absl::Status UpdateHeader(const GlobalTransaction& gt);
  absl::Status InsertBranch(absl::string_view gid, const Branch& branch, int position);
  absl::Status UpdateBranch(absl::string_view gid, const Branch& branch);

  sqlite::Database db_;
  std::string path_;
};

}  // namespace tcc
