#include "participant-sdk/src/server_host.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "participant-sdk/src/absl_compat.h"

namespace tcc::sdk::internal {
namespace {

// How long calls in flight may take to finish when the host shuts down.
constexpr absl::Duration kShutdownGrace = absl::Seconds(2);

}  // namespace

ServerHost::ServerHost(int worker_threads, int max_queued)
    : pool_(std::make_unique<WorkerPool>(worker_threads, max_queued)) {}

ServerHost::~ServerHost() { Shutdown(); }

absl::Status ServerHost::Start(std::string_view address,
                               const std::vector<grpc::Service*>& services, const TlsOptions& tls) {
  tcc::MutexLock lock(&mu_);
  if (server_ != nullptr || stopped_) return absl::FailedPreconditionError("already started");
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = MakeServerCredentials(tls);
  if (!credentials.ok()) return credentials.status();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(std::string(address), *credentials, &port_);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counter;
  counter.push_back(calls_.Factory());
  builder.experimental().SetInterceptorCreators(std::move(counter));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat("could not listen on ", ToAbsl(address)));
  }
  return absl::OkStatus();
}

int ServerHost::port() const {
  tcc::MutexLock lock(&mu_);
  return port_;
}

bool ServerHost::started() const {
  tcc::MutexLock lock(&mu_);
  return server_ != nullptr;
}

void ServerHost::Shutdown() {
  grpc::Server* server;
  {
    tcc::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    server = server_.get();
  }
  // Outside the lock: the stop waits for the calls in flight (at most
  // kShutdownGrace), which the workers finish, but not for idle client
  // connections (tccd keeps one); the pool goes only once no reactor can
  // submit to it.
  if (server != nullptr) StopServer(*server, calls_, kShutdownGrace);
  pool_.reset();
}

void ServerHost::Wait() {
  grpc::Server* server;
  {
    tcc::MutexLock lock(&mu_);
    server = server_.get();
  }
  if (server != nullptr) server->Wait();
}

grpc::ServerUnaryReactor* FinishOnPool(grpc::CallbackServerContext* ctx, WorkerPool& pool,
                                       std::function<grpc::Status()> work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  bool queued = pool.TrySubmit([reactor, work = std::move(work)] { reactor->Finish(work()); });
  if (!queued) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "work queue is full; retry later"));
  }
  return reactor;
}

}  // namespace tcc::sdk::internal
