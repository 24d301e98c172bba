// StatusEndpoint: the initiator's answer to the coordinator's back-query.
// Serves tcc.v1.InitiatorStatus.QueryStatus from the decision table (see
// decision.h): COMMITTED when the gid's local commit happened; otherwise it
// fences the gid (records 'rolled_back' under the key the local commit would
// use, so that commit now fails) and answers ROLLED_BACK. A malformed gid is
// INVALID_ARGUMENT; a database that stays locked is UNAVAILABLE (the
// coordinator retries; it never guesses).
//
// Pass the status endpoint's "host:port" as BeginParams::status_endpoint, and
// use the same Database with InitiatorClient::CommitWithLocalTransaction.
//
// Threading as ParticipantServer: callback API, the database work on a small
// bounded worker pool. Thread-safety: Start once; port and Shutdown from any
// thread; Shutdown is idempotent and done by the destructor.
#pragma once

#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "tcc/sdk/hooks.h"
#include "tcc/sdk/local_db.h"

namespace tcc::sdk {

struct StatusEndpointOptions {
  int worker_threads = 2;
  int max_queued_calls = 256;
  // Optional hook points (kHookBeforeFence); must outlive the endpoint.
  const HookRegistry* hooks = nullptr;
};

class StatusEndpoint {
 public:
  explicit StatusEndpoint(std::shared_ptr<Database> db, StatusEndpointOptions options = {});
  ~StatusEndpoint();
  StatusEndpoint(const StatusEndpoint&) = delete;
  StatusEndpoint& operator=(const StatusEndpoint&) = delete;

  // Creates the decision table, binds `address` (port 0 picks one), serves.
  absl::Status Start(std::string_view address);
  int port() const;
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tcc::sdk
