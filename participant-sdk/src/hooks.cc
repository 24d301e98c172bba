#include "tcc/sdk/hooks.h"

namespace tcc::sdk {

void HookRegistry::Set(std::string_view point, Hook hook) {
  tcc::MutexLock lock(&mu_);
  hooks_[std::string(point)] = std::move(hook);
}

void HookRegistry::Clear(std::string_view point) {
  tcc::MutexLock lock(&mu_);
  auto it = hooks_.find(point);
  if (it != hooks_.end()) hooks_.erase(it);
}

absl::Status HookRegistry::Run(std::string_view point, std::string_view gid) const {
  Hook hook;
  {
    tcc::MutexLock lock(&mu_);
    auto it = hooks_.find(point);
    if (it == hooks_.end()) return absl::OkStatus();
    hook = it->second;
  }
  return hook(gid);
}

}  // namespace tcc::sdk
