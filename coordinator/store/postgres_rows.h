// Reading GT rows from the PostgreSQL schema, shared by the store (writer
// connection) and the admin queries (their own connection). Rows that no
// version of tccd writes are reported as DATA_LOSS, never resumed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/domain/transaction.h"
#include "coordinator/store/postgres_connection.h"

namespace tcc::pg {

// The header columns, in the order ReadHeader expects them.
inline constexpr absl::string_view kHeaderColumns =
    "gid, state, created_ms, updated_ms, timeout_ms, deadline_ms, status_endpoint, stuck, "
    "decision_reason, mode, owner, epoch, traceparent";
inline constexpr int kHeaderColumnCount = 13;

// The branch columns, in the order ReadBranch expects them.
inline constexpr absl::string_view kBranchColumns =
    "branch_id, target, action, payload, headers, state, attempts, last_error, next_retry_ms, "
    "depends_on, max_attempts, timeout_ms, action_sent";

// When a GT became final: finished_ms (schema 4 on), or updated_ms for a
// row that a tccd from before schema 4 finished (finished_ms stays 0).
inline constexpr absl::string_view kFinishedAt =
    "(CASE WHEN finished_ms = 0 THEN updated_ms ELSE finished_ms END)";

// Up to $2 gids of GTs final before $1 (ms), oldest first: retention's
// query, on the index by finished_ms (the rows an older tccd finished, at
// 0, are filtered by updated_ms).
inline constexpr absl::string_view kFinishedBeforeSql =
    "SELECT gid FROM global_transactions WHERE finished AND finished_ms < $1 AND "
    "(finished_ms <> 0 OR updated_ms < $1) ORDER BY finished_ms, gid LIMIT $2";

// "a, b" -> "g.a, g.b", for joins of tables sharing column names.
std::string Qualified(absl::string_view prefix, absl::string_view columns);

// Saga dependencies are stored as one comma-separated string (step ids
// cannot contain commas), as in the SQLite store.
std::string JoinDependencies(const std::vector<std::string>& depends_on);

absl::StatusOr<GlobalTransaction> ReadHeader(const Rows& rows, int row);
// Reads the branch columns starting at `first` (of a GT named `gid`, for
// error messages).
absl::StatusOr<Branch> ReadBranch(const Rows& rows, int row, int first, absl::string_view gid);

// Header and branches of `gid`, or nullopt.
absl::StatusOr<std::optional<GlobalTransaction>> FindTransaction(Connection& conn,
                                                                 absl::string_view gid);
// Fills in the branches of every GT in `gts` with one query.
absl::Status LoadBranches(Connection& conn, std::vector<GlobalTransaction>& gts);

}  // namespace tcc::pg
