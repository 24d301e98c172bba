// A real tcc.v1.InitiatorStatus gRPC server (an initiator's status
// endpoint) on a loopback port, for integration tests of the back-query:
// answers every QueryStatus with one decision, counts the queries, and can
// be stopped and restarted on the same port to simulate an outage.
// Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "tcc/common/mutex.h"
#include "tcc/v1/initiator.grpc.pb.h"

namespace tcc::testing {

class FakeInitiator final : public v1::InitiatorStatus::CallbackService {
 public:
  explicit FakeInitiator(v1::InitiatorDecision decision = v1::INITIATOR_DECISION_ROLLED_BACK)
      : decision_(decision) {}
  ~FakeInitiator() override { Stop(); }

  // Starts serving on `port` (0: pick one); returns the bound port.
  int Start(int port = 0) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    return port_;
  }
  // Closes the port: connections to it are refused.
  void Stop() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  // Queries answered since construction.
  int queries() const {
    tcc::MutexLock lock(&mu_);
    return queries_;
  }

  grpc::ServerUnaryReactor* QueryStatus(grpc::CallbackServerContext* context,
                                        const v1::QueryStatusRequest*,
                                        v1::QueryStatusReply* reply) override {
    {
      tcc::MutexLock lock(&mu_);
      ++queries_;
    }
    reply->set_decision(decision_);
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const v1::InitiatorDecision decision_;
  mutable tcc::Mutex mu_;
  int queries_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace tcc::testing
