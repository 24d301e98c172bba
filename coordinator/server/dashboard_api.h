// tccd's web dashboard on its HTTP port: the pages (embedded in the binary,
// coordinator/dashboard/) and their JSON API, POST /api/v1/<Method> for
// each method of the tcc.v1.Admin service. An API call is that very gRPC
// call, made in process on tccd's own server, so the dashboard runs the
// same admin logic and the same authorization as tccctl: the request's
// `Authorization: Bearer <token>` header becomes the call's metadata, and
// with --auth_file a viewer may read while retry and resolve need an
// operator. Bodies and replies are the messages in protobuf's JSON mapping
// (bytes fields such as gid in base64). Requests must be
// application/json, which a foreign web page cannot send without a CORS
// preflight that tccd never grants. Before Attach (during recovery) API
// calls answer 503. Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/http/http_server.h"
#include "tcc/common/mutex.h"
#include "tcc/v1/admin.grpc.pb.h"

namespace tcc {

class DashboardApi {
 public:
  // From now on API calls go to the Admin service over `channel` (tccd's
  // server's in-process channel).
  void Attach(std::shared_ptr<grpc::Channel> channel);

  // The pages, their assets and the API.
  std::vector<HttpRoute> Routes();

 private:
  template <typename Request, typename Reply>
  using Method = grpc::Status (v1::Admin::Stub::*)(grpc::ClientContext*, const Request&, Reply*);

  template <typename Request, typename Reply>
  HttpRoute ApiRoute(const char* name, Method<Request, Reply> method);

  std::shared_ptr<v1::Admin::Stub> stub() const;

  mutable tcc::Mutex mu_;
  std::shared_ptr<v1::Admin::Stub> stub_ ABSL_GUARDED_BY(mu_);
};

// The HTTP status for a gRPC status code (as google.rpc.Code documents).
int HttpStatusOf(grpc::StatusCode code);

}  // namespace tcc
