// The load generator's client of the order service, behaving as a careful
// front end would: every call has a deadline, and a transport error
// (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNKNOWN: the service
// may be restarting, or it did the work and the reply was lost) is retried
// with the SAME request id, with backoff, until a reply arrives or the retry
// budget is spent. The same request id makes those retries safe: the order
// service turns them into the same global transaction.
//
// Thread-safety: one OrderClient may be shared by any number of threads (one
// channel, reused by every call).
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "pointspay/v1/order_service.grpc.pb.h"

namespace pointspay {

struct CallResult {
  bool ok = false;  // a reply arrived (any outcome)
  pointspay::v1::OperationReply reply;
  int retries = 0;         // transport errors retried with the same id
  std::string last_error;  // when !ok: the last error
};

class OrderClient {
 public:
  explicit OrderClient(
      const std::string& address,
      std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials(),
      absl::Duration retry_budget = absl::Seconds(60));

  CallResult Pay(const std::string& order_no, const std::string& request_id);
  CallResult Refund(const std::string& order_no, const std::string& request_id);
  // One attempt, no retry (for tests).
  grpc::Status GetOrder(const std::string& order_no, pointspay::v1::Order* order);

 private:
  template <typename Request>
  CallResult CallWithRetries(const Request& request);

  std::unique_ptr<pointspay::v1::OrderService::Stub> stub_;
  const absl::Duration retry_budget_;
};

}  // namespace pointspay
