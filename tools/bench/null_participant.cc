#include "tools/bench/null_participant.h"

namespace tcc::bench {

absl::StatusOr<std::unique_ptr<NullParticipant>> NullParticipant::Start(bool fail_second_phase,
                                                                        const TlsOptions& tls) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = MakeServerCredentials(tls);
  if (!credentials.ok()) return credentials.status();
  auto participant = std::unique_ptr<NullParticipant>(new NullParticipant(fail_second_phase));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", *credentials, &participant->port_);
  builder.RegisterService(participant.get());
  builder.RegisterService(&participant->batch_);
  participant->server_ = builder.BuildAndStart();
  if (participant->server_ == nullptr || participant->port_ == 0) {
    return absl::UnavailableError("cannot start a null participant on 127.0.0.1");
  }
  return participant;
}

NullParticipant::~NullParticipant() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now());
}

void NullParticipant::StartTrackingConfirms() {
  tcc::MutexLock lock(&mu_);
  confirmed_gids_.clear();
  tracking_.store(true);
}

size_t NullParticipant::tracked_confirms() const {
  tcc::MutexLock lock(&mu_);
  return confirmed_gids_.size();
}

grpc::ServerUnaryReactor* NullParticipant::Answer(grpc::CallbackServerContext* context,
                                                  v1::BranchReply* reply, bool fail) {
  calls_.fetch_add(1, std::memory_order_relaxed);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (fail) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "null participant is down"));
    return reactor;
  }
  reply->set_outcome(v1::OUTCOME_SUCCESS);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* NullParticipant::Try(grpc::CallbackServerContext* context,
                                               const v1::BranchRequest*, v1::BranchReply* reply) {
  return Answer(context, reply, false);
}

grpc::ServerUnaryReactor* NullParticipant::Confirm(grpc::CallbackServerContext* context,
                                                   const v1::BranchRequest* request,
                                                   v1::BranchReply* reply) {
  Track(request->gid());
  return Answer(context, reply, fail_second_phase_);
}

void NullParticipant::Track(const std::string& gid) {
  if (!tracking_.load(std::memory_order_relaxed)) return;
  tcc::MutexLock lock(&mu_);
  confirmed_gids_.insert(gid);
}

grpc::ServerUnaryReactor* NullParticipant::Cancel(grpc::CallbackServerContext* context,
                                                  const v1::BranchRequest*,
                                                  v1::BranchReply* reply) {
  return Answer(context, reply, fail_second_phase_);
}

grpc::ServerUnaryReactor* NullParticipant::AnswerBatch(grpc::CallbackServerContext* context,
                                                       const v1::BranchBatchRequest* request,
                                                       v1::BranchBatchReply* reply, bool confirm) {
  calls_.fetch_add(1, std::memory_order_relaxed);
  for (const v1::BatchedBranch& branch : request->branches()) {
    if (confirm) Track(branch.request().gid());
    v1::BatchedBranchReply* out = reply->add_replies();
    if (fail_second_phase_) {
      out->set_status_code(grpc::StatusCode::UNAVAILABLE);
      out->set_status_message("null participant is down");
    } else {
      out->mutable_reply()->set_outcome(v1::OUTCOME_SUCCESS);
    }
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* NullParticipant::Batch::ConfirmBatch(
    grpc::CallbackServerContext* context, const v1::BranchBatchRequest* request,
    v1::BranchBatchReply* reply) {
  return single_->AnswerBatch(context, request, reply, /*confirm=*/true);
}

grpc::ServerUnaryReactor* NullParticipant::Batch::CancelBatch(grpc::CallbackServerContext* context,
                                                              const v1::BranchBatchRequest* request,
                                                              v1::BranchBatchReply* reply) {
  return single_->AnswerBatch(context, request, reply, /*confirm=*/false);
}

}  // namespace tcc::bench
