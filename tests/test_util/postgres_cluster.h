// A real, private PostgreSQL 15 cluster for tests: initdb into a temp dir,
// a server on a free loopback TCP port (its unix socket in the temp dir too),
// fsync and synchronous_commit on, trust authentication for the user "tcc"
// and a database "tcc_test". Running as root (CI does), initdb and the
// server run as the unprivileged "postgres" user (runuser), the temp dir
// handed to it; otherwise as the current user. Destruction stops the server
// and deletes everything.
//
// SharedPostgresCluster() starts one cluster per test binary on first use
// and stops it after the last test; each test takes its own schema
// (NewSchemaForCurrentTest), so tests share the server, not their tables.
//
// Thread-safety: SharedPostgresCluster is thread-safe; a PostgresCluster's
// methods may be called from any thread (each opens its own connection).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tests/test_util/temp_dir.h"

namespace tcc::testing {

class PostgresCluster {
 public:
  // FAILED_PRECONDITION (saying to run tools/setup.sh) when the server's
  // binaries are not installed.
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> Start();
  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  int port() const { return port_; }
  // The test database, connected to as the superuser "tcc".
  std::string DatabaseUri() const;
  // Creates a new empty schema named after `hint` (and a counter) and
  // returns its name.
  absl::StatusOr<std::string> NewSchema(absl::string_view hint);
  // A URI that makes `schema` the search_path, so a store opened on it sees
  // only its tables.
  std::string SchemaUri(absl::string_view schema) const;
  // Runs `sql` as the superuser in the test database (pg_terminate_backend,
  // inspection); returns the first column of the first row, or "".
  absl::StatusOr<std::string> Query(const std::string& sql) const;

 private:
  PostgresCluster() = default;

  absl::Status InitDb();
  absl::Status StartServer();
  absl::Status RunAsOwner(const std::vector<std::string>& argv) const;

  std::unique_ptr<TempDir> dir_;
  int port_ = 0;
  bool running_ = false;
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
