// The points-pay chaos run's TCP fault proxy (fault_proxy/fault_proxy.h)
// between a real client socket and a real echo server on loopback: it
// forwards, delays, resets, blackholes and half-opens, and what it held back
// flows again once the fault ends.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "examples/points-pay/fault_proxy/fault_proxy.h"

namespace pointspay::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Echoes every byte of one connection at a time; counts what it received.
class EchoServer {
 public:
  EchoServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(0);
    socklen_t length = sizeof(addr);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~EchoServer() {
    stopping_ = true;
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  int64_t received() const { return received_; }

 private:
  void Loop() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int c = accept(fd_, nullptr, nullptr);
      char buffer[4096];
      while (!stopping_) {
        pollfd q{c, POLLIN, 0};
        if (poll(&q, 1, 20) <= 0) continue;
        ssize_t n = read(c, buffer, sizeof(buffer));
        if (n <= 0) break;
        received_ += n;
        if (send(c, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
      }
      close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_ = false;
  std::atomic<int64_t> received_ = 0;
  std::thread thread_;
};

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = Loopback(port);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

// What arrives on `fd` within `ms`: the bytes, "" for nothing, "RESET" or "EOF".
std::string Receive(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, ms) <= 0) return "";
  char buffer[4096];
  ssize_t n = read(fd, buffer, sizeof(buffer));
  if (n < 0) return errno == ECONNRESET ? "RESET" : "ERROR";
  if (n == 0) return "EOF";
  return std::string(buffer, static_cast<size_t>(n));
}

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto proxy = FaultProxy::Start("echo");
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
    proxy_->set_backend_port(echo_.port());
    client_ = Connect(proxy_->port());
  }
  void TearDown() override { close(client_); }

  void Send(const std::string& text) {
    ASSERT_EQ(send(client_, text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(text.size()));
  }

  EchoServer echo_;
  std::unique_ptr<FaultProxy> proxy_;
  int client_ = -1;
};

TEST_F(FaultProxyTest, ForwardsBothWays) {
  Send("ping");
  EXPECT_EQ(Receive(client_, 2000), "ping");
  EXPECT_EQ(proxy_->connections(), 1);
}

TEST_F(FaultProxyTest, LatencyDelaysEachDirection) {
  Send("warm");
  ASSERT_EQ(Receive(client_, 2000), "warm");
  proxy_->SetFault(NetFault::kLatency, absl::Milliseconds(150));
  auto start = std::chrono::steady_clock::now();
  Send("slow");
  EXPECT_EQ(Receive(client_, 3000), "slow");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
}

TEST_F(FaultProxyTest, ResetDropsOpenAndNewConnections) {
  Send("warm");
  ASSERT_EQ(Receive(client_, 2000), "warm");
  proxy_->SetFault(NetFault::kReset);
  EXPECT_EQ(Receive(client_, 2000), "RESET");
  int fresh = Connect(proxy_->port());
  EXPECT_EQ(Receive(fresh, 2000), "RESET");
  close(fresh);
  EXPECT_GE(proxy_->resets(), 1);
  proxy_->SetFault(NetFault::kNone);
  int later = Connect(proxy_->port());
  ASSERT_EQ(send(later, "back", 4, MSG_NOSIGNAL), 4);
  EXPECT_EQ(Receive(later, 2000), "back");
  close(later);
}

TEST_F(FaultProxyTest, BlackholeHoldsEverythingUntilItEnds) {
  proxy_->SetFault(NetFault::kBlackhole);
  Send("held");
  EXPECT_EQ(Receive(client_, 300), "");
  EXPECT_EQ(echo_.received(), 0);
  proxy_->SetFault(NetFault::kNone);
  EXPECT_EQ(Receive(client_, 2000), "held");
}

TEST_F(FaultProxyTest, HalfOpenDeliversRequestsButHoldsReplies) {
  proxy_->SetFault(NetFault::kHalfOpen);
  Send("asked");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (echo_.received() < 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(echo_.received(), 5);        // The backend got it and answered...
  EXPECT_EQ(Receive(client_, 300), "");  // ...but the answer is held.
  proxy_->SetFault(NetFault::kNone);
  EXPECT_EQ(Receive(client_, 2000), "asked");
}

TEST(FaultProxyBackendTest, AnUnknownOrDownBackendIsAReset) {
  auto proxy = FaultProxy::Start("nowhere");
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  int fd = Connect((*proxy)->port());
  EXPECT_EQ(Receive(fd, 2000), "RESET");
  close(fd);
}

}  // namespace
}  // namespace pointspay::testing
