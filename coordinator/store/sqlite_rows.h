// Reading GT rows from the SQLite schema, shared by the store (writer
// connection) and the admin queries (reader connection). Rows that no
// version of tccd writes are reported as DATA_LOSS, never resumed.
#pragma once

#include <optional>

#include "absl/status/statusor.h"
#include "coordinator/domain/transaction.h"
#include "coordinator/store/sqlite_db.h"

namespace tcc::sqlite {

// The header columns, in the order ReadHeader expects them.
inline constexpr absl::string_view kHeaderColumns =
    "gid, state, created_ms, updated_ms, timeout_ms, deadline_ms, status_endpoint, stuck, "
    "decision_reason, mode, traceparent";

// The branch columns, in the order ReadBranch expects them.
inline constexpr absl::string_view kBranchColumns =
    "branch_id, target, action, payload, headers, state, attempts, last_error, next_retry_ms, "
    "depends_on, max_attempts, timeout_ms, action_sent";

// Saga dependencies are stored as one comma-separated string: step ids
// cannot contain commas.
std::string JoinDependencies(const std::vector<std::string>& depends_on);
std::vector<std::string> SplitDependencies(absl::string_view joined);

absl::StatusOr<GlobalTransaction> ReadHeader(const Statement& row);
// Reads the branch columns starting at `first` (of a GT named `gid`, for
// error messages).
absl::StatusOr<Branch> ReadBranch(const Statement& row, int first, absl::string_view gid);
absl::Status LoadBranches(Database& db, GlobalTransaction& gt);
// Up to `limit` gids of final GTs last updated before `before_ms`, oldest
// first (retention's next batch; the partial index makes it one range scan).
absl::StatusOr<std::vector<std::string>> FinishedBefore(Database& db, int64_t before_ms,
                                                        size_t limit);
absl::StatusOr<std::optional<GlobalTransaction>> FindTransaction(Database& db,
                                                                 absl::string_view gid);

}  // namespace tcc::sqlite
