#include "coordinator/transport/grpc_participant_transport.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "coordinator/domain/trace_context.h"

namespace tcc {
namespace {

// Everything one call needs to outlive the Call() frame; freed in the
// completion.
struct BranchCallState {
  grpc::ClientContext context;
  v1::BranchRequest request;
  v1::BranchReply reply;
  std::function<void(CallResult)> done;
};

struct BatchCallState {
  grpc::ClientContext context;
  v1::BranchBatchRequest request;
  v1::BranchBatchReply reply;
  ParticipantTransport::BatchDone done;
};

struct QueryState {
  grpc::ClientContext context;
  v1::QueryStatusRequest request;
  v1::QueryStatusReply reply;
  std::function<void(absl::StatusOr<InitiatorAnswer>)> done;
};

// "gRPC 14: Connection refused": a failed call's detail.
std::string Describe(int code, absl::string_view message) {
  return absl::StrCat("gRPC ", code, ": ", message);
}

CallResult ToCallResult(const grpc::Status& status, const v1::BranchReply& reply) {
  if (!status.ok()) {
    return {CallOutcome::kUnknown,
            Describe(static_cast<int>(status.error_code()), status.error_message())};
  }
  switch (reply.outcome()) {
    case v1::OUTCOME_SUCCESS:
      return {CallOutcome::kSuccess, ""};
    case v1::OUTCOME_REFUSED:
      return {CallOutcome::kRefused, reply.reason()};
    default:
      return {CallOutcome::kUnknown,
              absl::StrCat("participant answered with unknown outcome ", reply.outcome())};
  }
}

absl::StatusOr<std::vector<CallResult>> ToCallResults(const grpc::Status& status,
                                                      const v1::BranchBatchReply& reply) {
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        Describe(static_cast<int>(status.error_code()), status.error_message()));
  }
  std::vector<CallResult> results;
  results.reserve(reply.replies_size());
  for (const v1::BatchedBranchReply& one : reply.replies()) {
    grpc::Status branch_status(static_cast<grpc::StatusCode>(one.status_code()),
                               one.status_message());
    results.push_back(ToCallResult(branch_status, one.reply()));
  }
  return results;
}

// Moves the call's fields into `request` when given an rvalue (a lone
// call), copies them from a const one (a batch's calls, still kept for a
// fallback).
template <typename Call>
void FillRequest(Call&& call, v1::BranchRequest& request) {
  request.set_gid(std::forward<Call>(call).gid);
  request.set_branch_id(std::forward<Call>(call).branch_id);
  request.set_action(std::forward<Call>(call).action);
  request.set_payload(std::forward<Call>(call).payload);
  for (const auto& [key, value] : call.headers) (*request.mutable_headers())[key] = value;
}

absl::StatusOr<InitiatorAnswer> ToAnswer(const std::string& endpoint, const grpc::Status& status,
                                         const v1::QueryStatusReply& reply) {
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("status endpoint ", endpoint, ": gRPC ",
                                               static_cast<int>(status.error_code()), ": ",
                                               status.error_message()));
  }
  switch (reply.decision()) {
    case v1::INITIATOR_DECISION_COMMITTED:
      return InitiatorAnswer::kCommitted;
    case v1::INITIATOR_DECISION_ROLLED_BACK:
      return InitiatorAnswer::kRolledBack;
    default:
      return absl::UnknownError(absl::StrCat("status endpoint ", endpoint,
                                             " answered with unknown decision ", reply.decision()));
  }
}

}  // namespace

const GrpcParticipantTransport::Peer& GrpcParticipantTransport::PeerFor(const std::string& target) {
  tcc::MutexLock lock(&mu_);
  std::unique_ptr<Peer>& peer = peers_[target];
  if (peer == nullptr) {
    grpc::ChannelArguments args;
    // Reconnect quickly once a participant comes back after an outage.
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    // The engine retries every call itself, with its own durable attempt
    // count and backoff; gRPC's transparent retries only add CPU per call.
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    peer = std::make_unique<Peer>();
    peer->channel = grpc::CreateCustomChannel(target, credentials_->For(target), args);
    peer->participant = v1::Participant::NewStub(peer->channel);
    peer->batch = v1::ParticipantBatch::NewStub(peer->channel);
    peer->initiator = v1::InitiatorStatus::NewStub(peer->channel);
  }
  return *peer;
}

void GrpcParticipantTransport::Call(BranchCall call, std::function<void(CallResult)> done) {
  auto state = std::make_shared<BranchCallState>();
  state->done = std::move(done);
  state->context.set_deadline(absl::ToChronoTime(absl::Now() + call.timeout));
  state->context.set_wait_for_ready(call.wait_for_ready);
  if (!call.traceparent.empty()) state->context.AddMetadata(kTraceparentKey, call.traceparent);
  FillRequest(std::move(call), state->request);

  auto on_done = [state](grpc::Status status) { state->done(ToCallResult(status, state->reply)); };
  auto* async = PeerFor(call.target).participant->async();
  switch (call.phase) {
    case Phase::kTry:
      async->Try(&state->context, &state->request, &state->reply, std::move(on_done));
      break;
    case Phase::kConfirm:
      async->Confirm(&state->context, &state->request, &state->reply, std::move(on_done));
      break;
    case Phase::kCancel:
      async->Cancel(&state->context, &state->request, &state->reply, std::move(on_done));
      break;
  }
}

void GrpcParticipantTransport::CallBatch(const std::vector<BranchCall>& calls, BatchDone done) {
  if (calls.empty()) return done(std::vector<CallResult>());
  auto state = std::make_shared<BatchCallState>();
  state->done = std::move(done);
  absl::Duration timeout;
  for (const BranchCall& call : calls) timeout = std::max(timeout, call.timeout);
  state->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  const std::string target = calls.front().target;
  const Phase phase = calls.front().phase;
  for (const BranchCall& call : calls) {
    v1::BatchedBranch* branch = state->request.add_branches();
    branch->set_traceparent(call.traceparent);
    FillRequest(call, *branch->mutable_request());
  }
  auto on_done = [state](grpc::Status status) { state->done(ToCallResults(status, state->reply)); };
  auto* async = PeerFor(target).batch->async();
  if (phase == Phase::kConfirm) {
    async->ConfirmBatch(&state->context, &state->request, &state->reply, std::move(on_done));
  } else if (phase == Phase::kCancel) {
    async->CancelBatch(&state->context, &state->request, &state->reply, std::move(on_done));
  } else {
    state->done(absl::InvalidArgumentError("a Try is never batched"));
  }
}

void GrpcParticipantTransport::QueryInitiator(
    std::string endpoint, std::string gid, absl::Duration timeout, bool wait_for_ready,
    std::string traceparent, std::function<void(absl::StatusOr<InitiatorAnswer>)> done) {
  auto state = std::make_shared<QueryState>();
  state->done = std::move(done);
  state->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  state->context.set_wait_for_ready(wait_for_ready);
  if (!traceparent.empty()) state->context.AddMetadata(kTraceparentKey, traceparent);
  state->request.set_gid(std::move(gid));
  PeerFor(endpoint).initiator->async()->QueryStatus(
      &state->context, &state->request, &state->reply, [state, endpoint](grpc::Status status) {
        state->done(ToAnswer(endpoint, status, state->reply));
      });
}

void GrpcParticipantTransport::ResetBackoff(const std::string& target) {
  grpc::experimental::ChannelResetConnectionBackoff(PeerFor(target).channel.get());
}

}  // namespace tcc
