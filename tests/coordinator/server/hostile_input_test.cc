// Hostile and malformed requests to every RPC of the coordinator and admin
// services: each must get the fitting status code, and afterwards the store
// must hold exactly what it held before plus what the valid requests wrote.
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "tcc/v1/admin.grpc.pb.h"
#include "tests/coordinator/coordinator_client.h"
#include "tests/coordinator/fake_participant.h"
#include "tests/coordinator/server/test_daemon.h"
#include "tests/test_util/status_matchers.h"
#include "tests/test_util/temp_dir.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::testing::CoordinatorClient;
using ::tcc::testing::FakeParticipant;
using ::tcc::testing::MakeTry;
using ::tcc::testing::WaitFor;
using Code = absl::StatusCode;

const std::string kInvalidUtf8("bad\xff\xfe", 5);

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto [daemon, client] = ::tcc::testing::StartTestDaemon(dir_, [](DaemonConfig& config) {
      config.engine.retry = {absl::Seconds(30), absl::Seconds(60), 2.0, 0.0};
    });
    ASSERT_NE(daemon, nullptr);
    daemon_ = std::move(daemon);
    client_ = std::move(client);
    coordinator_ = v1::Coordinator::NewStub(client_->channel());
    admin_ = v1::Admin::NewStub(client_->channel());
    participant_.Start();
  }

  // Calls `method` on `stub` and returns the status code.
  template <typename Stub, typename Request, typename Reply>
  Code Call(Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Reply*),
            const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    Reply reply;
    return static_cast<Code>((stub.*method)(&context, request, &reply).error_code());
  }

  // Every gid in the store, with its serialized state.
  std::map<std::string, std::string> Snapshot() {
    std::map<std::string, std::string> snapshot;
    v1::ListTransactionsRequest request;
    request.set_page_size(500);
    grpc::ClientContext context;
    v1::ListTransactionsReply reply;
    EXPECT_TRUE(admin_->ListTransactions(&context, request, &reply).ok());
    for (const auto& gt : reply.transactions()) snapshot[gt.gid()] = gt.SerializeAsString();
    return snapshot;
  }

  ::tcc::testing::TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<CoordinatorClient> client_;
  std::unique_ptr<v1::Coordinator::Stub> coordinator_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  FakeParticipant participant_;
};

TEST_F(HostileInputTest, EveryRpcRefusesBadInputAndTheStoreKeepsOnlyValidWrites) {
  // Valid state first: one committed, and one still trying whose branch the
  // participant refused (so it cannot be committed).
  participant_.SetBehavior([](const auto& call, v1::BranchReply& reply) {
    if (call.gid == "kept-trying") reply.set_outcome(v1::OUTCOME_REFUSED);
    return grpc::Status::OK;
  });
  ASSERT_OK(client_->Begin("kept-trying"));
  ASSERT_OK(client_->Try(MakeTry("kept-trying", {{"p", participant_.address()}})));
  ASSERT_OK(client_->Begin("kept-done"));
  ASSERT_OK(client_->Try(MakeTry("kept-done", {{"p", participant_.address()}})));
  ASSERT_OK(client_->Commit("kept-done"));
  ASSERT_TRUE(WaitFor(
      [&] { return client_->Get("kept-done")->state() == v1::TRANSACTION_STATE_COMMITTED; }));
  std::map<std::string, std::string> before = Snapshot();
  ASSERT_EQ(before.size(), 2u);

  auto& c = *coordinator_;
  using S = v1::Coordinator::Stub;
  auto begin = [&](std::function<void(v1::BeginRequest&)> edit) {
    v1::BeginRequest request;
    request.set_gid("hostile");
    edit(request);
    return Call(c, &S::Begin, request);
  };
  auto try_on = [&](const std::string& gid, std::function<void(v1::TryRequest&)> edit) {
    v1::TryRequest request = MakeTry(gid, {{"x", participant_.address()}});
    edit(request);
    return Call(c, &S::Try, request);
  };
  EXPECT_EQ(begin([](auto& r) { r.set_gid(std::string(129, 'g')); }), Code::kInvalidArgument);
  EXPECT_EQ(begin([](auto& r) { r.set_gid(std::string(1 << 20, 'g')); }), Code::kInvalidArgument);
  EXPECT_EQ(begin([](auto& r) { r.set_gid("two words"); }), Code::kInvalidArgument);
  EXPECT_EQ(begin([](auto& r) { r.set_gid(kInvalidUtf8); }), Code::kInvalidArgument);
  EXPECT_EQ(begin([](auto& r) { r.set_gid(std::string("nul\0nul", 7)); }), Code::kInvalidArgument);
  EXPECT_EQ(begin([](auto& r) { r.set_status_endpoint(kInvalidUtf8); }), Code::kInvalidArgument);
  EXPECT_EQ(begin([](auto& r) { r.set_status_endpoint("http://x"); }), Code::kInvalidArgument);
  EXPECT_EQ(begin([](auto& r) { r.set_timeout_ms(0xffffffff); }), Code::kInvalidArgument);
  EXPECT_EQ(begin([](auto& r) {
              r.set_timeout_ms(999);
              r.set_gid("kept-trying");
            }),
            Code::kAlreadyExists);

  EXPECT_EQ(try_on("nobody", [](auto&) {}), Code::kNotFound);
  EXPECT_EQ(try_on("kept-trying", [](auto& r) { r.clear_branches(); }), Code::kInvalidArgument);
  EXPECT_EQ(try_on("kept-trying",
                   [&](auto& r) {
                     for (int i = 0; i < 10000; ++i) *r.add_branches() = r.branches(0);
                   }),
            Code::kInvalidArgument);
  EXPECT_EQ(
      try_on("kept-trying",
             [](auto& r) { r.mutable_branches(0)->set_payload(std::string((1 << 20) + 1, 'p')); }),
      Code::kInvalidArgument);
  EXPECT_EQ(try_on("kept-trying",
                   [](auto& r) { r.mutable_branches(0)->set_payload(std::string(20 << 20, 'p')); }),
            Code::kResourceExhausted);  // Over gRPC's message limit: refused before parsing.
  EXPECT_EQ(try_on("kept-trying", [](auto& r) { r.mutable_branches(0)->set_action(kInvalidUtf8); }),
            Code::kInvalidArgument);
  EXPECT_EQ(
      try_on("kept-trying",
             [](auto& r) { (*r.mutable_branches(0)->mutable_headers())["k"] = kInvalidUtf8; }),
      Code::kInvalidArgument);
  EXPECT_EQ(try_on("kept-trying", [](auto& r) { r.mutable_branches(0)->set_target(""); }),
            Code::kInvalidArgument);
  EXPECT_EQ(try_on("kept-trying", [](auto& r) { r.mutable_branches(0)->set_target(kInvalidUtf8); }),
            Code::kInvalidArgument);
  EXPECT_EQ(try_on("kept-trying", [](auto& r) { r.mutable_branches(0)->set_branch_id("a/b"); }),
            Code::kInvalidArgument);
  EXPECT_EQ(try_on("kept-done", [](auto&) {}), Code::kFailedPrecondition);

  v1::DecideRequest decide;
  for (const std::string& gid : {std::string(""), std::string(300, 'z'), kInvalidUtf8}) {
    decide.set_gid(gid);
    EXPECT_EQ(Call(c, &S::Commit, decide), Code::kInvalidArgument) << gid.size();
    EXPECT_EQ(Call(c, &S::Rollback, decide), Code::kInvalidArgument) << gid.size();
  }
  decide.set_gid("kept-trying");
  EXPECT_EQ(Call(c, &S::Commit, decide), Code::kFailedPrecondition);  // Its branch was refused.
  decide.set_gid("kept-done");
  EXPECT_EQ(Call(c, &S::Rollback, decide), Code::kFailedPrecondition);
  v1::GetTransactionRequest get;
  get.set_gid(kInvalidUtf8);
  EXPECT_EQ(Call(c, &S::GetTransaction, get), Code::kInvalidArgument);

  v1::SubmitSagaRequest saga;
  saga.set_gid("hostile-saga");
  EXPECT_EQ(Call(c, &S::SubmitSaga, saga), Code::kInvalidArgument);  // No steps.
  for (int i = 0; i < 10000; ++i) {
    v1::SagaStep* step = saga.add_steps();
    step->set_target(participant_.address());
  }
  EXPECT_EQ(Call(c, &S::SubmitSaga, saga), Code::kInvalidArgument);  // Too many.
  saga.clear_steps();
  for (const char* id : {"a", "b"}) {
    v1::SagaStep* step = saga.add_steps();
    step->set_step_id(id);
    step->set_target(participant_.address());
    step->add_depends_on(std::string(id) == "a" ? "b" : "a");
  }
  saga.set_concurrent(true);
  EXPECT_EQ(Call(c, &S::SubmitSaga, saga), Code::kInvalidArgument);  // A cycle.
  saga.mutable_steps(0)->set_step_id(kInvalidUtf8);
  EXPECT_EQ(Call(c, &S::SubmitSaga, saga), Code::kInvalidArgument);

  auto& a = *admin_;
  using A = v1::Admin::Stub;
  v1::ListTransactionsRequest list;
  list.set_page_size(1000000);
  EXPECT_EQ(Call(a, &A::ListTransactions, list), Code::kInvalidArgument);
  list = {};
  list.add_states(static_cast<v1::TransactionState>(99));
  EXPECT_EQ(Call(a, &A::ListTransactions, list), Code::kInvalidArgument);
  list = {};
  list.set_order(static_cast<v1::ListOrder>(7));
  EXPECT_EQ(Call(a, &A::ListTransactions, list), Code::kInvalidArgument);
  list = {};
  list.set_older_than_ms(-5);
  EXPECT_EQ(Call(a, &A::ListTransactions, list), Code::kInvalidArgument);
  list = {};
  list.set_page_token(kInvalidUtf8);
  EXPECT_EQ(Call(a, &A::ListTransactions, list), Code::kInvalidArgument);
  list = {};
  list.set_gid_prefix(kInvalidUtf8);
  EXPECT_EQ(Call(a, &A::ListTransactions, list), Code::kInvalidArgument);
  v1::DescribeTransactionRequest describe;
  describe.set_gid(std::string(5000, 'd'));
  EXPECT_EQ(Call(a, &A::DescribeTransaction, describe), Code::kInvalidArgument);
  v1::RetryNowRequest retry;
  EXPECT_EQ(Call(a, &A::RetryNow, retry), Code::kInvalidArgument);  // Neither gid nor target.
  retry.set_gid("kept-trying");
  retry.set_operator_(kInvalidUtf8);
  EXPECT_EQ(Call(a, &A::RetryNow, retry), Code::kInvalidArgument);
  v1::ResolveRequest resolve;
  resolve.set_gid("kept-trying");
  resolve.set_action(static_cast<v1::ResolveAction>(42));
  resolve.set_reason("r");
  EXPECT_EQ(Call(a, &A::Resolve, resolve), Code::kInvalidArgument);
  resolve.set_action(v1::RESOLVE_ACTION_MARK_ROLLED_BACK);
  for (const std::string& reason : {std::string(""), std::string(1 << 20, 'r'), kInvalidUtf8}) {
    resolve.set_reason(reason);
    EXPECT_EQ(Call(a, &A::Resolve, resolve), Code::kInvalidArgument) << reason.size();
  }
  resolve.set_gid("kept-done");
  resolve.set_reason("final already");
  EXPECT_EQ(Call(a, &A::Resolve, resolve), Code::kFailedPrecondition);

  // Nothing above changed the store.
  EXPECT_EQ(Snapshot(), before);

  // A resolve storm on one transaction: exactly one wins.
  std::atomic<int> won = 0;
  std::atomic<int> refused = 0;
  std::vector<std::thread> storm;
  for (int i = 0; i < 32; ++i) {
    storm.emplace_back([&] {
      v1::ResolveRequest request;
      request.set_gid("kept-trying");
      request.set_action(v1::RESOLVE_ACTION_MARK_ROLLED_BACK);
      request.set_reason("storm");
      Code code = Call(*admin_, &A::Resolve, request);
      if (code == Code::kOk) ++won;
      if (code == Code::kFailedPrecondition) ++refused;
    });
  }
  for (auto& thread : storm) thread.join();
  EXPECT_EQ(won, 1);
  EXPECT_EQ(refused, 31);
  std::map<std::string, std::string> after = Snapshot();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after["kept-done"], before["kept-done"]);
  EXPECT_EQ(client_->Get("kept-trying")->state(), v1::TRANSACTION_STATE_ROLLED_BACK);
}

}  // namespace
}  // namespace tcc
