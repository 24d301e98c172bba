#include "tcc/sdk/status_endpoint.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "participant-sdk/src/absl_compat.h"
#include "participant-sdk/src/pruner.h"
#include "participant-sdk/src/server_host.h"
#include "tcc/common/grpc_status.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/decision.h"
#include "tcc/v1/initiator.grpc.pb.h"

namespace tcc::sdk {
namespace {

class StatusService final : public tcc::v1::InitiatorStatus::CallbackService {
 public:
  StatusService(Database& db, const HookRegistry* hooks, WorkerPool& pool)
      : db_(db), hooks_(hooks), pool_(pool) {}

  grpc::ServerUnaryReactor* QueryStatus(grpc::CallbackServerContext* ctx,
                                        const tcc::v1::QueryStatusRequest* request,
                                        tcc::v1::QueryStatusReply* reply) override {
    return internal::FinishOnPool(ctx, pool_,
                                  [this, request, reply] { return Answer(request->gid(), reply); });
  }

 private:
  grpc::Status Answer(const std::string& gid, tcc::v1::QueryStatusReply* reply) {
    absl::StatusOr<LocalDecision> decision = FenceOrReadDecision(db_, gid, hooks_);
    if (!decision.ok()) {
      spdlog::warn("tcc status endpoint: QueryStatus({}) failed: {}", gid,
                   internal::ToStd(decision.status().message()));
      return ToGrpcStatus(decision.status());
    }
    reply->set_decision(*decision == LocalDecision::kCommitted
                            ? tcc::v1::INITIATOR_DECISION_COMMITTED
                            : tcc::v1::INITIATOR_DECISION_ROLLED_BACK);
    return grpc::Status::OK;
  }

  Database& db_;
  const HookRegistry* hooks_;
  WorkerPool& pool_;
};

}  // namespace

class StatusEndpoint::Impl {
 public:
  Impl(std::shared_ptr<Database> db, StatusEndpointOptions options)
      : db_(std::move(db)),
        options_(options),
        pruner_("decision rows", options.pruning,
                [db = db_.get()](absl::Time cutoff, int limit) {
                  return internal::PruneDecisionBatch(*db, cutoff, limit);
                }),
        host_(options.worker_threads, options.max_queued_calls) {}

  absl::Status Start(std::string_view address) {
    if (service_ != nullptr)
      return absl::FailedPreconditionError("status endpoint already started");
    if (db_ == nullptr) return absl::InvalidArgumentError("StatusEndpoint needs a database");
    TCC_RETURN_IF_ERROR(internal::ValidatePruningOptions(options_.pruning));
    TCC_RETURN_IF_ERROR(CreateDecisionTable(*db_));
    service_ = std::make_unique<StatusService>(*db_, options_.hooks, host_.pool());
    absl::Status started = host_.Start(address, {service_.get()}, options_.tls);
    if (!started.ok()) {
      return absl::Status(started.code(), absl::StrCat("status endpoint: ", started.message()));
    }
    pruner_.Start();
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> PruneDecisionsNow() {
    if (db_ == nullptr) return absl::InvalidArgumentError("StatusEndpoint needs a database");
    return PruneDecisions(*db_, internal::PruningNow(options_.pruning), options_.pruning);
  }

  int port() const { return host_.port(); }
  void Shutdown() {
    pruner_.Stop();
    host_.Shutdown();
  }

 private:
  const std::shared_ptr<Database> db_;
  const StatusEndpointOptions options_;
  // Stopped by Shutdown, or destroyed before db_.
  internal::Pruner pruner_;
  std::unique_ptr<StatusService> service_;
  // Declared last: destroyed (shut down) first, while service_ still exists.
  internal::ServerHost host_;
};

StatusEndpoint::StatusEndpoint(std::shared_ptr<Database> db, StatusEndpointOptions options)
    : impl_(std::make_unique<Impl>(std::move(db), options)) {}

StatusEndpoint::~StatusEndpoint() = default;

absl::Status StatusEndpoint::Start(std::string_view address) { return impl_->Start(address); }

int StatusEndpoint::port() const { return impl_->port(); }

absl::StatusOr<int64_t> StatusEndpoint::PruneDecisionsNow() { return impl_->PruneDecisionsNow(); }

void StatusEndpoint::Shutdown() { impl_->Shutdown(); }

}  // namespace tcc::sdk
