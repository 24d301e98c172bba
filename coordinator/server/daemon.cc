#include "coordinator/server/daemon.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/metrics/text_format.h"
#include "coordinator/server/rpc_metrics.h"
#include "tcc/common/logging.h"
#include "tcc/common/status_macros.h"

namespace tcc {
namespace {

// A few requests with the largest allowed payload still fit.
constexpr int kMaxMessageBytes = 16 << 20;

absl::StatusOr<std::unique_ptr<TransactionStore>> OpenPostgres(const DaemonConfig& config) {
  TCC_ASSIGN_OR_RETURN(auto store, PostgresStore::Open({.uri = config.store_uri,
                                                        .instance_id = config.engine.instance_id,
                                                        .lease = config.ownership.lease}));
  return std::unique_ptr<TransactionStore>(std::move(store));
}

absl::StatusOr<std::unique_ptr<TransactionStore>> OpenStore(const DaemonConfig& config) {
  if (!config.store_uri.empty()) return OpenPostgres(config);
  std::filesystem::path path(config.data_path);
  std::error_code error;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("cannot create the data directory ",
                                               path.parent_path().string(), ": ", error.message()));
  }
  if (config.sync != SyncMode::kFull) {
    spdlog::warn(
        "store synchronous mode is not FULL: acknowledged decisions may be lost on "
        "power failure");
  }
  TCC_ASSIGN_OR_RETURN(auto store, SqliteStore::Open({config.data_path, config.sync}));
  return std::unique_ptr<TransactionStore>(std::move(store));
}

std::string ListenMode(const TlsOptions& tls) {
  if (!tls.enabled()) return "plaintext";
  return tls.require_client_cert ? "mutual TLS" : "TLS";
}

// Plaintext is for loopback (and Unix sockets): anyone who reaches the port
// can commit, roll back or resolve any transaction.
absl::Status CheckListenSecurity(const DaemonConfig& config) {
  if (config.tls.enabled() || absl::StartsWith(config.listen, "unix:")) return absl::OkStatus();
  TCC_ASSIGN_OR_RETURN(auto host_port, SplitHostPort(config.listen));
  if (IsLoopbackHost(host_port.first)) return absl::OkStatus();
  if (config.insecure) {
    spdlog::warn("serving the coordinator API WITHOUT TLS on non-loopback {} (--insecure){}",
                 config.listen,
                 config.auth_file.empty() ? "" : "; bearer tokens cross the network in the clear");
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "refusing to serve the coordinator API without TLS on non-loopback address ", config.listen,
      ": anyone who reaches it could commit, roll back or resolve any transaction. Give "
      "--tls_cert and --tls_key (and --tls_client_ca for mutual TLS), listen on loopback, or "
      "pass --insecure behind a firewall"));
}

}  // namespace

absl::Status Daemon::StartHttp(const DaemonConfig& config) {
  if (config.http_listen.empty()) return absl::OkStatus();
  std::vector<HttpRoute> routes = dashboard_.Routes();
  routes.push_back(
      {"GET", "/metrics", [this, on = config.metrics](const HttpRequest&) {
         if (!on) {
           return HttpResponse{404, "metrics are off (tccd --metrics=false); restart without it\n",
                               "text/plain"};
         }
         return HttpResponse{200, registry_.Render(), std::string(metrics::kTextContentType)};
       }});
  routes.push_back(
      {"GET", "/healthz", [this](const HttpRequest&) { return readiness_.Healthz(); }});
  routes.push_back({"GET", "/readyz", [this](const HttpRequest&) { return readiness_.Readyz(); }});
  HttpServerOptions options{config.http_listen, config.http_allow_insecure};
  options.threads = 4;  // A dashboard's polls beside the scrapes and probes.
  TCC_ASSIGN_OR_RETURN(http_, HttpServer::StartRoutes(options, std::move(routes)));
  spdlog::info("tccd HTTP (/metrics, /healthz, /readyz, dashboard /) on {} (port {})",
               config.http_listen, http_->port());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(DaemonConfig config) {
  // Security settings first: a mistake there must not wait for recovery.
  TCC_RETURN_IF_ERROR(CheckListenSecurity(config));
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> server_credentials,
                       MakeServerCredentials(config.tls));
  TCC_ASSIGN_OR_RETURN(std::unique_ptr<ParticipantCredentials> participant_credentials,
                       ParticipantCredentials::Create(config.participant_tls));
  spdlog::info("tccd calls participants over {}", participant_credentials->Describe());
  TCC_ASSIGN_OR_RETURN(std::unique_ptr<Authorizer> authorizer,
                       Authorizer::Create(config.auth_file));
  if (!authorizer->enabled()) {
    spdlog::info(
        "authorization off (no --auth_file): every caller that reaches the port may "
        "do everything");
  }
  auto daemon = std::unique_ptr<Daemon>(new Daemon());
  daemon->authorizer_ = std::move(authorizer);
  daemon->shutdown_grace_ = config.shutdown_grace;
  std::unique_ptr<TransactionStore> store = std::move(config.store_override);
  const bool opened = store == nullptr;
  const bool postgres = !config.store_uri.empty();
  daemon->metrics_ = std::make_unique<DaemonMetrics>(&daemon->registry_, !opened    ? "test"
                                                                         : postgres ? "postgresql"
                                                                                    : "sqlite");
  TCC_RETURN_IF_ERROR(daemon->StartHttp(config));
  if (opened) {
    if (postgres) config.engine.instance_id = PostgresInstances::NewInstanceId();
    TCC_ASSIGN_OR_RETURN(store, OpenStore(config));
    if (!postgres) daemon->metrics_->WatchStoreFile(config.data_path);
  }
  if (opened && postgres) {
    // Registered (a fresh heartbeat) before anything is created or claimed
    // under this id, so no other instance takes this one for dead.
    daemon->instance_id_ = config.engine.instance_id;
    TCC_ASSIGN_OR_RETURN(
        daemon->instances_,
        PostgresInstances::Open(config.store_uri, daemon->instance_id_, config.listen));
    // Before recovery judges any deadline.
    TCC_RETURN_IF_ERROR(BeatAndAlign(*daemon->instances_, daemon->clock_).status());
  }
  TCC_RETURN_IF_ERROR(daemon->OpenArchive(config, *store));
  absl::StatusOr<std::unique_ptr<TransactionQueries>> queries = store->OpenQueries();
  if (!queries.ok()) {
    spdlog::warn("admin queries are unavailable: {}", queries.status().message());
  } else {
    daemon->queries_ = std::make_unique<QueryExecutor>(std::move(*queries));
  }
  // Without metrics, no observer: the engine and the queue skip the calls.
  DaemonMetrics* observer = config.metrics ? daemon->metrics_.get() : nullptr;
  config.queue.observer = observer;
  config.queue.clock = &daemon->clock_;
  daemon->queue_ = std::make_unique<StoreQueue>(std::move(store), config.queue);
  daemon->metrics_->WatchStore(daemon->queue_.get());
  daemon->timers_ = std::make_unique<TimerQueue>(&daemon->clock_);
  daemon->transport_ =
      std::make_unique<GrpcParticipantTransport>(std::move(participant_credentials));
  if (config.metrics) config.batching.observer = daemon->metrics_.get();
  daemon->batching_ =
      std::make_unique<BatchingTransport>(daemon->transport_.get(), config.batching);
  config.engine.observer = observer;
  daemon->engine_ = std::make_unique<TransactionEngine>(config.engine, daemon->queue_.get(),
                                                        daemon->batching_.get(),
                                                        daemon->timers_.get(), &daemon->clock_);
  daemon->metrics_->WatchEngine(daemon->engine_.get(), &daemon->clock_);
  TCC_RETURN_IF_ERROR(daemon->engine_->Recover());
  daemon->StartRetention(config);
  daemon->service_ =
      std::make_unique<CoordinatorService>(daemon->engine_.get(), daemon->authorizer_.get());
  if (daemon->queries_) {
    daemon->admin_ = std::make_unique<AdminService>(daemon->engine_.get(), daemon->queries_.get(),
                                                    &daemon->clock_, daemon->authorizer_.get(),
                                                    daemon->retention_.get());
  }

  TCC_RETURN_IF_ERROR(daemon->StartGrpc(config, std::move(server_credentials)));
  if (daemon->instances_) {
    daemon->ownership_ = std::make_unique<OwnershipLoop>(
        config.ownership, std::move(daemon->instances_), daemon->engine_.get(), &daemon->clock_);
    daemon->ownership_->Start();
  }
  daemon->readiness_.MarkServing(daemon->queue_.get());
  return daemon;
}

absl::Status Daemon::StartGrpc(const DaemonConfig& config,
                               std::shared_ptr<grpc::ServerCredentials> credentials) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen, std::move(credentials), &port_);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(calls_.Factory());  // So that Shutdown knows when none is left.
  if (config.metrics) {
    interceptors.push_back(std::make_unique<RpcMetricsFactory>(
        &registry_, &clock_,
        std::vector<std::string>{v1::Coordinator::service_full_name(),
                                 v1::Admin::service_full_name()}));
  }
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(service_.get());
  if (admin_) builder.RegisterService(admin_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config.listen));
  }
  // The dashboard calls the Admin service in process: same logic, same
  // authorization.
  if (admin_) dashboard_.Attach(server_->InProcessChannel(grpc::ChannelArguments()));
  // Not the URI: it may hold a password.
  spdlog::info("tccd listening on {} (port {}, {}), store {}", config.listen, port_,
               ListenMode(config.tls),
               config.store_uri.empty() ? config.data_path : "PostgreSQL (--store)");
  return absl::OkStatus();
}

absl::Status Daemon::OpenArchive(const DaemonConfig& config, TransactionStore& store) {
  if (config.archive_dir.empty() || config.retention.retention <= absl::ZeroDuration()) {
    return absl::OkStatus();
  }
  TCC_ASSIGN_OR_RETURN(archive_, TransactionArchive::Open(config.archive_dir));
  absl::StatusOr<std::unique_ptr<TransactionQueries>> queries = store.OpenQueries();
  if (!queries.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--archive_dir needs a store that can be read while it is written: ",
                     queries.status().message()));
  }
  retention_queries_ = *std::move(queries);
  return absl::OkStatus();
}

void Daemon::StartRetention(const DaemonConfig& config) {
  retention_timers_ = std::make_unique<TimerQueue>(&clock_);
  RetentionOptions options = config.retention;
  options.observer = config.metrics ? metrics_.get() : nullptr;
  retention_ = std::make_unique<Retention>(options, queue_.get(), retention_timers_.get(), &clock_,
                                           ArchiveParts{retention_queries_.get(), archive_.get()});
  retention_->Start();
  if (archive_) spdlog::info("retention archives to {}", config.archive_dir);
}

void Daemon::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  readiness_.MarkStopping();
  spdlog::info("tccd shutting down: refusing new calls, finishing those in flight");
  // Start may have failed half-way (e.g. in Recover): stop what exists.
  // Does not wait for clients that only hold a connection open.
  if (server_) StopServer(*server_, calls_, shutdown_grace_);
  if (retention_) retention_->Stop();
  if (retention_timers_) retention_timers_->Stop();  // A batch in flight finishes.
  if (ownership_) ownership_->StopTakingOver();
  if (engine_) engine_->Shutdown(shutdown_grace_);
  if (timers_) timers_->Stop();
  if (queries_) queries_->Stop();
  if (queue_) queue_->Stop();
  if (ownership_) ownership_->Leave();  // Every write is done: hand the rest over.
  // Last, so scrapes see the drain; its handlers read what is still alive.
  if (http_) http_->Stop();
  spdlog::info("tccd stopped cleanly");
}

Daemon::~Daemon() { Shutdown(); }

}  // namespace tcc
