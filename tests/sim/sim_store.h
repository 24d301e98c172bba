// The simulator's disk and group commit. SimStore is a TransactionStore
// whose committed batches are the durable state (what survives a crash) and
// whose open batch is a working copy: a batch can fail at commit (an
// injected fault), and then nothing of it persists. SimStoreQueue is the
// engine's StoreExecutor for one coordinator incarnation: queued operations
// wait for a batch event (the fsync's delay), run in one batch, and their
// completions run in a later event, so a crash can land before a batch
// (its operations are lost) or between a batch and its completions (durable
// but never acknowledged), as with tccd's StoreQueue and kill -9.
//
// Two disk faults: a write that fails (one operation's error, as SQLite
// reports a full disk on one statement: the rest of the batch commits), and
// a whole batch whose commit fails (reads included).
//
// Not thread-safe: run on the simulator's thread only.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/store/store_executor.h"
#include "coordinator/store/transaction_store.h"
#include "tests/sim/sim_loop.h"

namespace tcc::sim {

class SimStore final : public TransactionStore {
 public:
  using Table = std::map<std::string, GlobalTransaction, std::less<>>;

  explicit SimStore(SimLoop* loop) : loop_(loop) {}

  // Probability that one Create or Update fails; 0 once healed.
  void set_write_failure(double probability) { write_failure_ = probability; }
  // Probability that a batch's commit fails; 0 once healed.
  void set_commit_failure(double probability) { commit_failure_ = probability; }
  // What a crash keeps.
  const Table& durable() const { return durable_; }

  absl::Status BeginBatch() override;
  absl::Status CommitBatch() override;
  void AbortBatch() override;
  absl::Status BeginOperation() override;
  void EndOperation(bool keep) override;

  absl::StatusOr<bool> Create(const GlobalTransaction& gt) override;
  absl::Status Update(const TransactionUpdate& update) override;
  absl::StatusOr<std::optional<GlobalTransaction>> Find(absl::string_view gid) override;
  absl::StatusOr<std::vector<GlobalTransaction>> LoadUnfinished() override;
  absl::Status AppendEvents(absl::string_view gid,
                            const std::vector<TimelineEvent>& events) override {
    return absl::OkStatus();  // Timelines are not checked.
  }

 private:
  SimLoop* const loop_;
  absl::Status MaybeFailWrite(absl::string_view gid);

  double write_failure_ = 0;
  double commit_failure_ = 0;
  Table durable_;
  Table working_;    // The open batch.
  Table before_op_;  // The open batch before the running operation.
};

class SimStoreQueue final : public StoreExecutor {
 public:
  SimStoreQueue(SimLoop* loop, SimStore* store, Life life)
      : loop_(loop), store_(store), life_(life) {}

  absl::Status Submit(Operation operation, Completion done) override;
  // Runs `operation` in a batch of its own at once (start-up only).
  absl::Status RunAndWait(Operation operation) override;

  bool idle() const { return queue_.empty() && completions_pending_ == 0; }

 private:
  struct Pending {
    Operation operation;
    Completion done;
  };
  void ScheduleBatch();
  void RunBatch();

  SimLoop* const loop_;
  SimStore* const store_;
  const Life life_;
  std::deque<Pending> queue_;
  bool batch_scheduled_ = false;
  bool blocked_ = false;  // Until a failed batch's completions ran.
  size_t completions_pending_ = 0;
};

}  // namespace tcc::sim
