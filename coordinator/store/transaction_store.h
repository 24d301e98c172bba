// The coordinator's durable storage, behind one small interface so that the
// embedded SQLite store, an in-memory store for unit tests, fault-injecting
// wrappers and (later) PostgreSQL are interchangeable.
//
// A store is used from one thread at a time (the StoreQueue's writer
// thread). Work between BeginBatch and CommitBatch is one atomic unit that
// is durable once CommitBatch returns OK: that is how many transactions'
// writes share one fsync (group commit).
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coordinator/domain/transaction.h"
#include "coordinator/store/transaction_queries.h"

namespace tcc {

// A change to one GT: its header fields (state, timestamps, flags), branches
// registered for the first time (with payload), and branches whose progress
// changed (state, attempts, error, retry time; payload is never rewritten).
struct TransactionUpdate {
  const GlobalTransaction* header = nullptr;  // Required.
  // Appended after the stored ones; the first takes position
  // `first_new_position` (its index in the GT's branch list).
  std::vector<const Branch*> new_branches;
  size_t first_new_position = 0;
  std::vector<const Branch*> changed_branches;
  std::vector<TimelineEvent> events;
  // The owner and epoch the writer last knew (the fence). A store shared by
  // several coordinators writes only if they are still the stored ones,
  // and then stores header->owner and header->epoch (a claim when they
  // differ); otherwise it writes nothing and answers OwnershipMovedError.
  // One-owner stores ignore them.
  std::string expected_owner;
  int64_t expected_epoch = 0;
};

class TransactionStore {
 public:
  virtual ~TransactionStore() = default;

  virtual absl::Status BeginBatch() = 0;
  // A batch its caller can run again from the start (the StoreQueue keeps
  // its operations): the store may then send the writes without waiting
  // for their answers, presuming each succeeds, and judge the answers at
  // CommitBatch. If one differs from the presumed one, CommitBatch writes
  // nothing and fails, and ReplayBatch says so: the caller runs the batch
  // again with BeginBatch, which answers every call as it happens.
  virtual absl::Status BeginReplayableBatch() { return BeginBatch(); }
  // After CommitBatch (or a call in the batch) failed: whether the batch
  // was replayable and only an answer differing from the presumed one
  // failed it, so that running it again with BeginBatch gives each
  // operation its true answer.
  virtual bool ReplayBatch() const { return false; }
  virtual absl::Status CommitBatch() = 0;
  // Discards the batch after a failure. Best effort.
  virtual void AbortBatch() = 0;
  // Brackets one operation inside a batch, so that an operation failing
  // half-way leaves none of its writes while the rest of the batch commits.
  virtual absl::Status BeginOperation() = 0;
  virtual void EndOperation(bool keep) = 0;
  // The most operations one batch should hold (the queue starts another
  // beyond it), where a bigger batch costs the store more per operation.
  virtual size_t MaxOperationsPerBatch() const { return std::numeric_limits<size_t>::max(); }

  // Inserts a new GT (header and branches). Returns false, writing nothing,
  // when the gid already exists.
  virtual absl::StatusOr<bool> Create(const GlobalTransaction& gt) = 0;
  virtual absl::Status Update(const TransactionUpdate& update) = 0;
  virtual absl::StatusOr<std::optional<GlobalTransaction>> Find(absl::string_view gid) = 0;
  // Every GT that is not final, with its branches: what a restart resumes.
  // A store shared by several coordinators returns those this one may
  // drive: its own and, claimed for it, those of no live instance.
  virtual absl::StatusOr<std::vector<GlobalTransaction>> LoadUnfinished() = 0;
  // Claims up to `limit` unfinished GTs whose owner is gone (released, or
  // its heartbeat older than the lease) and returns them with their
  // branches, each with its new owner and epoch. One-owner stores have
  // nothing to claim.
  virtual absl::StatusOr<std::vector<GlobalTransaction>> ClaimOrphans(size_t limit) {
    return std::vector<GlobalTransaction>{};
  }
  // Appends to the timeline of a GT created in the same operation.
  virtual absl::Status AppendEvents(absl::string_view gid,
                                    const std::vector<TimelineEvent>& events) = 0;

  // Deletes up to `limit` final GTs last updated before `before_ms`, each
  // with its branches and timeline, oldest first; returns how many. Never
  // touches an unfinished GT, however old. For retention.
  virtual absl::StatusOr<size_t> DeleteFinishedBefore(int64_t before_ms, size_t limit) {
    return absl::UnimplementedError("this store cannot delete finished transactions");
  }
  // Deletes the GTs `gids` that are final (with their branches and
  // timeline); skips unknown and unfinished ones; returns how many went.
  // For retention after archiving.
  virtual absl::StatusOr<size_t> DeleteFinished(const std::vector<std::string>& gids) {
    return absl::UnimplementedError("this store cannot delete finished transactions");
  }

  // A separate read-only view for operators' queries, usable from another
  // thread while this store writes.
  virtual absl::StatusOr<std::unique_ptr<TransactionQueries>> OpenQueries() {
    return absl::UnimplementedError("this store offers no admin queries");
  }
};

}  // namespace tcc
