// tccd assembled: store, queue, timers, transport, engine and gRPC server,
// started and stopped in the right order, plus the HTTP port for metrics,
// health and the dashboard (dashboard_api.h), which starts first so that
// /healthz answers (and /readyz says why not) during a long recovery.
// main() only parses flags and waits for a signal; tests start a Daemon
// in-process on port 0.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/grpc/server_stop.h"
#include "common/http/http_server.h"
#include "common/metrics/registry.h"
#include "coordinator/domain/aligned_clock.h"
#include "coordinator/engine/retention.h"
#include "coordinator/engine/timer_queue.h"
#include "coordinator/engine/transaction_engine.h"
#include "coordinator/server/admin_service.h"
#include "coordinator/server/coordinator_service.h"
#include "coordinator/server/daemon_metrics.h"
#include "coordinator/server/dashboard_api.h"
#include "coordinator/server/ownership_loop.h"
#include "coordinator/server/query_executor.h"
#include "coordinator/server/readiness.h"
#include "coordinator/store/postgres_store.h"
#include "coordinator/store/sqlite_store.h"
#include "coordinator/store/store_queue.h"
#include "coordinator/transport/batching_transport.h"
#include "coordinator/transport/grpc_participant_transport.h"
#include "coordinator/transport/participant_tls.h"
#include "tcc/common/tls.h"

namespace tcc {

struct DaemonConfig {
  std::string listen = "127.0.0.1:7420";
  // TLS on `listen`: cert_file and key_file; with ca_file and
  // require_client_cert, mutual TLS. Not enabled: plaintext, which a
  // non-loopback `listen` refuses unless insecure (then a warning).
  TlsOptions tls{.names = {"--tls_cert", "--tls_key", "--tls_client_ca"}};
  bool insecure = false;
  // Who may do what (authorizer.h): a JSON file of callers and roles.
  // Empty: authorization off, every caller may do everything.
  std::string auth_file;
  // tccd's calls to participants and status endpoints (participant_tls.h).
  ParticipantTlsConfig participant_tls{
      .defaults = {.names = {"--participant_cert", "--participant_key", "--participant_ca"}}};
  // /metrics, /healthz, /readyz over plain HTTP: host:port (port 0 picks
  // one); empty: no HTTP port. A non-loopback host is refused unless
  // http_allow_insecure.
  std::string http_listen = "127.0.0.1:0";
  bool http_allow_insecure = false;
  // Record metrics (counters, histograms) on the hot path. Off only to
  // measure what they cost (tools/bench/metrics_cost.sh); /metrics then
  // answers 404.
  bool metrics = true;
  std::string data_path = "tccd-data/tccd.db";
  SyncMode sync = SyncMode::kFull;
  // A libpq URI (postgresql://...; several hosts allowed): the PostgreSQL
  // store instead of the SQLite file at data_path. Empty: SQLite.
  std::string store_uri;
  // With store_uri, several instances may share the database: each has a
  // new instance id per start; one whose heartbeat (on the database's
  // clock) is older than this lease is dead and its GTs are taken over.
  OwnershipLoopOptions ownership;
  EngineOptions engine;
  // Confirms / Cancels to one participant go in batches when they queue up.
  BatchingOptions batching;
  RetentionOptions retention;
  // Empty: retention deletes without archiving.
  std::string archive_dir;
  StoreQueueOptions queue;
  absl::Duration shutdown_grace = absl::Seconds(10);
  // For tests: use this store instead of opening `data_path`.
  std::unique_ptr<TransactionStore> store_override;
};

class Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(DaemonConfig config);
  ~Daemon();

  int port() const { return port_; }
  // The HTTP port; 0 when there is none.
  int http_port() const { return http_ ? http_->port() : 0; }
  // This instance among those sharing a PostgreSQL store; "" otherwise.
  const std::string& instance_id() const { return instance_id_; }
  metrics::Registry& metrics() { return registry_; }
  // Re-reads the auth file (tccd does on SIGHUP); on error the previous
  // one stays in force. OK and nothing to do when authorization is off.
  absl::Status ReloadAuth() { return authorizer_->Reload(); }
  // Stops accepting calls, finishes what is in flight, flushes the store.
  void Shutdown();

 private:
  Daemon() = default;

  // Opens the archive and retention's queries connection, if archiving.
  absl::Status OpenArchive(const DaemonConfig& config, TransactionStore& store);
  void StartRetention(const DaemonConfig& config);

  absl::Status StartHttp(const DaemonConfig& config);
  absl::Status StartGrpc(const DaemonConfig& config,
                         std::shared_ptr<grpc::ServerCredentials> credentials);

  // First: everything below reports to them, and the HTTP port reads them.
  metrics::Registry registry_;
  std::unique_ptr<DaemonMetrics> metrics_;
  Readiness readiness_;
  RealClock local_clock_;
  // The local clock on SQLite; on PostgreSQL aligned with the database's by
  // every heartbeat (see ownership_loop.h).
  AlignedClock clock_{&local_clock_};
  std::unique_ptr<StoreQueue> queue_;
  std::unique_ptr<TimerQueue> timers_;
  std::unique_ptr<GrpcParticipantTransport> transport_;
  std::unique_ptr<BatchingTransport> batching_;  // Over transport_; the engine's.
  std::unique_ptr<TransactionEngine> engine_;
  std::string instance_id_;
  std::unique_ptr<PostgresInstances> instances_;  // Until the loop takes it.
  std::unique_ptr<OwnershipLoop> ownership_;      // PostgreSQL only.
  // Retention's own thread, queries connection and archive: archiving
  // never delays the engine's timers or the operators' queries.
  std::unique_ptr<TimerQueue> retention_timers_;
  std::unique_ptr<TransactionQueries> retention_queries_;
  std::unique_ptr<TransactionArchive> archive_;
  std::unique_ptr<Retention> retention_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<CoordinatorService> service_;
  std::unique_ptr<QueryExecutor> queries_;
  std::unique_ptr<AdminService> admin_;
  CallCounter calls_;  // The gRPC port's calls in flight; outlives server_.
  std::unique_ptr<grpc::Server> server_;
  absl::Duration shutdown_grace_;
  int port_ = 0;
  bool stopped_ = false;
  // The dashboard's pages and API, served on the HTTP port.
  DashboardApi dashboard_;
  // Last: stopped (in Shutdown) before anything its handlers read goes.
  std::unique_ptr<HttpServer> http_;
};

}  // namespace tcc
