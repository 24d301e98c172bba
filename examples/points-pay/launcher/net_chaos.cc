#include "examples/points-pay/launcher/net_chaos.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace pointspay {
namespace {

constexpr double kFirstFaultAt = 0.05;  // share of the load
constexpr double kLastFaultAt = 0.90;
constexpr NetFault kKinds[] = {NetFault::kLatency, NetFault::kReset, NetFault::kBlackhole,
                               NetFault::kHalfOpen};

void AddFaults(const NetChaosOptions& o, const std::string& route, std::mt19937_64& rng,
               std::vector<NetFaultEvent>& out) {
  if (o.faults_per_route <= 0) return;
  double lo = kFirstFaultAt * o.payments;
  double slice = (kLastFaultAt - kFirstFaultAt) * o.payments / o.faults_per_route;
  std::uniform_real_distribution<double> within(0.0, slice);
  std::uniform_int_distribution<int> duration(std::min(100, o.max_fault_ms), o.max_fault_ms);
  std::uniform_int_distribution<int> latency(1, std::max(o.max_latency_ms, 1));
  std::vector<NetFault> kinds(std::begin(kKinds), std::end(kKinds));
  std::shuffle(kinds.begin(), kinds.end(), rng);
  for (int i = 0; i < o.faults_per_route; ++i) {
    NetFaultEvent e;
    e.at_payment = std::max<int64_t>(1, static_cast<int64_t>(lo + slice * i + within(rng)));
    e.route = route;
    e.fault = kinds[i % kinds.size()];
    e.duration = absl::Milliseconds(duration(rng));
    e.latency = absl::Milliseconds(latency(rng));
    out.push_back(e);
  }
}

}  // namespace

std::vector<NetFaultEvent> MakeNetFaultSchedule(const NetChaosOptions& o,
                                                const std::vector<std::string>& routes) {
  std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ull + 0x4E7);
  std::vector<NetFaultEvent> schedule;
  for (const std::string& route : routes) AddFaults(o, route, rng, schedule);
  std::stable_sort(
      schedule.begin(), schedule.end(),
      [](const NetFaultEvent& a, const NetFaultEvent& b) { return a.at_payment < b.at_payment; });
  return schedule;
}

std::string DescribeNetSchedule(const std::vector<NetFaultEvent>& schedule) {
  std::string text;
  for (const NetFaultEvent& e : schedule) {
    absl::StrAppendFormat(&text, "  @%d %s %s for %d ms", e.at_payment, NetFaultName(e.fault),
                          e.route, absl::ToInt64Milliseconds(e.duration));
    if (e.fault == NetFault::kLatency) {
      absl::StrAppendFormat(&text, " (+%d ms a chunk)", absl::ToInt64Milliseconds(e.latency));
    }
    text += "\n";
  }
  return text;
}

void NetChaos::Step(int64_t payments_done) {
  absl::Time now = absl::Now();
  for (auto it = ends_.begin(); it != ends_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    if (FaultProxy* proxy = routes_.proxy(it->first)) proxy->SetFault(NetFault::kNone);
    it = ends_.erase(it);
  }
  while (next_ < schedule_.size() && schedule_[next_].at_payment <= payments_done) {
    const NetFaultEvent& e = schedule_[next_++];
    FaultProxy* proxy = routes_.proxy(e.route);
    if (proxy == nullptr) continue;
    proxy->SetFault(e.fault, e.latency);
    ends_[e.route] = now + e.duration;
    started_[NetFaultName(e.fault)]++;
  }
}

void NetChaos::EndAll() {
  for (const auto& [route, end] : ends_) {
    if (FaultProxy* proxy = routes_.proxy(route)) proxy->SetFault(NetFault::kNone);
  }
  ends_.clear();
}

std::string NetChaos::Summary() const {
  int total = 0;
  std::string kinds;
  for (const auto& [kind, count] : started_) {
    total += count;
    absl::StrAppendFormat(&kinds, " %s=%d", kind, count);
  }
  int64_t connections = 0;
  int64_t resets = 0;
  for (const FaultProxy* proxy : routes_.proxies()) {
    connections += proxy->connections();
    resets += proxy->resets();
  }
  return absl::StrFormat("net faults %d:%s | proxied connections %d, reset %d", total, kinds,
                         connections, resets);
}

}  // namespace pointspay
