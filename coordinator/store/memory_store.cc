#include "coordinator/store/memory_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tcc {
namespace {

// Copies the header fields of `from` without touching branches.
void CopyHeader(const GlobalTransaction& from, GlobalTransaction& to) {
  std::vector<Branch> branches = std::move(to.branches);
  to = from;
  to.branches = std::move(branches);
}

}  // namespace

absl::Status MemoryStore::BeginOperation() {
  tcc::MutexLock lock(&mu_);
  in_operation_ = true;
  undo_.clear();
  return absl::OkStatus();
}

void MemoryStore::EndOperation(bool keep) {
  tcc::MutexLock lock(&mu_);
  if (!keep) {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) Restore(*it);
  }
  undo_.clear();
  in_operation_ = false;
}

void MemoryStore::Save(const std::string& gid) {
  if (!in_operation_) return;
  Saved saved{.gid = gid};
  if (auto it = transactions_.find(gid); it != transactions_.end()) saved.transaction = it->second;
  if (auto it = events_.find(gid); it != events_.end()) saved.events = it->second;
  undo_.push_back(std::move(saved));
}

void MemoryStore::Restore(Saved& saved) {
  if (saved.transaction) {
    transactions_[saved.gid] = std::move(*saved.transaction);
  } else {
    transactions_.erase(saved.gid);
  }
  if (saved.events) {
    events_[saved.gid] = std::move(*saved.events);
  } else {
    events_.erase(saved.gid);
  }
}

absl::StatusOr<bool> MemoryStore::Create(const GlobalTransaction& gt) {
  tcc::MutexLock lock(&mu_);
  if (transactions_.contains(gt.gid)) return false;
  Save(gt.gid);
  return transactions_.emplace(gt.gid, gt).second;
}

absl::Status MemoryStore::Update(const TransactionUpdate& update) {
  tcc::MutexLock lock(&mu_);
  auto it = transactions_.find(update.header->gid);
  if (it == transactions_.end()) {
    return absl::NotFoundError(absl::StrCat("no transaction ", update.header->gid));
  }
  Save(it->first);
  GlobalTransaction& stored = it->second;
  CopyHeader(*update.header, stored);
  for (const Branch* branch : update.new_branches) stored.branches.push_back(*branch);
  for (const Branch* changed : update.changed_branches) {
    Branch* target = stored.FindBranch(changed->branch_id);
    if (target == nullptr) {
      return absl::NotFoundError(absl::StrCat("no branch ", changed->branch_id));
    }
    // Progress only, as the SQLite store does: the rest never changes.
    target->state = changed->state;
    target->attempts = changed->attempts;
    target->last_error = changed->last_error;
    target->next_retry_ms = changed->next_retry_ms;
    target->action_sent = changed->action_sent;
  }
  auto& timeline = events_[stored.gid];
  timeline.insert(timeline.end(), update.events.begin(), update.events.end());
  return absl::OkStatus();
}

absl::StatusOr<size_t> MemoryStore::DeleteFinishedBefore(int64_t before_ms, size_t limit) {
  tcc::MutexLock lock(&mu_);
  std::vector<std::pair<int64_t, std::string>> old;  // Oldest first, as SQLite deletes.
  for (const auto& [gid, gt] : transactions_) {
    if (IsFinal(gt.state) && gt.updated_ms < before_ms) old.emplace_back(gt.updated_ms, gid);
  }
  std::sort(old.begin(), old.end());
  if (old.size() > limit) old.resize(limit);
  for (const auto& [unused, gid] : old) {
    Save(gid);
    transactions_.erase(gid);
    events_.erase(gid);
  }
  return old.size();
}

absl::StatusOr<size_t> MemoryStore::DeleteFinished(const std::vector<std::string>& gids) {
  tcc::MutexLock lock(&mu_);
  size_t deleted = 0;
  for (const std::string& gid : gids) {
    auto it = transactions_.find(gid);
    if (it == transactions_.end() || !IsFinal(it->second.state)) continue;
    Save(gid);
    transactions_.erase(gid);
    events_.erase(gid);
    ++deleted;
  }
  return deleted;
}

absl::Status MemoryStore::AppendEvents(absl::string_view gid,
                                       const std::vector<TimelineEvent>& events) {
  tcc::MutexLock lock(&mu_);
  Save(std::string(gid));
  auto& timeline = events_[std::string(gid)];
  timeline.insert(timeline.end(), events.begin(), events.end());
  return absl::OkStatus();
}

absl::StatusOr<std::optional<GlobalTransaction>> MemoryStore::Find(absl::string_view gid) {
  tcc::MutexLock lock(&mu_);
  auto it = transactions_.find(gid);
  if (it == transactions_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::vector<GlobalTransaction>> MemoryStore::LoadUnfinished() {
  tcc::MutexLock lock(&mu_);
  std::vector<GlobalTransaction> unfinished;
  for (const auto& [gid, gt] : transactions_) {
    if (!IsFinal(gt.state)) unfinished.push_back(gt);
  }
  return unfinished;
}

}  // namespace tcc
