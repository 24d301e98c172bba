// Validation of the identifiers that travel in the protocol (gid, branch id)
// and generation of gids. Internal to the SDK. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tcc::sdk::internal {

inline constexpr size_t kMaxGidLength = 128;
inline constexpr size_t kMaxBranchIdLength = 64;

// INVALID_ARGUMENT naming the field unless `value` is 1..max characters from
// [A-Za-z0-9._:-].
absl::Status ValidateId(std::string_view field, std::string_view value, size_t max_length);

inline absl::Status ValidateGid(std::string_view gid) {
  return ValidateId("gid", gid, kMaxGidLength);
}
inline absl::Status ValidateBranchId(std::string_view branch_id) {
  return ValidateId("branch_id", branch_id, kMaxBranchIdLength);
}

// A random gid (128 bits, hex), so that a retried Begin stays idempotent.
std::string NewGid();

}  // namespace tcc::sdk::internal
