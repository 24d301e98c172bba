// Blocking helpers over the tcc.v1.Coordinator stub for integration tests.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tcc/common/grpc_status.h"
#include "tcc/v1/coordinator.grpc.pb.h"

namespace tcc::testing {

class CoordinatorClient {
 public:
  explicit CoordinatorClient(
      const std::string& address,
      std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials())
      : channel_(grpc::CreateChannel(address, std::move(credentials))),
        stub_(v1::Coordinator::NewStub(channel_)) {}

  absl::StatusOr<v1::BeginReply> Begin(const std::string& gid, uint32_t timeout_ms = 0,
                                       const std::string& endpoint = "") {
    v1::BeginRequest request;
    request.set_gid(gid);
    request.set_timeout_ms(timeout_ms);
    request.set_status_endpoint(endpoint);
    return Call(&v1::Coordinator::Stub::Begin, request, v1::BeginReply());
  }
  absl::StatusOr<v1::TryReply> Try(const v1::TryRequest& request) {
    return Call(&v1::Coordinator::Stub::Try, request, v1::TryReply());
  }
  absl::StatusOr<v1::DecideReply> Commit(const std::string& gid) {
    v1::DecideRequest request;
    request.set_gid(gid);
    return Call(&v1::Coordinator::Stub::Commit, request, v1::DecideReply());
  }
  absl::StatusOr<v1::DecideReply> Rollback(const std::string& gid) {
    v1::DecideRequest request;
    request.set_gid(gid);
    return Call(&v1::Coordinator::Stub::Rollback, request, v1::DecideReply());
  }
  absl::StatusOr<v1::Transaction> Get(const std::string& gid) {
    v1::GetTransactionRequest request;
    request.set_gid(gid);
    return Call(&v1::Coordinator::Stub::GetTransaction, request, v1::Transaction());
  }

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  // Sent as `authorization: Bearer <token>` on every later call; empty: none.
  void set_token(std::string token) { token_ = std::move(token); }
  // Each call's deadline (10 s unless set).
  void set_deadline(std::chrono::milliseconds deadline) { deadline_ = deadline; }

 private:
  template <typename Request, typename Reply>
  absl::StatusOr<Reply> Call(grpc::Status (v1::Coordinator::Stub::*method)(grpc::ClientContext*,
                                                                           const Request&, Reply*),
                             const Request& request, Reply reply) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline_);
    if (!token_.empty()) context.AddMetadata("authorization", "Bearer " + token_);
    grpc::Status status = (stub_.get()->*method)(&context, request, &reply);
    if (!status.ok()) return FromGrpcStatus(status);
    return reply;
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Coordinator::Stub> stub_;
  std::string token_;
  std::chrono::milliseconds deadline_{10000};
};

inline v1::TryRequest MakeTry(const std::string& gid,
                              const std::vector<std::pair<std::string, std::string>>& branches) {
  v1::TryRequest request;
  request.set_gid(gid);
  for (const auto& [branch_id, target] : branches) {
    v1::BranchSpec* spec = request.add_branches();
    spec->set_branch_id(branch_id);
    spec->set_target(target);
    spec->set_action("demo.action");
    spec->set_payload("payload-" + branch_id);
  }
  return request;
}

}  // namespace tcc::testing
