// A background caller for tests that change something under load (e.g. a
// certificate rotated on disk): runs `call(i)` for i = 0, 1, 2, ... on its
// own thread until stopped, counting the calls and the failures and keeping
// the last error. Accessors are thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "tcc/common/mutex.h"

namespace tcc::testing {

class CallLoad {
 public:
  explicit CallLoad(std::function<absl::Status(int)> call) : call_(std::move(call)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~CallLoad() { Stop(); }
  CallLoad(const CallLoad&) = delete;
  CallLoad& operator=(const CallLoad&) = delete;

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int calls() const { return calls_; }
  int failures() const { return failures_; }
  std::string last_error() const {
    tcc::MutexLock lock(&mu_);
    return last_error_;
  }

 private:
  void Run() {
    for (int i = 0; !stop_; ++i) Count(call_(i));
  }
  void Count(const absl::Status& status) {
    ++calls_;
    if (status.ok()) return;
    ++failures_;
    tcc::MutexLock lock(&mu_);
    last_error_ = status.ToString();
  }

  const std::function<absl::Status(int)> call_;
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0};
  std::atomic<int> failures_{0};
  mutable tcc::Mutex mu_;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace tcc::testing
