// Helpers for the participant SDK tests: a temp dir removed at the end, a
// SQLite database in it, and status matchers. Not thread-safe beyond what
// each helper says.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tcc/sdk/local_db.h"
#include "tests/test_util/temp_dir.h"

namespace tcc::sdk::testing {

using TempDir = ::tcc::testing::TempDir;

// A SQLite database for tests: synchronous=NORMAL (the tests are about
// locking and keys, not fsync) with a generous busy timeout.
std::unique_ptr<Database> OpenTestDb(const std::string& path, int max_connections = 8);

// One value from a one-row, one-column query, or -1 when there is no row.
int64_t QueryInt(Database& db, const std::string& sql);

inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace tcc::sdk::testing

// Evaluates expr once; on failure prints its status.
#define TCC_ASSERT_OK(expr)                                                      \
  do {                                                                           \
    const auto& tcc_result_ = (expr);                                            \
    ASSERT_TRUE(tcc_result_.ok()) << ::tcc::sdk::testing::StatusOf(tcc_result_); \
  } while (false)
#define TCC_EXPECT_OK(expr)                                                      \
  do {                                                                           \
    const auto& tcc_result_ = (expr);                                            \
    EXPECT_TRUE(tcc_result_.ok()) << ::tcc::sdk::testing::StatusOf(tcc_result_); \
  } while (false)
