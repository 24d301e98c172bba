#include "examples/points-pay/order_service/replies.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "examples/points-pay/order_service/order_store.h"

namespace pointspay {

absl::Status ValidateRequestId(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 100;
  for (char c : id) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                c == ':' || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("request_id \"", id, "\" must be 1-100 characters of [A-Za-z0-9._:-]"));
}

pointspay::v1::OperationReply MakeReply(pointspay::v1::Outcome outcome, const std::string& gid,
                                        std::string_view order_status, std::string detail,
                                        bool replayed) {
  pointspay::v1::OperationReply reply;
  reply.set_outcome(outcome);
  reply.set_gid(gid);
  reply.set_order_status(ToProtoStatus(order_status));
  reply.set_detail(std::move(detail));
  reply.set_replayed(replayed);
  return reply;
}

}  // namespace pointspay
