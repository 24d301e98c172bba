// The gRPC face of the order service: pointspay.v1.OrderService on the
// callback API. A callback thread only queues the request; a worker of a
// bounded pool runs the blocking flow (calls to the coordinator, the local
// transaction) and finishes the call. Many requests are therefore in
// progress at once, each on its own worker, with no lock held across an RPC;
// when every worker is busy and the queue is full, a request is answered
// RESOURCE_EXHAUSTED at once (the client retries with the same request id).
//
// Thread-safety: Start, then Shutdown, from one thread (main); the RPC
// methods are called by gRPC from any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "examples/points-pay/order_service/order_store.h"
#include "examples/points-pay/order_service/refund_saga.h"
#include "examples/points-pay/order_service/transaction_flow.h"
#include "pointspay/v1/order_service.grpc.pb.h"
#include "tcc/common/tls.h"
#include "tcc/sdk/worker_pool.h"

namespace pointspay {

class OrderServer final : public pointspay::v1::OrderService::CallbackService {
 public:
  // `store`, `flow` and `refunds` must outlive the server.
  OrderServer(OrderStore& store, TransactionFlow& flow, RefundSaga& refunds, int workers,
              int max_queued);
  ~OrderServer() override;

  // Over TLS when `tls` is enabled (tcc/common/tls.h).
  absl::Status Start(const std::string& address, const tcc::TlsOptions& tls = {});
  int port() const { return port_; }
  // Stops accepting calls, finishes those in progress, stops the workers.
  void Shutdown();

  grpc::ServerUnaryReactor* PayWithPoints(grpc::CallbackServerContext* ctx,
                                          const pointspay::v1::PayRequest* request,
                                          pointspay::v1::OperationReply* reply) override;
  grpc::ServerUnaryReactor* Refund(grpc::CallbackServerContext* ctx,
                                   const pointspay::v1::RefundRequest* request,
                                   pointspay::v1::OperationReply* reply) override;
  grpc::ServerUnaryReactor* GetOrder(grpc::CallbackServerContext* ctx,
                                     const pointspay::v1::GetOrderRequest* request,
                                     pointspay::v1::Order* reply) override;

 private:
  // Runs `work` on the pool and finishes the call with its status.
  grpc::ServerUnaryReactor* OnPool(grpc::CallbackServerContext* ctx,
                                   std::function<absl::Status()> work);

  OrderStore& store_;
  TransactionFlow& flow_;
  RefundSaga& refunds_;
  std::unique_ptr<tcc::sdk::WorkerPool> pool_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace pointspay
