// Read-only queries for operators (the admin API): filtered, paged lists,
// timelines and statistics. Kept apart from TransactionStore so that they
// run on their own connection and thread and never stall the writer.
// An implementation is used from one thread at a time.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/domain/transaction.h"

namespace tcc {

// Position after the last row of a page: (created_ms, gid) is unique.
struct ListCursor {
  int64_t created_ms = 0;
  std::string gid;
};

struct ListQuery {
  std::vector<TxState> states;  // Empty: every state.
  bool stuck_only = false;
  int64_t created_at_or_before_ms = 0;  // 0: no age filter.
  std::string gid_prefix;
  std::string target;
  bool oldest_first = false;
  uint32_t limit = 50;
  std::optional<ListCursor> after;
};

struct TargetFailures {
  std::string target;
  uint32_t failing_branches = 0;
  uint64_t failed_attempts = 0;
  std::string last_error;
};

// A tccd instance sharing the store (PostgreSQL), as its row says.
struct InstanceInfo {
  std::string instance_id;
  std::string address;
  int64_t started_ms = 0;
  // Since its last heartbeat, on the database's clock.
  int64_t heartbeat_age_ms = 0;
  bool live = false;  // The heartbeat is within the lease.
};

struct StoreStats {
  std::map<TxState, uint64_t> by_state;
  uint64_t stuck = 0;
  int64_t oldest_unfinished_created_ms = 0;  // 0: none.
  std::vector<TargetFailures> failing_targets;
  int64_t oldest_finished_updated_ms = 0;  // 0: none.
  // On disk: the database (free pages included) and its journal or log.
  uint64_t store_bytes = 0;
  uint64_t free_bytes = 0;  // Pages freed by deletes, reused by new rows.
  // The instances sharing the store, live or not yet gone; empty for a
  // store with one coordinator.
  std::vector<InstanceInfo> instances;
};

class TransactionQueries {
 public:
  virtual ~TransactionQueries() = default;

  // Headers and branches of up to query.limit GTs.
  virtual absl::StatusOr<std::vector<GlobalTransaction>> List(const ListQuery& query) = 0;
  virtual absl::StatusOr<std::optional<GlobalTransaction>> Find(absl::string_view gid) = 0;
  // Oldest first.
  virtual absl::StatusOr<std::vector<TimelineEvent>> Timeline(absl::string_view gid) = 0;
  virtual absl::StatusOr<StoreStats> Stats() = 0;
  // Up to `limit` gids of final GTs last updated before `before_ms`, oldest
  // first: what retention archives and deletes next.
  virtual absl::StatusOr<std::vector<std::string>> FinishedBefore(int64_t before_ms,
                                                                  size_t limit) = 0;
};

}  // namespace tcc
