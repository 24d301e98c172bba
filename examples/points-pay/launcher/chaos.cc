#include "examples/points-pay/launcher/chaos.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_format.h"
#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

constexpr double kFirstKillAt = 0.05;  // share of the load
constexpr double kLastKillAt = 0.90;

// `count` kills of one of `processes` (picked per kill when there are
// several), one in each equal slice of the window.
void AddKills(const ChaosOptions& o, const std::vector<std::string>& processes, int count,
              std::mt19937_64& rng, std::vector<ChaosEvent>& out) {
  if (count <= 0 || processes.empty()) return;
  double lo = kFirstKillAt * o.payments;
  double slice = (kLastKillAt - kFirstKillAt) * o.payments / count;
  std::uniform_real_distribution<double> within(0.0, slice);
  std::uniform_int_distribution<int> downtime(0, std::max(o.max_downtime_ms, 0));
  std::uniform_int_distribution<size_t> pick(0, processes.size() - 1);
  for (int i = 0; i < count; ++i) {
    ChaosEvent e;
    e.at_payment = std::max<int64_t>(1, static_cast<int64_t>(lo + slice * i + within(rng)));
    e.process = processes.size() == 1 ? processes[0] : processes[pick(rng)];
    e.downtime = absl::Milliseconds(downtime(rng));
    out.push_back(e);
  }
}

// Pauses as kills are spread, each 1.5 to 2.5 leases long: past the lease,
// so that the others take the paused one's transactions over.
void AddPauses(const ChaosOptions& o, std::mt19937_64& rng, std::vector<ChaosEvent>& out) {
  std::vector<ChaosEvent> pauses;
  AddKills(o, o.coordinators, o.coordinator_pauses, rng, pauses);
  std::uniform_real_distribution<double> leases(1.5, 2.5);
  for (ChaosEvent& e : pauses) {
    e.action = ChaosEvent::Action::kPause;
    e.downtime = o.lease * leases(rng);
    out.push_back(e);
  }
}

}  // namespace

std::vector<ChaosEvent> MakeChaosSchedule(const ChaosOptions& o) {
  std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ull + 0xC4A05);
  std::vector<ChaosEvent> schedule;
  AddKills(o, o.coordinators, o.coordinator_kills, rng, schedule);
  for (const char* service : {"points_service", "paylog_service", "order_service"})
    AddKills(o, {service}, o.service_kills, rng, schedule);
  AddPauses(o, rng, schedule);
  std::stable_sort(schedule.begin(), schedule.end(), [](const ChaosEvent& a, const ChaosEvent& b) {
    return a.at_payment < b.at_payment;
  });
  return schedule;
}

std::string DescribeSchedule(const std::vector<ChaosEvent>& schedule) {
  std::string text;
  for (const ChaosEvent& e : schedule) {
    if (e.action == ChaosEvent::Action::kPause) {
      absl::StrAppendFormat(&text, "  @%d SIGSTOP %s for %d ms\n", e.at_payment, e.process,
                            absl::ToInt64Milliseconds(e.downtime));
      continue;
    }
    absl::StrAppendFormat(&text, "  @%d kill -9 %s, down %d ms\n", e.at_payment, e.process,
                          absl::ToInt64Milliseconds(e.downtime));
  }
  return text;
}

ServiceFaults ChaosFaultProfile() {
  ServiceFaults faults = DefaultFaultProfile();
  faults.order.crash_after_try = 0.002;
  faults.order.crash_after_confirm = 0.005;
  return faults;
}

absl::Status ChaosMonkey::Step(int64_t payments_done, Cluster& cluster) {
  while (next_ < schedule_.size() && schedule_[next_].at_payment <= payments_done) {
    const ChaosEvent& e = schedule_[next_++];
    // Restart first whatever a crash fault just took down, so that every
    // kill counted here is a kill of a running process.
    TCC_RETURN_IF_ERROR(cluster.Supervise().status());
    TCC_RETURN_IF_ERROR(Fire(e, cluster));
  }
  return absl::OkStatus();
}

absl::Status ChaosMonkey::Fire(const ChaosEvent& e, Cluster& cluster) {
  std::function<void()> signalled;
  if (observer_ != nullptr && !cluster.coordinator_address(e.process).empty()) {
    signalled = [this, &e] { observer_->Signalled(e.process, e.action); };
  }
  if (e.action == ChaosEvent::Action::kPause) {
    TCC_ASSIGN_OR_RETURN(bool paused, cluster.PauseAndResume(e.process, e.downtime, signalled));
    if (paused) pauses_[e.process]++;
    return absl::OkStatus();
  }
  TCC_ASSIGN_OR_RETURN(bool killed, cluster.KillAndRestart(e.process, e.downtime, signalled));
  if (killed) kills_[e.process]++;
  return absl::OkStatus();
}

}  // namespace pointspay
