// tccctl's view of the tcc.v1.Admin service: one blocking call per command,
// each with the deadline given on the command line. An interface so that the
// commands can be tested against a fake; the gRPC implementation marks
// failures where the coordinator was never reached (see IsUnreachable), so
// that "tccd is down" and "tccd said UNAVAILABLE" read differently.
// Implementations need not be thread-safe: tccctl makes one call at a time.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tcc/common/tls.h"
#include "tcc/v1/admin.pb.h"

namespace tcc::tccctl {

class AdminApi {
 public:
  virtual ~AdminApi() = default;

  virtual absl::StatusOr<v1::ListTransactionsReply> List(
      const v1::ListTransactionsRequest& request) = 0;
  virtual absl::StatusOr<v1::TransactionDetail> Describe(const std::string& gid) = 0;
  virtual absl::StatusOr<v1::RetryNowReply> RetryNow(const v1::RetryNowRequest& request) = 0;
  virtual absl::StatusOr<v1::ResolveReply> Resolve(const v1::ResolveRequest& request) = 0;
  virtual absl::StatusOr<v1::StatsReply> Stats() = 0;
};

// A client of the Admin service at `address` (host:port or any gRPC target),
// over TLS when `tls` is enabled; every call gets `timeout` as its
// deadline, and `authorization: Bearer <token>` unless `token` is empty.
// INVALID_ARGUMENT for unusable TLS files.
absl::StatusOr<std::unique_ptr<AdminApi>> MakeGrpcAdmin(const std::string& address,
                                                        absl::Duration timeout,
                                                        const TlsOptions& tls,
                                                        const std::string& token);

// Marks `status` as a failure to reach the coordinator at all (no
// connection), as opposed to an error the coordinator returned.
absl::Status MarkUnreachable(absl::Status status);
bool IsUnreachable(const absl::Status& status);

}  // namespace tcc::tccctl
