// A fixed set of threads running queued tasks, with a bounded queue. The
// gRPC reactors hand their blocking database work here so that a callback
// thread never blocks; a full queue is refused at once (the caller answers
// RESOURCE_EXHAUSTED) instead of growing memory without bound. Services use
// it the same way for their own blocking work behind callback handlers.
//
// Thread-safety: TrySubmit may be called from any thread. The destructor
// runs every task already queued, then joins the threads.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "tcc/common/mutex.h"

namespace tcc::sdk {

class WorkerPool {
 public:
  WorkerPool(int threads, int max_queued);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the queue is full or the pool is stopping; the task is then
  // dropped and the caller must answer for it.
  bool TrySubmit(std::function<void()> task);

 private:
  void Loop();

  const size_t max_queued_;
  tcc::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace tcc::sdk
