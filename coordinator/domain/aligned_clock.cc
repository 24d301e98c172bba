#include "coordinator/domain/aligned_clock.h"

#include <algorithm>

namespace tcc {

bool AlignedClock::Align(absl::Time reference, absl::Time sent, absl::Time received) {
  if (received < sent) std::swap(sent, received);  // The local clock stepped back.
  const absl::Duration half_trip = (received - sent) / 2;
  const absl::Duration measured = reference - (sent + half_trip);
  // A reading tells the offset only to within half its round trip (and at
  // least a millisecond: the reference's own resolution).
  const absl::Duration tolerance = std::max(half_trip, absl::Milliseconds(1));
  if (absl::AbsDuration(measured - offset()) <= tolerance) return false;
  offset_us_.store(absl::ToInt64Microseconds(measured));
  return true;
}

}  // namespace tcc
