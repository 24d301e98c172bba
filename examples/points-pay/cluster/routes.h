// How the processes of the cluster reach each other. By default each is
// called on its own loopback port; a Routes (the network fault proxies of
// fault_proxy/proxy_routes.h) can put something in between: the cluster
// hands the other processes the address Route returns instead of the port.
//
// Names: "tccd", "points_service", "paylog_service" (called by the order
// service and, as branch targets the order service names, by tccd), and
// "order_status" (the order service's status endpoint, called by tccd).
//
// Thread-safety: Route is called from the cluster's owner thread only.
#pragma once

#include <string>

namespace pointspay {

class Routes {
 public:
  virtual ~Routes() = default;
  // The address at which the others reach `name`, which serves on `port`
  // (0 while not yet known: the route must then still give an address that
  // stays valid once a later call names the port).
  virtual std::string Route(const std::string& name, int port) = 0;
};

}  // namespace pointspay
