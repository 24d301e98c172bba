// A plain libpq connection for the tools around the services, the
// counterpart of sqlite_file.h for a run whose coordinators share a
// PostgreSQL database (points_pay --store postgres): the checker reads
// tccd's global transactions from it, the launcher counts the unfinished
// ones and watches who owns them across kills and pauses. tccd's own store
// code is not used: these tools only read, and only a few columns.
//
// Thread-safety: one PostgresDb per thread.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "examples/points-pay/common/sqlite_file.h"

namespace pointspay {

class PostgresDb {
 public:
  // UNAVAILABLE (with libpq's reason) when the server cannot be reached.
  static absl::StatusOr<std::unique_ptr<PostgresDb>> Open(const std::string& uri);
  ~PostgresDb();
  PostgresDb(const PostgresDb&) = delete;
  PostgresDb& operator=(const PostgresDb&) = delete;

  // Runs one statement with $1.. parameters passed as text; every row, NULL
  // as "". A lost connection is re-opened once before giving up.
  absl::StatusOr<std::vector<TextRow>> Query(const std::string& sql,
                                             const std::vector<std::string>& params = {});
  // The first column of the first row as an integer (0 when no row).
  absl::StatusOr<int64_t> QueryInt(const std::string& sql,
                                   const std::vector<std::string>& params = {});

 private:
  PostgresDb(PGconn* conn, std::string uri) : conn_(conn), uri_(std::move(uri)) {}
  absl::StatusOr<std::vector<TextRow>> QueryOnce(const std::string& sql,
                                                 const std::vector<std::string>& params);

  PGconn* conn_;
  const std::string uri_;
};

}  // namespace pointspay
