// The cluster's routes (cluster/routes.h) through one FaultProxy per route:
// tccd to each participant and to the order service's status endpoint, and
// the order service to tccd. Every proxy listens from Create on, keeps its
// port for the run, and follows its backend's port as Route learns it.
//
// Thread-safety: Route is for the cluster's owner thread; proxy() and
// proxies() may be used from any thread (the set of proxies is fixed at
// Create), and FaultProxy is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "examples/points-pay/cluster/routes.h"
#include "examples/points-pay/fault_proxy/fault_proxy.h"

namespace pointspay {

class ProxyRoutes : public Routes {
 public:
  // A proxy for each coordinator (cluster.h's CoordinatorNames: "tccd", or
  // "tccd1".."tccdN" with several) and for "points_service",
  // "paylog_service" and "order_status".
  static absl::StatusOr<std::unique_ptr<ProxyRoutes>> Create(
      const std::vector<std::string>& coordinators = {"tccd"});

  // The proxy's address; a name without a proxy is reached directly.
  std::string Route(const std::string& name, int port) override;

  // The proxy of `name`, or null if it has none.
  FaultProxy* proxy(const std::string& name) const;
  std::vector<FaultProxy*> proxies() const;

 private:
  ProxyRoutes() = default;

  std::map<std::string, std::unique_ptr<FaultProxy>> proxies_;
};

}  // namespace pointspay
