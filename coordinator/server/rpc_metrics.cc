#include "coordinator/server/rpc_metrics.h"

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tcc {
namespace {

using grpc::experimental::InterceptionHookPoints;

// One RPC: started when gRPC creates it, counted when its status is sent
// (or, if it never is, as CANCELLED when the RPC is torn down).
class RpcInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcInterceptor(const Clock* clock, metrics::Family<metrics::Counter>* requests,
                 metrics::Histogram* duration, std::string service, std::string method)
      : clock_(clock),
        started_(clock->Now()),
        requests_(requests),
        duration_(duration),
        service_(std::move(service)),
        method_(std::move(method)) {}

  ~RpcInterceptor() override {
    if (!counted_) Count(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Count(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Count(grpc::StatusCode code) {
    counted_ = true;
    duration_->Observe(absl::ToDoubleSeconds(clock_->Now() - started_));
    // gRPC's codes are absl's, names included ("OK", "NOT_FOUND", ...).
    requests_
        ->WithLabels(
            {service_, method_, absl::StatusCodeToString(static_cast<absl::StatusCode>(code))})
        .Increment();
  }

  const Clock* const clock_;
  const absl::Time started_;
  metrics::Family<metrics::Counter>* const requests_;
  metrics::Histogram* const duration_;
  const std::string service_;
  const std::string method_;
  bool counted_ = false;
};

}  // namespace

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return buckets;
}

RpcMetricsFactory::RpcMetricsFactory(metrics::Registry* registry, const Clock* clock,
                                     std::vector<std::string> services)
    : clock_(clock),
      services_(services.begin(), services.end()),
      requests_(registry->AddCounter("tcc_rpc_requests_total",
                                     "RPCs served, by service, method and status code.",
                                     {"service", "method", "code"})),
      duration_(registry->AddHistogram("tcc_rpc_duration_seconds",
                                       "Time from an RPC's arrival to its status being sent.",
                                       {"service", "method"}, LatencyBuckets())) {}

grpc::experimental::Interceptor* RpcMetricsFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  // "/tcc.v1.Coordinator/Begin"
  absl::string_view path = info->method() != nullptr ? info->method() : "";
  size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == 0 || slash == absl::string_view::npos) {
    return nullptr;
  }
  std::string service(path.substr(1, slash - 1));
  if (!services_.contains(service)) return nullptr;
  std::string method(path.substr(slash + 1));
  metrics::Histogram* duration = &duration_.WithLabels({service, method});
  // gRPC takes ownership.
  return new RpcInterceptor(clock_, &requests_, duration, std::move(service), std::move(method));
}

}  // namespace tcc
