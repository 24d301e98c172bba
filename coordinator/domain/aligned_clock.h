// A clock that follows a reference clock read from afar (the database's
// now(), which several tccd instances share) rather than this machine's:
// this machine's time plus a measured offset. Each reading of the reference
// comes with the local times just before and after it; the reference is
// taken to have been read halfway, so the error is at most half that round
// trip. The offset moves only when a reading disagrees with it by more than
// that uncertainty, so time does not jitter with every reading.
//
// Until the first reading the offset is zero: the local clock. Thread-safe:
// readings and Now may come from any thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "coordinator/domain/clock.h"

namespace tcc {

class AlignedClock final : public Clock {
 public:
  // `local` (not owned) must outlive this clock.
  explicit AlignedClock(const Clock* local) : local_(local) {}

  absl::Time Now() const override { return local_->Now() + offset(); }

  // The reference clock read `reference` between the local times `sent`
  // and `received` (both from local()). True when the offset moved.
  bool Align(absl::Time reference, absl::Time sent, absl::Time received);

  absl::Duration offset() const { return absl::Microseconds(offset_us_.load()); }
  const Clock& local() const { return *local_; }

 private:
  const Clock* const local_;
  std::atomic<int64_t> offset_us_{0};
};

}  // namespace tcc
