#include "examples/points-pay/order_service/transaction_flow.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "examples/points-pay/common/payload.h"
#include "examples/points-pay/common/schema.h"
#include "examples/points-pay/order_service/replies.h"
#include "tcc/common/logging.h"
#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

using pointspay::v1::OperationReply;
using pointspay::v1::Outcome;

// Rounds of Try while a branch's outcome stays unknown (a participant that
// is restarting): the coordinator re-sends only the unknown branches.
constexpr int kTryRounds = 5;
constexpr absl::Duration kFirstTryBackoff = absl::Milliseconds(100);

bool IsRolledBack(tcc::v1::TransactionState state) {
  return state == tcc::v1::TRANSACTION_STATE_ROLLING_BACK ||
         state == tcc::v1::TRANSACTION_STATE_ROLLED_BACK;
}

}  // namespace

struct TransactionFlow::Plan {
  std::string gid;
  OrderRow order;
};

struct TransactionFlow::TryRound {
  std::string refused;      // the first refusal's reason, if any
  int unknown = 0;          // branches whose outcome is unknown
  tcc::v1::TryReply reply;  // the last round's (committable: no Get needed)
};

TransactionFlow::TransactionFlow(OrderStore& store, tcc::sdk::InitiatorClient& client,
                                 FaultInjector& faults, FlowConfig config)
    : store_(store), client_(client), faults_(faults), config_(std::move(config)) {}

absl::StatusOr<OperationReply> TransactionFlow::Pay(const pointspay::v1::PayRequest& request) {
  TCC_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  std::string gid = absl::StrCat("pay-", request.request_id());
  faults_.Delay(gid);
  TCC_ASSIGN_OR_RETURN(OrderRow order, store_.Load(request.order_no()));
  if (order.pay_gid == gid) return MakeReply(v1::OUTCOME_DONE, gid, order.status, "", true);
  if (order.status != kUnpaid) {
    return MakeReply(v1::OUTCOME_REFUSED, gid, order.status,
                     absl::StrCat("order ", order.order_no, " is already ", order.status, " (by ",
                                  order.pay_gid, ")"));
  }
  return Run({gid, std::move(order)});
}

std::vector<tcc::v1::BranchSpec> TransactionFlow::Branches(const Plan& plan) const {
  std::string payload = EncodePayload({plan.order.order_no, plan.order.user, plan.order.amount});
  std::vector<tcc::v1::BranchSpec> branches(2);
  branches[0].set_branch_id("points");  // named: a repeated Try is idempotent
  branches[0].set_target(config_.points_target);
  branches[0].set_action("points.freeze");
  branches[0].set_payload(payload);
  branches[1].set_branch_id("paylog");
  branches[1].set_target(config_.paylog_target);
  branches[1].set_action("paylog.pay");
  branches[1].set_payload(payload);
  return branches;
}

absl::StatusOr<OperationReply> TransactionFlow::Run(const Plan& plan) {
  // The first Try begins the GT (one call less); FAILED_PRECONDITION: an
  // earlier delivery of this request decided it already.
  absl::StatusOr<TryRound> tried = TryAll(plan);
  if (absl::IsFailedPrecondition(tried.status())) return Resolve(plan, true);
  TCC_RETURN_IF_ERROR(tried.status());
  if (!tried->refused.empty()) return RollBack(plan, v1::OUTCOME_REFUSED, tried->refused);
  if (tried->unknown > 0) {
    return RollBack(plan, v1::OUTCOME_ABORTED,
                    absl::StrCat(tried->unknown, " participant(s) did not answer Try"));
  }
  if (faults_.Roll(Fault::kFailTry, plan.gid)) {
    // As if the service lost its work here: the GT stays undecided until the
    // client retries the request or the coordinator's back-query fences it.
    return absl::UnavailableError(
        absl::StrCat("injected fault fail_try: ", plan.gid, " left undecided"));
  }
  if (faults_.Fires(Fault::kCrashAfterTry)) faults_.Crash(Fault::kCrashAfterTry, plan.gid);
  return CommitLocallyAndGlobally(plan, tried->reply);
}

absl::StatusOr<TransactionFlow::TryRound> TransactionFlow::TryAll(const Plan& plan) {
  TryRound round;
  absl::Duration backoff = kFirstTryBackoff;
  for (int i = 0; i < kTryRounds; ++i) {
    TCC_ASSIGN_OR_RETURN(tcc::v1::TryReply reply,
                         i == 0 ? client_.BeginAndTry({.gid = plan.gid,
                                                       .timeout = config_.gt_timeout,
                                                       .status_endpoint = config_.status_endpoint},
                                                      Branches(plan))
                                : client_.Try(plan.gid, Branches(plan)));
    round = TryRound{};
    round.reply = reply;
    for (const tcc::v1::BranchTryResult& r : reply.results()) {
      if (r.result() == tcc::v1::TRY_RESULT_REFUSED && round.refused.empty()) {
        round.refused = r.detail();
      }
      if (r.result() != tcc::v1::TRY_RESULT_SUCCEEDED &&
          r.result() != tcc::v1::TRY_RESULT_REFUSED) {
        ++round.unknown;
      }
    }
    if (!round.refused.empty() || round.unknown == 0) return round;
    absl::SleepFor(backoff);
    backoff *= 2;
  }
  return round;
}

absl::StatusOr<OperationReply> TransactionFlow::CommitLocallyAndGlobally(
    const Plan& plan, const tcc::v1::TryReply& tried) {
  bool order_moved_on = false;
  absl::StatusOr<tcc::sdk::LocalCommitResult> committed = client_.CommitWithLocalTransaction(
      store_.db(), plan.gid, tried, [&](tcc::sdk::LocalTx& tx) -> absl::Status {
        TCC_ASSIGN_OR_RETURN(bool moved, OrderStore::MarkPaid(tx, plan.order.order_no, plan.gid));
        if (moved) return absl::OkStatus();
        order_moved_on = true;
        return absl::FailedPreconditionError("order changed meanwhile");
      });
  if (committed.ok()) {
    if (faults_.Roll(Fault::kDropReply, plan.gid)) {
      return absl::UnavailableError(
          absl::StrCat("injected fault drop_reply: ", plan.gid, " is done, reply dropped"));
    }
    return MakeReply(v1::OUTCOME_DONE, plan.gid, kPaid, "",
                     committed->local == tcc::sdk::LocalCommit::kAlreadyCommitted);
  }
  if (order_moved_on) {
    // Another request (another request id) paid the order first.
    return RollBack(
        plan, v1::OUTCOME_REFUSED,
        absl::StrCat("order ", plan.order.order_no, " is no longer ", plan.order.status));
  }
  spdlog::info("{}: commit did not complete ({}); resolving", plan.gid,
               committed.status().message());
  return Resolve(plan, false);
}

absl::StatusOr<OperationReply> TransactionFlow::RollBack(const Plan& plan, Outcome outcome,
                                                         const std::string& detail) {
  if (outcome == v1::OUTCOME_REFUSED) TCC_RETURN_IF_ERROR(store_.RecordRefusal(plan.gid, detail));
  absl::StatusOr<tcc::v1::TransactionState> state = client_.Rollback(plan.gid);
  // A duplicate of this request may have committed it first.
  if (absl::IsFailedPrecondition(state.status())) return Resolve(plan, true);
  TCC_RETURN_IF_ERROR(state.status());
  return MakeReply(outcome, plan.gid, plan.order.status, detail);
}

absl::StatusOr<OperationReply> TransactionFlow::Resolve(const Plan& plan, bool replayed) {
  TCC_ASSIGN_OR_RETURN(bool committed, store_.CommittedLocally(plan.gid));
  if (committed) return MakeReply(v1::OUTCOME_DONE, plan.gid, kPaid, "", replayed);
  TCC_ASSIGN_OR_RETURN(tcc::v1::Transaction gt, client_.Get(plan.gid));
  if (!IsRolledBack(gt.state())) {
    return absl::UnavailableError(absl::StrCat("transaction ", plan.gid, " is still ",
                                               tcc::v1::TransactionState_Name(gt.state()),
                                               "; retry the request"));
  }
  // The branch state says TRY_REFUSED only until its Cancel; our own record
  // of the refusal lasts.
  TCC_ASSIGN_OR_RETURN(std::string refusal, store_.Refusal(plan.gid));
  for (const tcc::v1::Branch& b : gt.branches()) {
    if (refusal.empty() && b.state() == tcc::v1::BRANCH_STATE_TRY_REFUSED) {
      refusal = b.last_error().empty() ? "a participant refused" : b.last_error();
    }
  }
  if (!refusal.empty()) {
    return MakeReply(v1::OUTCOME_REFUSED, plan.gid, plan.order.status, refusal, replayed);
  }
  return MakeReply(v1::OUTCOME_ABORTED, plan.gid, plan.order.status,
                   gt.decision_reason().empty() ? "rolled back" : gt.decision_reason(), replayed);
}

}  // namespace pointspay
