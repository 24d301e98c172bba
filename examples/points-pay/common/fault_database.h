// A Database decorator that lets a participant's handlers inject the faults
// that happen AFTER the local commit, which a handler cannot do itself (it
// runs inside the transaction the SDK commits after it returns):
//
//   - crash after commit: the barrier row and the business rows are durable,
//     then the process dies with SIGKILL before it can answer;
//   - drop the reply: the transaction commits, then the call fails with
//     UNAVAILABLE, so the coordinator cannot know it worked and retries (the
//     barrier answers the retry from the stored result).
//
// A handler asks for one with RequestAfterCommit(); the request is kept per
// thread (the SDK runs a handler on the thread that called RunInTransaction)
// and applies only to the transaction in progress: it is dropped when that
// transaction rolls back. The decorator also adds the configured latency
// before each transaction, outside any database lock.
//
// Thread-safety: as the wrapped Database.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "examples/points-pay/common/faults.h"
#include "tcc/sdk/barrier.h"
#include "tcc/sdk/local_db.h"

namespace pointspay {

// Called from a handler: once the current transaction has committed, inject
// `fault` (kCrashAfterTry / kCrashAfterConfirm crash, kDropReply fails).
void RequestAfterCommit(Fault fault, std::string_view gid);

// The retryable error a handler returns when `fault` fires before any write.
absl::Status InjectedFault(Fault fault, const tcc::sdk::BranchRequest& request);

// The reason a step gives when refuse_refund fires.
std::string InjectedRefusal(const tcc::sdk::BranchRequest& request);

// After a successful Try / Confirm: maybe ask to die (`crash`) or to drop
// the reply once the handler's transaction has committed.
void MaybeFailAfterCommit(FaultInjector& faults, Fault crash,
                          const tcc::sdk::BranchRequest& request);

// Adapts a handler written as handler(faults, tx, request) to the SDK's
// handler signature, for ParticipantServer::AddAction. `faults` must
// outlive the server.
template <typename Handler>
auto WithFaults(FaultInjector& faults, Handler handler) {
  return [&faults, handler](tcc::sdk::LocalTx& tx, const tcc::sdk::BranchRequest& request) {
    return handler(faults, tx, request);
  };
}

class FaultDatabase : public tcc::sdk::Database {
 public:
  // `faults` must outlive the decorator.
  FaultDatabase(std::shared_ptr<tcc::sdk::Database> inner, FaultInjector& faults);

  absl::Status RunInTransaction(absl::FunctionRef<absl::Status(tcc::sdk::LocalTx&)> fn) override;
  // Forwards: the faults are about what happens after a commit, and a read
  // commits nothing.
  absl::Status RunReadOnly(absl::FunctionRef<absl::Status(tcc::sdk::LocalTx&)> fn) override;

 private:
  const std::shared_ptr<tcc::sdk::Database> inner_;
  FaultInjector& faults_;
};

}  // namespace pointspay
