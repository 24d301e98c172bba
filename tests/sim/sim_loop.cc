#include "tests/sim/sim_loop.h"

#include "absl/strings/str_cat.h"

namespace tcc::sim {

std::function<void()> Guard(Life life, std::function<void()> fn) {
  return [life = std::move(life), fn = std::move(fn)] {
    if (*life) fn();
  };
}

SimLoop::SimLoop(uint64_t seed, bool keep_trace)
    : start_(absl::FromUnixSeconds(1'800'000'000)),
      now_(start_),
      random_(seed),
      keep_trace_(keep_trace) {}

void SimLoop::At(absl::Time when, std::string what, std::function<void()> fn) {
  events_.push({std::max(when, now_), next_order_++, std::move(what), std::move(fn)});
}

void SimLoop::After(absl::Duration delay, std::string what, std::function<void()> fn) {
  At(now_ + delay, std::move(what), std::move(fn));
}

bool SimLoop::Step(absl::Time limit) {
  if (events_.empty() || events_.top().when > limit) return false;
  // Moved out before it runs: the event may schedule others.
  Event event = std::move(const_cast<Event&>(events_.top()));
  events_.pop();
  now_ = event.when;
  ++events_run_;
  Record("", event.what);
  event.fn();
  return true;
}

void SimLoop::Note(const std::string& line) { Record("  ", line); }

void SimLoop::Record(absl::string_view kind, const std::string& line) {
  int64_t at_ms = absl::ToInt64Milliseconds(now_ - start_);
  for (char c : absl::StrCat(at_ms, " ", line)) {
    trace_hash_ = (trace_hash_ ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  if (keep_trace_) trace_.push_back(absl::StrCat("[", at_ms, "ms] ", kind, line));
}

bool SimLoop::Chance(double probability) {
  return static_cast<double>(random_() >> 11) * 0x1.0p-53 < probability;
}

int64_t SimLoop::Uniform(int64_t low, int64_t high) {
  if (high <= low) return low;
  return low + static_cast<int64_t>(random_() % static_cast<uint64_t>(high - low + 1));
}

absl::Duration SimLoop::Between(absl::Duration low, absl::Duration high) {
  return absl::Microseconds(
      Uniform(absl::ToInt64Microseconds(low), absl::ToInt64Microseconds(high)));
}

void SimScheduler::Schedule(absl::Time when, std::function<void()> callback) {
  loop_->At(when, "coordinator timer", Guard(life_, std::move(callback)));
}

}  // namespace tcc::sim
