// The launcher's chaos mode: a seeded schedule of kill -9s, spread over the
// payment load, for tccd and for each service (the participants and the
// order service, the initiator). With several coordinators (points_pay
// --store postgres --coordinators N) each coordinator kill picks one of
// them, and there are pauses too: SIGSTOP for longer than the ownership
// lease, then SIGCONT (a paused owner: the others take its transactions
// over, and its late writes must be refused by the fence). The same seed gives the same schedule:
// each kill is tied to a count of finished payments, not to a wall-clock time, so it lands at the
// same point of the load however fast the machine is. Each victim stays down for a seeded moment
// (clients, tccd and the services must ride it out) and is then restarted by the cluster's
// supervisor on the same port and data file.
//
// The fault switches (common/faults.h) run alongside: chaos mode turns them
// all on (ChaosFaultProfile), including the order service's
// crash_after_confirm, which kills it between its local commit and its
// Commit call.
//
// Thread-safety: not thread-safe; the launcher's main thread owns it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "examples/points-pay/cluster/cluster.h"
#include "examples/points-pay/cluster/fault_profile.h"

namespace pointspay {

struct ChaosOptions {
  uint64_t seed = 1;
  int payments = 1000;
  int coordinator_kills = 3;
  int service_kills = 2;  // per service: points, paylog, order
  int max_downtime_ms = 1000;
  // The coordinators a kill or pause picks among (cluster.h's
  // CoordinatorNames).
  std::vector<std::string> coordinators = {"tccd"};
  int coordinator_pauses = 0;
  // Each pause lasts a seeded 1.5 to 2.5 leases.
  absl::Duration lease = absl::Seconds(2);
};

struct ChaosEvent {
  enum class Action { kKill, kPause };
  int64_t at_payment = 0;  // fires once this many payments are finished
  std::string process;     // "tccd", "tccd2", "points_service", ...
  Action action = Action::kKill;
  absl::Duration downtime;  // down after a kill; stopped for a pause
};

// Told of each kill or pause of a coordinator the moment its signal is sent
// (the takeover watch, takeover_watch.h).
class ChaosObserver {
 public:
  virtual ~ChaosObserver() = default;
  virtual void Signalled(const std::string& process, ChaosEvent::Action action) = 0;
};

// The kills and pauses, sorted by at_payment. Each process's kills (the
// coordinators' kills together, and their pauses together) fall one in each
// of equal slices of the middle of the load (5% to 90% of the payments).
std::vector<ChaosEvent> MakeChaosSchedule(const ChaosOptions& options);

// One line per event: "  @123 kill -9 tccd, down 420 ms",
// "  @456 SIGSTOP tccd2 for 3100 ms".
std::string DescribeSchedule(const std::vector<ChaosEvent>& schedule);

// The default fault profile with the order service's crash switches raised,
// so that a chaos run of a few hundred payments crashes it between its local
// commit and Commit at least once in expectation.
ServiceFaults ChaosFaultProfile();

class ChaosMonkey {
 public:
  // `observer` (may be null, not owned) hears of every coordinator's signal.
  explicit ChaosMonkey(std::vector<ChaosEvent> schedule, ChaosObserver* observer = nullptr)
      : schedule_(std::move(schedule)), observer_(observer) {}

  // Fires every event due at `payments_done`: SIGKILL, the downtime, and
  // the restart; or SIGSTOP, the pause, and SIGCONT. Blocks for the
  // downtime or pause (the supervisor waits too).
  absl::Status Step(int64_t payments_done, Cluster& cluster);

  // Kills and pauses done so far, per process.
  const std::map<std::string, int>& kills() const { return kills_; }
  const std::map<std::string, int>& pauses() const { return pauses_; }
  size_t pending() const { return schedule_.size() - next_; }

 private:
  absl::Status Fire(const ChaosEvent& e, Cluster& cluster);

  const std::vector<ChaosEvent> schedule_;
  ChaosObserver* const observer_;
  size_t next_ = 0;
  std::map<std::string, int> kills_;
  std::map<std::string, int> pauses_;
};

}  // namespace pointspay
