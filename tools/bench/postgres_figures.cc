#include "tools/bench/postgres_figures.h"

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/process/private_postgres.h"
#include "tcc/common/mutex.h"
#include "tcc/common/status_macros.h"

namespace tcc::bench {
namespace {

constexpr char kTable[] = "tcc_bench_ceiling";

// What the inserter threads share with the thread that times them.
struct Inserters {
  std::atomic<bool> stop{false};
  std::atomic<int> connected{0};
  std::atomic<int64_t> commits{0};
  std::atomic<int64_t> errors{0};
  tcc::Mutex mu;
  std::string first_error ABSL_GUARDED_BY(mu);

  void Fail(const std::string& message) {
    errors.fetch_add(1);
    tcc::MutexLock lock(&mu);
    if (first_error.empty()) first_error = message;
  }
};

// One connection, one single-row INSERT at a time, each its own
// transaction (autocommit): one COMMIT, one WAL flush unless grouped with
// other connections' by the server.
void Insert(const std::string& uri, Inserters* shared) {
  PGconn* conn = PQconnectdb(uri.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    shared->Fail(absl::StrCat("cannot connect: ", PQerrorMessage(conn)));
    PQfinish(conn);
    return;
  }
  shared->connected.fetch_add(1);
  const std::string sql = absl::StrCat("INSERT INTO ", kTable, " (v) VALUES (1)");
  while (!shared->stop.load()) {
    PGresult* result = PQexec(conn, sql.c_str());
    if (PQresultStatus(result) == PGRES_COMMAND_OK) {
      shared->commits.fetch_add(1);
    } else {
      shared->Fail(PQresultErrorMessage(result));
    }
    PQclear(result);
  }
  PQfinish(conn);
}

absl::StatusOr<int64_t> ParseCounter(absl::string_view text, absl::string_view what) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return absl::InternalError(absl::StrCat("unreadable ", what, ": \"", text, "\""));
  }
  return value;
}

}  // namespace

absl::StatusOr<PgCeiling> MeasurePgCeiling(const std::string& uri, int connections,
                                           absl::Duration warmup, absl::Duration measure) {
  TCC_RETURN_IF_ERROR(
      process::RunSql(uri, absl::StrCat("CREATE TABLE ", kTable, " (v integer)")).status());
  Inserters shared;
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) threads.emplace_back(Insert, uri, &shared);
  // The warm-up starts once every connection is made (or failed).
  while (shared.connected.load() + shared.errors.load() < connections) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(warmup));
  int64_t errors_before = shared.errors.load();
  int64_t before = shared.commits.load();
  auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(measure));
  int64_t after = shared.commits.load();
  auto end = std::chrono::steady_clock::now();
  shared.stop.store(true);
  for (std::thread& thread : threads) thread.join();
  process::RunSql(uri, absl::StrCat("DROP TABLE ", kTable)).IgnoreError();

  PgCeiling ceiling;
  ceiling.connections = shared.connected.load();
  ceiling.commits = after - before;
  ceiling.seconds = std::chrono::duration<double>(end - start).count();
  ceiling.per_second = static_cast<double>(ceiling.commits) / ceiling.seconds;
  ceiling.errors = shared.errors.load() - errors_before;
  tcc::MutexLock lock(&shared.mu);
  ceiling.first_error = shared.first_error;
  if (ceiling.connections == 0) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL ceiling: no connection could be made: ", shared.first_error));
  }
  return ceiling;
}

absl::StatusOr<PgCounters> ReadPgCounters(const std::string& uri) {
  TCC_ASSIGN_OR_RETURN(std::string row,
                       process::RunSql(uri,
                                       "SELECT xact_commit || ' ' || xact_rollback || ' ' || "
                                       "(SELECT wal_sync FROM pg_stat_wal) || ' ' || "
                                       "(tup_inserted + tup_updated + tup_deleted) "
                                       "FROM pg_stat_database "
                                       "WHERE datname = current_database()"));
  std::vector<absl::string_view> fields = absl::StrSplit(row, ' ');
  if (fields.size() != 4) {
    return absl::InternalError(absl::StrCat("unexpected pg_stat_database row: \"", row, "\""));
  }
  PgCounters counters;
  TCC_ASSIGN_OR_RETURN(counters.xact_commit, ParseCounter(fields[0], "xact_commit"));
  TCC_ASSIGN_OR_RETURN(counters.xact_rollback, ParseCounter(fields[1], "xact_rollback"));
  TCC_ASSIGN_OR_RETURN(counters.wal_sync, ParseCounter(fields[2], "wal_sync"));
  TCC_ASSIGN_OR_RETURN(counters.rows_written, ParseCounter(fields[3], "tup_*"));
  counters.at = absl::Now();
  return counters;
}

absl::StatusOr<std::string> GtsPerOwner(const std::string& uri) {
  return process::RunSql(
      uri,
      "SELECT string_agg(n::text, ' ' ORDER BY n DESC) FROM "
      "(SELECT count(*) AS n FROM global_transactions GROUP BY owner) AS per_owner");
}

}  // namespace tcc::bench
