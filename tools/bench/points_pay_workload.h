// The unit of --mode points-pay: one PayWithPoints call on the example's
// order service (examples/points-pay/), from the call to its reply. Behind
// it the order service runs the whole payment: Try with Begin folded in (points.freeze +
// paylog.pay, which tccd sends to both services; its reply says whether the
// GT is committable, else a GetTransaction asks), the local commit of the
// order with its decision row, and Commit; tccd's Confirms to
// both services follow asynchronously and are not waited for.
//
// Each unit pays the next seeded order with its own request id
// ("bench-<order>"), so every payment is a distinct global transaction.
// Only OUTCOME_DONE (not replayed) is a success; a refusal, an abort and a
// gRPC error are errors, and are also counted for the whole run (warm-up
// and tail included) so that the final verdict sees them all.
//
// Thread-safety: Start() may be called from any thread; `done` runs on a
// gRPC thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pointspay/v1/order_service.grpc.pb.h"
#include "tools/bench/workloads.h"

namespace tcc::bench {

struct PointsPayCounts {
  int64_t done = 0;
  int64_t refused = 0;
  int64_t aborted = 0;
  int64_t failed = 0;  // gRPC errors (the outcome may still be open)
};

class PointsPayWorkload final : public Workload {
 public:
  // `order_nos`: the seeded UNPAID orders, paid in this order.
  PointsPayWorkload(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                    std::vector<std::string> order_nos);

  void Start(Done done) override;
  // PayWithPoints; Begin, Try, GetTransaction, Commit to tccd; Try and
  // Confirm to each of the two participants.
  int RpcsPerUnit() const override { return 9; }
  std::string Describe() const override;
  bool Exhausted() const override;

  // Over the whole run so far.
  PointsPayCounts counts() const;

 private:
  // Called on a gRPC thread when a call ends; the driver waits for every
  // call before the workload goes away, so `this` outlives them.
  absl::Status Outcome(const grpc::Status& status, const pointspay::v1::OperationReply& reply);

  std::vector<std::unique_ptr<pointspay::v1::OrderService::Stub>> stubs_;
  const std::vector<std::string> order_nos_;
  std::atomic<size_t> next_order_{0};
  std::atomic<int64_t> done_{0}, refused_{0}, aborted_{0}, failed_{0};
};

}  // namespace tcc::bench
