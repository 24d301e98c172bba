// spdlog plus a formatter for Debian Abseil's absl::string_view (which is
// not std::string_view), so Status messages can be logged directly.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "absl/strings/string_view.h"

template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(absl::string_view value, Context& context) const {
    return fmt::formatter<std::string_view>::format(std::string_view(value.data(), value.size()),
                                                    context);
  }
};
