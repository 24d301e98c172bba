// tccd's part in sharing one PostgreSQL database with other instances: on
// its own timer thread, every lease / 4 it refreshes this instance's
// heartbeat and runs one takeover pass (the engine claims, in bounded
// batches, the GTs of instances whose heartbeat is older than the lease,
// and resumes them; a full batch runs the next one at once). Death of an
// instance is thus noticed within lease + lease / 4.
//
// Shutdown: StopTakingOver first (no new claims while the engine drains;
// the heartbeat goes on, so the others do not take over a draining
// instance), then, once the store queue is flushed, Leave hands every GT
// still owned here back at once.
//
// An instance judges others dead only after its own heartbeats have gone
// on without a gap longer than the lease for one lease (on the database's
// clock). A database restart or outage stops every heartbeat at once: the
// first instance back must not take the lost heartbeats of the others for
// their deaths; within one lease the live ones have heartbeated again.
//
// Every heartbeat also reads the database's now(): the daemon's clock is
// aligned with it (AlignedClock), so that deadlines, ages and timestamps
// that several instances compare are on one clock, the database's.
//
// Thread-safe: the timer thread runs the passes; the two stop calls come
// from the daemon's thread.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include "coordinator/domain/aligned_clock.h"
#include "coordinator/engine/timer_queue.h"
#include "coordinator/engine/transaction_engine.h"
#include "coordinator/store/postgres_instances.h"

namespace tcc {

struct OwnershipLoopOptions {
  absl::Duration lease = absl::Seconds(4);
  size_t batch = 256;  // GTs claimed per store operation.
};

// Heartbeats once and aligns `clock` with the database's now() it read.
absl::StatusOr<PostgresInstances::Beat> BeatAndAlign(PostgresInstances& instances,
                                                     AlignedClock& clock);

class OwnershipLoop {
 public:
  OwnershipLoop(OwnershipLoopOptions options, std::unique_ptr<PostgresInstances> instances,
                TransactionEngine* engine, AlignedClock* clock);
  ~OwnershipLoop();

  void Start();
  void StopTakingOver() { taking_over_ = false; }
  // Stops the heartbeat and releases what this instance still owns. Call
  // after the store queue stopped: no write of this instance follows.
  void Leave();

 private:
  void Tick();
  // Heartbeats; true when the takeover may judge others (see above).
  bool Beat();
  void ScheduleTick(absl::Duration after);

  const OwnershipLoopOptions options_;
  const absl::Duration period_;
  const std::unique_ptr<PostgresInstances> instances_;  // Timer thread, then Leave.
  TransactionEngine* const engine_;
  AlignedClock* const clock_;
  std::atomic<bool> taking_over_{true};
  // The database's time since when the heartbeats had no gap longer than
  // the lease. Timer thread only.
  std::optional<int64_t> alive_since_ms_;
  TimerQueue timers_;
};

}  // namespace tcc
