#include "examples/points-pay/fault_proxy/proxy_routes.h"

#include "absl/strings/str_cat.h"
#include "tcc/common/status_macros.h"

namespace pointspay {

absl::StatusOr<std::unique_ptr<ProxyRoutes>> ProxyRoutes::Create(
    const std::vector<std::string>& coordinators) {
  std::unique_ptr<ProxyRoutes> routes(new ProxyRoutes());
  std::vector<std::string> names = coordinators;
  names.insert(names.end(), {"points_service", "paylog_service", "order_status"});
  for (const std::string& name : names) {
    TCC_ASSIGN_OR_RETURN(routes->proxies_[name], FaultProxy::Start(name));
  }
  return routes;
}

std::string ProxyRoutes::Route(const std::string& name, int port) {
  FaultProxy* through = proxy(name);
  if (through == nullptr) return absl::StrCat("127.0.0.1:", port);
  if (port > 0) through->set_backend_port(port);
  return through->address();
}

FaultProxy* ProxyRoutes::proxy(const std::string& name) const {
  auto it = proxies_.find(name);
  return it == proxies_.end() ? nullptr : it->second.get();
}

std::vector<FaultProxy*> ProxyRoutes::proxies() const {
  std::vector<FaultProxy*> all;
  for (const auto& [name, proxy] : proxies_) all.push_back(proxy.get());
  return all;
}

}  // namespace pointspay
