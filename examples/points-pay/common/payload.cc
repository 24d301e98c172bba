#include "examples/points-pay/common/payload.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pointspay {

std::string EncodePayload(const BranchPayload& payload) {
  return absl::StrCat(payload.order_no, ":", payload.user, ":", payload.amount);
}

absl::StatusOr<BranchPayload> ParsePayload(std::string_view bytes) {
  absl::string_view text(bytes.data(), bytes.size());
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  BranchPayload payload;
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() ||
      !absl::SimpleAtoi(parts[2], &payload.amount) || payload.amount <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("payload \"", text, "\" is not <order_no>:<user>:<positive amount>"));
  }
  payload.order_no = parts[0];
  payload.user = parts[1];
  return payload;
}

}  // namespace pointspay
