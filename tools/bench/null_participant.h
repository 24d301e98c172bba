// A participant that answers at once, without touching any data: the
// "null participant" tccd drives in the benchmark, and the echo server of
// the ceiling run (its Try is the trivial unary RPC). It runs in the bench
// process on gRPC's callback API, so it costs no thread per call.
//
// For the unfinished-GT benchmark it can fail every Confirm and Cancel with
// UNAVAILABLE ("participant down": tccd keeps retrying) and record which
// gids it saw a Confirm for. It serves batches of Confirms / Cancels
// (participant_batch.proto) the same way. Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "tcc/common/mutex.h"
#include "tcc/common/tls.h"
#include "tcc/v1/participant.grpc.pb.h"
#include "tcc/v1/participant_batch.grpc.pb.h"

namespace tcc::bench {

class NullParticipant final : public v1::Participant::CallbackService {
 public:
  // Listens on 127.0.0.1 on a free port, over TLS when `tls` is enabled.
  static absl::StatusOr<std::unique_ptr<NullParticipant>> Start(bool fail_second_phase,
                                                                const TlsOptions& tls = {});
  ~NullParticipant() override;

  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  int64_t calls() const { return calls_.load(); }

  // Starts remembering the gids of Confirm calls (distinct); returns how many
  // were seen since.
  void StartTrackingConfirms();
  size_t tracked_confirms() const;

  grpc::ServerUnaryReactor* Try(grpc::CallbackServerContext* context,
                                const v1::BranchRequest* request, v1::BranchReply* reply) override;
  grpc::ServerUnaryReactor* Confirm(grpc::CallbackServerContext* context,
                                    const v1::BranchRequest* request,
                                    v1::BranchReply* reply) override;
  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* context,
                                   const v1::BranchRequest* request,
                                   v1::BranchReply* reply) override;

 private:
  class Batch final : public v1::ParticipantBatch::CallbackService {
   public:
    explicit Batch(NullParticipant* single) : single_(single) {}
    grpc::ServerUnaryReactor* ConfirmBatch(grpc::CallbackServerContext* context,
                                           const v1::BranchBatchRequest* request,
                                           v1::BranchBatchReply* reply) override;
    grpc::ServerUnaryReactor* CancelBatch(grpc::CallbackServerContext* context,
                                          const v1::BranchBatchRequest* request,
                                          v1::BranchBatchReply* reply) override;

   private:
    NullParticipant* const single_;
  };

  explicit NullParticipant(bool fail_second_phase) : fail_second_phase_(fail_second_phase) {}
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, v1::BranchReply* reply,
                                   bool fail);
  void Track(const std::string& gid);
  // Fills one reply per branch as Confirm (or Cancel) alone would answer.
  grpc::ServerUnaryReactor* AnswerBatch(grpc::CallbackServerContext* context,
                                        const v1::BranchBatchRequest* request,
                                        v1::BranchBatchReply* reply, bool confirm);

  const bool fail_second_phase_;
  Batch batch_{this};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<int64_t> calls_{0};
  std::atomic<bool> tracking_{false};
  mutable tcc::Mutex mu_;
  absl::flat_hash_set<std::string> confirmed_gids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tcc::bench
