// Counts and times every RPC of the services it is given (tccd's
// Coordinator and Admin), as a gRPC server interceptor: one place for all
// methods, present and future, instead of a line in every handler. Emits
// tcc_rpc_requests_total{service,method,code} and
// tcc_rpc_duration_seconds{service,method}; RPCs of other services (health,
// reflection) are not intercepted, which also keeps the label values to the
// methods we registered. Time is read from the given Clock. Thread-safe.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "common/metrics/registry.h"
#include "coordinator/domain/clock.h"

namespace tcc {

// Histogram bounds in seconds for RPCs and participant calls: 0.5ms to 10s.
const std::vector<double>& LatencyBuckets();

class RpcMetricsFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `services`: full names, e.g. "tcc.v1.Coordinator". `registry` and
  // `clock` outlive the server this factory is given to.
  RpcMetricsFactory(metrics::Registry* registry, const Clock* clock,
                    std::vector<std::string> services);

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const Clock* const clock_;
  const absl::flat_hash_set<std::string> services_;
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& duration_;
};

}  // namespace tcc
