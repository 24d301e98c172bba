// A TCP fault proxy: listens on a loopback port and forwards every
// connection to a backend port, byte for byte, unless a network fault is on:
//
//   kLatency   each chunk waits `latency` before it is passed on
//   kReset     every connection, open or new, is dropped with a TCP RST
//   kBlackhole connections are accepted (and kept) but nothing is forwarded
//   kHalfOpen  requests still reach the backend, its replies are held back
//
// Held bytes stay in the kernel's buffers and flow again when the fault ends
// (a stalled peer, not a corrupted stream); a reset is final. The proxy's
// listening port is bound once and kept, so a restarted backend (on its own
// kept port) is found again through it: set_backend_port() may be called at
// any time, connections made before it is known are reset.
//
// Gives the points-pay chaos run real network faults between real
// processes, with no change to them (they are told the proxy's address).
//
// Thread-safety: every public method is thread-safe. One thread accepts and
// one (detached) thread per connection forwards; the destructor stops them
// all and waits until the last one is gone.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tcc/common/mutex.h"

namespace pointspay {

enum class NetFault { kNone, kLatency, kReset, kBlackhole, kHalfOpen };

// "none", "latency", "reset", "blackhole", "half-open".
const char* NetFaultName(NetFault fault);

class FaultProxy {
 public:
  // A proxy on 127.0.0.1:0 (the kernel picks the port); the backend is set later.
  static absl::StatusOr<std::unique_ptr<FaultProxy>> Start(std::string name);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  const std::string& name() const { return name_; }
  int port() const { return port_; }
  std::string address() const;
  void set_backend_port(int port) { backend_port_ = port; }

  // Replaces the current fault (kNone ends it). `latency` is for kLatency.
  void SetFault(NetFault fault, absl::Duration latency = absl::ZeroDuration());
  NetFault fault() const { return fault_; }

  int64_t connections() const { return connections_; }
  int64_t resets() const { return resets_; }

 private:
  FaultProxy(std::string name, int listen_fd, int port);
  void AcceptLoop();
  void Serve(int client_fd);
  // Forwards until the connection ends, a reset comes or the proxy stops.
  void Pump(int client_fd, int backend_fd);
  // Moves what `from` has to `to`; false when the connection is over.
  bool Forward(int from, int to);
  bool WriteAll(int fd, const char* data, size_t size);
  void Reset(int fd);

  const std::string name_;
  const int listen_fd_;
  const int port_;
  std::atomic<int> backend_port_ = 0;
  std::atomic<NetFault> fault_ = NetFault::kNone;
  std::atomic<int64_t> latency_us_ = 0;
  std::atomic<bool> stopping_ = false;
  std::atomic<int64_t> connections_ = 0;
  std::atomic<int64_t> resets_ = 0;

  tcc::Mutex mu_;
  int live_workers_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread acceptor_;
};

}  // namespace pointspay
