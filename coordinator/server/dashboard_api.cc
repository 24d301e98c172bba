#include "coordinator/server/dashboard_api.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "coordinator/dashboard/dashboard_assets.h"
#include "nlohmann/json.hpp"

namespace tcc {
namespace {

constexpr char kJson[] = "application/json";
constexpr auto kCallDeadline = std::chrono::seconds(10);

HttpResponse JsonError(int status, absl::string_view code, absl::string_view message) {
  nlohmann::json body = {{"code", std::string(code)}, {"message", std::string(message)}};
  return HttpResponse{status, body.dump(), kJson};
}

HttpResponse FromGrpc(const grpc::Status& status) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  int code = status.error_code();
  const char* name = code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN";
  return JsonError(HttpStatusOf(status.error_code()), name, status.error_message());
}

// Checks what every API request must be; nullopt when it may go on.
std::optional<HttpResponse> RefuseRequest(const HttpRequest& request) {
  if (request.content_type != kJson) {
    return JsonError(415, "INVALID_ARGUMENT",
                     absl::StrCat("send the request as Content-Type: application/json (got \"",
                                  request.content_type, "\")"));
  }
  return std::nullopt;
}

HttpResponse Asset(absl::string_view name) {
  const dashboard::Asset* asset = dashboard::FindAsset(name);
  if (asset == nullptr) return HttpResponse{404, "no such dashboard file\n"};
  return HttpResponse{200, std::string(asset->data), std::string(dashboard::ContentTypeOf(name))};
}

HttpRoute Page(std::string path, std::string asset) {
  return {"GET", std::move(path),
          [asset = std::move(asset)](const HttpRequest&) { return Asset(asset); }};
}

}  // namespace

int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK:
      return 200;
    case grpc::INVALID_ARGUMENT:
    case grpc::FAILED_PRECONDITION:
    case grpc::OUT_OF_RANGE:
      return 400;
    case grpc::UNAUTHENTICATED:
      return 401;
    case grpc::PERMISSION_DENIED:
      return 403;
    case grpc::NOT_FOUND:
      return 404;
    case grpc::ALREADY_EXISTS:
    case grpc::ABORTED:
      return 409;
    case grpc::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::CANCELLED:
      return 499;
    case grpc::UNIMPLEMENTED:
      return 501;
    case grpc::UNAVAILABLE:
      return 503;
    case grpc::DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}

void DashboardApi::Attach(std::shared_ptr<grpc::Channel> channel) {
  std::shared_ptr<v1::Admin::Stub> stub = v1::Admin::NewStub(std::move(channel));
  tcc::MutexLock lock(&mu_);
  stub_ = std::move(stub);
}

std::shared_ptr<v1::Admin::Stub> DashboardApi::stub() const {
  tcc::MutexLock lock(&mu_);
  return stub_;
}

template <typename Request, typename Reply>
HttpRoute DashboardApi::ApiRoute(const char* name, Method<Request, Reply> method) {
  auto handler = [this, method](const HttpRequest& http) {
    if (std::optional<HttpResponse> refusal = RefuseRequest(http)) return *refusal;
    Request request;
    auto parsed = google::protobuf::util::JsonStringToMessage(
        http.body.empty() ? std::string("{}") : http.body, &request);
    if (!parsed.ok()) {
      return JsonError(400, "INVALID_ARGUMENT",
                       absl::StrCat("the body is not a JSON tcc.v1.", Request::descriptor()->name(),
                                    " (", parsed.ToString(), ")"));
    }
    std::shared_ptr<v1::Admin::Stub> admin = stub();
    if (admin == nullptr) {
      return JsonError(503, "UNAVAILABLE",
                       "tccd is not serving the admin API: it is still starting (recovering "
                       "unfinished transactions; try again shortly), or its store cannot answer "
                       "admin queries (see tccd's log at start)");
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    if (!http.authorization.empty()) context.AddMetadata("authorization", http.authorization);
    Reply reply;
    grpc::Status status = (admin.get()->*method)(&context, request, &reply);
    if (!status.ok()) return FromGrpc(status);
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(reply, &json, options);
    return HttpResponse{200, std::move(json), kJson};
  };
  return {"POST", absl::StrCat("/api/v1/", name), std::move(handler)};
}

std::vector<HttpRoute> DashboardApi::Routes() {
  std::vector<HttpRoute> routes;
  routes.push_back(Page("/", "index.html"));
  routes.push_back(Page("/dashboard", "index.html"));
  for (const dashboard::Asset& asset : dashboard::kAssets) {
    routes.push_back(Page(absl::StrCat("/dashboard/", asset.name), std::string(asset.name)));
  }
  using Stub = v1::Admin::Stub;
  routes.push_back(ApiRoute("ListTransactions", &Stub::ListTransactions));
  routes.push_back(ApiRoute("DescribeTransaction", &Stub::DescribeTransaction));
  routes.push_back(ApiRoute("Stats", &Stub::Stats));
  routes.push_back(ApiRoute("RetryNow", &Stub::RetryNow));
  routes.push_back(ApiRoute("Resolve", &Stub::Resolve));
  return routes;
}

}  // namespace tcc
