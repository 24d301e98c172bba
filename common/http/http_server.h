// A small HTTP/1.1 server for operational endpoints (tccd's /metrics,
// /healthz, /readyz, the dashboard and its JSON API), on cpp-httplib with
// a few threads of its own.
// Plain HTTP, so by default it only binds loopback addresses: TLS and
// authentication come later. Bound to loopback, it answers 421 to a request
// whose Host header names anything but a loopback host, so that a web page
// whose domain was re-bound to 127.0.0.1 (DNS rebinding) cannot use it. Handlers run on the
// server's threads and may block briefly (a readiness probe waits for the store); they must be
// thread-safe. Start and Stop are not meant to race each other.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace httplib {
class Server;
}

namespace tcc {

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

// Answers a GET of one path.
using HttpHandler = std::function<HttpResponse()>;

// What a handler of a request with a body sees.
struct HttpRequest {
  std::string method;
  std::string path;
  std::string body;
  std::string content_type;   // Without parameters, lower case ("application/json").
  std::string authorization;  // The Authorization header; empty if absent.
};

// Answers a request to one method and path.
using HttpRequestHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpRoute {
  std::string method;  // "GET" or "POST".
  std::string path;    // Exact.
  HttpRequestHandler handler;
};

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; [::1]:port; port 0 picks one.
  // Bind a non-loopback host too; refused otherwise (nothing is encrypted
  // or authenticated yet).
  bool allow_non_loopback = false;
  int threads = 2;
};

// host:port split, brackets stripped from an IPv6 host. INVALID_ARGUMENT
// when the port is missing or not 0..65535, or the host is empty.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(absl::string_view address);
// "localhost", 127.0.0.0/8 or ::1.
bool IsLoopbackHost(absl::string_view host);

class HttpServer {
 public:
  // Binds (INVALID_ARGUMENT for a bad or refused address, UNAVAILABLE when
  // the port cannot be bound) and serves `routes` (path, handler) for GET.
  // Any other path is 404.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, std::vector<std::pair<std::string, HttpHandler>> routes);
  // The same, for routes of any method that read the request.
  static absl::StatusOr<std::unique_ptr<HttpServer>> StartRoutes(const HttpServerOptions& options,
                                                                 std::vector<HttpRoute> routes);
  ~HttpServer();

  int port() const { return port_; }
  // Stops accepting; returns once the handlers in flight have finished.
  void Stop();

 private:
  HttpServer();

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace tcc
