// gtest helpers for absl::Status: EXPECT_OK(expr), ASSERT_OK(expr) and the
// matcher StatusIs(code) / StatusIs(code, substring-of-message).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tcc::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER_P(StatusIsMatcher, code, "") {
  const absl::Status& status = ::tcc::testing::GetStatus(arg);
  *result_listener << "status is " << status.ToString();
  return status.code() == code;
}

MATCHER_P2(StatusIsWithMessage, code, substring, "") {
  const absl::Status& status = ::tcc::testing::GetStatus(arg);
  *result_listener << "status is " << status.ToString();
  return status.code() == code &&
         std::string(status.message()).find(substring) != std::string::npos;
}

inline auto StatusIs(absl::StatusCode code) { return StatusIsMatcher(code); }
inline auto StatusIs(absl::StatusCode code, std::string substring) {
  return StatusIsWithMessage(code, std::move(substring));
}

}  // namespace tcc::testing

#define EXPECT_OK(expr) EXPECT_THAT(expr, ::tcc::testing::StatusIs(absl::StatusCode::kOk))
#define ASSERT_OK(expr) ASSERT_THAT(expr, ::tcc::testing::StatusIs(absl::StatusCode::kOk))
