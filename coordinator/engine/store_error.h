// A store failure as the engine's callers see it: the store's code is kept
// (UNAVAILABLE and RESOURCE_EXHAUSTED invite a retry; DATA_LOSS,
// FAILED_PRECONDITION and the others must not be turned into "retry"), and
// the message says what the engine was doing when the store failed.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tcc {

inline absl::Status StoreFailure(const absl::Status& cause, absl::string_view what) {
  if (cause.ok()) return cause;
  return absl::Status(cause.code(), absl::StrCat(what, ": ", cause.message()));
}

}  // namespace tcc
