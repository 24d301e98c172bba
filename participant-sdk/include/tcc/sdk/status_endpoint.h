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
// The endpoint owns the decision table (CommitWithLocalTransaction needs an
// endpoint), so it also deletes old decision rows in the background
// (StatusEndpointOptions::pruning; decision.h states the rule: never below
// tccd's --retention_s), on a thread of its own that Shutdown stops.
//
// Threading as ParticipantServer: callback API, the database work on a small
// bounded worker pool. Thread-safety: Start once; port and Shutdown from any
// thread; Shutdown is idempotent and done by the destructor.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tcc/common/tls.h"
#include "tcc/sdk/hooks.h"
#include "tcc/sdk/local_db.h"
#include "tcc/sdk/pruning.h"

namespace tcc::sdk {

struct StatusEndpointOptions {
  int worker_threads = 2;
  int max_queued_calls = 256;
  // Optional hook points (kHookBeforeFence); must outlive the endpoint.
  const HookRegistry* hooks = nullptr;
  // Background deletion of decision rows: retention 7 days (0 keeps
  // everything), a pass every minute, the first one a minute after Start.
  PruningOptions pruning;
  // TLS on the endpoint's port, as ParticipantServerOptions::tls; tccd's
  // --participant_ca (or an override) must then trust its certificate.
  TlsOptions tls;
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

  // One pruning pass now, with the options' retention, batch and clock:
  // the decision rows deleted (see PruneDecisions); 0 with a zero
  // retention. For tests, and for services that drive pruning themselves
  // (pruning.interval = absl::InfiniteDuration() turns the background off).
  // Any time, from any thread.
  absl::StatusOr<int64_t> PruneDecisionsNow();

  // Stops the pruner and the server; idempotent.
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tcc::sdk
