// The branch payload shared by every action of the points-payment example:
// which order, whose points, how many. The coordinator stores it and hands
// the same bytes to Try, Confirm and Cancel, so each phase can act without
// a lookup of its own. Encoded as text "<order_no>:<user>:<amount>" so that
// it reads well in tccctl and the logs.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace pointspay {

struct BranchPayload {
  std::string order_no;
  std::string user;
  int64_t amount = 0;
};

std::string EncodePayload(const BranchPayload& payload);

// INVALID_ARGUMENT unless it is "<order_no>:<user>:<positive amount>".
absl::StatusOr<BranchPayload> ParsePayload(std::string_view bytes);

}  // namespace pointspay
