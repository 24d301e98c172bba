#include "coordinator/store/transaction_write.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "tcc/common/status_macros.h"

namespace tcc {

GlobalTransaction HeaderOf(const GlobalTransaction& gt) {
  GlobalTransaction header;
  header.gid = gt.gid;
  header.mode = gt.mode;
  header.state = gt.state;
  header.created_ms = gt.created_ms;
  header.updated_ms = gt.updated_ms;
  header.timeout_ms = gt.timeout_ms;
  header.deadline_ms = gt.deadline_ms;
  header.status_endpoint = gt.status_endpoint;
  header.stuck = gt.stuck;
  header.decision_reason = gt.decision_reason;
  header.owner = gt.owner;
  header.epoch = gt.epoch;
  header.traceparent = gt.traceparent;
  return header;
}

Branch ProgressOf(const Branch& branch) {
  Branch progress;
  progress.branch_id = branch.branch_id;
  progress.state = branch.state;
  progress.attempts = branch.attempts;
  progress.last_error = branch.last_error;
  progress.next_retry_ms = branch.next_retry_ms;
  progress.action_sent = branch.action_sent;
  return progress;
}

TransactionWrite TransactionWrite::Of(const GlobalTransaction& gt, const std::vector<size_t>& added,
                                      const std::vector<size_t>& changed,
                                      std::vector<TimelineEvent> events) {
  TransactionWrite write;
  write.header_ = HeaderOf(gt);
  if (!added.empty()) write.first_new_position_ = added.front();
  for (size_t index : added) write.added_.push_back(gt.branches[index]);
  for (size_t index : changed) write.changed_.push_back(ProgressOf(gt.branches[index]));
  write.events_ = std::move(events);
  write.expected_owner_ = gt.owner;
  write.expected_epoch_ = gt.epoch;
  return write;
}

absl::Status TransactionWrite::ApplyTo(TransactionStore& store) const {
  TransactionUpdate update;
  update.header = &header_;
  update.first_new_position = first_new_position_;
  for (const Branch& branch : added_) update.new_branches.push_back(&branch);
  for (const Branch& branch : changed_) update.changed_branches.push_back(&branch);
  update.events = events_;
  update.expected_owner = expected_owner_;
  update.expected_epoch = expected_epoch_;
  return store.Update(update);
}

absl::StatusOr<CreateOrLoadResult> CreateOrLoad(TransactionStore& store, GlobalTransaction gt,
                                                const TimelineEvent& first_event) {
  CreateOrLoadResult result;
  TCC_ASSIGN_OR_RETURN(result.created, store.Create(gt));
  if (result.created) {
    TCC_RETURN_IF_ERROR(store.AppendEvents(gt.gid, {first_event}));
    result.gt = std::move(gt);
    return result;
  }
  TCC_ASSIGN_OR_RETURN(std::optional<GlobalTransaction> existing, store.Find(gt.gid));
  if (!existing) {
    return absl::InternalError(
        absl::StrCat("transaction ", gt.gid, " was reported present but could not be read"));
  }
  result.gt = std::move(*existing);
  return result;
}

}  // namespace tcc
