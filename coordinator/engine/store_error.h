// A store failure as the engine's callers see it: the store's code is kept
// (UNAVAILABLE and RESOURCE_EXHAUSTED invite a retry; DATA_LOSS,
// FAILED_PRECONDITION and the others must not be turned into "retry"), and
// the message says what the engine was doing when the store failed.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tcc {

// Payloads are kept too: the engine tells a write refused by the fence
// (store/ownership.h) by its payload, after the rewording.
inline absl::Status StoreFailure(const absl::Status& cause, absl::string_view what) {
  if (cause.ok()) return cause;
  absl::Status failure(cause.code(), absl::StrCat(what, ": ", cause.message()));
  cause.ForEachPayload([&failure](absl::string_view type, const absl::Cord& payload) {
    failure.SetPayload(type, payload);
  });
  return failure;
}

}  // namespace tcc
