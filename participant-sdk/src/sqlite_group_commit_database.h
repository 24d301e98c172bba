// The SQLite Database with group commit: concurrent RunInTransaction calls
// share one write connection, one SQLite transaction and one COMMIT (one
// fsync), each call's fn in a savepoint of its own.
//
// Group commit, the leveldb way (DBImpl::Write) but with fn always run by its
// own caller, so handlers keep their thread and their thread-locals. Calls
// queue in groups; the front group owns the one connection's transaction.
// Its calls take turns on the connection, each fn in a savepoint; the last
// one to finish commits for all, then every call of the group returns. While
// a group commits (fsyncs), new calls gather in the next group, which is how
// groups grow under load without any timer.
//
// Owns the write connection and the queue of groups. Thread-safe: mu_
// guards the queue, every field of every Group, busy_, turn_holder_ and
// returning_. The connection is used outside mu_, but only by the one
// thread that set busy_ (TakeConnectionLocked) until it clears it again.
#pragma once

#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "participant-sdk/src/sqlite_connection.h"
#include "participant-sdk/src/sqlite_database.h"
#include "tcc/common/mutex.h"
#include "tcc/sdk/local_db.h"

namespace tcc::sdk::internal {

class GroupCommitDatabase final : public SqliteDatabase {
 public:
  GroupCommitDatabase(const std::string& path, const SqliteOptions& options)
      : SqliteDatabase(path, options), max_group_calls_(options.max_group_calls) {}

  // Before the first call, which conn_ is not guarded for.
  absl::Status Open(const std::string& path, const SqliteOptions& options);

  absl::Status RunInTransaction(TxFn fn) override;

 private:
  // Calls that share one SQLite transaction and its COMMIT. Every field is
  // guarded by mu_.
  struct Group {
    int joined = 0;        // calls admitted, at most max_group_calls
    int unfinished = 0;    // admitted calls not yet done with the connection
    int ran = 0;           // calls whose fn ran inside the transaction
    bool begun = false;    // BEGIN IMMEDIATE succeeded
    bool sealed = false;   // admits no more calls
    bool done = false;     // outcome is final and the group left the queue
    absl::Status lost;     // why the transaction ended before the group's COMMIT
    absl::Status outcome;  // BEGIN's or COMMIT's result, the same for every call
  };

  // One call's own result, apart from its group's outcome.
  struct CallResult {
    absl::Status status;           // fn's, or why its savepoint failed
    std::exception_ptr exception;  // what fn threw, rethrown to its caller
    absl::Status lost;             // why the transaction did not survive the call
  };

  static CallResult RunInSavepoint(SqliteConnection& conn, TxFn fn);

  std::shared_ptr<Group> JoinLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Until the group failed, or it owns the transaction and the connection
  // is free. A group begins only once the calls of the group before it have
  // returned: callers that loop (a worker pool under load) are back by then
  // and join it, instead of the first one back committing alone. That waits
  // for threads already woken, never for a timer, and never for a lone call.
  void AwaitTurnLocked(const Group& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The connection is used outside mu_ by the one thread that set busy_.
  void TakeConnectionLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void BeginLocked(Group& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  CallResult RunCallLocked(Group& group, TxFn fn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The last call to leave commits (or, if the transaction was lost, rolls
  // back) for the whole group.
  void LeaveLocked(Group& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::unique_ptr<SqliteConnection> conn_;
  const int max_group_calls_;
  tcc::Mutex mu_;
  // Front: the group that owns (or is about to open) the transaction.
  std::deque<std::shared_ptr<Group>> groups_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  std::thread::id turn_holder_ ABSL_GUARDED_BY(mu_);
  // Calls of finished groups that have not returned yet.
  int returning_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tcc::sdk::internal
