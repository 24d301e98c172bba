// An in-memory TransactionStore for fast unit tests of the engine. Nothing
// survives the process. A failed operation's writes are undone (as a
// savepoint would), so the store contract holds; AbortBatch cannot undo a
// whole batch: this store never fails one, so the engine never needs it
// to. Thread-safe.
#pragma once

#include <map>

#include "absl/base/thread_annotations.h"
#include "coordinator/store/transaction_store.h"
#include "tcc/common/mutex.h"

namespace tcc {

class MemoryStore final : public TransactionStore {
 public:
  absl::Status BeginBatch() override { return absl::OkStatus(); }
  absl::Status CommitBatch() override { return absl::OkStatus(); }
  void AbortBatch() override {}
  absl::Status BeginOperation() override;
  void EndOperation(bool keep) override;

  absl::StatusOr<bool> Create(const GlobalTransaction& gt) override;
  absl::Status Update(const TransactionUpdate& update) override;
  absl::StatusOr<std::optional<GlobalTransaction>> Find(absl::string_view gid) override;
  absl::StatusOr<std::vector<GlobalTransaction>> LoadUnfinished() override;
  absl::Status AppendEvents(absl::string_view gid,
                            const std::vector<TimelineEvent>& events) override;
  absl::StatusOr<size_t> DeleteFinishedBefore(int64_t before_ms, size_t limit) override;
  absl::StatusOr<size_t> DeleteFinished(const std::vector<std::string>& gids) override;

 private:
  // One GT as it was before the running operation first changed it.
  struct Saved {
    std::string gid;
    std::optional<GlobalTransaction> transaction;
    std::optional<std::vector<TimelineEvent>> events;
  };

  void Save(const std::string& gid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Restore(Saved& saved) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  tcc::Mutex mu_;
  bool in_operation_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Saved> undo_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, GlobalTransaction, std::less<>> transactions_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<TimelineEvent>, std::less<>> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tcc
