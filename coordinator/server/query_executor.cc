#include "coordinator/server/query_executor.h"

#include "absl/strings/str_cat.h"

namespace tcc {

QueryExecutor::QueryExecutor(std::unique_ptr<TransactionQueries> queries, size_t max_pending)
    : queries_(std::move(queries)), max_pending_(max_pending), worker_([this] { Loop(); }) {}

QueryExecutor::~QueryExecutor() { Stop(); }

absl::Status QueryExecutor::Submit(Query query) {
  tcc::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("the coordinator is shutting down");
  if (pending_.size() >= max_pending_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many admin queries waiting (", max_pending_, "); retry later"));
  }
  pending_.push_back(std::move(query));
  return absl::OkStatus();
}

void QueryExecutor::Stop() {
  {
    tcc::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
}

void QueryExecutor::Loop() {
  while (true) {
    Query next;
    {
      tcc::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !pending_.empty();
      };
      mu_.Await(tcc::Condition(&has_work));
      if (pending_.empty()) return;
      next = std::move(pending_.front());
      pending_.pop_front();
    }
    next(*queries_);
  }
}

}  // namespace tcc
