#include "coordinator/server/ownership_loop.h"

#include "tcc/common/logging.h"

namespace tcc {

OwnershipLoop::OwnershipLoop(OwnershipLoopOptions options,
                             std::unique_ptr<PostgresInstances> instances,
                             TransactionEngine* engine, AlignedClock* clock)
    : options_(options),
      period_(options.lease / 4),
      instances_(std::move(instances)),
      engine_(engine),
      clock_(clock),
      timers_(clock) {}

OwnershipLoop::~OwnershipLoop() { timers_.Stop(); }

void OwnershipLoop::Start() {
  spdlog::info("instance {}: heartbeat every {}, lease {} (on the database's clock)",
               instances_->instance_id(), absl::FormatDuration(period_),
               absl::FormatDuration(options_.lease));
  ScheduleTick(period_);
}

void OwnershipLoop::ScheduleTick(absl::Duration after) {
  timers_.Schedule(clock_->Now() + after, [this] { Tick(); });
}

absl::StatusOr<PostgresInstances::Beat> BeatAndAlign(PostgresInstances& instances,
                                                     AlignedClock& clock) {
  const absl::Time sent = clock.local().Now();
  absl::StatusOr<PostgresInstances::Beat> beat = instances.Heartbeat();
  if (!beat.ok()) return beat;
  const absl::Time received = clock.local().Now();
  if (clock.Align(absl::FromUnixMillis(beat->at_ms), sent, received)) {
    spdlog::info("clock aligned with the database's: offset {} (read in {})",
                 absl::FormatDuration(clock.offset()), absl::FormatDuration(received - sent));
  }
  return beat;
}

bool OwnershipLoop::Beat() {
  absl::StatusOr<PostgresInstances::Beat> beat = BeatAndAlign(*instances_, *clock_);
  if (!beat.ok()) {
    spdlog::warn("heartbeat failed ({}); past the lease, the other instances take over",
                 beat.status().message());
    alive_since_ms_.reset();
    return false;
  }
  const int64_t lease_ms = absl::ToInt64Milliseconds(options_.lease);
  if (!alive_since_ms_ || !beat->since_previous_ms || *beat->since_previous_ms > lease_ms) {
    alive_since_ms_ = beat->at_ms;
  }
  return beat->at_ms - *alive_since_ms_ >= lease_ms;
}

void OwnershipLoop::Tick() {
  const bool settled = Beat();
  if (!taking_over_ || !settled) return ScheduleTick(period_);
  engine_->TakeOver(options_.batch, [this](absl::StatusOr<size_t> claimed) {
    if (!claimed.ok()) spdlog::warn("takeover pass failed: {}", claimed.status().message());
    const bool more = claimed.ok() && *claimed == options_.batch;
    ScheduleTick(more ? absl::ZeroDuration() : period_);
  });
}

void OwnershipLoop::Leave() {
  taking_over_ = false;
  timers_.Stop();
  absl::StatusOr<int64_t> released = instances_->Leave();
  if (!released.ok()) {
    spdlog::warn("could not hand ownership back ({}); the others take over after the lease",
                 released.status().message());
    return;
  }
  spdlog::info("instance {} left: released {} unfinished transactions", instances_->instance_id(),
               *released);
}

}  // namespace tcc
