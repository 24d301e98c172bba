#include "tests/test_util/postgres_cluster.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/process/child_process.h"
#include "tests/test_util/ports.h"

namespace tcc::testing {
namespace {

constexpr char kBinDir[] = "/usr/lib/postgresql/15/bin";
constexpr char kUser[] = "tcc";
constexpr char kDatabase[] = "tcc_test";
constexpr char kServerUser[] = "postgres";

std::string Bin(const char* name) { return absl::StrCat(kBinDir, "/", name); }

// Runs `sql` on `uri`; the first column of the first row, or "".
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

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::Start() {
  for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
    if (access(Bin(tool).c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("PostgreSQL 15 is not installed (no ", Bin(tool),
                       "); run tools/setup.sh, which installs postgresql-15"));
    }
  }
  auto cluster = std::unique_ptr<PostgresCluster>(new PostgresCluster());
  cluster->dir_ = std::make_unique<TempDir>();
  if (geteuid() == 0) {
    // The server refuses to run as root: the temp dir becomes postgres's.
    const passwd* owner = getpwnam(kServerUser);
    if (owner == nullptr) {
      return absl::FailedPreconditionError(
          "running as root, but there is no \"postgres\" user to run the server as; run "
          "tools/setup.sh (postgresql-15 creates it)");
    }
    if (chown(cluster->dir_->path().c_str(), owner->pw_uid, owner->pw_gid) != 0) {
      return absl::InternalError("cannot hand the cluster's temp dir to the postgres user");
    }
  }
  if (absl::Status init = cluster->InitDb(); !init.ok()) return init;
  if (absl::Status started = cluster->StartServer(); !started.ok()) return started;
  absl::StatusOr<std::string> created =
      RunSql(absl::StrCat("postgresql://", kUser, "@127.0.0.1:", cluster->port_, "/postgres"),
             absl::StrCat("CREATE DATABASE ", kDatabase));
  if (!created.ok()) return created.status();
  return cluster;
}

absl::Status PostgresCluster::RunAsOwner(const std::vector<std::string>& argv) const {
  std::vector<std::string> command = argv;
  if (geteuid() == 0) {
    command.insert(command.begin(), {"/usr/sbin/runuser", "-u", kServerUser, "--"});
  }
  process::RunOptions options;
  options.timeout = absl::Seconds(60);
  absl::StatusOr<process::CommandResult> result = process::RunCommand(command, options);
  if (!result.ok()) return result.status();
  if (result->exit_code() != 0) {
    return absl::InternalError(absl::StrCat(absl::StrJoin(command, " "), " failed (",
                                            process::DescribeWaitStatus(result->wait_status),
                                            "): ", result->output));
  }
  return absl::OkStatus();
}

absl::Status PostgresCluster::InitDb() {
  // --no-sync only skips flushing the fresh (throw-away) cluster files; the
  // server itself runs with fsync on.
  return RunAsOwner({Bin("initdb"), "-D", dir_->File("data"), "-U", kUser, "--auth=trust",
                     "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"});
}

absl::Status PostgresCluster::StartServer() {
  absl::Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {  // The free port may be taken meanwhile.
    port_ = FreeLoopbackPort();
    std::string options =
        absl::StrCat("-p ", port_, " -k ", dir_->path().string(),
                     " -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on");
    last = RunAsOwner({Bin("pg_ctl"), "-D", dir_->File("data"), "-l", dir_->File("server.log"),
                       "-w", "-t", "60", "-o", options, "start"});
    if (last.ok()) {
      running_ = true;
      return absl::OkStatus();
    }
  }
  return absl::UnavailableError(
      absl::StrCat("the PostgreSQL test server did not start: ", last.message(), "\nserver log:\n",
                   ReadFile(dir_->File("server.log"))));
}

PostgresCluster::~PostgresCluster() {
  if (running_) {
    RunAsOwner({Bin("pg_ctl"), "-D", dir_->File("data"), "-m", "fast", "-w", "stop"}).IgnoreError();
  }
}

std::string PostgresCluster::DatabaseUri() const {
  return absl::StrCat("postgresql://", kUser, "@127.0.0.1:", port_, "/", kDatabase);
}

absl::StatusOr<std::string> PostgresCluster::NewSchema(absl::string_view hint) {
  std::string schema = absl::StrCat(absl::AsciiStrToLower(hint), "_", ++schemas_);
  for (char& c : schema) {
    if (!absl::ascii_isalnum(c)) c = '_';
  }
  schema = schema.substr(0, 60);
  absl::StatusOr<std::string> created = Query(absl::StrCat("CREATE SCHEMA \"", schema, "\""));
  if (!created.ok()) return created.status();
  return schema;
}

std::string PostgresCluster::SchemaUri(absl::string_view schema) const {
  return absl::StrCat(DatabaseUri(), "?options=-csearch_path%3D", schema);
}

absl::StatusOr<std::string> PostgresCluster::Query(const std::string& sql) const {
  return RunSql(DatabaseUri(), sql);
}

namespace {

absl::Mutex shared_mu;
std::unique_ptr<PostgresCluster> shared_cluster ABSL_GUARDED_BY(shared_mu);
absl::Status shared_error ABSL_GUARDED_BY(shared_mu);

// Stops the shared cluster after the binary's last test.
class SharedClusterStopper : public ::testing::Environment {
 public:
  void TearDown() override {
    absl::MutexLock lock(&shared_mu);
    shared_cluster.reset();
  }
};

[[maybe_unused]] ::testing::Environment* const kStopper =
    ::testing::AddGlobalTestEnvironment(new SharedClusterStopper);

}  // namespace

absl::StatusOr<PostgresCluster*> SharedPostgresCluster() {
  absl::MutexLock lock(&shared_mu);
  if (shared_cluster != nullptr) return shared_cluster.get();
  if (!shared_error.ok()) return shared_error;
  absl::StatusOr<std::unique_ptr<PostgresCluster>> started = PostgresCluster::Start();
  if (!started.ok()) {
    shared_error = started.status();
    return shared_error;
  }
  shared_cluster = std::move(*started);
  return shared_cluster.get();
}

absl::StatusOr<TestSchema> NewSchemaForCurrentTest() {
  absl::StatusOr<PostgresCluster*> cluster = SharedPostgresCluster();
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<std::string> name =
      (*cluster)->NewSchema(::testing::UnitTest::GetInstance()->current_test_info()->name());
  if (!name.ok()) return name.status();
  return TestSchema{*cluster, *name, (*cluster)->SchemaUri(*name)};
}

}  // namespace tcc::testing
