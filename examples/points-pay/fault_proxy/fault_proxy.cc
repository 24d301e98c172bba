#include "examples/points-pay/fault_proxy/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace pointspay {
namespace {

constexpr int kPollMs = 20;  // how soon a worker sees a new fault or the stop
constexpr size_t kChunk = 64 * 1024;

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

absl::Status Errno(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", strerror(errno)));
}

void NoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

const char* NetFaultName(NetFault fault) {
  switch (fault) {
    case NetFault::kNone:
      return "none";
    case NetFault::kLatency:
      return "latency";
    case NetFault::kReset:
      return "reset";
    case NetFault::kBlackhole:
      return "blackhole";
    case NetFault::kHalfOpen:
      return "half-open";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(std::string name) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_in addr = Loopback(0);
  socklen_t length = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 128) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    absl::Status status = Errno(absl::StrCat("listen for the ", name, " proxy"));
    close(fd);
    return status;
  }
  return std::unique_ptr<FaultProxy>(new FaultProxy(std::move(name), fd, ntohs(addr.sin_port)));
}

FaultProxy::FaultProxy(std::string name, int listen_fd, int port)
    : name_(std::move(name)), listen_fd_(listen_fd), port_(port) {
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  acceptor_.join();
  close(listen_fd_);
  tcc::MutexLock lock(&mu_);
  mu_.Await(tcc::Condition(
      +[](int* live) { return *live == 0; }, &live_workers_));
}

std::string FaultProxy::address() const { return absl::StrCat("127.0.0.1:", port_); }

void FaultProxy::SetFault(NetFault fault, absl::Duration latency) {
  latency_us_ = absl::ToInt64Microseconds(latency);
  fault_ = fault;
}

void FaultProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, kPollMs) <= 0) continue;
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    ++connections_;
    {
      tcc::MutexLock lock(&mu_);
      ++live_workers_;
    }
    std::thread([this, client] {
      Serve(client);
      tcc::MutexLock lock(&mu_);
      --live_workers_;
    }).detach();
  }
}

void FaultProxy::Serve(int client_fd) {
  int backend_fd = -1;
  int backend_port = backend_port_;
  if (backend_port > 0 && fault_ != NetFault::kReset) {
    backend_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(backend_port);
    if (backend_fd >= 0 &&
        connect(backend_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(backend_fd);
      backend_fd = -1;
    }
  }
  if (backend_fd < 0) {  // Down, unknown or refused: the client sees a reset.
    Reset(client_fd);
    return;
  }
  NoDelay(client_fd);
  NoDelay(backend_fd);
  Pump(client_fd, backend_fd);
}

void FaultProxy::Pump(int client_fd, int backend_fd) {
  while (!stopping_) {
    NetFault fault = fault_;
    if (fault == NetFault::kReset) break;
    // Which directions flow: none in a blackhole, only requests when half open.
    short from_client = fault == NetFault::kBlackhole ? 0 : POLLIN;
    short from_backend = fault == NetFault::kBlackhole || fault == NetFault::kHalfOpen ? 0 : POLLIN;
    pollfd p[2] = {{client_fd, from_client, 0}, {backend_fd, from_backend, 0}};
    if (poll(p, 2, kPollMs) < 0 && errno != EINTR) break;
    // A hang-up or error ends the connection even while nothing is forwarded.
    if ((p[0].revents | p[1].revents) & (POLLERR | POLLNVAL)) break;
    if ((p[0].revents & (POLLIN | POLLHUP)) && !Forward(client_fd, backend_fd)) break;
    if ((p[1].revents & (POLLIN | POLLHUP)) && !Forward(backend_fd, client_fd)) break;
    if (from_client == 0 && (p[0].revents & POLLHUP)) break;
    if (from_backend == 0 && (p[1].revents & POLLHUP)) break;
  }
  // Stopped, reset or over: both sides see a reset (an over connection's
  // peer has already gone, so it sees nothing).
  if (fault_ == NetFault::kReset) ++resets_;
  Reset(client_fd);
  Reset(backend_fd);
}

bool FaultProxy::Forward(int from, int to) {
  char buffer[kChunk];
  ssize_t n = read(from, buffer, sizeof(buffer));
  if (n <= 0) return false;
  int64_t latency_us = latency_us_;
  if (fault_ == NetFault::kLatency && latency_us > 0)
    absl::SleepFor(absl::Microseconds(latency_us));
  return WriteAll(to, buffer, static_cast<size_t>(n));
}

bool FaultProxy::WriteAll(int fd, const char* data, size_t size) {
  while (size > 0 && !stopping_) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    pollfd p{fd, POLLOUT, 0};
    poll(&p, 1, kPollMs);
    if (fault_ == NetFault::kReset) return false;
  }
  return size == 0;
}

void FaultProxy::Reset(int fd) {
  linger hard{.l_onoff = 1, .l_linger = 0};  // close() sends RST, not FIN
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  close(fd);
}

}  // namespace pointspay
