// Helpers the store tests share: a sample GT with a binary payload and
// headers, running work inside one batch as the StoreQueue does, and
// holding a queue's writer while operations queue up.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "coordinator/store/store_executor.h"
#include "coordinator/store/transaction_store.h"
#include "tcc/common/notification.h"

namespace tcc::testing {

inline GlobalTransaction SampleTransaction(const std::string& gid) {
  GlobalTransaction gt;
  gt.gid = gid;
  gt.created_ms = 1000;
  gt.updated_ms = 1001;
  gt.timeout_ms = 5000;
  gt.deadline_ms = 6000;
  gt.status_endpoint = "127.0.0.1:9000";
  Branch branch{.branch_id = "b1", .target = "127.0.0.1:7501", .action = "points.freeze"};
  branch.payload = std::string("\0binary\xff", 8);
  branch.headers = {{"trace", "abc"}, {"tenant", ""}};
  gt.branches.push_back(branch);
  return gt;
}

// Runs `work` in one batch; aborts the batch if it fails, commits otherwise.
inline absl::Status InBatch(TransactionStore& store, const std::function<absl::Status()>& work) {
  if (absl::Status begun = store.BeginBatch(); !begun.ok()) return begun;
  absl::Status result = work();
  if (!result.ok()) {
    store.AbortBatch();
    return result;
  }
  return store.CommitBatch();
}

// Holds a queue's writer inside one operation until Release, so that the
// operations submitted meanwhile wait behind it (and go in the next batch).
// Declare it before the queue: the writer may still be leaving the held
// operation when a test ends.
class WriterHold {
 public:
  // Submits the holding operation and returns once the writer runs it.
  absl::Status Hold(StoreExecutor& queue) {
    absl::Status submitted = queue.Submit(
        [this](TransactionStore&) {
          held_.Notify();
          release_.WaitForNotification();
          return absl::OkStatus();
        },
        [](absl::Status) {});
    if (submitted.ok()) held_.WaitForNotification();
    return submitted;
  }
  void Release() { release_.Notify(); }

 private:
  tcc::Notification held_;
  tcc::Notification release_;
};

}  // namespace tcc::testing
