// Validation of everything a caller sends: ids, targets, payload and branch
// limits. Each failure is INVALID_ARGUMENT with a message naming the field
// and the rule it broke. Stateless and thread-safe.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "coordinator/domain/transaction.h"

namespace tcc {

struct Limits {
  uint32_t max_payload_bytes = 1 << 20;
  uint32_t max_branches_per_transaction = 64;
  uint32_t max_headers_per_branch = 32;
  uint32_t max_header_bytes = 4096;
  uint32_t max_timeout_ms = 24 * 3600 * 1000;
};

inline constexpr size_t kMaxGidLength = 128;
inline constexpr size_t kMaxBranchIdLength = 64;
inline constexpr size_t kMaxActionLength = 128;
inline constexpr size_t kMaxTargetLength = 256;

absl::Status ValidateGid(absl::string_view gid);
absl::Status ValidateBranchId(absl::string_view branch_id);
absl::Status ValidateTarget(absl::string_view target, absl::string_view field);
absl::Status ValidateBranch(const Branch& branch, const Limits& limits);
// Free text a caller sends and operators read back (actions, header
// values, reasons, operator names): valid UTF-8 of at most `max_bytes`.
absl::Status ValidateText(absl::string_view text, absl::string_view field, size_t max_bytes);
bool IsValidUtf8(absl::string_view text);

}  // namespace tcc
