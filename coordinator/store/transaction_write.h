// What one engine write of a GT contains, taken as an owning snapshot so it
// can be applied later on the store's writer thread while the engine goes
// on changing its in-memory copy; and the one create-or-load operation that
// Begin and SubmitSaga share. Knows which fields each store write touches
// (a header write never carries branches; a progress write never carries a
// branch's payload), so that knowledge lives beside the store, not in the
// engine. Plain values: not thread-safe, each snapshot has one owner.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coordinator/domain/transaction.h"
#include "coordinator/store/transaction_store.h"

namespace tcc {

class TransactionWrite {
 public:
  // Snapshots `gt`'s header, the branches at `added` (whole, with payload;
  // they must be the last ones, in order) and the progress of the branches
  // at `changed`, with `events` to append to the timeline.
  static TransactionWrite Of(const GlobalTransaction& gt, const std::vector<size_t>& added,
                             const std::vector<size_t>& changed, std::vector<TimelineEvent> events);

  // The owner and epoch the write is fenced on (TransactionUpdate's
  // expected_*): those the GT had before this write, which differ from the
  // snapshot's when the write claims it.
  void ExpectOwner(std::string owner, int64_t epoch) {
    expected_owner_ = std::move(owner);
    expected_epoch_ = epoch;
  }

  // Writes the snapshot as one TransactionUpdate.
  absl::Status ApplyTo(TransactionStore& store) const;

 private:
  GlobalTransaction header_;  // Without branches.
  std::vector<Branch> added_;
  std::vector<Branch> changed_;  // Progress fields only.
  size_t first_new_position_ = 0;
  std::vector<TimelineEvent> events_;
  std::string expected_owner_;
  int64_t expected_epoch_ = 0;
};

// The GT's header fields without its branches.
GlobalTransaction HeaderOf(const GlobalTransaction& gt);

// A branch's progress fields (state, attempts, error, retry time, action
// mark), without the payload that a progress write never rewrites.
Branch ProgressOf(const Branch& branch);

// Inserts `gt` with `first_event` in its timeline if its gid is new.
// Otherwise reads back the stored GT (an idempotent repeat, or a clash the
// caller judges). Decides between concurrent creations of one gid.
struct CreateOrLoadResult {
  bool created = false;
  GlobalTransaction gt;  // The new GT, or the stored one.
};
absl::StatusOr<CreateOrLoadResult> CreateOrLoad(TransactionStore& store, GlobalTransaction gt,
                                                const TimelineEvent& first_event);

}  // namespace tcc
