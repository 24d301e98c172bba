// Stops a gRPC server as a daemon must on SIGTERM: new calls are refused at
// once, the calls in flight get up to a grace period to finish, and clients
// that merely hold a connection open do not delay the exit.
//
// grpc::Server::Shutdown(deadline) alone also waits for every connected
// client to hang up after its GOAWAY; a client with an idle channel (a
// service's pooled connection to tccd, tccd's to a participant) may keep it
// for seconds, and only the deadline ends the wait. So the server counts its
// calls in flight (CallCounter, an interceptor) and, once none is left,
// closes the remaining connections itself.
//
// Usage: give the server a CallCounter through
// ServerBuilder::experimental().SetInterceptorCreators (CallCounter::Factory),
// then StopServer(server, counter, grace) instead of server.Shutdown(...).
// Thread-safe.
#pragma once

#include <grpcpp/server.h>
#include <grpcpp/support/server_interceptor.h>

#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "tcc/common/mutex.h"

namespace tcc {

class CallCounter {
 public:
  CallCounter() = default;
  CallCounter(const CallCounter&) = delete;
  CallCounter& operator=(const CallCounter&) = delete;

  // An interceptor factory that counts every call of the server it is
  // given to (the counter outlives that server).
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> Factory();

  int64_t in_flight() const;
  // Whether no call was in flight at some moment before `deadline`.
  bool WaitForNone(absl::Time deadline) const;

  void Started();
  void Finished();

 private:
  mutable Mutex mu_;
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

// Shuts `server` down: refuses new calls, waits until `counter` sees no call
// in flight (at most `grace`, after which gRPC cancels those left), then
// closes the connections still open. Returns once the server has stopped.
// A call that reaches the server in the instant before its shutdown takes
// effect may be cancelled rather than served: its client sees an error and
// no reply, never a reply that was not carried out.
void StopServer(grpc::Server& server, const CallCounter& counter, absl::Duration grace);

}  // namespace tcc
