#include "tcc/sdk/worker_pool.h"

#include <utility>

namespace tcc::sdk {

WorkerPool::WorkerPool(int threads, int max_queued)
    : max_queued_(static_cast<size_t>(max_queued < 1 ? 1 : max_queued)) {
  for (int i = 0; i < (threads < 1 ? 1 : threads); ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() {
  {
    tcc::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

bool WorkerPool::TrySubmit(std::function<void()> task) {
  tcc::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= max_queued_) return false;
  queue_.push_back(std::move(task));
  return true;
}

void WorkerPool::Loop() {
  while (true) {
    std::function<void()> task;
    {
      tcc::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(tcc::Condition(&ready));
      // Drain before stopping: a queued task owns an unfinished RPC.
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace tcc::sdk
