// A short TCC demo against a running tccd: two in-process participants
// ("points" and "paylog") on loopback ports, one transaction that commits
// and one that a participant refuses and that therefore rolls back. It
// prints each step and the coordinator's view of both transactions.
//
//   tcc_demo --coordinator=127.0.0.1:7420
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tcc/common/mutex.h"
#include "tcc/v1/coordinator.grpc.pb.h"
#include "tcc/v1/participant.grpc.pb.h"

ABSL_FLAG(std::string, coordinator, "127.0.0.1:7420", "tccd address");

namespace {

// A participant that keeps a balance and refuses Try payloads above it.
class PointsParticipant final : public tcc::v1::Participant::CallbackService {
 public:
  explicit PointsParticipant(int balance) : balance_(balance) {}

  grpc::ServerUnaryReactor* Try(grpc::CallbackServerContext* context,
                                const tcc::v1::BranchRequest* request,
                                tcc::v1::BranchReply* reply) override {
    int amount = std::stoi(request->payload());
    tcc::MutexLock lock(&mu_);
    if (amount > balance_ - frozen_) {
      reply->set_outcome(tcc::v1::OUTCOME_REFUSED);
      reply->set_reason(absl::StrCat("not enough points: ", balance_ - frozen_, " < ", amount));
    } else {
      frozen_ += amount;
      reply->set_outcome(tcc::v1::OUTCOME_SUCCESS);
    }
    Print("Try", *request, *reply);
    return Finish(context);
  }
  grpc::ServerUnaryReactor* Confirm(grpc::CallbackServerContext* context,
                                    const tcc::v1::BranchRequest* request,
                                    tcc::v1::BranchReply* reply) override {
    int amount = std::stoi(request->payload());
    tcc::MutexLock lock(&mu_);
    frozen_ -= amount;
    balance_ -= amount;
    reply->set_outcome(tcc::v1::OUTCOME_SUCCESS);
    Print("Confirm", *request, *reply);
    return Finish(context);
  }
  grpc::ServerUnaryReactor* Cancel(grpc::CallbackServerContext* context,
                                   const tcc::v1::BranchRequest* request,
                                   tcc::v1::BranchReply* reply) override {
    // The demo's refused Try froze nothing, so there is nothing to undo; a
    // real participant uses the SDK's barrier to know that.
    tcc::MutexLock lock(&mu_);
    reply->set_outcome(tcc::v1::OUTCOME_SUCCESS);
    Print("Cancel", *request, *reply);
    return Finish(context);
  }

 private:
  void Print(const char* phase, const tcc::v1::BranchRequest& request,
             const tcc::v1::BranchReply& reply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::printf("  participant: %-7s gid=%s branch=%s amount=%s -> %s%s  (balance %d, frozen %d)\n",
                phase, request.gid().c_str(), request.branch_id().c_str(),
                request.payload().c_str(),
                reply.outcome() == tcc::v1::OUTCOME_SUCCESS ? "success" : "refused: ",
                reply.reason().c_str(), balance_, frozen_);
  }
  grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context) {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  tcc::Mutex mu_;
  int balance_ ABSL_GUARDED_BY(mu_);
  int frozen_ ABSL_GUARDED_BY(mu_) = 0;
};

const char* StateName(tcc::v1::TransactionState state) {
  return tcc::v1::TransactionState_Name(state).c_str() + std::strlen("TRANSACTION_STATE_");
}

bool Check(const grpc::Status& status, const char* what) {
  if (status.ok()) return true;
  std::fprintf(stderr, "tcc_demo: %s failed: %s\n", what, status.error_message().c_str());
  return false;
}

// Runs one transaction of `amount` points; returns its final state.
tcc::v1::TransactionState Pay(tcc::v1::Coordinator::Stub& coordinator, const std::string& gid,
                              int amount, const std::string& target) {
  std::printf("\n== %s: pay %d points\n", gid.c_str(), amount);
  tcc::v1::BeginRequest begin;
  begin.set_gid(gid);
  begin.set_timeout_ms(10000);
  tcc::v1::BeginReply begun;
  grpc::ClientContext begin_context;
  if (!Check(coordinator.Begin(&begin_context, begin, &begun), "Begin")) return {};
  std::printf("  Begin    -> created=%d\n", begun.created());

  tcc::v1::TryRequest attempt;
  attempt.set_gid(gid);
  tcc::v1::BranchSpec* branch = attempt.add_branches();
  branch->set_branch_id("points");
  branch->set_target(target);
  branch->set_action("points.freeze");
  branch->set_payload(std::to_string(amount));
  tcc::v1::TryReply tried;
  grpc::ClientContext try_context;
  if (!Check(coordinator.Try(&try_context, attempt, &tried), "Try")) return {};
  bool all_tried = tried.results(0).result() == tcc::v1::TRY_RESULT_SUCCEEDED;
  std::printf("  Try      -> %s %s\n", tcc::v1::TryResult_Name(tried.results(0).result()).c_str(),
              tried.results(0).detail().c_str());

  tcc::v1::DecideRequest decide;
  decide.set_gid(gid);
  tcc::v1::DecideReply decided;
  grpc::ClientContext decide_context;
  grpc::Status status = all_tried ? coordinator.Commit(&decide_context, decide, &decided)
                                  : coordinator.Rollback(&decide_context, decide, &decided);
  if (!Check(status, all_tried ? "Commit" : "Rollback")) return {};
  std::printf("  %s -> %s\n", all_tried ? "Commit  " : "Rollback", StateName(decided.state()));

  for (int i = 0; i < 100; ++i) {
    tcc::v1::GetTransactionRequest get;
    get.set_gid(gid);
    tcc::v1::Transaction transaction;
    grpc::ClientContext get_context;
    if (!Check(coordinator.GetTransaction(&get_context, get, &transaction), "Get")) return {};
    if (transaction.state() == tcc::v1::TRANSACTION_STATE_COMMITTED ||
        transaction.state() == tcc::v1::TRANSACTION_STATE_ROLLED_BACK) {
      std::printf("  final    -> %s (branch %s: %s)\n", StateName(transaction.state()),
                  transaction.branches(0).branch_id().c_str(),
                  tcc::v1::BranchState_Name(transaction.branches(0).state()).c_str());
      return transaction.state();
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  std::fprintf(stderr, "tcc_demo: %s did not reach a final state\n", gid.c_str());
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  PointsParticipant points(/*balance=*/100);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&points);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  std::string target = absl::StrCat("127.0.0.1:", port);
  std::printf("participant 'points' (balance 100) serving on %s\n", target.c_str());

  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_coordinator), grpc::InsecureChannelCredentials());
  auto coordinator = tcc::v1::Coordinator::NewStub(channel);
  std::string run = absl::StrCat(absl::ToUnixMillis(absl::Now()));
  bool ok = Pay(*coordinator, "demo-" + run + "-pay-30", 30, target) ==
                tcc::v1::TRANSACTION_STATE_COMMITTED &&
            Pay(*coordinator, "demo-" + run + "-pay-500", 500, target) ==
                tcc::v1::TRANSACTION_STATE_ROLLED_BACK;
  server->Shutdown();
  std::printf("\n%s\n", ok ? "demo finished: one payment committed, one refused and rolled back"
                           : "demo FAILED");
  return ok ? 0 : 1;
}
