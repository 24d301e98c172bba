// The pending callbacks of a Scheduler, earliest first and FIFO among equal
// times: the one heap both the TimerQueue (real time, its own thread) and
// the ManualScheduler (manual time) keep. Not thread-safe: each owner
// guards its heap with its own mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "absl/time/time.h"

namespace tcc {

class TimerHeap {
 public:
  void Push(absl::Time when, std::function<void()> callback) {
    timers_.push({when, next_sequence_++, std::move(callback)});
  }
  bool empty() const { return timers_.empty(); }
  size_t size() const { return timers_.size(); }
  // When the earliest callback is due; InfiniteFuture if none.
  absl::Time NextDue() const {
    return timers_.empty() ? absl::InfiniteFuture() : timers_.top().when;
  }
  // Removes and returns the earliest callback if it is due by `now`.
  std::function<void()> PopDue(absl::Time now) {
    if (timers_.empty() || timers_.top().when > now) return nullptr;
    // priority_queue::top is const; the element is popped right after.
    std::function<void()> callback = std::move(const_cast<Timer&>(timers_.top()).callback);
    timers_.pop();
    return callback;
  }
  void Clear() { timers_ = {}; }

 private:
  struct Timer {
    absl::Time when;
    uint64_t sequence;  // FIFO among equal times.
    std::function<void()> callback;
    bool operator>(const Timer& other) const {
      return when != other.when ? when > other.when : sequence > other.sequence;
    }
  };
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  uint64_t next_sequence_ = 0;
};

}  // namespace tcc
