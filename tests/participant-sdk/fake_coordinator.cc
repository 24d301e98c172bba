#include "tests/participant-sdk/fake_coordinator.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tcc::sdk::testing {
namespace {

grpc::ServerUnaryReactor* Done(grpc::ServerUnaryReactor* reactor, const grpc::Status& status) {
  reactor->Finish(status);
  return reactor;
}

bool IsDecided(tcc::v1::TransactionState s) { return s != tcc::v1::TRANSACTION_STATE_TRYING; }

// The saga as tccd would leave it once final.
tcc::v1::Transaction RunSaga(const tcc::v1::SubmitSagaRequest& request) {
  tcc::v1::Transaction saga;
  saga.set_gid(request.gid());
  saga.set_mode("SAGA");
  for (int i = 0; i < request.steps_size(); ++i) {
    const tcc::v1::SagaStep& spec = request.steps(i);
    tcc::v1::Branch* step = saga.add_branches();
    step->set_branch_id(spec.step_id().empty() ? absl::StrCat("s", i + 1) : spec.step_id());
    step->set_target(spec.target());
    step->set_action(spec.action());
    if (!saga.decision_reason().empty()) {
      step->set_state(tcc::v1::BRANCH_STATE_REGISTERED);  // never ran
    } else if (spec.action() == "refuse") {
      step->set_state(tcc::v1::BRANCH_STATE_TRY_REFUSED);
      step->set_last_error("refused by the fake");
      saga.set_decision_reason(
          absl::StrCat("step ", step->branch_id(), " refused: refused by the fake"));
    } else {
      step->set_state(tcc::v1::BRANCH_STATE_TRIED);
    }
  }
  bool refused = !saga.decision_reason().empty();
  for (tcc::v1::Branch& step : *saga.mutable_branches()) {
    if (refused && step.state() == tcc::v1::BRANCH_STATE_TRIED) {
      step.set_state(tcc::v1::BRANCH_STATE_CANCELLED);
    }
  }
  saga.set_state(refused ? tcc::v1::TRANSACTION_STATE_ROLLED_BACK
                         : tcc::v1::TRANSACTION_STATE_COMMITTED);
  return saga;
}

}  // namespace

FakeCoordinator::FakeCoordinator() {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) ADD_FAILURE() << "fake coordinator could not listen";
  channel_ =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
}

FakeCoordinator::~FakeCoordinator() {
  if (server_ != nullptr) server_->Shutdown();
}

void FakeCoordinator::FailNext(const std::string& method, int n) {
  tcc::MutexLock lock(&mu_);
  fail_next_[method] = n;
}

int FakeCoordinator::Calls(const std::string& method) const {
  tcc::MutexLock lock(&mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

tcc::v1::TransactionState FakeCoordinator::State(const std::string& gid) const {
  tcc::MutexLock lock(&mu_);
  auto it = gts_.find(gid);
  return it == gts_.end() ? tcc::v1::TRANSACTION_STATE_UNSPECIFIED : it->second.state();
}

int FakeCoordinator::Branches(const std::string& gid) const {
  tcc::MutexLock lock(&mu_);
  auto it = gts_.find(gid);
  return it == gts_.end() ? 0 : it->second.branches_size();
}

void FakeCoordinator::SetState(const std::string& gid, tcc::v1::TransactionState state) {
  tcc::MutexLock lock(&mu_);
  gts_[gid].set_state(state);
}

uint32_t FakeCoordinator::LastSagaWaitMs() const {
  tcc::MutexLock lock(&mu_);
  return last_saga_wait_ms_;
}

bool FakeCoordinator::Injected(const std::string& method, grpc::ServerUnaryReactor* reactor) {
  ++calls_[method];
  int& fails = fail_next_[method];
  if (fails == 0) return false;
  --fails;
  reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected"));
  return true;
}

grpc::ServerUnaryReactor* FakeCoordinator::Begin(grpc::CallbackServerContext* ctx,
                                                 const tcc::v1::BeginRequest* request,
                                                 tcc::v1::BeginReply* reply) {
  // DefaultReactor() may be called only once per call.
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  tcc::MutexLock lock(&mu_);
  if (Injected("Begin", reactor)) return reactor;
  if (request->gid().empty()) {
    return Done(reactor, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "fake needs a gid"));
  }
  auto [it, created] = gts_.try_emplace(request->gid());
  if (created) {
    it->second.set_gid(request->gid());
    it->second.set_state(tcc::v1::TRANSACTION_STATE_TRYING);
    it->second.set_status_endpoint(request->status_endpoint());
  }
  reply->set_gid(request->gid());
  reply->set_created(created);
  reply->set_state(it->second.state());
  return Done(reactor, grpc::Status::OK);
}

grpc::ServerUnaryReactor* FakeCoordinator::Try(grpc::CallbackServerContext* ctx,
                                               const tcc::v1::TryRequest* request,
                                               tcc::v1::TryReply* reply) {
  // DefaultReactor() may be called only once per call.
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  tcc::MutexLock lock(&mu_);
  if (Injected("Try", reactor)) return reactor;
  auto it = gts_.find(request->gid());
  if (it == gts_.end()) return Done(reactor, grpc::Status(grpc::StatusCode::NOT_FOUND, "no gt"));
  tcc::v1::Transaction& gt = it->second;
  for (const tcc::v1::BranchSpec& spec : request->branches()) {
    std::string id =
        spec.branch_id().empty() ? absl::StrCat("b", gt.branches_size() + 1) : spec.branch_id();
    bool refuse = spec.action() == "refuse";
    tcc::v1::Branch* branch = nullptr;
    for (tcc::v1::Branch& b : *gt.mutable_branches()) {
      if (b.branch_id() == id) branch = &b;
    }
    if (branch == nullptr) branch = gt.add_branches();
    branch->set_branch_id(id);
    branch->set_target(spec.target());
    branch->set_action(spec.action());
    branch->set_state(refuse ? tcc::v1::BRANCH_STATE_TRY_REFUSED : tcc::v1::BRANCH_STATE_TRIED);
    tcc::v1::BranchTryResult* result = reply->add_results();
    result->set_branch_id(id);
    result->set_result(refuse ? tcc::v1::TRY_RESULT_REFUSED : tcc::v1::TRY_RESULT_SUCCEEDED);
  }
  return Done(reactor, grpc::Status::OK);
}

grpc::Status FakeCoordinator::Decide(const std::string& gid, tcc::v1::TransactionState final_state,
                                     tcc::v1::DecideReply* reply) {
  auto it = gts_.find(gid);
  if (it == gts_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no gt");
  tcc::v1::Transaction& gt = it->second;
  if (IsDecided(gt.state()) && gt.state() != final_state) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("gt is ", tcc::v1::TransactionState_Name(gt.state())));
  }
  gt.set_state(final_state);
  reply->set_state(final_state);
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* FakeCoordinator::Commit(grpc::CallbackServerContext* ctx,
                                                  const tcc::v1::DecideRequest* request,
                                                  tcc::v1::DecideReply* reply) {
  // DefaultReactor() may be called only once per call.
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  tcc::MutexLock lock(&mu_);
  if (Injected("Commit", reactor)) return reactor;
  return Done(reactor, Decide(request->gid(), tcc::v1::TRANSACTION_STATE_COMMITTED, reply));
}

grpc::ServerUnaryReactor* FakeCoordinator::Rollback(grpc::CallbackServerContext* ctx,
                                                    const tcc::v1::DecideRequest* request,
                                                    tcc::v1::DecideReply* reply) {
  // DefaultReactor() may be called only once per call.
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  tcc::MutexLock lock(&mu_);
  if (Injected("Rollback", reactor)) return reactor;
  return Done(reactor, Decide(request->gid(), tcc::v1::TRANSACTION_STATE_ROLLED_BACK, reply));
}

grpc::ServerUnaryReactor* FakeCoordinator::GetTransaction(
    grpc::CallbackServerContext* ctx, const tcc::v1::GetTransactionRequest* request,
    tcc::v1::Transaction* reply) {
  // DefaultReactor() may be called only once per call.
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  tcc::MutexLock lock(&mu_);
  if (Injected("GetTransaction", reactor)) return reactor;
  auto it = gts_.find(request->gid());
  if (it == gts_.end()) return Done(reactor, grpc::Status(grpc::StatusCode::NOT_FOUND, "no gt"));
  *reply = it->second;
  return Done(reactor, grpc::Status::OK);
}

grpc::ServerUnaryReactor* FakeCoordinator::SubmitSaga(grpc::CallbackServerContext* ctx,
                                                      const tcc::v1::SubmitSagaRequest* request,
                                                      tcc::v1::SubmitSagaReply* reply) {
  // DefaultReactor() may be called only once per call.
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  tcc::MutexLock lock(&mu_);
  if (Injected("SubmitSaga", reactor)) return reactor;
  if (request->gid().empty() || request->steps().empty()) {
    return Done(reactor,
                grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "fake needs a gid and steps"));
  }
  last_saga_wait_ms_ = request->wait_for_result() ? request->wait_timeout_ms() : 0;
  auto [it, created] = gts_.try_emplace(request->gid());
  if (created) it->second = RunSaga(*request);
  reply->set_gid(request->gid());
  reply->set_created(created);
  reply->set_state(it->second.state());
  reply->set_reason(it->second.decision_reason());
  return Done(reactor, grpc::Status::OK);
}

}  // namespace tcc::sdk::testing
