// A private PostgreSQL 15 cluster for tests and the example's launcher:
// initdb into a directory, a server on a free loopback TCP port (its unix
// socket in the same directory), fsync and synchronous_commit on, trust
// authentication for one superuser and one database. Running as root (CI
// does), initdb and the server run as the unprivileged "postgres" user
// (runuser), the directory handed to it; otherwise as the current user.
// Destruction (or Stop) stops the server; the directory is the caller's.
//
// The server is a daemon (pg_ctl), not a ChildProcess: a parent killed with
// SIGKILL leaves it running; `pg_ctl -D DIR/data stop` ends it.
//
// Thread-safety: Query may be called from any thread (each call opens its
// own connection); Restart and Stop from one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tcc::process {

struct PrivatePostgresOptions {
  std::string dir;  // Created if missing: data/, server.log, the socket.
  std::string user = "tcc";
  std::string database = "tcc";
  // Extra server settings, each "name=value" (passed as -c name=value), e.g.
  // max_connections=400 for a benchmark with many clients.
  std::vector<std::string> settings;
};

class PrivatePostgres {
 public:
  // FAILED_PRECONDITION (saying to run tools/setup.sh) when the server's
  // binaries are not installed.
  static absl::StatusOr<std::unique_ptr<PrivatePostgres>> Start(PrivatePostgresOptions options);
  ~PrivatePostgres();
  PrivatePostgres(const PrivatePostgres&) = delete;
  PrivatePostgres& operator=(const PrivatePostgres&) = delete;

  int port() const { return port_; }
  // The database, connected to as the superuser.
  std::string DatabaseUri() const;
  std::string log_path() const;
  // Runs `sql` as the superuser in the database; returns the first column
  // of the first row, or "".
  absl::StatusOr<std::string> Query(const std::string& sql) const;
  // pg_ctl restart -m `mode` ("immediate": every backend killed, no
  // checkpoint, crash recovery at start, as after a power cut; "fast": a
  // clean stop) on the same port; returns once the server accepts
  // connections again.
  absl::Status Restart(absl::string_view mode);
  // pg_ctl stop -m fast.
  absl::Status Stop();

 private:
  explicit PrivatePostgres(PrivatePostgresOptions options) : options_(std::move(options)) {}

  absl::Status Prepare();
  absl::Status InitDb();
  absl::Status StartServer();
  absl::Status RunAsOwner(const std::vector<std::string>& argv) const;
  std::string ServerOptions() const;
  std::string DataDir() const;

  const PrivatePostgresOptions options_;
  int port_ = 0;
  bool running_ = false;
};

// Runs `sql` on `uri`: the first column of the first row, or "".
absl::StatusOr<std::string> RunSql(const std::string& uri, const std::string& sql);

}  // namespace tcc::process
