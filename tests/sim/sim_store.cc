#include "tests/sim/sim_store.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tcc::sim {
namespace {

constexpr size_t kMaxBatch = 64;

}  // namespace

absl::Status SimStore::BeginBatch() {
  working_ = durable_;
  return absl::OkStatus();
}

absl::Status SimStore::CommitBatch() {
  if (loop_->Chance(commit_failure_)) {
    loop_->Note("store: commit fails (injected disk error)");
    return absl::UnavailableError("simulated disk error at commit");
  }
  durable_ = std::move(working_);
  working_.clear();
  return absl::OkStatus();
}

void SimStore::AbortBatch() { working_.clear(); }

absl::Status SimStore::BeginOperation() {
  before_op_ = working_;
  return absl::OkStatus();
}

void SimStore::EndOperation(bool keep) {
  if (!keep) working_ = std::move(before_op_);
  before_op_.clear();
}

absl::Status SimStore::MaybeFailWrite(absl::string_view gid) {
  if (!loop_->Chance(write_failure_)) return absl::OkStatus();
  loop_->Note(absl::StrCat("store: write of ", gid, " fails (injected disk error)"));
  return absl::ResourceExhaustedError("simulated disk full");
}

absl::StatusOr<bool> SimStore::Create(const GlobalTransaction& gt) {
  if (absl::Status failed = MaybeFailWrite(gt.gid); !failed.ok()) return failed;
  return working_.emplace(gt.gid, gt).second;
}

absl::Status SimStore::Update(const TransactionUpdate& update) {
  if (absl::Status failed = MaybeFailWrite(update.header->gid); !failed.ok()) return failed;
  auto it = working_.find(update.header->gid);
  if (it == working_.end()) {
    return absl::NotFoundError(absl::StrCat("no transaction ", update.header->gid));
  }
  GlobalTransaction& stored = it->second;
  std::vector<Branch> branches = std::move(stored.branches);
  stored = *update.header;
  stored.branches = std::move(branches);
  for (const Branch* branch : update.new_branches) stored.branches.push_back(*branch);
  for (const Branch* changed : update.changed_branches) {
    Branch* target = stored.FindBranch(changed->branch_id);
    if (target == nullptr)
      return absl::NotFoundError(absl::StrCat("no branch ", changed->branch_id));
    // Progress only, as the SQLite store does.
    target->state = changed->state;
    target->attempts = changed->attempts;
    target->last_error = changed->last_error;
    target->next_retry_ms = changed->next_retry_ms;
    target->action_sent = changed->action_sent;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<GlobalTransaction>> SimStore::Find(absl::string_view gid) {
  auto it = working_.find(gid);
  if (it == working_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::vector<GlobalTransaction>> SimStore::LoadUnfinished() {
  std::vector<GlobalTransaction> unfinished;
  for (const auto& [gid, gt] : working_) {
    if (!IsFinal(gt.state)) unfinished.push_back(gt);
  }
  return unfinished;
}

absl::Status SimStoreQueue::Submit(Operation operation, Completion done) {
  if (!*life_) return absl::UnavailableError("the simulated coordinator has crashed");
  queue_.push_back({std::move(operation), std::move(done)});
  ScheduleBatch();
  return absl::OkStatus();
}

absl::Status SimStoreQueue::RunAndWait(Operation operation) {
  absl::Status result = store_->BeginBatch();
  if (!result.ok()) return result;
  result = store_->BeginOperation();
  if (result.ok()) result = operation(*store_);
  store_->EndOperation(result.ok());
  absl::Status committed = store_->CommitBatch();
  if (!committed.ok()) {
    store_->AbortBatch();
    return committed;
  }
  return result;
}

void SimStoreQueue::ScheduleBatch() {
  if (batch_scheduled_ || blocked_ || queue_.empty()) return;
  batch_scheduled_ = true;
  loop_->After(loop_->Between(absl::Microseconds(200), absl::Milliseconds(5)), "store: batch",
               Guard(life_, [this] { RunBatch(); }));
}

void SimStoreQueue::RunBatch() {
  batch_scheduled_ = false;
  std::vector<Pending> batch;
  while (!queue_.empty() && batch.size() < kMaxBatch) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  auto results = std::make_shared<std::vector<absl::Status>>();
  absl::Status batch_status = store_->BeginBatch();
  for (Pending& pending : batch) {
    absl::Status result = batch_status;
    if (result.ok()) result = store_->BeginOperation();
    if (result.ok()) result = pending.operation(*store_);
    if (batch_status.ok()) store_->EndOperation(result.ok());
    results->push_back(std::move(result));
  }
  if (batch_status.ok()) batch_status = store_->CommitBatch();
  if (!batch_status.ok()) {
    store_->AbortBatch();
    for (absl::Status& result : *results) {
      if (result.ok()) result = batch_status;
    }
  }
  loop_->Note(absl::StrCat("store: ", batch.size(), " operations, ",
                           batch_status.ok() ? "durable" : "lost"));
  completions_pending_ += batch.size();
  auto dones = std::make_shared<std::vector<Pending>>(std::move(batch));
  const bool failed = !batch_status.ok();
  // As StoreQueue: a failed batch's completions run before the next batch.
  if (failed) blocked_ = true;
  loop_->After(loop_->Between(absl::ZeroDuration(), absl::Milliseconds(2)), "store: completions",
               Guard(life_, [this, dones, results, failed] {
                 completions_pending_ -= dones->size();
                 for (size_t i = 0; i < dones->size(); ++i) {
                   if ((*dones)[i].done) (*dones)[i].done((*results)[i]);
                 }
                 if (failed) {
                   blocked_ = false;
                   ScheduleBatch();
                 }
               }));
  ScheduleBatch();
}

}  // namespace tcc::sim
