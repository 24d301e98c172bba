// Fencing between coordinators that share one store: the status a fenced
// write answers when another instance has claimed the GT meanwhile. The
// engine tells it from every other failure (ABORTED alone is also a rolled
// back batch) by a status payload that survives message rewording, and
// drops the GT instead of reloading it. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tcc {

// ABORTED: "ownership of GID moved to OWNER (epoch EPOCH)". `owner` is
// empty when the GT was released (nobody drives it until it is claimed).
absl::Status OwnershipMovedError(absl::string_view gid, absl::string_view owner, int64_t epoch);

// The instance a GT moved to when `status` is an OwnershipMovedError
// (possibly ""); nullopt for any other status.
std::optional<std::string> MovedTo(const absl::Status& status);

}  // namespace tcc
