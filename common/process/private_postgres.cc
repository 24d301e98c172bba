#include "common/process/private_postgres.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/process/child_process.h"
#include "common/process/port_file.h"

namespace tcc::process {
namespace {

constexpr char kBinDir[] = "/usr/lib/postgresql/15/bin";
constexpr char kServerUser[] = "postgres";

std::string Bin(const char* name) { return absl::StrCat(kBinDir, "/", name); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::string> RunSql(const std::string& uri, const std::string& sql) {
  PGconn* conn = PQconnectdb(uri.c_str());
  absl::Status failure;
  std::string value;
  if (PQstatus(conn) != CONNECTION_OK) {
    failure = absl::UnavailableError(absl::StrCat("cannot connect: ", PQerrorMessage(conn)));
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      failure = absl::InternalError(absl::StrCat(sql, ": ", PQresultErrorMessage(result)));
    } else if (PQntuples(result) > 0 && PQnfields(result) > 0) {
      value = PQgetvalue(result, 0, 0);
    }
    PQclear(result);
  }
  PQfinish(conn);
  if (!failure.ok()) return failure;
  return value;
}

absl::StatusOr<std::unique_ptr<PrivatePostgres>> PrivatePostgres::Start(
    PrivatePostgresOptions options) {
  for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
    if (access(Bin(tool).c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("PostgreSQL 15 is not installed (no ", Bin(tool),
                       "); run tools/setup.sh, which installs postgresql-15"));
    }
  }
  auto server = std::unique_ptr<PrivatePostgres>(new PrivatePostgres(std::move(options)));
  if (absl::Status prepared = server->Prepare(); !prepared.ok()) return prepared;
  if (absl::Status init = server->InitDb(); !init.ok()) return init;
  if (absl::Status started = server->StartServer(); !started.ok()) return started;
  absl::StatusOr<std::string> created =
      RunSql(absl::StrCat("postgresql://", server->options_.user, "@127.0.0.1:", server->port_,
                          "/postgres"),
             absl::StrCat("CREATE DATABASE \"", server->options_.database, "\""));
  if (!created.ok()) return created.status();
  return server;
}

absl::Status PrivatePostgres::Prepare() {
  std::error_code error;
  std::filesystem::create_directories(options_.dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", options_.dir, ": ", error.message()));
  }
  if (geteuid() != 0) return absl::OkStatus();
  // The server refuses to run as root: the directory becomes postgres's.
  const passwd* owner = getpwnam(kServerUser);
  if (owner == nullptr) {
    return absl::FailedPreconditionError(
        "running as root, but there is no \"postgres\" user to run the server as; run "
        "tools/setup.sh (postgresql-15 creates it)");
  }
  if (chown(options_.dir.c_str(), owner->pw_uid, owner->pw_gid) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot hand ", options_.dir, " to the postgres user (chown)"));
  }
  return absl::OkStatus();
}

absl::Status PrivatePostgres::RunAsOwner(const std::vector<std::string>& argv) const {
  std::vector<std::string> command = argv;
  if (geteuid() == 0) {
    command.insert(command.begin(), {"/usr/sbin/runuser", "-u", kServerUser, "--"});
  }
  RunOptions options;
  options.timeout = absl::Seconds(60);
  absl::StatusOr<CommandResult> result = RunCommand(command, options);
  if (!result.ok()) return result.status();
  if (result->exit_code() != 0) {
    return absl::InternalError(absl::StrCat(absl::StrJoin(command, " "), " failed (",
                                            DescribeWaitStatus(result->wait_status),
                                            "): ", result->output));
  }
  return absl::OkStatus();
}

std::string PrivatePostgres::DataDir() const { return options_.dir + "/data"; }

std::string PrivatePostgres::log_path() const { return options_.dir + "/server.log"; }

absl::Status PrivatePostgres::InitDb() {
  // --no-sync only skips flushing the fresh (throw-away) cluster files; the
  // server itself runs with fsync on.
  return RunAsOwner({Bin("initdb"), "-D", DataDir(), "-U", options_.user, "--auth=trust",
                     "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"});
}

std::string PrivatePostgres::ServerOptions() const {
  std::string server_options =
      absl::StrCat("-p ", port_, " -k ", options_.dir,
                   " -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on");
  for (const std::string& setting : options_.settings) {
    absl::StrAppend(&server_options, " -c ", setting);
  }
  return server_options;
}

absl::Status PrivatePostgres::StartServer() {
  absl::Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {  // The free port may be taken meanwhile.
    port_ = FreeLoopbackPort();
    last = RunAsOwner({Bin("pg_ctl"), "-D", DataDir(), "-l", log_path(), "-w", "-t", "60", "-o",
                       ServerOptions(), "start"});
    if (last.ok()) {
      running_ = true;
      return absl::OkStatus();
    }
  }
  return absl::UnavailableError(
      absl::StrCat("the private PostgreSQL server did not start: ", last.message(),
                   "\nserver log:\n", ReadFile(log_path())));
}

absl::Status PrivatePostgres::Restart(absl::string_view mode) {
  absl::Status restarted =
      RunAsOwner({Bin("pg_ctl"), "-D", DataDir(), "-l", log_path(), "-m", std::string(mode), "-w",
                  "-t", "60", "-o", ServerOptions(), "restart"});
  if (restarted.ok()) return restarted;
  return absl::UnavailableError(absl::StrCat("pg_ctl restart -m ", mode, ": ", restarted.message(),
                                             "\nserver log:\n", ReadFile(log_path())));
}

absl::Status PrivatePostgres::Stop() {
  if (!running_) return absl::OkStatus();
  running_ = false;
  return RunAsOwner({Bin("pg_ctl"), "-D", DataDir(), "-m", "fast", "-w", "stop"});
}

PrivatePostgres::~PrivatePostgres() { Stop().IgnoreError(); }

std::string PrivatePostgres::DatabaseUri() const {
  return absl::StrCat("postgresql://", options_.user, "@127.0.0.1:", port_, "/", options_.database);
}

absl::StatusOr<std::string> PrivatePostgres::Query(const std::string& sql) const {
  return RunSql(DatabaseUri(), sql);
}

}  // namespace tcc::process
