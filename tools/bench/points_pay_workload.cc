#include "tools/bench/points_pay_workload.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tcc::bench {
namespace {

// Far above any latency of a healthy run: only a wedged service hits it,
// and the driver must not wait forever for its calls.
constexpr absl::Duration kCallDeadline = absl::Seconds(60);

}  // namespace

PointsPayWorkload::PointsPayWorkload(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                                     std::vector<std::string> order_nos)
    : order_nos_(std::move(order_nos)) {
  for (const auto& channel : channels) {
    stubs_.push_back(pointspay::v1::OrderService::NewStub(channel));
  }
}

void PointsPayWorkload::Start(Done done) {
  size_t index = next_order_.fetch_add(1, std::memory_order_relaxed);
  if (index >= order_nos_.size()) {
    return done(absl::ResourceExhaustedError(absl::StrCat(
        "all ", order_nos_.size(), " seeded orders are taken; seed more with --orders")));
  }
  struct Call {
    grpc::ClientContext context;
    pointspay::v1::PayRequest request;
    pointspay::v1::OperationReply reply;
  };
  auto call = std::make_shared<Call>();
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  call->request.set_order_no(order_nos_[index]);
  // One request id per order: every payment is its own global transaction.
  call->request.set_request_id(absl::StrCat("bench-", order_nos_[index]));
  stubs_[index % stubs_.size()]->async()->PayWithPoints(
      &call->context, &call->request, &call->reply,
      [this, call, done = std::move(done)](grpc::Status status) {
        done(Outcome(status, call->reply));
      });
}

absl::Status PointsPayWorkload::Outcome(const grpc::Status& status,
                                        const pointspay::v1::OperationReply& reply) {
  if (!status.ok()) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("PayWithPoints: ", status.error_message()));
  }
  switch (reply.outcome()) {
    case pointspay::v1::OUTCOME_DONE:
      // A replay would mean two payments shared a request id: not this load.
      if (!reply.replayed()) {
        done_.fetch_add(1, std::memory_order_relaxed);
        return absl::OkStatus();
      }
      failed_.fetch_add(1, std::memory_order_relaxed);
      return absl::InternalError(absl::StrCat(reply.gid(), " was replayed, not paid anew"));
    case pointspay::v1::OUTCOME_REFUSED:
      refused_.fetch_add(1, std::memory_order_relaxed);
      return absl::FailedPreconditionError(absl::StrCat(reply.gid(), " refused: ", reply.detail()));
    default:
      aborted_.fetch_add(1, std::memory_order_relaxed);
      return absl::AbortedError(absl::StrCat(reply.gid(), " aborted: ", reply.detail()));
  }
}

std::string PointsPayWorkload::Describe() const {
  return absl::StrCat(
      "points-pay: PayWithPoints on the order service (Try of 2 branches that begins the GT, "
      "local commit, Commit; Confirms async), ",
      order_nos_.size(), " seeded orders");
}

bool PointsPayWorkload::Exhausted() const {
  return next_order_.load(std::memory_order_relaxed) >= order_nos_.size();
}

PointsPayCounts PointsPayWorkload::counts() const {
  return {done_.load(), refused_.load(), aborted_.load(), failed_.load()};
}

}  // namespace tcc::bench
