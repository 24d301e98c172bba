#include "common/grpc/server_stop.h"

#include <grpc/grpc.h>

#include <chrono>
#include <thread>

#include "absl/time/clock.h"
#include "tcc/common/notification.h"

namespace tcc {
namespace {

// Lives as long as its call: gRPC creates it when the call arrives and
// deletes it when the call is over.
class CountingInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit CountingInterceptor(CallCounter* counter) : counter_(counter) { counter_->Started(); }
  ~CountingInterceptor() override { counter_->Finished(); }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  CallCounter* const counter_;
};

class CountingFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingFactory(CallCounter* counter) : counter_(counter) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CountingInterceptor(counter_);  // gRPC takes ownership.
  }

 private:
  CallCounter* const counter_;
};

// How often StopServer closes connections again while the shutdown has not
// finished: a client may reconnect in the instant before it took effect.
constexpr absl::Duration kRecloseEvery = absl::Milliseconds(50);

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> CallCounter::Factory() {
  return std::make_unique<CountingFactory>(this);
}

int64_t CallCounter::in_flight() const {
  MutexLock lock(&mu_);
  return in_flight_;
}

bool CallCounter::WaitForNone(absl::Time deadline) const {
  MutexLock lock(&mu_);
  auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
  return mu_.AwaitWithDeadline(Condition(&none), deadline);
}

void CallCounter::Started() {
  MutexLock lock(&mu_);
  ++in_flight_;
}

void CallCounter::Finished() {
  MutexLock lock(&mu_);
  --in_flight_;
}

void StopServer(grpc::Server& server, const CallCounter& counter, absl::Duration grace) {
  const absl::Time deadline = absl::Now() + grace;
  Notification stopped;
  std::thread stopper([&server, &stopped, deadline] {
    server.Shutdown(absl::ToChronoTime(deadline));
    stopped.Notify();
  });
  // Past the deadline gRPC cancels what is left on its own.
  while (!stopped.HasBeenNotified() && counter.WaitForNone(deadline)) {
    // No call in flight: what keeps the shutdown waiting are connections.
    grpc_server_cancel_all_calls(server.c_server());
    if (stopped.WaitForNotificationWithTimeout(kRecloseEvery)) break;
  }
  stopper.join();
}

}  // namespace tcc
