// The tcc.v1.Coordinator gRPC service: a thin adapter that converts
// messages to domain values, hands the work to the engine and finishes the
// reactor from the engine's callback. No handler blocks. Every method needs
// the initiator role (authorizer.h), checked before anything else.
// Thread-safe.
#pragma once

#include "coordinator/engine/transaction_engine.h"
#include "coordinator/server/authorizer.h"
#include "tcc/v1/coordinator.grpc.pb.h"

namespace tcc {

class CoordinatorService final : public v1::Coordinator::CallbackService {
 public:
  CoordinatorService(TransactionEngine* engine, const Authorizer* authorizer)
      : engine_(engine), authorizer_(authorizer) {}

  grpc::ServerUnaryReactor* Begin(grpc::CallbackServerContext* context,
                                  const v1::BeginRequest* request, v1::BeginReply* reply) override;
  grpc::ServerUnaryReactor* Try(grpc::CallbackServerContext* context, const v1::TryRequest* request,
                                v1::TryReply* reply) override;
  grpc::ServerUnaryReactor* Commit(grpc::CallbackServerContext* context,
                                   const v1::DecideRequest* request,
                                   v1::DecideReply* reply) override;
  grpc::ServerUnaryReactor* Rollback(grpc::CallbackServerContext* context,
                                     const v1::DecideRequest* request,
                                     v1::DecideReply* reply) override;
  grpc::ServerUnaryReactor* GetTransaction(grpc::CallbackServerContext* context,
                                           const v1::GetTransactionRequest* request,
                                           v1::Transaction* reply) override;
  grpc::ServerUnaryReactor* SubmitSaga(grpc::CallbackServerContext* context,
                                       const v1::SubmitSagaRequest* request,
                                       v1::SubmitSagaReply* reply) override;

 private:
  grpc::ServerUnaryReactor* Decide(grpc::CallbackServerContext* context,
                                   const v1::DecideRequest* request, v1::DecideReply* reply,
                                   Decision decision);
  // OK when the caller holds the initiator role.
  absl::Status Authorize(const grpc::CallbackServerContext& context,
                         absl::string_view method) const;

  TransactionEngine* engine_;
  const Authorizer* authorizer_;
};

}  // namespace tcc
