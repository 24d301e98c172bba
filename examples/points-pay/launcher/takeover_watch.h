// How long the other coordinators take to take over a killed or paused
// one's transactions, in a run with several tccd instances on PostgreSQL
// (points_pay --store postgres --coordinators N --chaos).
//
// The definition, measured on the database (the owner column every fenced
// write and every claim sets, docs/ownership.md): at the moment of the
// SIGKILL or SIGSTOP the watch reads which unfinished global transactions
// the victim owns; the takeover time is from that moment until none of
// them is both unfinished and still owned by the victim, i.e. each one was
// claimed by another instance (a takeover pass after the lease, or a
// decision that reached another instance) or finished. The victim is known
// by its address (its --listen, the address column of its row in
// coordinator_instances, newest row first: a restarted tccd registers anew
// under a fresh instance id). A background thread polls every 10 ms, so a
// time is exact to about that. A victim that owned nothing unfinished has
// no takeover to measure and is counted apart.
//
// Thread-safety: thread-safe; Signalled is called from the launcher's main
// thread (through ChaosMonkey), the polling runs on the watch's thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "examples/points-pay/common/postgres_db.h"
#include "examples/points-pay/launcher/chaos.h"
#include "tcc/common/mutex.h"

namespace pointspay {

struct TakeoverSample {
  std::string process;  // "tccd2"
  std::string action;   // "kill -9" or "SIGSTOP"
  std::string instance_id;
  int owned = 0;                       // unfinished GTs it owned at the signal
  std::optional<absl::Duration> took;  // nullopt: owned none, or not (yet) taken over
  std::string error;                   // why it could not be measured, if it could not
};

// Max and median of the measured takeovers.
struct TakeoverStats {
  int signals = 0;   // kills and pauses of coordinators
  int measured = 0;  // those whose victim owned something, taken over
  int owned_nothing = 0;
  int not_taken_over = 0;  // owned something, still not taken over at Finish
  int unmeasured = 0;      // the watch could not read the victim's state
  absl::Duration max;
  absl::Duration median;
};

class TakeoverWatch : public ChaosObserver {
 public:
  // `uri`: the coordinators' database; `addresses`: process name -> its
  // address (Cluster::coordinator_address).
  static absl::StatusOr<std::unique_ptr<TakeoverWatch>> Start(
      const std::string& uri, std::map<std::string, std::string> addresses);
  ~TakeoverWatch() override;
  TakeoverWatch(const TakeoverWatch&) = delete;
  TakeoverWatch& operator=(const TakeoverWatch&) = delete;

  void Signalled(const std::string& process, ChaosEvent::Action action) override;

  // Waits up to `timeout` for every pending takeover, then stops polling.
  void Finish(absl::Duration timeout);
  std::vector<TakeoverSample> samples() const;
  TakeoverStats stats() const;

 private:
  struct Pending {
    size_t sample = 0;
    absl::Time signalled;
    std::string gids;  // a PostgreSQL text[] literal
  };

  TakeoverWatch(std::unique_ptr<PostgresDb> marks, std::unique_ptr<PostgresDb> polls,
                std::map<std::string, std::string> addresses);
  absl::Status Mark(TakeoverSample& sample, Pending& pending);
  void Loop();
  // One round over the pending takeovers; true when none is left.
  bool PollOnce();

  std::unique_ptr<PostgresDb> marks_;  // the caller's thread (Signalled)
  std::unique_ptr<PostgresDb> polls_;  // the watch's thread
  const std::map<std::string, std::string> addresses_;
  mutable tcc::Mutex mu_;
  std::vector<TakeoverSample> samples_ ABSL_GUARDED_BY(mu_);
  std::vector<Pending> pending_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Prints "takeovers  N measured: max X s, median Y s (...)" and a line per
// signal.
std::string DescribeTakeovers(const std::vector<TakeoverSample>& samples,
                              const TakeoverStats& stats);

}  // namespace pointspay
