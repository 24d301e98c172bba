// Named hook points inside the SDK's two-phase paths, for tests that need a
// chosen interleaving (the slow initiator whose local commit races the
// coordinator's back-query) or an injected failure (a crash between the
// local commit and Commit on the coordinator). Production code passes no
// registry and pays one null check per point.
//
// A hook receives the gid and may block (to hold that step until the test
// lets it go) or return a non-OK status (to fail the operation at that
// point, as if the process had died there: work before the point stays
// done, work after it does not happen).
//
// Thread-safety: Set, Clear and Run may be called from any thread; Run calls
// the hook outside the registry's lock, so a blocked hook blocks only its
// own caller.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "tcc/common/mutex.h"

namespace tcc::sdk {

// CommitWithLocalTransaction / CommitLocally, in order:
// before BEGIN of the local transaction (no database lock held yet).
inline constexpr char kHookBeforeLocalTransaction[] = "initiator.before_local_transaction";
// Inside the local transaction, after the caller's writes and the decision
// row, just before COMMIT (the database write lock is held).
inline constexpr char kHookBeforeLocalCommit[] = "initiator.before_local_commit";
// After the local COMMIT, before Commit is sent to the coordinator.
inline constexpr char kHookAfterLocalCommit[] = "initiator.after_local_commit";
// Status endpoint: a QueryStatus, before its fencing transaction begins.
inline constexpr char kHookBeforeFence[] = "status.before_fence";

class HookRegistry {
 public:
  using Hook = std::function<absl::Status(std::string_view gid)>;

  void Set(std::string_view point, Hook hook);
  void Clear(std::string_view point);
  // OK when no hook is set at `point`.
  absl::Status Run(std::string_view point, std::string_view gid) const;

 private:
  mutable tcc::Mutex mu_;
  std::map<std::string, Hook, std::less<>> hooks_ ABSL_GUARDED_BY(mu_);
};

// Runs the hook at `point` when `hooks` is not null.
inline absl::Status RunHook(const HookRegistry* hooks, std::string_view point,
                            std::string_view gid) {
  return hooks == nullptr ? absl::OkStatus() : hooks->Run(point, gid);
}

}  // namespace tcc::sdk
