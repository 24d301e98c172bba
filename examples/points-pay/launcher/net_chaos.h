// The chaos run's network faults (--net_faults): a seeded schedule of
// faults on the fault proxies (fault_proxy/) between tccd and each service
// and between the order service and tccd: added latency, dropped
// connections (RST), a blackhole for seconds, half-open connections. Like
// the kill -9 schedule (chaos.h), each fault starts at a count of finished
// payments, so a seed gives the same schedule on any machine; it lasts a
// seeded wall-clock time (so a blackhole that stalls the load still ends).
// One fault per route at a time: a new one on a route replaces the last.
//
// Thread-safety: not thread-safe; the launcher's main thread owns it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "examples/points-pay/fault_proxy/fault_proxy.h"
#include "examples/points-pay/fault_proxy/proxy_routes.h"

namespace pointspay {

struct NetChaosOptions {
  uint64_t seed = 1;
  int payments = 1000;
  int faults_per_route = 4;
  int max_fault_ms = 3000;   // each fault lasts a seeded time up to this
  int max_latency_ms = 300;  // added to each forwarded chunk during a latency fault
};

struct NetFaultEvent {
  int64_t at_payment = 0;  // starts once this many payments are finished
  std::string route;       // "tccd", "points_service", "paylog_service", "order_status"
  NetFault fault = NetFault::kNone;
  absl::Duration duration;
  absl::Duration latency;  // kLatency only
};

// The faults, sorted by at_payment; each route's fall one in each of equal
// slices of the middle of the load (5% to 90% of the payments), with the
// four kinds taken in a seeded order so that every kind occurs on every
// route with faults_per_route >= 4.
std::vector<NetFaultEvent> MakeNetFaultSchedule(const NetChaosOptions& options,
                                                const std::vector<std::string>& routes);

// One line per fault: "  @123 blackhole tccd for 1200 ms".
std::string DescribeNetSchedule(const std::vector<NetFaultEvent>& schedule);

class NetChaos {
 public:
  NetChaos(std::vector<NetFaultEvent> schedule, const ProxyRoutes& routes)
      : schedule_(std::move(schedule)), routes_(routes) {}
  ~NetChaos() { EndAll(); }

  // Starts every fault due at `payments_done` and ends those whose time is up.
  void Step(int64_t payments_done);
  // Ends every fault now (the load is over: the run must settle).
  void EndAll();

  // Faults started so far, per kind: "net faults 16: blackhole=4 half-open=4 ...".
  std::string Summary() const;
  const std::map<std::string, int>& started() const { return started_; }
  size_t pending() const { return schedule_.size() - next_; }

 private:
  const std::vector<NetFaultEvent> schedule_;
  const ProxyRoutes& routes_;
  size_t next_ = 0;
  std::map<std::string, absl::Time> ends_;  // per route with a fault on
  std::map<std::string, int> started_;      // per kind
};

}  // namespace pointspay
