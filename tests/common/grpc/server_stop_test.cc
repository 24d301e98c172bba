// StopServer on a real gRPC server on a loopback port: idle connections do
// not hold the stop up, a call in flight is answered before the server
// stops, and one that outlives the grace is cancelled.
#include "common/grpc/server_stop.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/process/silent_connection.h"
#include "tcc/common/notification.h"
#include "tcc/v1/initiator.grpc.pb.h"
#include "tests/test_util/wait.h"

namespace tcc {
namespace {

using ::tcc::process::SilentConnection;
using ::tcc::testing::WaitFor;

// Answers QueryStatus once `release` is notified (at once if it already
// is); a cancelled call is finished as CANCELLED.
class HeldStatusService final : public v1::InitiatorStatus::CallbackService {
 public:
  Notification release;

  grpc::ServerUnaryReactor* QueryStatus(grpc::CallbackServerContext* ctx,
                                        const v1::QueryStatusRequest*,
                                        v1::QueryStatusReply* reply) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::thread([this, ctx, reactor, reply] {
      while (!release.WaitForNotificationWithTimeout(absl::Milliseconds(10))) {
        if (ctx->IsCancelled()) {
          reactor->Finish(grpc::Status::CANCELLED);
          return;
        }
      }
      reply->set_decision(v1::INITIATOR_DECISION_COMMITTED);
      reactor->Finish(grpc::Status::OK);
    }).detach();
    return reactor;
  }
};

class ServerStopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counter;
    counter.push_back(calls_.Factory());
    builder.experimental().SetInterceptorCreators(std::move(counter));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  // A channel with its own connection, connected before it returns.
  std::shared_ptr<grpc::Channel> ConnectedChannel() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials(), args);
    EXPECT_TRUE(
        channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)));
    return channel;
  }

  // StopServer with `grace`, returning how long it took.
  absl::Duration Stop(absl::Duration grace) {
    absl::Time start = absl::Now();
    StopServer(*server_, calls_, grace);
    return absl::Now() - start;
  }

  HeldStatusService service_;
  CallCounter calls_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// One QueryStatus on `channel` with `deadline`, started on its own thread.
class PendingCall {
 public:
  explicit PendingCall(std::shared_ptr<grpc::Channel> channel,
                       absl::Duration deadline = absl::Seconds(60))
      : stub_(v1::InitiatorStatus::NewStub(channel)) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    thread_ = std::thread([this] { status_ = stub_->QueryStatus(&context_, request_, &reply_); });
  }
  ~PendingCall() { Wait(); }

  // Its status, once it has one.
  const grpc::Status& Wait() {
    if (thread_.joinable()) thread_.join();
    return status_;
  }
  const v1::QueryStatusReply& reply() const { return reply_; }

 private:
  std::unique_ptr<v1::InitiatorStatus::Stub> stub_;
  grpc::ClientContext context_;
  v1::QueryStatusRequest request_;
  v1::QueryStatusReply reply_;
  grpc::Status status_;
  std::thread thread_;
};

TEST_F(ServerStopTest, IdleConnectionsDoNotHoldTheStopUp) {
  service_.release.Notify();
  std::vector<std::shared_ptr<grpc::Channel>> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(ConnectedChannel());
  {
    PendingCall used(idle[0]);  // One of them has served a call.
  }
  // And a client that never hangs up, even after the server's GOAWAY:
  // Server::Shutdown(deadline) alone waits for it until gRPC gives up on
  // the GOAWAY's unanswered ping, 20 s here.
  SilentConnection silent(port_);
  ASSERT_TRUE(silent.connected());
  EXPECT_LT(Stop(absl::Seconds(60)), absl::Seconds(10));
  EXPECT_EQ(calls_.in_flight(), 0);
}

TEST_F(ServerStopTest, ACallInFlightIsAnsweredBeforeTheServerStops) {
  std::shared_ptr<grpc::Channel> idle = ConnectedChannel();
  PendingCall call(ConnectedChannel());
  ASSERT_TRUE(WaitFor([&] { return calls_.in_flight() == 1; }));
  Notification stopped;
  std::thread stopper([&] {
    Stop(absl::Seconds(60));
    stopped.Notify();
  });
  // The stop waits for the call, however long that takes within the grace.
  EXPECT_FALSE(stopped.WaitForNotificationWithTimeout(absl::Milliseconds(300)));
  service_.release.Notify();
  stopper.join();
  EXPECT_TRUE(call.Wait().ok()) << call.Wait().error_message();
  EXPECT_EQ(call.reply().decision(), v1::INITIATOR_DECISION_COMMITTED);
}

TEST_F(ServerStopTest, ACallPastTheGraceIsCancelled) {
  PendingCall call(ConnectedChannel());
  ASSERT_TRUE(WaitFor([&] { return calls_.in_flight() == 1; }));
  Stop(absl::Milliseconds(200));
  EXPECT_FALSE(call.Wait().ok());
  EXPECT_EQ(calls_.in_flight(), 0);
}

TEST_F(ServerStopTest, NewCallsAreRefusedOnceTheStopHasBegun) {
  std::shared_ptr<grpc::Channel> channel = ConnectedChannel();
  PendingCall held(channel);
  ASSERT_TRUE(WaitFor([&] { return calls_.in_flight() == 1; }));
  std::thread stopper([&] { Stop(absl::Seconds(60)); });
  // While the held call keeps the server stopping, a new one is refused
  // (one that came before the stop took effect is held, and runs out of
  // time).
  bool refused = WaitFor([&] {
    PendingCall late(channel, absl::Seconds(1));
    return late.Wait().error_code() == grpc::StatusCode::UNAVAILABLE;
  });
  service_.release.Notify();
  stopper.join();
  EXPECT_TRUE(refused);
  EXPECT_TRUE(held.Wait().ok()) << held.Wait().error_message();
}

}  // namespace
}  // namespace tcc
