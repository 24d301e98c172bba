// An in-memory stand-in for tccd's Coordinator service, for the
// InitiatorClient tests: Begin / Try / Commit / Rollback / GetTransaction /
// SubmitSaga with the documented idempotency, plus injected UNAVAILABLE
// failures and call counters. It calls no participant: Try marks each
// branch TRIED, or TRY_REFUSED when its action is "refuse"; SubmitSaga
// finishes the saga at once, the same way (a refused step compensates the
// steps before it; the later ones never run). Served on 127.0.0.1:0.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "tcc/common/mutex.h"
#include "tcc/v1/coordinator.grpc.pb.h"

namespace tcc::sdk::testing {

class FakeCoordinator final : public tcc::v1::Coordinator::CallbackService {
 public:
  FakeCoordinator();
  ~FakeCoordinator() override;

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  // The next `n` calls of `method` ("Begin", "Try", ...) fail UNAVAILABLE
  // before doing anything.
  void FailNext(const std::string& method, int n);
  // Calls of `method` received, failed ones included.
  int Calls(const std::string& method) const;
  // Stored state of a GT (UNSPECIFIED when unknown).
  tcc::v1::TransactionState State(const std::string& gid) const;
  // Branches registered so far for a GT.
  int Branches(const std::string& gid) const;
  // Forces a state, e.g. to simulate the coordinator's timeout rollback.
  void SetState(const std::string& gid, tcc::v1::TransactionState state);
  // wait_timeout_ms of the last SubmitSaga received (0: it did not wait).
  uint32_t LastSagaWaitMs() const;

  grpc::ServerUnaryReactor* Begin(grpc::CallbackServerContext* ctx,
                                  const tcc::v1::BeginRequest* request,
                                  tcc::v1::BeginReply* reply) override;
  grpc::ServerUnaryReactor* Try(grpc::CallbackServerContext* ctx,
                                const tcc::v1::TryRequest* request,
                                tcc::v1::TryReply* reply) override;
  grpc::ServerUnaryReactor* Commit(grpc::CallbackServerContext* ctx,
                                   const tcc::v1::DecideRequest* request,
                                   tcc::v1::DecideReply* reply) override;
  grpc::ServerUnaryReactor* Rollback(grpc::CallbackServerContext* ctx,
                                     const tcc::v1::DecideRequest* request,
                                     tcc::v1::DecideReply* reply) override;
  grpc::ServerUnaryReactor* GetTransaction(grpc::CallbackServerContext* ctx,
                                           const tcc::v1::GetTransactionRequest* request,
                                           tcc::v1::Transaction* reply) override;
  grpc::ServerUnaryReactor* SubmitSaga(grpc::CallbackServerContext* ctx,
                                       const tcc::v1::SubmitSagaRequest* request,
                                       tcc::v1::SubmitSagaReply* reply) override;

 private:
  // Counts the call; true (and the reactor finished) when it must fail.
  bool Injected(const std::string& method, grpc::ServerUnaryReactor* reactor)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  grpc::Status Decide(const std::string& gid, tcc::v1::TransactionState final_state,
                      tcc::v1::DecideReply* reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable tcc::Mutex mu_;
  std::map<std::string, tcc::v1::Transaction> gts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> fail_next_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> calls_ ABSL_GUARDED_BY(mu_);
  uint32_t last_saga_wait_ms_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace tcc::sdk::testing
