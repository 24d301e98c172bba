// How the engine reaches participants and initiators, free of gRPC: a call
// is described by plain values and completes through a callback. The gRPC
// implementation lives beside this; tests use in-process fakes. Calls never
// complete inline inside Call, so callers may not rely on either order but
// must not hold locks the completion takes.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coordinator/domain/state_machine.h"
#include "coordinator/domain/transaction.h"

namespace tcc {

struct BranchCall {
  std::string target;
  Phase phase = Phase::kTry;
  std::string gid;
  std::string branch_id;
  std::string action;
  std::string payload;
  Headers headers;
  // The GT's W3C traceparent, sent as gRPC metadata ("" sends none).
  std::string traceparent;
  absl::Duration timeout = absl::Seconds(5);
  // Wait (within `timeout`) for a connection instead of failing fast while
  // the channel is reconnecting: for an operator's "retry now".
  bool wait_for_ready = false;
};

enum class InitiatorAnswer { kCommitted, kRolledBack };

class ParticipantTransport {
 public:
  virtual ~ParticipantTransport() = default;

  virtual void Call(BranchCall call, std::function<void(CallResult)> done) = 0;

  // Several Confirms, or several Cancels, to one target in one call: one
  // result per call, in order. A non-OK status fails the whole batch:
  // UNIMPLEMENTED when the target does not serve batches (send the calls
  // one by one), any other code for a transport failure (its message says
  // what failed, as a failed call's detail does). The batch's deadline is
  // the longest of the calls' timeouts; `wait_for_ready` is not honoured.
  // `calls` need only live until CallBatch returns (an implementation
  // copies what it sends, once). Optional: by default every batch is
  // UNIMPLEMENTED (answered inline).
  using BatchDone = std::function<void(absl::StatusOr<std::vector<CallResult>>)>;
  virtual void CallBatch(const std::vector<BranchCall>& calls, BatchDone done) {
    done(absl::UnimplementedError("this transport sends no batches"));
  }

  // Asks the initiator's status endpoint how it decided `gid` (back-query).
  // Any error (unreachable, timeout, unknown answer) is a non-OK status
  // whose message names the endpoint. `wait_for_ready` and `traceparent`
  // as in BranchCall.
  virtual void QueryInitiator(std::string endpoint, std::string gid, absl::Duration timeout,
                              bool wait_for_ready, std::string traceparent,
                              std::function<void(absl::StatusOr<InitiatorAnswer>)> done) = 0;

  // Forgets any reconnect backoff toward `target` (a participant or a
  // status endpoint), so that an operator's "retry now" after an outage
  // reaches it at once.
  virtual void ResetBackoff(const std::string& target) {}
};

}  // namespace tcc
