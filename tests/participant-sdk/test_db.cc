#include "tests/participant-sdk/test_db.h"

#include "gtest/gtest.h"
#include "tcc/common/status_macros.h"

namespace tcc::sdk::testing {

std::unique_ptr<Database> OpenTestDb(const std::string& path, int max_connections) {
  SqliteOptions options;
  options.synchronous_full = false;
  options.busy_timeout = absl::Seconds(30);
  options.max_connections = max_connections;
  absl::StatusOr<std::unique_ptr<Database>> db = OpenSqliteDatabase(path, options);
  if (!db.ok()) {
    ADD_FAILURE() << "open " << path << ": " << db.status();
    return nullptr;
  }
  return *std::move(db);
}

int64_t QueryInt(Database& db, const std::string& sql) {
  int64_t value = -1;
  absl::Status status = db.RunInTransaction([&](LocalTx& tx) -> absl::Status {
    TCC_ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(sql));
    if (!rows.empty()) value = rows[0][0].AsInt();
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << sql << ": " << status;
  return value;
}

}  // namespace tcc::sdk::testing
