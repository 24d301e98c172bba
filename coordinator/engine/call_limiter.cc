#include "coordinator/engine/call_limiter.h"

namespace tcc {

bool CallLimiter::TryAcquire(const std::string& gid) {
  tcc::MutexLock lock(&mu_);
  if (background_ < max_background_) {
    ++background_;
    return true;
  }
  if (queued_.insert(gid).second) queue_.push_back(gid);
  return false;
}

void CallLimiter::Release() {
  tcc::MutexLock lock(&mu_);
  --background_;
}

std::optional<std::string> CallLimiter::PopWaiting() {
  tcc::MutexLock lock(&mu_);
  if (queue_.empty() || background_ >= max_background_) return std::nullopt;
  std::string gid = std::move(queue_.front());
  queue_.pop_front();
  queued_.erase(gid);
  return gid;
}

void CallLimiter::CallStarted() {
  tcc::MutexLock lock(&mu_);
  ++in_flight_;
}

void CallLimiter::CallFinished() {
  tcc::MutexLock lock(&mu_);
  --in_flight_;
}

bool CallLimiter::WaitUntilIdle(absl::Duration grace) {
  tcc::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
  return mu_.AwaitWithTimeout(tcc::Condition(&idle), grace);
}

int CallLimiter::background_in_use() const {
  tcc::MutexLock lock(&mu_);
  return background_;
}

size_t CallLimiter::waiting() const {
  tcc::MutexLock lock(&mu_);
  return queue_.size();
}

}  // namespace tcc
