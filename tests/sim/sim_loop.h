// The simulator's single thread of control (tcc_sim, after TigerBeetle's
// VOPR and FoundationDB's simulation): simulated time that jumps from one
// event to the next, one queue of events ordered by (time, order of
// scheduling), the seeded generator every simulated component draws from,
// and the trace, one line per event, which is the run's schedule. One seed
// gives one schedule, so any failure replays from its seed.
//
// A Life is the liveness token of a process incarnation: events scheduled
// through Guard run only while it lives, so crashing a process is setting
// its token to false (its timers, store completions and replies vanish).
//
// Not thread-safe: everything in a simulation runs on the thread that calls
// Step.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "coordinator/domain/clock.h"
#include "coordinator/domain/scheduler.h"

namespace tcc::sim {

using Life = std::shared_ptr<bool>;

inline Life NewLife() { return std::make_shared<bool>(true); }

// `fn`, made to do nothing once `life` has ended.
std::function<void()> Guard(Life life, std::function<void()> fn);

class SimLoop final : public Clock {
 public:
  SimLoop(uint64_t seed, bool keep_trace);

  absl::Time Now() const override { return now_; }
  absl::Time start() const { return start_; }

  // Runs `fn` at `when` (now, if `when` has passed). `what` names the event
  // in the trace.
  void At(absl::Time when, std::string what, std::function<void()> fn);
  void After(absl::Duration delay, std::string what, std::function<void()> fn);

  // Runs the next event unless there is none or it is due after `limit`;
  // returns whether one ran.
  bool Step(absl::Time limit);

  // Adds a line to the trace at the current time (what an event did).
  void Note(const std::string& line);

  // Random draws, all from the one seeded generator.
  bool Chance(double probability);
  int64_t Uniform(int64_t low, int64_t high);  // Inclusive.
  absl::Duration Between(absl::Duration low, absl::Duration high);
  uint64_t Next() { return random_(); }

  uint64_t trace_hash() const { return trace_hash_; }
  const std::vector<std::string>& trace() const { return trace_; }
  uint64_t events_run() const { return events_run_; }

 private:
  struct Event {
    absl::Time when;
    uint64_t order;
    std::string what;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.when != b.when ? a.when > b.when : a.order > b.order;
    }
  };

  void Record(absl::string_view kind, const std::string& line);

  const absl::Time start_;
  absl::Time now_;
  std::mt19937_64 random_;
  std::priority_queue<Event, std::vector<Event>, Later> events_;
  uint64_t next_order_ = 0;
  uint64_t events_run_ = 0;
  const bool keep_trace_;
  std::vector<std::string> trace_;
  uint64_t trace_hash_ = 1469598103934665603ull;  // FNV-1a offset basis.
};

// The engine's Scheduler for one coordinator incarnation: its timers are
// events of the loop that die with the incarnation.
class SimScheduler final : public Scheduler {
 public:
  SimScheduler(SimLoop* loop, Life life) : loop_(loop), life_(std::move(life)) {}
  void Schedule(absl::Time when, std::function<void()> callback) override;

 private:
  SimLoop* const loop_;
  const Life life_;
};

}  // namespace tcc::sim
