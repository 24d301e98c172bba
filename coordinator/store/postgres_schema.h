// The PostgreSQL store's schema and its versioned migrations (the
// schema_version table, as in the SQLite store). Migrate runs every pending
// migration in one database transaction under an advisory lock, so several
// tccd instances starting at once on one database migrate it exactly once,
// and a failed migration leaves the previous version intact. A database
// from a newer tccd is refused. Thread-compatible (free functions on a
// connection the caller owns).
#pragma once

#include "absl/status/statusor.h"
#include "coordinator/store/postgres_connection.h"

namespace tcc::pg {

int LatestSchemaVersion();
// 0 for an empty database.
absl::StatusOr<int> SchemaVersion(Connection& conn);
// Migrates up to `target_version` (0: the latest).
absl::Status Migrate(Connection& conn, int target_version);

}  // namespace tcc::pg
