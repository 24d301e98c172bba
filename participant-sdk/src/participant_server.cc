#include "tcc/sdk/participant_server.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <atomic>
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
#include "tcc/v1/participant_batch.grpc.pb.h"

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

  // The request's handlers, or why it cannot be served (a bad id, an
  // unknown action).
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

  // Runs the phase through the barrier (blocking: on a worker). With a
  // `traceparent` not among the branch's headers, the handler finds it
  // there.
  grpc::Status Answer(Phase phase, const BranchRequest& request, const ActionHandlers& handlers,
                      const std::string& traceparent, tcc::v1::BranchReply* reply) {
    if (traceparent.empty() || request.headers().contains(kTraceparentHeader)) {
      return AnswerAsIs(phase, request, handlers, reply);
    }
    BranchRequest traced = request;
    (*traced.mutable_headers())[kTraceparentHeader] = traceparent;
    return AnswerAsIs(phase, traced, handlers, reply);
  }

  WorkerPool& pool() { return pool_; }

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
    return internal::FinishOnPool(
        ctx, pool_, [this, phase, request, reply, h = *handlers, tp = TraceparentOf(*ctx)] {
          return Answer(phase, *request, *h, tp, reply);
        });
  }

  // The coordinator's "traceparent" metadata; "" if none.
  static std::string TraceparentOf(const grpc::CallbackServerContext& ctx) {
    auto found = ctx.client_metadata().find(kTraceparentHeader);
    if (found == ctx.client_metadata().end()) return "";
    return std::string(found->second.data(), found->second.size());
  }

  grpc::Status AnswerAsIs(Phase phase, const BranchRequest& request, const ActionHandlers& handlers,
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

void SetStatus(const grpc::Status& status, tcc::v1::BatchedBranchReply& out) {
  out.set_status_code(static_cast<int32_t>(status.error_code()));
  out.set_status_message(status.error_message());
}

// The optional batch service (participant_batch.proto): each branch of a
// batch is answered exactly as the same Confirm / Cancel sent alone, on
// the same workers, concurrently; the batch finishes when the last has.
class ParticipantBatchService final : public tcc::v1::ParticipantBatch::CallbackService {
 public:
  explicit ParticipantBatchService(ParticipantService& single) : single_(single) {}

  grpc::ServerUnaryReactor* ConfirmBatch(grpc::CallbackServerContext* ctx,
                                         const tcc::v1::BranchBatchRequest* request,
                                         tcc::v1::BranchBatchReply* reply) override {
    return Dispatch(ctx, Phase::kConfirm, request, reply);
  }
  grpc::ServerUnaryReactor* CancelBatch(grpc::CallbackServerContext* ctx,
                                        const tcc::v1::BranchBatchRequest* request,
                                        tcc::v1::BranchBatchReply* reply) override {
    return Dispatch(ctx, Phase::kCancel, request, reply);
  }

 private:
  grpc::ServerUnaryReactor* Dispatch(grpc::CallbackServerContext* ctx, Phase phase,
                                     const tcc::v1::BranchBatchRequest* request,
                                     tcc::v1::BranchBatchReply* reply) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const int count = request->branches_size();
    for (int i = 0; i < count; ++i) reply->add_replies();
    // One count per branch plus one for this loop: the reply must not be
    // finished (and freed) while the loop still reads the request.
    auto left = std::make_shared<std::atomic<int>>(count + 1);
    auto one_done = [reactor, left] {
      if (left->fetch_sub(1) == 1) reactor->Finish(grpc::Status::OK);
    };
    for (int i = 0; i < count; ++i) {
      const tcc::v1::BatchedBranch* branch = &request->branches(i);
      tcc::v1::BatchedBranchReply* out = reply->mutable_replies(i);
      absl::StatusOr<const ActionHandlers*> handlers = single_.Lookup(branch->request());
      if (!handlers.ok()) {
        SetStatus(ToGrpcStatus(handlers.status()), *out);
        one_done();
        continue;
      }
      bool queued = single_.pool().TrySubmit([this, phase, branch, out, h = *handlers, one_done] {
        SetStatus(single_.Answer(phase, branch->request(), *h, branch->traceparent(),
                                 out->mutable_reply()),
                  *out);
        one_done();
      });
      if (!queued) {
        SetStatus(
            grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "work queue is full; retry later"),
            *out);
        one_done();
      }
    }
    one_done();
    return reactor;
  }

  ParticipantService& single_;
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
    batch_service_ = std::make_unique<ParticipantBatchService>(*service_);
    absl::Status started = host_.Start(address, {service_.get(), batch_service_.get()}, tls_);
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
  std::unique_ptr<ParticipantBatchService> batch_service_;  // Over service_.
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
