// A TransactionStore wrapper for tests that fails Update as a full or
// broken disk would: `budget` counts the updates still let through; at 0
// every update fails; negative means never fail. Everything else passes.
#pragma once

#include <atomic>
#include <memory>

#include "coordinator/store/transaction_store.h"

namespace tcc::testing {

class FailingStore final : public TransactionStore {
 public:
  FailingStore(std::unique_ptr<TransactionStore> inner, std::shared_ptr<std::atomic<int>> budget)
      : inner_(std::move(inner)), budget_(std::move(budget)) {}

  absl::Status BeginBatch() override { return inner_->BeginBatch(); }
  absl::Status CommitBatch() override { return inner_->CommitBatch(); }
  void AbortBatch() override { inner_->AbortBatch(); }
  absl::Status BeginOperation() override { return inner_->BeginOperation(); }
  void EndOperation(bool keep) override { inner_->EndOperation(keep); }
  absl::StatusOr<bool> Create(const GlobalTransaction& gt) override { return inner_->Create(gt); }
  absl::Status Update(const TransactionUpdate& update) override {
    if (*budget_ == 0) return absl::UnavailableError("injected: disk full");
    if (*budget_ > 0) --*budget_;
    return inner_->Update(update);
  }
  absl::StatusOr<std::optional<GlobalTransaction>> Find(absl::string_view gid) override {
    return inner_->Find(gid);
  }
  absl::StatusOr<std::vector<GlobalTransaction>> LoadUnfinished() override {
    return inner_->LoadUnfinished();
  }
  absl::Status AppendEvents(absl::string_view gid,
                            const std::vector<TimelineEvent>& events) override {
    return inner_->AppendEvents(gid, events);
  }

 private:
  std::unique_ptr<TransactionStore> inner_;
  std::shared_ptr<std::atomic<int>> budget_;
};

}  // namespace tcc::testing
