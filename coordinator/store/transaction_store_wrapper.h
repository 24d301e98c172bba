// A TransactionStore that forwards every call to another, as leveldb's
// EnvWrapper does for Env: fault-injecting and instrumenting stores derive
// from it and override only what they change. Same threading as the store
// it wraps.
#pragma once

#include <memory>

#include "coordinator/store/transaction_store.h"

namespace tcc {

class TransactionStoreWrapper : public TransactionStore {
 public:
  explicit TransactionStoreWrapper(std::unique_ptr<TransactionStore> inner)
      : inner_(std::move(inner)) {}

  absl::Status BeginBatch() override { return inner_->BeginBatch(); }
  // BeginReplayableBatch and ReplayBatch are left to TransactionStore's
  // defaults (an ordinary batch): forwarded, they would bypass a wrapper's
  // own BeginBatch, and a wrapper that injects answers cannot presume them.
  absl::Status CommitBatch() override { return inner_->CommitBatch(); }
  void AbortBatch() override { inner_->AbortBatch(); }
  absl::Status BeginOperation() override { return inner_->BeginOperation(); }
  void EndOperation(bool keep) override { inner_->EndOperation(keep); }
  size_t MaxOperationsPerBatch() const override { return inner_->MaxOperationsPerBatch(); }
  absl::StatusOr<bool> Create(const GlobalTransaction& gt) override { return inner_->Create(gt); }
  absl::Status Update(const TransactionUpdate& update) override { return inner_->Update(update); }
  absl::StatusOr<std::optional<GlobalTransaction>> Find(absl::string_view gid) override {
    return inner_->Find(gid);
  }
  absl::StatusOr<std::vector<GlobalTransaction>> LoadUnfinished() override {
    return inner_->LoadUnfinished();
  }
  absl::StatusOr<std::vector<GlobalTransaction>> ClaimOrphans(size_t limit) override {
    return inner_->ClaimOrphans(limit);
  }
  absl::Status AppendEvents(absl::string_view gid,
                            const std::vector<TimelineEvent>& events) override {
    return inner_->AppendEvents(gid, events);
  }
  absl::StatusOr<size_t> DeleteFinishedBefore(int64_t before_ms, size_t limit) override {
    return inner_->DeleteFinishedBefore(before_ms, limit);
  }
  absl::StatusOr<size_t> DeleteFinished(const std::vector<std::string>& gids) override {
    return inner_->DeleteFinished(gids);
  }
  absl::StatusOr<std::unique_ptr<TransactionQueries>> OpenQueries() override {
    return inner_->OpenQueries();
  }

 protected:
  TransactionStore& inner() { return *inner_; }

 private:
  std::unique_ptr<TransactionStore> inner_;
};

}  // namespace tcc
