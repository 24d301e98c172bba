#include "examples/points-pay/order_service/order_server.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tcc/common/grpc_status.h"
#include "tcc/common/logging.h"
#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

constexpr absl::Duration kShutdownGrace = absl::Seconds(2);

}  // namespace

OrderServer::OrderServer(OrderStore& store, TransactionFlow& flow, RefundSaga& refunds, int workers,
                         int max_queued)
    : store_(store),
      flow_(flow),
      refunds_(refunds),
      pool_(std::make_unique<tcc::sdk::WorkerPool>(workers, max_queued)) {}

OrderServer::~OrderServer() { Shutdown(); }

absl::Status OrderServer::Start(const std::string& address, const tcc::TlsOptions& tls) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      tcc::MakeServerCredentials(tls);
  if (!credentials.ok()) return credentials.status();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, *credentials, &port_);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat("order service: cannot listen on ", address));
  }
  return absl::OkStatus();
}

void OrderServer::Shutdown() {
  // Shutdown waits for the calls in progress, which the workers finish; the
  // pool goes only after that, once no reactor can queue to it.
  if (stopped_) return;
  stopped_ = true;
  // Calls still running after the grace period are cancelled; an idle
  // client connection no longer holds the stop up.
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + kShutdownGrace));
  }
  pool_.reset();
}

grpc::ServerUnaryReactor* OrderServer::OnPool(grpc::CallbackServerContext* ctx,
                                              std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  bool queued = pool_->TrySubmit(
      [reactor, work = std::move(work)] { reactor->Finish(tcc::ToGrpcStatus(work())); });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "order service is busy; retry with the same request id"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* OrderServer::PayWithPoints(grpc::CallbackServerContext* ctx,
                                                     const pointspay::v1::PayRequest* request,
                                                     pointspay::v1::OperationReply* reply) {
  return OnPool(ctx, [this, request, reply]() -> absl::Status {
    TCC_ASSIGN_OR_RETURN(*reply, flow_.Pay(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OrderServer::Refund(grpc::CallbackServerContext* ctx,
                                              const pointspay::v1::RefundRequest* request,
                                              pointspay::v1::OperationReply* reply) {
  return OnPool(ctx, [this, request, reply]() -> absl::Status {
    TCC_ASSIGN_OR_RETURN(*reply, refunds_.Refund(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* OrderServer::GetOrder(grpc::CallbackServerContext* ctx,
                                                const pointspay::v1::GetOrderRequest* request,
                                                pointspay::v1::Order* reply) {
  return OnPool(ctx, [this, request, reply]() -> absl::Status {
    TCC_ASSIGN_OR_RETURN(OrderRow order, store_.Load(request->order_no()));
    reply->set_order_no(order.order_no);
    reply->set_user(order.user);
    reply->set_amount(order.amount);
    reply->set_status(ToProtoStatus(order.status));
    reply->set_pay_gid(order.pay_gid);
    reply->set_refund_gid(order.refund_gid);
    return absl::OkStatus();
  });
}

}  // namespace pointspay
