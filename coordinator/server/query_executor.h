// Runs operators' read queries one at a time on a thread of their own, so
// that an admin handler never blocks a gRPC thread and a slow query never
// delays the store's writer. Bounded: a full queue refuses new work with
// RESOURCE_EXHAUSTED. Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "coordinator/store/transaction_queries.h"
#include "tcc/common/mutex.h"

namespace tcc {

class QueryExecutor {
 public:
  using Query = std::function<void(TransactionQueries&)>;

  explicit QueryExecutor(std::unique_ptr<TransactionQueries> queries, size_t max_pending = 256);
  ~QueryExecutor();

  absl::Status Submit(Query query);
  void Stop();  // Runs what is queued, then joins.

 private:
  void Loop();

  std::unique_ptr<TransactionQueries> queries_;  // Used by the worker thread only.
  const size_t max_pending_;
  tcc::Mutex mu_;
  std::deque<Query> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace tcc
