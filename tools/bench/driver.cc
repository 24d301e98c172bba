#include "tools/bench/driver.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace tcc::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t NanosSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count();
}

// What the in-flight units share; outlives them (the driver waits for
// in_flight to reach zero before returning).
struct Shared {
  Workload* workload = nullptr;
  LatencyRecorder recorder;
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> started{0};
  std::atomic<int64_t> dropped{0};
  int64_t max_units = 0;
};

// Closed loop: a finished unit starts the next one from its callback.
void StartClosed(Shared* shared) {
  if (shared->stopping.load() || shared->workload->Exhausted() ||
      (shared->max_units > 0 && shared->started.fetch_add(1) >= shared->max_units)) {
    shared->in_flight.fetch_sub(1);
    return;
  }
  SteadyClock::time_point start = SteadyClock::now();
  shared->workload->Start([shared, start](absl::Status status) {
    shared->recorder.Record(NanosSince(start), status);
    StartClosed(shared);
  });
}

void StartScheduled(Shared* shared, SteadyClock::time_point scheduled, int max_in_flight) {
  if (shared->in_flight.load() >= max_in_flight || shared->workload->Exhausted()) {
    shared->dropped.fetch_add(1);
    return;
  }
  shared->in_flight.fetch_add(1);
  shared->workload->Start([shared, scheduled](absl::Status status) {
    shared->recorder.Record(NanosSince(scheduled), status);
    shared->in_flight.fetch_sub(1);
  });
}

void PrintProgress(const Shared& shared, const std::string& label, double elapsed_s,
                   int64_t& last_completed) {
  int64_t completed = shared.recorder.completed();
  std::fprintf(stderr, "[%s %5.1fs] done %lld (%lld/s) in flight %lld errors %lld\n", label.c_str(),
               elapsed_s, static_cast<long long>(completed),
               static_cast<long long>(completed - last_completed),
               static_cast<long long>(shared.in_flight.load()),
               static_cast<long long>(shared.recorder.failed()));
  last_completed = completed;
}

// Paces the open loop in ~1 ms steps: every send due by now goes out with
// its own scheduled time.
void PaceOpenLoop(Shared& shared, const DriveOptions& options, SteadyClock::time_point begin,
                  SteadyClock::time_point end) {
  auto period = std::chrono::duration<double>(1.0 / options.rate);
  int64_t sent = 0;
  auto last_progress = begin;
  int64_t last_completed = 0;
  while (SteadyClock::now() < end) {
    auto now = SteadyClock::now();
    while (true) {
      auto due = begin + std::chrono::duration_cast<SteadyClock::duration>(period * sent);
      if (due > now || due >= end) break;
      StartScheduled(&shared, due, options.max_in_flight);
      ++sent;
    }
    if (now - last_progress >= std::chrono::seconds(1)) {
      last_progress = now;
      PrintProgress(shared, options.label, std::chrono::duration<double>(now - begin).count(),
                    last_completed);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
}

void WaitClosedLoop(Shared& shared, const DriveOptions& options, SteadyClock::time_point begin,
                    SteadyClock::time_point end) {
  int64_t last_completed = 0;
  auto last_progress = begin;
  while (SteadyClock::now() < end && shared.in_flight.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto now = SteadyClock::now();
    if (now - last_progress >= std::chrono::seconds(1)) {
      last_progress = now;
      PrintProgress(shared, options.label, std::chrono::duration<double>(now - begin).count(),
                    last_completed);
    }
  }
}

}  // namespace

DriveResult Drive(Workload& workload, const DriveOptions& options) {
  Shared shared;
  shared.workload = &workload;
  shared.max_units = options.max_units;
  bool counted = options.max_units > 0;
  absl::Duration warmup = counted ? absl::ZeroDuration() : options.warmup;
  absl::Duration total = counted ? absl::Hours(24) : warmup + options.measure;
  auto begin = SteadyClock::now();
  auto window_start = begin + absl::ToChronoNanoseconds(warmup);
  auto end = begin + absl::ToChronoNanoseconds(total);

  // The window is opened and closed by a timer thread so the pacing loop
  // stays simple.
  std::thread window([&] {
    std::this_thread::sleep_until(window_start);
    options.on_window_start();
    shared.recorder.set_recording(true);
  });
  if (counted) window.join();
  if (options.rate > 0) {
    PaceOpenLoop(shared, options, begin, end);
  } else {
    shared.in_flight.store(options.concurrency);
    for (int i = 0; i < options.concurrency; ++i) StartClosed(&shared);
    WaitClosedLoop(shared, options, begin, end);
  }
  if (window.joinable()) window.join();
  shared.recorder.set_recording(false);
  options.on_window_end();
  auto window_end = SteadyClock::now();
  shared.stopping.store(true);
  // Units still in flight finish unrecorded; they must finish before
  // `shared` goes away.
  while (shared.in_flight.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  DriveResult result;
  result.latency = shared.recorder.Summarize();
  result.seconds = std::chrono::duration<double>(window_end - window_start).count();
  result.per_second =
      result.seconds > 0 ? static_cast<double>(result.latency.count) / result.seconds : 0;
  result.dropped = shared.dropped.load();
  result.succeeded_total = shared.recorder.completed() - shared.recorder.failed();
  return result;
}

}  // namespace tcc::bench
