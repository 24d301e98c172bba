// What the order service's two flows (payment: transaction_flow.h, refund:
// refund_saga.h) share at their edges: the check of the caller's request id
// (it becomes part of a gid) and the shape of a reply.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "pointspay/v1/order_service.pb.h"

namespace pointspay {

// INVALID_ARGUMENT unless 1-100 characters of [A-Za-z0-9._:-].
absl::Status ValidateRequestId(const std::string& id);

pointspay::v1::OperationReply MakeReply(pointspay::v1::Outcome outcome, const std::string& gid,
                                        std::string_view order_status, std::string detail = "",
                                        bool replayed = false);

}  // namespace pointspay
