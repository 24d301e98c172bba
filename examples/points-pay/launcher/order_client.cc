#include "examples/points-pay/launcher/order_client.h"

#include <grpcpp/grpcpp.h>

#include <random>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "examples/points-pay/common/service_util.h"

namespace pointspay {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(15);
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(20);
constexpr absl::Duration kMaxBackoff = absl::Milliseconds(500);

bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::RESOURCE_EXHAUSTED || code == grpc::StatusCode::UNKNOWN;
}

absl::Duration Jitter(absl::Duration d) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return d * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
}

}  // namespace

OrderClient::OrderClient(const std::string& address,
                         std::shared_ptr<grpc::ChannelCredentials> credentials,
                         absl::Duration retry_budget)
    : stub_(pointspay::v1::OrderService::NewStub(MakeChannel(address, std::move(credentials)))),
      retry_budget_(retry_budget) {}

template <typename Request>
CallResult OrderClient::CallWithRetries(const Request& request) {
  constexpr bool kRefund = std::is_same_v<Request, pointspay::v1::RefundRequest>;
  CallResult result;
  absl::Time give_up = absl::Now() + retry_budget_;
  absl::Duration backoff = kFirstBackoff;
  while (true) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
    // Wait for a restarting service instead of failing at once: a blocking
    // call polls the connection only while it waits, so failing fast and
    // sleeping would leave the reconnect idle.
    ctx.set_wait_for_ready(true);
    grpc::Status status;
    if constexpr (kRefund) {
      status = stub_->Refund(&ctx, request, &result.reply);
    } else {
      status = stub_->PayWithPoints(&ctx, request, &result.reply);
    }
    if (status.ok()) {
      result.ok = true;
      return result;
    }
    result.last_error = absl::StrCat(
        kRefund ? "Refund " : "PayWithPoints ", request.order_no(), " ", request.request_id(),
        ": code ", static_cast<int>(status.error_code()), " ", status.error_message());
    if (!Retryable(status.error_code()) || absl::Now() + backoff > give_up) return result;
    ++result.retries;
    absl::SleepFor(Jitter(backoff));
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

CallResult OrderClient::Pay(const std::string& order_no, const std::string& request_id) {
  pointspay::v1::PayRequest request;
  request.set_order_no(order_no);
  request.set_request_id(request_id);
  return CallWithRetries(request);
}

CallResult OrderClient::Refund(const std::string& order_no, const std::string& request_id) {
  pointspay::v1::RefundRequest request;
  request.set_order_no(order_no);
  request.set_request_id(request_id);
  return CallWithRetries(request);
}

grpc::Status OrderClient::GetOrder(const std::string& order_no, pointspay::v1::Order* order) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  pointspay::v1::GetOrderRequest request;
  request.set_order_no(order_no);
  return stub_->GetOrder(&ctx, request, order);
}

}  // namespace pointspay
