// Debian's Abseil has its own absl::string_view, distinct from
// std::string_view (ABSL_OPTION_USE_STD_STRING_VIEW is 0). The SDK's public
// API speaks std::string_view; these convert at the boundary. Internal.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace tcc::sdk::internal {

inline absl::string_view ToAbsl(std::string_view v) {
  return absl::string_view(v.data(), v.size());
}
inline std::string_view ToStd(absl::string_view v) { return std::string_view(v.data(), v.size()); }

}  // namespace tcc::sdk::internal
