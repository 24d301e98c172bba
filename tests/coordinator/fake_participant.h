// A real tcc.v1.Participant gRPC server on a loopback port, for integration
// and crash tests: answers from a scriptable behaviour, records every call,
// and can be stopped and restarted on the same port to simulate an outage.
// With ServeBatches it also serves tcc.v1.ParticipantBatch, recording and
// answering each branch of a batch as its own call.
#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tcc/common/mutex.h"
#include "tcc/v1/participant.grpc.pb.h"
#include "tcc/v1/participant_batch.grpc.pb.h"

namespace tcc::testing {

struct RecordedCall {
  std::string phase;  // "Try", "Confirm", "Cancel"
  std::string gid;
  std::string branch_id;
  std::string action;
  std::string payload;
};

class FakeParticipant final : public v1::Participant::CallbackService {
 public:
  // Returns the reply for a call, or a non-OK status for a transport error.
  using Behavior = std::function<grpc::Status(const RecordedCall&, v1::BranchReply&)>;

  FakeParticipant() = default;
  ~FakeParticipant() override { Stop(); }

  // Starts serving on `port` (0: pick one), plaintext unless `credentials`
  // say otherwise. Returns the bound port.
  int Start(int port = 0, std::shared_ptr<grpc::ServerCredentials> credentials =
                              grpc::InsecureServerCredentials()) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), std::move(credentials), &port_);
    builder.RegisterService(this);
    if (serve_batches_) builder.RegisterService(&batch_);
    server_ = builder.BuildAndStart();
    return port_;
  }
  void Stop() {
    std::vector<std::thread> holders;
    {
      tcc::MutexLock lock(&mu_);
      holders.swap(holders_);
    }
    for (std::thread& holder : holders) holder.join();
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int port() const { return port_; }

  // The next call of `phase` is answered `delay` late, without holding up
  // the server's other calls meanwhile.
  void DelayNext(const std::string& phase, absl::Duration delay) {
    tcc::MutexLock lock(&mu_);
    delayed_phase_ = phase;
    delay_ = delay;
  }
  // Before Start: serve batches too.
  void ServeBatches() { serve_batches_ = true; }
  // Batch calls served, and the most branches one carried.
  int batches() const {
    tcc::MutexLock lock(&mu_);
    return batches_;
  }
  int largest_batch() const {
    tcc::MutexLock lock(&mu_);
    return largest_batch_;
  }

  void SetBehavior(Behavior behavior) {
    tcc::MutexLock lock(&mu_);
    behavior_ = std::move(behavior);
  }
  std::vector<RecordedCall> calls() const {
    tcc::MutexLock lock(&mu_);
    return calls_;
  }
  int Count(const std::string& phase, const std::string& gid = "") const {
    tcc::MutexLock lock(&mu_);
    int count = 0;
    for (const RecordedCall& call : calls_) {
      count += call.phase == phase && (gid.empty() || call.gid == gid);
    }
    return count;
  }

  grpc::ServerUnaryReactor* Try(grpc::CallbackServerContext* context,
                                const v1::BranchRequest* request, v1::BranchReply* reply) override {
    return Handle("Try", context, request, reply);
  }
  grpc::ServerUnaryReactor* Confirm(grpc::CallbackServerContext* context,
                                    const v1::BranchRequest* request,
                                    v1::BranchReply* reply) override {
    return Handle("Confirm", context, request, reply);
  }
  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* context,
                                   const v1::BranchRequest* request,
                                   v1::BranchReply* reply) override {
    return Handle("Cancel", context, request, reply);
  }

 private:
  class Batch final : public v1::ParticipantBatch::CallbackService {
   public:
    explicit Batch(FakeParticipant* single) : single_(single) {}
    grpc::ServerUnaryReactor* ConfirmBatch(grpc::CallbackServerContext* context,
                                           const v1::BranchBatchRequest* request,
                                           v1::BranchBatchReply* reply) override {
      return single_->HandleBatch("Confirm", context, request, reply);
    }
    grpc::ServerUnaryReactor* CancelBatch(grpc::CallbackServerContext* context,
                                          const v1::BranchBatchRequest* request,
                                          v1::BranchBatchReply* reply) override {
      return single_->HandleBatch("Cancel", context, request, reply);
    }

   private:
    FakeParticipant* const single_;
  };

  grpc::ServerUnaryReactor* Handle(const std::string& phase, grpc::CallbackServerContext* context,
                                   const v1::BranchRequest* request, v1::BranchReply* reply) {
    auto* reactor = context->DefaultReactor();
    grpc::Status status = Answer(phase, *request, *reply);
    tcc::MutexLock lock(&mu_);
    if (delayed_phase_ == phase) {
      delayed_phase_.clear();
      holders_.emplace_back([reactor, status, delay = delay_] {
        absl::SleepFor(delay);
        reactor->Finish(status);
      });
      return reactor;
    }
    reactor->Finish(status);
    return reactor;
  }
  grpc::ServerUnaryReactor* HandleBatch(const std::string& phase,
                                        grpc::CallbackServerContext* context,
                                        const v1::BranchBatchRequest* request,
                                        v1::BranchBatchReply* reply) {
    {
      tcc::MutexLock lock(&mu_);
      ++batches_;
      largest_batch_ = std::max(largest_batch_, request->branches_size());
    }
    for (const v1::BatchedBranch& branch : request->branches()) {
      v1::BatchedBranchReply* out = reply->add_replies();
      grpc::Status status = Answer(phase, branch.request(), *out->mutable_reply());
      out->set_status_code(status.error_code());
      out->set_status_message(status.error_message());
    }
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::Status Answer(const std::string& phase, const v1::BranchRequest& request,
                      v1::BranchReply& reply) {
    RecordedCall call{phase, request.gid(), request.branch_id(), request.action(),
                      request.payload()};
    Behavior behavior;
    {
      tcc::MutexLock lock(&mu_);
      calls_.push_back(call);
      behavior = behavior_;
    }
    reply.set_outcome(v1::OUTCOME_SUCCESS);
    return behavior ? behavior(call, reply) : grpc::Status::OK;
  }

  mutable tcc::Mutex mu_;
  Behavior behavior_ ABSL_GUARDED_BY(mu_);
  std::vector<RecordedCall> calls_ ABSL_GUARDED_BY(mu_);
  int batches_ ABSL_GUARDED_BY(mu_) = 0;
  int largest_batch_ ABSL_GUARDED_BY(mu_) = 0;
  bool serve_batches_ = false;
  std::string delayed_phase_ ABSL_GUARDED_BY(mu_);
  absl::Duration delay_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> holders_ ABSL_GUARDED_BY(mu_);
  Batch batch_{this};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace tcc::testing
