// PostgreSQL's own figures for `tcc_bench run --store postgres`:
// - the ceiling: how many single-row INSERT + COMMITs per second the
//   database does on this disk, from N connections (one thread each, the
//   load's concurrency) doing autocommit inserts into a scratch table;
// - the database's counters (pg_stat_database.xact_commit and the rows
//   written for the bench database, pg_stat_wal.wal_sync), read before and
//   after the load, from which the commits, rows and WAL flushes per GT are
//   computed, not assumed.
// The counters are the cumulative statistics: each backend publishes its
// own at most once a second, so a reading lags by up to a second; callers
// leave the database idle a moment before reading.
// Thread-safe: every call opens its own connection(s).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tcc::bench {

struct PgCeiling {
  int connections = 0;
  int64_t commits = 0;  // in the measured window
  double seconds = 0;
  double per_second = 0;
  int64_t errors = 0;
  std::string first_error;
};

// Creates the scratch table, runs `connections` autocommit inserters for
// `warmup` + `measure`, drops the table. An error only when no connection
// could be made; failed inserts are counted.
absl::StatusOr<PgCeiling> MeasurePgCeiling(const std::string& uri, int connections,
                                           absl::Duration warmup, absl::Duration measure);

struct PgCounters {
  int64_t xact_commit = 0;    // this database's committed transactions
  int64_t xact_rollback = 0;  // and rolled back ones
  int64_t wal_sync = 0;       // WAL flushes to disk (the whole cluster)
  int64_t rows_written = 0;   // rows inserted, updated and deleted in it
  absl::Time at;
};

// One reading; the reading itself is one committed transaction.
absl::StatusOr<PgCounters> ReadPgCounters(const std::string& uri);

// How the GTs in tccd's tables spread over the instances that own them:
// "N1 N2 ...", largest first.
absl::StatusOr<std::string> GtsPerOwner(const std::string& uri);

}  // namespace tcc::bench
