// ParticipantServer: makes a service a TCC participant. Register named
// actions (e.g. "points.freeze"), each with Try / Confirm / Cancel handlers,
// then Start: the server serves tcc.v1.Participant over gRPC (callback API)
// and runs every call through the barrier (see barrier.h), in one local
// transaction of your database together with the handler's writes.
//
//   auto db = tcc::sdk::OpenSqliteDatabase("points.db");
//   tcc::sdk::ParticipantServer server(*std::move(db));
//   server.AddAction("points.freeze", {.on_try = ..., .on_confirm = ...,
//                                      .on_cancel = ...});
//   absl::Status started = server.Start("127.0.0.1:50051");
//
// TLS: set ParticipantServerOptions::tls (certificate and key; with ca_file
// and require_client_cert, only callers with a certificate from that CA,
// e.g. tccd's --participant_cert, get through). Plaintext otherwise.
//
// Answers on the wire: handler success -> OUTCOME_SUCCESS; a Try refusal ->
// OUTCOME_REFUSED with its reason; a handler error -> that non-OK gRPC
// status (the coordinator treats it as "outcome unknown" and retries or
// cancels); an unknown action -> UNIMPLEMENTED naming it; a malformed gid or
// branch id -> INVALID_ARGUMENT; a full work queue -> RESOURCE_EXHAUSTED.
//
// Threading: gRPC's callback threads never block. Each call is queued to a
// small bounded pool of worker threads that run the handler and finish the
// call. Handlers therefore run concurrently with each other and must only
// share state through the database or their own synchronization.
//
// Retention: the server also deletes old barrier rows in the background
// (ParticipantServerOptions::pruning; barrier.h states the rule: never
// below tccd's --retention_s), on a thread of its own that Shutdown stops.
//
// Thread-safety: AddAction before Start, from one thread. After Start the
// server is safe to use from any thread; Shutdown is idempotent and is also
// done by the destructor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tcc/common/tls.h"
#include "tcc/sdk/barrier.h"
#include "tcc/sdk/local_db.h"
#include "tcc/sdk/participant_metrics.h"
#include "tcc/sdk/pruning.h"

namespace tcc::sdk {

struct ParticipantServerOptions {
  // Threads running handlers (each holds one database connection while busy).
  int worker_threads = 4;
  // Calls waiting for a worker before new ones get RESOURCE_EXHAUSTED
  // (tccd retries those with backoff). Each branch of a Confirm / Cancel
  // batch counts as one call, and tccd may have 8 batches of 128 out to one
  // participant after an outage (--batch_in_flight, --batch_max): raise it
  // to take such a recovery without refusals.
  int max_queued_calls = 256;
  // Background deletion of barrier rows: retention 7 days (0 keeps
  // everything), a pass every minute, the first one a minute after Start.
  PruningOptions pruning;
  // TLS on the server's port (tcc/common/tls.h): cert_file and key_file;
  // ca_file + require_client_cert for mutual TLS. Files are re-read every
  // refresh_interval. Empty: plaintext.
  TlsOptions tls;
  // Counts every call and barrier hit (participant_metrics.h) when set;
  // the service serves its RenderPrometheus() on a port of its own.
  std::shared_ptr<ParticipantMetrics> metrics;
};

class ParticipantServer {
 public:
  explicit ParticipantServer(std::shared_ptr<Database> db, ParticipantServerOptions options = {});
  ~ParticipantServer();
  ParticipantServer(const ParticipantServer&) = delete;
  ParticipantServer& operator=(const ParticipantServer&) = delete;

  // INVALID_ARGUMENT for an empty name or a missing handler, ALREADY_EXISTS
  // for a name registered twice, FAILED_PRECONDITION after Start.
  absl::Status AddAction(std::string_view name, ActionHandlers handlers);

  // Creates the barrier table, binds `address` ("host:port"; port 0 picks a
  // free one) and starts serving.
  absl::Status Start(std::string_view address);

  // The bound port, once started.
  int port() const;

  // One pruning pass now, with the options' retention, batch and clock:
  // the barrier rows deleted (see PruneBarrier); 0 with a zero retention.
  // For tests, and for services that drive pruning themselves
  // (pruning.interval = absl::InfiniteDuration() turns the background off).
  // Any time, from any thread.
  absl::StatusOr<int64_t> PruneBarrierNow();

  // Stops accepting calls, lets the calls in flight finish, stops the
  // pruner and the workers.
  void Shutdown();

  // Blocks until Shutdown is called from another thread.
  void Wait();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tcc::sdk
