// The web dashboard's files (HTML, JavaScript, CSS under
// coordinator/dashboard/assets/), compiled into tccd by
// cmake/EmbedAssets.cmake so that the dashboard works on machines without
// internet access: nothing is fetched from a CDN, nothing is installed
// beside the binary. Immutable after static initialization; thread-safe.
#pragma once

#include <vector>

#include "absl/strings/string_view.h"

namespace tcc::dashboard {

struct Asset {
  absl::string_view name;  // The file's name under assets/, e.g. "app.js".
  absl::string_view data;
};

// Every asset, in the order CMake listed them.
extern const std::vector<Asset> kAssets;

// The asset called `name`, or null.
const Asset* FindAsset(absl::string_view name);

// The Content-Type to serve `name` with, from its extension.
absl::string_view ContentTypeOf(absl::string_view name);

}  // namespace tcc::dashboard
