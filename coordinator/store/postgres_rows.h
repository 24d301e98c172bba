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
