#include "participant-sdk/src/ids.h"

#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "participant-sdk/src/absl_compat.h"

namespace tcc::sdk::internal {
namespace {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

}  // namespace

absl::Status ValidateId(std::string_view field, std::string_view value, size_t max_length) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(ToAbsl(field), " is empty"));
  if (value.size() > max_length) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(field), " is ", value.size(),
                                                   " characters long; the limit is ", max_length));
  }
  for (char c : value) {
    if (!IsIdChar(c)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s %s has a character outside [A-Za-z0-9._:-]", field, absl::CHexEscape(ToAbsl(value))));
    }
  }
  return absl::OkStatus();
}

std::string NewGid() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("g-%016x%016x", rng(), rng());
}

}  // namespace tcc::sdk::internal
