#include "participant-sdk/src/sqlite_group_commit_database.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "tcc/common/status_macros.h"

namespace tcc::sdk::internal {
namespace {

constexpr char kSavepoint[] = "SAVEPOINT tcc_sdk_call";
constexpr char kRollbackToSavepoint[] = "ROLLBACK TO tcc_sdk_call";
constexpr char kReleaseSavepoint[] = "RELEASE tcc_sdk_call";

// Deferred keys are checked at COMMIT, which the group shares; checking them
// per call fails only the call that left one unresolved, with the code its
// own COMMIT would have given, instead of failing its whole group.
absl::Status CheckDeferredKeys(const SqliteConnection& conn) {
  if (!conn.HasUnresolvedDeferredKeys()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "sqlite: COMMIT: FOREIGN KEY constraint failed (a deferred key left unresolved)");
}

absl::Status CloseSavepoint(SqliteConnection& conn, bool keep) {
  if (keep) return conn.Run(kReleaseSavepoint);
  TCC_RETURN_IF_ERROR(conn.Run(kRollbackToSavepoint));
  return conn.Run(kReleaseSavepoint);
}

absl::Status CommitOrRollBack(SqliteConnection& conn) {
  absl::Status committed = conn.Run("COMMIT");
  if (committed.ok()) return committed;
  // Some errors leave the transaction open (SQLITE_BUSY), some end it.
  if (conn.InTransaction()) conn.Run("ROLLBACK").IgnoreError();
  // The COMMIT's own code: retrying a call whose commit hit a damaged file
  // or a full disk does not help, and UNAVAILABLE would say it does.
  return absl::Status(committed.code(),
                      absl::StrCat("the commit failed, so this call's writes were rolled back: ",
                                   committed.message()));
}

absl::Status Abandon(SqliteConnection& conn, const absl::Status& lost) {
  if (conn.InTransaction()) conn.Run("ROLLBACK").IgnoreError();
  return absl::UnavailableError(
      absl::StrCat("the transaction shared with other calls was lost, so this call's writes were "
                   "rolled back: ",
                   lost.message()));
}

}  // namespace

absl::Status GroupCommitDatabase::Open(const std::string& path, const SqliteOptions& options) {
  TCC_ASSIGN_OR_RETURN(conn_, OpenConnection(path, options, counters(), Access::kReadWrite));
  return absl::OkStatus();
}

absl::Status GroupCommitDatabase::RunInTransaction(TxFn fn) {
  tcc::MutexLock lock(&mu_);
  if (busy_ && turn_holder_ == std::this_thread::get_id()) {
    // Waiting for the turn this thread holds would hang forever.
    return absl::InternalError("RunInTransaction called from inside fn on the same Database");
  }
  // Counted under mu_: a test that sees the count knows the call joins a
  // group before any running call can finish and commit.
  CallInProgress in_progress(*this);
  for (;;) {
    std::shared_ptr<Group> group = JoinLocked();
    AwaitTurnLocked(*group);
    if (!group->done && !group->begun) BeginLocked(*group);
    if (group->done) {  // BEGIN failed for the whole group.
      --returning_;
      return group->outcome;
    }
    if (!group->lost.ok()) {
      // The transaction died before this call ran: try a later group.
      LeaveLocked(*group);
      continue;
    }
    CallResult mine = RunCallLocked(*group, fn);
    LeaveLocked(*group);
    auto committed = [&group]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return group->done; };
    mu_.Await(tcc::Condition(&committed));
    --returning_;
    if (mine.exception) std::rethrow_exception(mine.exception);
    return group->outcome.ok() ? mine.status : group->outcome;
  }
}

// Runs fn in a savepoint of the group's transaction: a failure (or a throw)
// rolls back fn's writes and nobody else's.
GroupCommitDatabase::CallResult GroupCommitDatabase::RunInSavepoint(SqliteConnection& conn,
                                                                    TxFn fn) {
  CallResult result;
  if (absl::Status opened = conn.Run(kSavepoint); !opened.ok()) {
    result.status = result.lost = opened;
    return result;
  }
  try {
    result.status = fn(conn);
  } catch (...) {
    result.exception = std::current_exception();
    result.status = absl::InternalError("fn threw");
  }
  if (result.status.ok()) result.status = CheckDeferredKeys(conn);
  if (!conn.InTransaction()) {
    result.lost = absl::InternalError(absl::StrCat(
        "the transaction ended inside a call that returned: ", result.status.ToString()));
    return result;
  }
  result.lost = CloseSavepoint(conn, result.status.ok());
  return result;
}

std::shared_ptr<GroupCommitDatabase::Group> GroupCommitDatabase::JoinLocked() {
  if (groups_.empty() || groups_.back()->sealed) groups_.push_back(std::make_shared<Group>());
  std::shared_ptr<Group> group = groups_.back();
  ++group->unfinished;
  if (++group->joined >= max_group_calls_) group->sealed = true;
  return group;
}

void GroupCommitDatabase::AwaitTurnLocked(const Group& group) {
  auto my_turn = [this, &group]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return group.done ||
           (groups_.front().get() == &group && !busy_ && (group.begun || returning_ == 0));
  };
  mu_.Await(tcc::Condition(&my_turn));
}

void GroupCommitDatabase::TakeConnectionLocked() {
  busy_ = true;
  turn_holder_ = std::this_thread::get_id();
}

void GroupCommitDatabase::BeginLocked(Group& group) {
  TakeConnectionLocked();
  mu_.Unlock();
  absl::Status begun = conn_->Run("BEGIN IMMEDIATE");
  mu_.Lock();
  busy_ = false;
  if (begun.ok()) {
    group.begun = true;
    return;
  }
  group.sealed = group.done = true;
  group.outcome = begun;
  returning_ += group.joined;
  groups_.pop_front();
}

GroupCommitDatabase::CallResult GroupCommitDatabase::RunCallLocked(Group& group, TxFn fn) {
  TakeConnectionLocked();
  mu_.Unlock();
  CallResult mine = RunInSavepoint(*conn_, fn);
  mu_.Lock();
  busy_ = false;
  ++group.ran;
  if (!mine.lost.ok() && group.lost.ok()) {
    group.lost = mine.lost;
    group.sealed = true;
  }
  return mine;
}

void GroupCommitDatabase::LeaveLocked(Group& group) {
  if (--group.unfinished > 0) return;
  group.sealed = true;
  absl::Status lost = group.lost;
  TakeConnectionLocked();
  mu_.Unlock();
  absl::Status outcome = lost.ok() ? CommitOrRollBack(*conn_) : Abandon(*conn_, lost);
  mu_.Lock();
  busy_ = false;
  group.outcome = std::move(outcome);
  group.done = true;
  returning_ += group.ran;  // The calls that did not run went to a later group.
  groups_.pop_front();
  CountTransaction(group.ran);
}

}  // namespace tcc::sdk::internal
