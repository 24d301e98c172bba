// A tiny points service used by the barrier and server tests: Try freezes
// points (refused when the balance is short), Confirm deducts them, Cancel
// unfreezes them. Every handler counts its runs and can be told to fail
// after writing, to prove that the failure rolls its writes back.
//
// Thread-safety: handlers may run concurrently; counters are atomic and the
// failure switches are set before the calls they affect.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "tcc/common/mutex.h"
#include "tcc/sdk/barrier.h"
#include "tcc/sdk/local_db.h"

namespace tcc::sdk::testing {

class PointsService {
 public:
  // Creates the accounts table with one user holding `balance` points.
  absl::Status Setup(Database& db, const std::string& user, int64_t balance);

  // payload: "<user>:<points>".
  ActionHandlers Handlers();

  static BranchRequest Request(const std::string& gid, const std::string& branch,
                               const std::string& user, int64_t points);

  std::atomic<int> try_runs{0};
  std::atomic<int> confirm_runs{0};
  std::atomic<int> cancel_runs{0};
  // When set, the handler writes, then returns UNAVAILABLE.
  std::atomic<bool> fail_try{false};
  std::atomic<bool> fail_confirm{false};
  std::atomic<bool> fail_cancel{false};

  // "phase gid traceparent" for each handler run whose request carried the
  // trace context header (barrier.h's kTraceparentHeader), in order.
  std::vector<std::string> traced_runs() const;

 private:
  void NoteTrace(const char* phase, const BranchRequest& request);
  TryResult Freeze(LocalTx& tx, const BranchRequest& request);
  absl::Status Deduct(LocalTx& tx, const BranchRequest& request);
  absl::Status Unfreeze(LocalTx& tx, const BranchRequest& request);

  mutable tcc::Mutex mu_;
  std::vector<std::string> traced_runs_ ABSL_GUARDED_BY(mu_);
};

// Balance and frozen points of a user (-1 when absent).
int64_t Balance(Database& db, const std::string& user);
int64_t Frozen(Database& db, const std::string& user);
// Rows in the barrier table.
int64_t BarrierRows(Database& db);

}  // namespace tcc::sdk::testing
