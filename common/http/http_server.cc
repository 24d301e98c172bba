#include "common/http/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>

#include <chrono>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tcc {
namespace {

// Requests are small GETs; a body this large is not ours.
constexpr size_t kMaxPayloadBytes = 64 << 10;

std::string MediaType(const httplib::Request& request) {
  std::string type = request.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
}

HttpRequest ToRequest(const httplib::Request& request) {
  return HttpRequest{request.method, request.path, request.body, MediaType(request),
                     request.get_header_value("Authorization")};
}

// The host a request is addressed to (its Host header without the port);
// empty when it has none.
std::string HostOf(const httplib::Request& request) {
  std::string host = request.get_header_value("Host");
  if (!host.empty() && host.front() == '[') return host.substr(1, host.find(']') - 1);
  return host.substr(0, host.find(':'));
}

// On a loopback port, a request addressed to another name came through a
// browser tricked into it: a page whose domain was re-bound to 127.0.0.1
// (DNS rebinding) may read and post on the port as if same-origin.
HttpResponse MisdirectedTo(const std::string& host) {
  return HttpResponse{421,
                      absl::StrCat("this port answers only requests addressed to a loopback name "
                                   "(Host: localhost, 127.0.0.1 or [::1]), not \"",
                                   host,
                                   "\"; open it as http://127.0.0.1:PORT/, or tunnel to it (ssh "
                                   "-L) from another machine\n")};
}

void Serve(httplib::Server& server, HttpRoute route, bool loopback_hosts_only) {
  auto serve = [handler = std::move(route.handler), loopback_hosts_only](
                   const httplib::Request& request, httplib::Response& response) {
    std::string host = HostOf(request);
    HttpResponse answer = loopback_hosts_only && !host.empty() && !IsLoopbackHost(host)
                              ? MisdirectedTo(host)
                              : handler(ToRequest(request));
    response.status = answer.status;
    // Nothing here is meant to be framed or sniffed into another type.
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_header("X-Frame-Options", "DENY");
    response.set_header("Cache-Control", "no-store");
    response.set_content(std::move(answer.body), answer.content_type.c_str());
  };
  if (route.method == "POST") {
    server.Post(route.path, std::move(serve));
  } else {
    server.Get(route.path, std::move(serve));
  }
}

// SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a
// second tccd would share the port (and the scrapes) instead of failing.
void ReuseAddressOnly(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

absl::Status CheckAllowed(const std::string& host, const HttpServerOptions& options) {
  if (options.allow_non_loopback || IsLoopbackHost(host)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "refusing to serve plain HTTP on non-loopback address ", options.listen,
      ": it is not encrypted (metrics, health, the dashboard and any bearer token sent to it "
      "would cross the network in the clear); allow it explicitly (tccd --http_insecure) "
      "behind a firewall or a TLS proxy"));
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(absl::string_view address) {
  size_t colon = address.rfind(':');
  int port = -1;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", address, "\" is not host:port (port 0..65535)"));
  }
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", address, "\" names no host"));
  }
  return std::make_pair(std::move(host), port);
}

bool IsLoopbackHost(absl::string_view host) {
  if (host == "localhost") return true;
  std::string text(host);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  return inet_pton(AF_INET6, text.c_str(), &v6) == 1 &&
         std::memcmp(&v6, &in6addr_loopback, sizeof(v6)) == 0;
}

HttpServer::HttpServer() : server_(std::make_unique<httplib::Server>()) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, std::vector<std::pair<std::string, HttpHandler>> routes) {
  std::vector<HttpRoute> gets;
  for (auto& [path, handler] : routes) {
    gets.push_back(
        {"GET", path, [handler = std::move(handler)](const HttpRequest&) { return handler(); }});
  }
  return StartRoutes(options, std::move(gets));
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::StartRoutes(
    const HttpServerOptions& options, std::vector<HttpRoute> routes) {
  absl::StatusOr<std::pair<std::string, int>> host_port = SplitHostPort(options.listen);
  if (!host_port.ok()) return host_port.status();
  auto& [host, port] = *host_port;
  if (absl::Status allowed = CheckAllowed(host, options); !allowed.ok()) return allowed;
  std::unique_ptr<HttpServer> http(new HttpServer());
  httplib::Server& server = *http->server_;
  int threads = options.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_socket_options(ReuseAddressOnly);
  server.set_payload_max_length(kMaxPayloadBytes);
  // Short keep-alive: an idle scraper's connection must not hold up Stop.
  server.set_keep_alive_timeout(1);
  // Bound to loopback, only loopback names may address it (see MisdirectedTo).
  const bool loopback_hosts_only = IsLoopbackHost(host);
  for (HttpRoute& route : routes) Serve(server, std::move(route), loopback_hosts_only);
  http->port_ =
      port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (http->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  http->thread_ = std::thread([&server] { server.listen_after_bind(); });
  // stop() is a no-op until the loop runs: wait for it, so Stop cannot miss.
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return http;
}

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace tcc
