#include "coordinator/server/coordinator_service.h"

#include "coordinator/domain/trace_context.h"
#include "coordinator/server/proto_convert.h"
#include "tcc/common/grpc_status.h"

namespace tcc {

namespace {

// The caller's W3C traceparent metadata, if it sent one that is well formed.
std::string TraceparentOf(const grpc::CallbackServerContext& context) {
  auto found = context.client_metadata().find(kTraceparentKey);
  if (found == context.client_metadata().end()) return "";
  return AcceptTraceparent(absl::string_view(found->second.data(), found->second.size()));
}

}  // namespace

absl::Status CoordinatorService::Authorize(const grpc::CallbackServerContext& context,
                                           absl::string_view method) const {
  return authorizer_->Authorize(context, Role::kInitiator, method).status();
}

grpc::ServerUnaryReactor* CoordinatorService::Begin(grpc::CallbackServerContext* context,
                                                    const v1::BeginRequest* request,
                                                    v1::BeginReply* reply) {
  if (absl::Status denied = Authorize(*context, "Coordinator.Begin"); !denied.ok()) {
    return Refuse(context, denied);
  }
  auto* reactor = context->DefaultReactor();
  BeginParams params{request->gid(), request->timeout_ms(), request->status_endpoint(),
                     TraceparentOf(*context)};
  engine_->Begin(std::move(params), [reactor, reply](absl::StatusOr<BeginResult> result) {
    if (result.ok()) {
      reply->set_gid(result->gid);
      reply->set_created(result->created);
      reply->set_state(ToProto(result->state));
    }
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* CoordinatorService::Try(grpc::CallbackServerContext* context,
                                                  const v1::TryRequest* request,
                                                  v1::TryReply* reply) {
  if (absl::Status denied = Authorize(*context, "Coordinator.Try"); !denied.ok()) {
    return Refuse(context, denied);
  }
  if (request->has_begin()) {
    if (absl::Status denied = Authorize(*context, "Coordinator.Begin"); !denied.ok()) {
      return Refuse(context, denied);
    }
  }
  auto* reactor = context->DefaultReactor();
  std::vector<Branch> branches;
  branches.reserve(request->branches_size());
  for (const v1::BranchSpec& spec : request->branches()) branches.push_back(FromProto(spec));
  auto answered = [reactor, reply](absl::StatusOr<TryAnswer> answer) {
    if (answer.ok()) {
      for (const BranchTryOutcome& outcome : answer->outcomes) {
        v1::BranchTryResult* result = reply->add_results();
        result->set_branch_id(outcome.branch_id);
        result->set_result(ToProto(outcome.outcome));
        result->set_detail(outcome.detail);
      }
      reply->set_committable(answer->committable);
    }
    reactor->Finish(ToGrpcStatus(answer.status()));
  };
  if (!request->has_begin()) {
    engine_->Try(request->gid(), std::move(branches), std::move(answered));
    return reactor;
  }
  if (request->gid().empty()) {
    answered(absl::InvalidArgumentError(
        "a Try with begin needs its gid (Begin without a gid generates one; Try cannot)"));
    return reactor;
  }
  BeginParams params{request->gid(), request->begin().timeout_ms(),
                     request->begin().status_endpoint(), TraceparentOf(*context)};
  engine_->BeginAndTry(std::move(params), std::move(branches), std::move(answered));
  return reactor;
}

grpc::ServerUnaryReactor* CoordinatorService::Commit(grpc::CallbackServerContext* context,
                                                     const v1::DecideRequest* request,
                                                     v1::DecideReply* reply) {
  return Decide(context, request, reply, Decision::kCommit);
}

grpc::ServerUnaryReactor* CoordinatorService::Rollback(grpc::CallbackServerContext* context,
                                                       const v1::DecideRequest* request,
                                                       v1::DecideReply* reply) {
  return Decide(context, request, reply, Decision::kRollback);
}

grpc::ServerUnaryReactor* CoordinatorService::Decide(grpc::CallbackServerContext* context,
                                                     const v1::DecideRequest* request,
                                                     v1::DecideReply* reply, Decision decision) {
  if (absl::Status denied = Authorize(
          *context, decision == Decision::kCommit ? "Coordinator.Commit" : "Coordinator.Rollback");
      !denied.ok()) {
    return Refuse(context, denied);
  }
  auto* reactor = context->DefaultReactor();
  engine_->Decide(request->gid(), decision, [reactor, reply](absl::StatusOr<TxState> state) {
    if (state.ok()) reply->set_state(ToProto(*state));
    reactor->Finish(ToGrpcStatus(state.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* CoordinatorService::GetTransaction(
    grpc::CallbackServerContext* context, const v1::GetTransactionRequest* request,
    v1::Transaction* reply) {
  if (absl::Status denied = Authorize(*context, "Coordinator.GetTransaction"); !denied.ok()) {
    return Refuse(context, denied);
  }
  auto* reactor = context->DefaultReactor();
  engine_->Get(request->gid(), [reactor, reply](absl::StatusOr<GlobalTransaction> gt) {
    if (gt.ok()) ToProto(*gt, *reply);
    reactor->Finish(ToGrpcStatus(gt.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* CoordinatorService::SubmitSaga(grpc::CallbackServerContext* context,
                                                         const v1::SubmitSagaRequest* request,
                                                         v1::SubmitSagaReply* reply) {
  if (absl::Status denied = Authorize(*context, "Coordinator.SubmitSaga"); !denied.ok()) {
    return Refuse(context, denied);
  }
  auto* reactor = context->DefaultReactor();
  SagaParams params;
  params.gid = request->gid();
  params.concurrent = request->concurrent();
  params.traceparent = TraceparentOf(*context);
  params.wait_for_result = request->wait_for_result();
  if (request->wait_timeout_ms() > 0) {
    params.wait_timeout = absl::Milliseconds(request->wait_timeout_ms());
  }
  for (const v1::SagaStep& step : request->steps()) params.steps.push_back(FromProto(step));
  engine_->SubmitSaga(std::move(params), [reactor, reply](absl::StatusOr<SagaResult> result) {
    if (result.ok()) {
      reply->set_gid(result->gid);
      reply->set_created(result->created);
      reply->set_state(ToProto(result->state));
      reply->set_reason(result->reason);
    }
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

}  // namespace tcc
