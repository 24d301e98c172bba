// ParticipantTransport over gRPC's callback client API: no thread per call,
// one channel per target reused by every call to it, with the credentials
// ParticipantCredentials picks for that target (TLS or plaintext).
// Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "coordinator/transport/participant_tls.h"
#include "coordinator/transport/participant_transport.h"
#include "tcc/common/mutex.h"
#include "tcc/v1/initiator.grpc.pb.h"
#include "tcc/v1/participant.grpc.pb.h"
#include "tcc/v1/participant_batch.grpc.pb.h"

namespace tcc {

class GrpcParticipantTransport final : public ParticipantTransport {
 public:
  // Plaintext to every target.
  GrpcParticipantTransport() : GrpcParticipantTransport(ParticipantCredentials::Plaintext()) {}
  explicit GrpcParticipantTransport(std::unique_ptr<ParticipantCredentials> credentials)
      : credentials_(std::move(credentials)) {}

  void Call(BranchCall call, std::function<void(CallResult)> done) override;
  // Over the ParticipantBatch service (ConfirmBatch / CancelBatch).
  void CallBatch(const std::vector<BranchCall>& calls, BatchDone done) override;
  void QueryInitiator(std::string endpoint, std::string gid, absl::Duration timeout,
                      bool wait_for_ready, std::string traceparent,
                      std::function<void(absl::StatusOr<InitiatorAnswer>)> done) override;
  void ResetBackoff(const std::string& target) override;

 private:
  // One channel per target, shared by every call; stubs are thread-safe.
  struct Peer {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::Participant::Stub> participant;
    std::unique_ptr<v1::ParticipantBatch::Stub> batch;
    std::unique_ptr<v1::InitiatorStatus::Stub> initiator;
  };
  const Peer& PeerFor(const std::string& target);

  const std::unique_ptr<ParticipantCredentials> credentials_;
  tcc::Mutex mu_;
  // Node-stable: references handed out stay valid while the map grows.
  absl::flat_hash_map<std::string, std::unique_ptr<Peer>> peers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tcc
