#include "tools/tccctl/admin_client.h"

#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/cord.h"
#include "tcc/common/grpc_status.h"
#include "tcc/v1/admin.grpc.pb.h"

namespace tcc::tccctl {
namespace {

constexpr char kUnreachablePayload[] = "tccctl/unreachable";

class GrpcAdmin final : public AdminApi {
 public:
  GrpcAdmin(const std::string& address, absl::Duration timeout,
            std::shared_ptr<grpc::ChannelCredentials> credentials, std::string token)
      : channel_(grpc::CreateChannel(address, std::move(credentials))),
        stub_(v1::Admin::NewStub(channel_)),
        timeout_(timeout),
        token_(std::move(token)) {}

  absl::StatusOr<v1::ListTransactionsReply> List(
      const v1::ListTransactionsRequest& request) override {
    return Call(&v1::Admin::Stub::ListTransactions, request, v1::ListTransactionsReply());
  }
  absl::StatusOr<v1::TransactionDetail> Describe(const std::string& gid) override {
    v1::DescribeTransactionRequest request;
    request.set_gid(gid);
    return Call(&v1::Admin::Stub::DescribeTransaction, request, v1::TransactionDetail());
  }
  absl::StatusOr<v1::RetryNowReply> RetryNow(const v1::RetryNowRequest& request) override {
    return Call(&v1::Admin::Stub::RetryNow, request, v1::RetryNowReply());
  }
  absl::StatusOr<v1::ResolveReply> Resolve(const v1::ResolveRequest& request) override {
    return Call(&v1::Admin::Stub::Resolve, request, v1::ResolveReply());
  }
  absl::StatusOr<v1::StatsReply> Stats() override {
    return Call(&v1::Admin::Stub::Stats, v1::StatsRequest(), v1::StatsReply());
  }

 private:
  template <typename Request, typename Reply>
  absl::StatusOr<Reply> Call(grpc::Status (v1::Admin::Stub::*method)(grpc::ClientContext*,
                                                                     const Request&, Reply*),
                             const Request& request, Reply reply) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    // Metadata, not call credentials: gRPC drops those on a plaintext
    // channel, and a loopback tccd may take tokens without TLS.
    if (!token_.empty()) context.AddMetadata("authorization", "Bearer " + token_);
    grpc::Status status = (stub_.get()->*method)(&context, request, &reply);
    if (status.ok()) return reply;
    absl::Status error = FromGrpcStatus(status);
    return NeverConnected(status) ? MarkUnreachable(error) : error;
  }

  // UNAVAILABLE or a deadline without a ready connection: the call never
  // got to the coordinator.
  bool NeverConnected(const grpc::Status& status) const {
    bool transport = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                     status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    return transport && channel_->GetState(false) != GRPC_CHANNEL_READY;
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Admin::Stub> stub_;
  absl::Duration timeout_;
  std::string token_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AdminApi>> MakeGrpcAdmin(const std::string& address,
                                                        absl::Duration timeout,
                                                        const TlsOptions& tls,
                                                        const std::string& token) {
  // gRPC's own log lines would break tccctl's one-line errors; a failed call
  // still says what went wrong through its status.
  gpr_set_log_function([](gpr_log_func_args*) {});
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(tls);
  if (!credentials.ok()) return credentials.status();
  return std::make_unique<GrpcAdmin>(address, timeout, *std::move(credentials), token);
}

absl::Status MarkUnreachable(absl::Status status) {
  status.SetPayload(kUnreachablePayload, absl::Cord("1"));
  return status;
}

bool IsUnreachable(const absl::Status& status) {
  return status.GetPayload(kUnreachablePayload).has_value();
}

}  // namespace tcc::tccctl
