// The order service's payment, one TCC global transaction (GT):
//
//   Pay:    Begin(gid "pay-<request_id>", status endpoint)
//           Try  points.freeze (branch "points") + paylog.pay (branch "paylog")
//           refused -> Rollback, reply REFUSED (the order stays UNPAID)
//           all tried -> CommitWithLocalTransaction: order UNPAID -> PAID and
//                        the decision row in ONE local transaction, then Commit
//
// (The refund is a saga: refund_saga.h.)
//
// The gid comes from the caller's request id, so a retried or duplicated
// request (even two at once) continues the SAME GT: Begin returns it, Try is
// idempotent by branch id, the local commit happens once (the decision row's
// unique key) and a late duplicate finds it done. Whenever a step fails in a
// way that leaves the outcome open, the answer is read back from the local
// decision row and the coordinator (Resolve), never guessed; an undecided GT
// is left to the client's retry or to the coordinator's timeout and
// back-query, which the status endpoint fences.
//
// Thread-safety: Pay may run concurrently from many threads; no lock is
// held across a call to the coordinator.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "examples/points-pay/common/faults.h"
#include "examples/points-pay/order_service/order_store.h"
#include "pointspay/v1/order_service.pb.h"
#include "tcc/sdk/initiator_client.h"

namespace pointspay {

struct FlowConfig {
  std::string points_target;    // host:port of points_service
  std::string paylog_target;    // host:port of paylog_service
  std::string status_endpoint;  // host:port of our StatusEndpoint
  absl::Duration gt_timeout = absl::Seconds(10);
};

class TransactionFlow {
 public:
  // All references must outlive the flow.
  TransactionFlow(OrderStore& store, tcc::sdk::InitiatorClient& client, FaultInjector& faults,
                  FlowConfig config);

  absl::StatusOr<pointspay::v1::OperationReply> Pay(const pointspay::v1::PayRequest& request);

 private:
  struct Plan;
  struct TryRound;

  absl::StatusOr<pointspay::v1::OperationReply> Run(const Plan& plan);
  absl::StatusOr<TryRound> TryAll(const Plan& plan);
  // `tried`: the last Try's reply (committable saves the SDK a Get).
  absl::StatusOr<pointspay::v1::OperationReply> CommitLocallyAndGlobally(
      const Plan& plan, const tcc::v1::TryReply& tried);
  absl::StatusOr<pointspay::v1::OperationReply> RollBack(const Plan& plan,
                                                         pointspay::v1::Outcome outcome,
                                                         const std::string& detail);
  absl::StatusOr<pointspay::v1::OperationReply> Resolve(const Plan& plan, bool replayed);
  std::vector<tcc::v1::BranchSpec> Branches(const Plan& plan) const;

  OrderStore& store_;
  tcc::sdk::InitiatorClient& client_;
  FaultInjector& faults_;
  const FlowConfig config_;
};

}  // namespace pointspay
