#include "tcc/sdk/participant_server.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "participant-sdk/src/absl_compat.h"
#include "participant-sdk/src/ids.h"
#include "participant-sdk/src/pruner.h"
#include "participant-sdk/src/server_host.h"
#include "tcc/common/grpc_status.h"
#include "tcc/common/status_macros.h"
#include "tcc/v1/participant.grpc.pb.h"

namespace tcc::sdk {
namespace {

enum class Phase { kTry, kConfirm, kCancel };

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kTry:
      return "try";
    case Phase::kConfirm:
      return "confirm";
    case Phase::kCancel:
      return "cancel";
  }
  return "unknown";
}

using ActionMap = std::map<std::string, ActionHandlers, std::less<>>;

absl::Status ValidateHandlers(std::string_view name, const ActionHandlers& h) {
  if (name.empty()) return absl::InvalidArgumentError("action name is empty");
  if (!h.on_try || !h.on_confirm || !h.on_cancel) {
    return absl::InvalidArgumentError(
        absl::StrCat("action ", internal::ToAbsl(name),
                     " needs all three handlers (on_try, on_confirm, on_cancel)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<BarrierAnswer> RunBarrier(Database& db, Phase phase, const BranchRequest& request,
                                         const ActionHandlers& handlers) {
  switch (phase) {
    case Phase::kTry:
      return RunTry(db, request, handlers.on_try);
    case Phase::kConfirm:
      return RunConfirm(db, request, handlers.on_confirm);
    case Phase::kCancel:
      return RunCancel(db, request, handlers.on_cancel);
  }
  return absl::InternalError("unknown phase");
}

// A handler that throws must not take the worker thread (and the process)
// down: the call fails like any other handler error and is retried.
absl::StatusOr<BarrierAnswer> RunGuarded(Database& db, Phase phase, const BranchRequest& request,
                                         const ActionHandlers& handlers) {
  try {
    return RunBarrier(db, phase, request, handlers);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("handler threw: ", e.what()));
  } catch (...) {
    return absl::InternalError("handler threw a non-std exception");
  }
}

class ParticipantService final : public tcc::v1::Participant::CallbackService {
 public:
  // `metrics` may be null.
  ParticipantService(Database& db, const ActionMap& actions, WorkerPool& pool,
                     ParticipantMetrics* metrics)
      : db_(db), actions_(actions), pool_(pool), metrics_(metrics) {}

  grpc::ServerUnaryReactor* Try(grpc::CallbackServerContext* ctx, const BranchRequest* request,
                                tcc::v1::BranchReply* reply) override {
    return Dispatch(ctx, Phase::kTry, request, reply);
  }
  grpc::ServerUnaryReactor* Confirm(grpc::CallbackServerContext* ctx, const BranchRequest* request,
                                    tcc::v1::BranchReply* reply) override {
    return Dispatch(ctx, Phase::kConfirm, request, reply);
  }
  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* ctx, const BranchRequest* request,
                                   tcc::v1::BranchReply* reply) override {
    return Dispatch(ctx, Phase::kCancel, request, reply);
  }

 private:
  // Validates on the callback thread (cheap), then queues the blocking part.
  grpc::ServerUnaryReactor* Dispatch(grpc::CallbackServerContext* ctx, Phase phase,
                                     const BranchRequest* request, tcc::v1::BranchReply* reply) {
    absl::StatusOr<const ActionHandlers*> handlers = Lookup(*request);
    if (!handlers.ok()) {
      grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
      reactor->Finish(ToGrpcStatus(handlers.status()));
      return reactor;
    }
    std::string traceparent = TraceparentOf(*ctx, *request);
    return internal::FinishOnPool(ctx, pool_,
                                  [this, phase, request, reply, h = *handlers, traceparent] {
                                    if (traceparent.empty())
                                      return Answer(phase, *request, *h, reply);
                                    // The handler finds the GT's trace context among the headers.
                                    BranchRequest traced = *request;
                                    (*traced.mutable_headers())[kTraceparentHeader] = traceparent;
                                    return Answer(phase, traced, *h, reply);
                                  });
  }

  absl::StatusOr<const ActionHandlers*> Lookup(const BranchRequest& request) const {
    TCC_RETURN_IF_ERROR(internal::ValidateGid(request.gid()));
    TCC_RETURN_IF_ERROR(internal::ValidateBranchId(request.branch_id()));
    auto it = actions_.find(request.action());
    if (it != actions_.end()) return &it->second;
    std::vector<std::string> known;
    for (const auto& [name, unused] : actions_) known.push_back(name);
    return absl::UnimplementedError(
        absl::StrCat("unknown action \"", request.action(),
                     "\"; this participant serves: ", absl::StrJoin(known, ", ")));
  }

  // The coordinator's "traceparent" metadata, when the branch's own
  // headers do not carry one already; "" otherwise.
  static std::string TraceparentOf(const grpc::CallbackServerContext& ctx,
                                   const BranchRequest& request) {
    if (request.headers().contains(kTraceparentHeader)) return "";
    auto found = ctx.client_metadata().find(kTraceparentHeader);
    if (found == ctx.client_metadata().end()) return "";
    return std::string(found->second.data(), found->second.size());
  }

  grpc::Status Answer(Phase phase, const BranchRequest& request, const ActionHandlers& handlers,
                      tcc::v1::BranchReply* reply) {
    absl::StatusOr<BarrierAnswer> answer = RunGuarded(db_, phase, request, handlers);
    if (metrics_ != nullptr) {
      metrics_->RecordCall(request.action(), PhaseName(phase), answer.ok() ? &*answer : nullptr);
    }
    if (!answer.ok()) {
      auto trace = request.headers().find(kTraceparentHeader);
      spdlog::warn("tcc participant: {} {}/{} failed: {}{}", request.action(), request.gid(),
                   request.branch_id(), internal::ToStd(answer.status().message()),
                   trace == request.headers().end() ? "" : " traceparent=" + trace->second);
      return ToGrpcStatus(answer.status());
    }
    reply->set_outcome(answer->refused ? tcc::v1::OUTCOME_REFUSED : tcc::v1::OUTCOME_SUCCESS);
    reply->set_reason(answer->reason);
    return grpc::Status::OK;
  }

  Database& db_;
  const ActionMap& actions_;
  WorkerPool& pool_;
  ParticipantMetrics* const metrics_;
};

}  // namespace

class ParticipantServer::Impl {
 public:
  Impl(std::shared_ptr<Database> db, ParticipantServerOptions options)
      : db_(std::move(db)),
        pruning_(options.pruning),
        tls_(options.tls),
        metrics_(options.metrics),
        pruner_("barrier rows", options.pruning,
                [db = db_.get()](absl::Time cutoff, int limit) {
                  return internal::PruneBarrierBatch(*db, cutoff, limit);
                }),
        host_(options.worker_threads, options.max_queued_calls) {}

  absl::Status AddAction(std::string_view name, ActionHandlers handlers) {
    TCC_RETURN_IF_ERROR(ValidateHandlers(name, handlers));
    if (service_ != nullptr) {
      return absl::FailedPreconditionError("AddAction after Start: register every action first");
    }
    if (!actions_.emplace(std::string(name), std::move(handlers)).second) {
      return absl::AlreadyExistsError(
          absl::StrCat("action ", internal::ToAbsl(name), " is already registered"));
    }
    return absl::OkStatus();
  }

  absl::Status Start(std::string_view address) {
    if (service_ != nullptr) return absl::FailedPreconditionError("server already started");
    if (db_ == nullptr) return absl::InvalidArgumentError("ParticipantServer needs a database");
    if (actions_.empty()) return absl::FailedPreconditionError("no action registered");
    TCC_RETURN_IF_ERROR(internal::ValidatePruningOptions(pruning_));
    TCC_RETURN_IF_ERROR(CreateBarrierTable(*db_));
    // From here on actions_ is read-only: the service reads it unlocked.
    service_ = std::make_unique<ParticipantService>(*db_, actions_, host_.pool(), metrics_.get());
    absl::Status started = host_.Start(address, service_.get(), tls_);
    if (!started.ok()) {
      return absl::Status(started.code(), absl::StrCat("participant server: ", started.message()));
    }
    spdlog::info("tcc participant serving {} action(s) on port {}", actions_.size(), port());
    pruner_.Start();
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> PruneBarrierNow() {
    if (db_ == nullptr) return absl::InvalidArgumentError("ParticipantServer needs a database");
    return PruneBarrier(*db_, internal::PruningNow(pruning_), pruning_);
  }

  int port() const { return host_.port(); }
  void Shutdown() {
    pruner_.Stop();
    host_.Shutdown();
  }
  void Wait() { host_.Wait(); }

 private:
  const std::shared_ptr<Database> db_;
  const PruningOptions pruning_;
  const TlsOptions tls_;
  const std::shared_ptr<ParticipantMetrics> metrics_;
  // Stopped by Shutdown, or destroyed before db_.
  internal::Pruner pruner_;
  ActionMap actions_;
  std::unique_ptr<ParticipantService> service_;
  // Declared last: destroyed (shut down) first, while service_ still exists.
  internal::ServerHost host_;
};

}  // namespace tcc::sdk

namespace tcc::sdk {

ParticipantServer::ParticipantServer(std::shared_ptr<Database> db, ParticipantServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(db), options)) {}

ParticipantServer::~ParticipantServer() = default;

absl::Status ParticipantServer::AddAction(std::string_view name, ActionHandlers handlers) {
  return impl_->AddAction(name, std::move(handlers));
}

absl::Status ParticipantServer::Start(std::string_view address) { return impl_->Start(address); }

int ParticipantServer::port() const { return impl_->port(); }

absl::StatusOr<int64_t> ParticipantServer::PruneBarrierNow() { return impl_->PruneBarrierNow(); }

void ParticipantServer::Shutdown() { impl_->Shutdown(); }

void ParticipantServer::Wait() { impl_->Wait(); }

}  // namespace tcc::sdk
