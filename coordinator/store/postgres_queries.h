// TransactionQueries on their own PostgreSQL connection, so that an
// operator's query never waits behind (or delays) the writer's batches.
// Each call that reads more than one statement reads one snapshot
// (REPEATABLE READ, READ ONLY). A lost connection is replaced at the next
// call. Not thread-safe: one owner thread.
#pragma once

#include <memory>
#include <string>

#include "coordinator/store/postgres_connection.h"
#include "coordinator/store/transaction_queries.h"

namespace tcc {

class PostgresQueries final : public TransactionQueries {
 public:
  // `lease` tells live instances from dead ones in Stats.
  static absl::StatusOr<std::unique_ptr<PostgresQueries>> Open(
      const std::string& uri, const std::string& app_name, absl::Duration lease = absl::Seconds(4));

  absl::StatusOr<std::vector<GlobalTransaction>> List(const ListQuery& query) override;
  absl::StatusOr<std::optional<GlobalTransaction>> Find(absl::string_view gid) override;
  absl::StatusOr<std::vector<TimelineEvent>> Timeline(absl::string_view gid) override;
  absl::StatusOr<StoreStats> Stats() override;
  absl::StatusOr<std::vector<std::string>> FinishedBefore(int64_t before_ms, size_t limit) override;

 private:
  PostgresQueries(pg::Connection conn, absl::Duration lease)
      : conn_(std::move(conn)), lease_(lease) {}

  // Reconnects if needed, then runs `read` in one read-only snapshot.
  template <typename T>
  absl::StatusOr<T> InSnapshot(const std::function<absl::StatusOr<T>()>& read);
  absl::StatusOr<std::vector<GlobalTransaction>> ListPage(const ListQuery& query);
  absl::StatusOr<StoreStats> ReadStats();
  absl::Status AddFailingTargets(StoreStats& stats);
  absl::Status AddInstances(StoreStats& stats);

  pg::Connection conn_;
  const absl::Duration lease_;
};

}  // namespace tcc
