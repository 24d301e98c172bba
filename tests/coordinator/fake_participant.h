// A real tcc.v1.Participant gRPC server on a loopback port, for integration
// and crash tests: answers from a scriptable behaviour, records every call,
// and can be stopped and restarted on the same port to simulate an outage.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "tcc/common/mutex.h"
#include "tcc/v1/participant.grpc.pb.h"

namespace tcc::testing {

struct RecordedCall {
  std::string phase;  // "Try", "Confirm", "Cancel"
  std::string gid;
  std::string branch_id;
  std::string action;
  std::string payload;
};

class FakeParticipant final : public v1::Participant::CallbackService {
 public:
  // Returns the reply for a call, or a non-OK status for a transport error.
  using Behavior = std::function<grpc::Status(const RecordedCall&, v1::BranchReply&)>;

  FakeParticipant() = default;
  ~FakeParticipant() override { Stop(); }

  // Starts serving on `port` (0: pick one), plaintext unless `credentials`
  // say otherwise. Returns the bound port.
  int Start(int port = 0, std::shared_ptr<grpc::ServerCredentials> credentials =
                              grpc::InsecureServerCredentials()) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), std::move(credentials), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    return port_;
  }
  void Stop() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int port() const { return port_; }

  void SetBehavior(Behavior behavior) {
    tcc::MutexLock lock(&mu_);
    behavior_ = std::move(behavior);
  }
  std::vector<RecordedCall> calls() const {
    tcc::MutexLock lock(&mu_);
    return calls_;
  }
  int Count(const std::string& phase, const std::string& gid = "") const {
    tcc::MutexLock lock(&mu_);
    int count = 0;
    for (const RecordedCall& call : calls_) {
      count += call.phase == phase && (gid.empty() || call.gid == gid);
    }
    return count;
  }

  grpc::ServerUnaryReactor* Try(grpc::CallbackServerContext* context,
                                const v1::BranchRequest* request, v1::BranchReply* reply) override {
    return Handle("Try", context, request, reply);
  }
  grpc::ServerUnaryReactor* Confirm(grpc::CallbackServerContext* context,
                                    const v1::BranchRequest* request,
                                    v1::BranchReply* reply) override {
    return Handle("Confirm", context, request, reply);
  }
  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* context,
                                   const v1::BranchRequest* request,
                                   v1::BranchReply* reply) override {
    return Handle("Cancel", context, request, reply);
  }

 private:
  grpc::ServerUnaryReactor* Handle(const std::string& phase, grpc::CallbackServerContext* context,
                                   const v1::BranchRequest* request, v1::BranchReply* reply) {
    RecordedCall call{phase, request->gid(), request->branch_id(), request->action(),
                      request->payload()};
    Behavior behavior;
    {
      tcc::MutexLock lock(&mu_);
      calls_.push_back(call);
      behavior = behavior_;
    }
    grpc::Status status = grpc::Status::OK;
    reply->set_outcome(v1::OUTCOME_SUCCESS);
    if (behavior) status = behavior(call, *reply);
    auto* reactor = context->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }

  mutable tcc::Mutex mu_;
  Behavior behavior_ ABSL_GUARDED_BY(mu_);
  std::vector<RecordedCall> calls_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace tcc::testing
