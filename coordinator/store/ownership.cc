#include "coordinator/store/ownership.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace tcc {
namespace {

constexpr absl::string_view kMovedTo = "type.tcc.dev/tcc.OwnershipMoved";

}  // namespace

absl::Status OwnershipMovedError(absl::string_view gid, absl::string_view owner, int64_t epoch) {
  absl::Status status = absl::AbortedError(
      absl::StrCat("ownership of ", gid, " moved to ", owner.empty() ? "nobody (released)" : owner,
                   " (epoch ", epoch, "); this coordinator stopped driving it, retry the call"));
  status.SetPayload(kMovedTo, absl::Cord(owner));
  return status;
}

std::optional<std::string> MovedTo(const absl::Status& status) {
  absl::optional<absl::Cord> owner = status.GetPayload(kMovedTo);
  if (!owner) return std::nullopt;
  return std::string(*owner);
}

}  // namespace tcc
