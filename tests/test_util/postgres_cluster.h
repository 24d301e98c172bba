// A real, private PostgreSQL 15 cluster for tests: common/process's
// PrivatePostgres (initdb, a server on a free loopback port, fsync and
// synchronous_commit on, trust authentication for the user "tcc") in a temp
// dir, with a database "tcc_test". Destruction stops the server and deletes
// everything.
//
// SharedPostgresCluster() starts one cluster per test binary on first use
// and stops it after the last test; each test takes its own schema
// (NewSchemaForCurrentTest), so tests share the server, not their tables.
//
// Thread-safety: SharedPostgresCluster is thread-safe; a PostgresCluster's
// Query and NewSchema may be called from any thread (each opens its own
// connection), Restart from one thread at a time.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/process/private_postgres.h"
#include "tests/test_util/temp_dir.h"

namespace tcc::testing {

class PostgresCluster {
 public:
  // FAILED_PRECONDITION (saying to run tools/setup.sh) when the server's
  // binaries are not installed.
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> Start();
  ~PostgresCluster() = default;
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  int port() const { return server_->port(); }
  // The test database, connected to as the superuser "tcc".
  std::string DatabaseUri() const { return server_->DatabaseUri(); }
  // Creates a new empty schema named after `hint` (and a counter) and
  // returns its name.
  absl::StatusOr<std::string> NewSchema(absl::string_view hint);
  // A URI that makes `schema` the search_path, so a store opened on it sees
  // only its tables.
  std::string SchemaUri(absl::string_view schema) const;
  // Runs `sql` as the superuser in the test database (pg_terminate_backend,
  // inspection); returns the first column of the first row, or "".
  absl::StatusOr<std::string> Query(const std::string& sql) const { return server_->Query(sql); }
  // pg_ctl restart -m `mode` ("immediate": every backend killed, no
  // checkpoint, crash recovery at start, as after a power cut; "fast": a
  // clean stop) on the same port; returns once the server accepts
  // connections again.
  absl::Status Restart(absl::string_view mode) { return server_->Restart(mode); }

 private:
  PostgresCluster() = default;

  // Declared first: the server stops before its directory goes.
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<process::PrivatePostgres> server_;
  std::atomic<int> schemas_ = 0;
};

// The binary's shared cluster, started on the first call. The same error
// on every call if it could not start.
absl::StatusOr<PostgresCluster*> SharedPostgresCluster();

// A schema of its own on the shared cluster for the running GoogleTest test,
// named after it.
struct TestSchema {
  PostgresCluster* cluster;
  std::string name;  // For SQL: name + ".global_transactions".
  std::string uri;   // Connects with the schema as the search_path.
};
absl::StatusOr<TestSchema> NewSchemaForCurrentTest();

}  // namespace tcc::testing
