// A SQLite database for the participant SDK tests, in a temp dir removed at
// the end (tests/test_util/temp_dir.h). Status assertions come from
// tests/test_util/status_matchers.h. Not thread-safe beyond what the SDK's
// Database says.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tcc/sdk/local_db.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"

namespace tcc::sdk::testing {

using TempDir = ::tcc::testing::TempDir;

// A SQLite database for tests: synchronous=NORMAL (the tests are about
// locking and keys, not fsync) with a generous busy timeout.
std::unique_ptr<Database> OpenTestDb(const std::string& path, int max_connections = 8);

// One value from a one-row, one-column query, or -1 when there is no row.
int64_t QueryInt(Database& db, const std::string& sql);

}  // namespace tcc::sdk::testing
