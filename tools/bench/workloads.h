// One unit of load per Start(): an echo RPC (the ceiling), a TCC global
// transaction, or a saga (points-pay's unit: points_pay_workload.h). Every
// unit is a chain of callback-API calls on shared channels, so thousands
// are in flight from gRPC's few threads.
//
// What a unit's latency covers (measured by the driver from the unit's
// start, or from its scheduled time in open loop, to `done`):
// - echo: one Participant.Try round trip to the in-process null participant;
// - TCC: Begin -> Try(all branches) -> Commit, ending when Commit is
//   acknowledged (the decision is durable; Confirms follow asynchronously
//   in tccd and are not waited for);
// - saga: SubmitSaga(wait_for_result) until tccd answers that every step ran
//   (state COMMITTED).
// Thread-safe: Start() may be called from any thread, `done` runs on a gRPC
// thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/bench/options.h"

namespace tcc::bench {

class Workload {
 public:
  using Done = std::function<void(absl::Status)>;
  virtual ~Workload() = default;
  virtual void Start(Done done) = 0;
  // Every unary RPC in one unit's life, client side and tccd side.
  virtual int RpcsPerUnit() const = 0;
  virtual std::string Describe() const = 0;
  // True once the workload can start no more units (points-pay: every
  // seeded order is taken); the driver then stops starting them instead of
  // spinning on failures.
  virtual bool Exhausted() const { return false; }
};

// `count` channels to `target`, each its own HTTP/2 connection, used round
// robin.
std::vector<std::shared_ptr<grpc::Channel>> MakeChannels(
    const std::string& target, int count,
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials());

std::unique_ptr<Workload> MakeEchoWorkload(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels);

// `participants`: targets the branches (or steps) go to, round robin.
// kTcc and kSaga only: kPointsPay has its own workload and command
// (points_pay_workload.h, points_pay_command.h).
absl::StatusOr<std::unique_ptr<Workload>> MakeTransactionWorkload(
    const LoadOptions& options, const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const std::vector<std::string>& participants);

}  // namespace tcc::bench
