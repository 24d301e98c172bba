// What ParticipantServer and StatusEndpoint share: a gRPC server bound to
// one address, and the bounded worker pool that runs their blocking
// database work off gRPC's callback threads. Internal.
//
// Thread-safety: Start once; port, Shutdown and Wait from any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/grpc/server_stop.h"
#include "tcc/common/mutex.h"
#include "tcc/common/tls.h"
#include "tcc/sdk/worker_pool.h"

namespace tcc::sdk::internal {

class ServerHost {
 public:
  ServerHost(int worker_threads, int max_queued);
  ~ServerHost();

  // The pool, for the service's reactors; it lives until Shutdown.
  WorkerPool& pool() { return *pool_; }

  // Binds `address` (port 0 picks one) and serves `services`, which must
  // outlive this host; TLS when `tls` is enabled (INVALID_ARGUMENT for
  // unusable files).
  absl::Status Start(std::string_view address, const std::vector<grpc::Service*>& services,
                     const TlsOptions& tls);
  int port() const;
  bool started() const;
  void Shutdown();
  void Wait();

 private:
  mutable tcc::Mutex mu_;
  std::unique_ptr<WorkerPool> pool_;
  CallCounter calls_;  // Outlives server_.
  std::unique_ptr<grpc::Server> server_ ABSL_GUARDED_BY(mu_);
  int port_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

// Queues `work` on the pool and finishes the call with its status; a full
// queue finishes the call at once with RESOURCE_EXHAUSTED. `work` runs on a
// worker thread and may block.
grpc::ServerUnaryReactor* FinishOnPool(grpc::CallbackServerContext* ctx, WorkerPool& pool,
                                       std::function<grpc::Status()> work);

}  // namespace tcc::sdk::internal
