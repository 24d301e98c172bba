#include "tests/test_util/postgres_cluster.h"

#include <gtest/gtest.h>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tcc/common/mutex.h"

namespace tcc::testing {

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::Start() {
  auto cluster = std::unique_ptr<PostgresCluster>(new PostgresCluster());
  cluster->dir_ = std::make_unique<TempDir>();
  absl::StatusOr<std::unique_ptr<process::PrivatePostgres>> server =
      process::PrivatePostgres::Start(
          {.dir = cluster->dir_->path().string(), .user = "tcc", .database = "tcc_test"});
  if (!server.ok()) return server.status();
  cluster->server_ = *std::move(server);
  return cluster;
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

namespace {

tcc::Mutex shared_mu;
std::unique_ptr<PostgresCluster> shared_cluster ABSL_GUARDED_BY(shared_mu);
absl::Status shared_error ABSL_GUARDED_BY(shared_mu);

// Stops the shared cluster after the binary's last test.
class SharedClusterStopper : public ::testing::Environment {
 public:
  void TearDown() override {
    tcc::MutexLock lock(&shared_mu);
    shared_cluster.reset();
  }
};

[[maybe_unused]] ::testing::Environment* const kStopper =
    ::testing::AddGlobalTestEnvironment(new SharedClusterStopper);

}  // namespace

absl::StatusOr<PostgresCluster*> SharedPostgresCluster() {
  tcc::MutexLock lock(&shared_mu);
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
