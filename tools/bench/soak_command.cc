#include "tools/bench/soak_command.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/process/child_process.h"
#include "tcc/common/status_macros.h"
#include "tcc/v1/admin.grpc.pb.h"
#include "tools/bench/ascii_plot.h"
#include "tools/bench/bench_env.h"
#include "tools/bench/driver.h"
#include "tools/bench/process_sample.h"
#include "tools/bench/workloads.h"

namespace tcc::bench {
namespace {

constexpr double kMb = 1024.0 * 1024.0;
constexpr double kTolerance = 0.10;

struct Interval {
  double end_seconds = 0;
  double per_second = 0;
  double p99_ms = 0;
  int64_t errors = 0;
  double store_mb = 0;
  double free_mb = 0;
  uint64_t rows = 0;
  double rss_mb = 0;
};

absl::StatusOr<v1::StatsReply> FetchStats(v1::Admin::Stub& admin) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::StatsReply reply;
  grpc::Status status = admin.Stats(&context, v1::StatsRequest(), &reply);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("Admin.Stats failed: ", status.error_message()));
  }
  return reply;
}

// Fills the store and memory figures of `interval` after its load.
absl::Status Sample(v1::Admin::Stub& admin, TccdProcess& tccd, Interval& interval) {
  TCC_ASSIGN_OR_RETURN(v1::StatsReply stats, FetchStats(admin));
  interval.store_mb = static_cast<double>(stats.store_bytes()) / kMb;
  interval.free_mb = static_cast<double>(stats.store_free_bytes()) / kMb;
  for (const auto& [unused, count] : stats.transactions_by_state()) interval.rows += count;
  TCC_ASSIGN_OR_RETURN(ProcessSample process, SampleProcess(tccd.pid()));
  interval.rss_mb = static_cast<double>(process.rss_kb) / 1024.0;
  return absl::OkStatus();
}

void PrintInterval(const Interval& interval) {
  std::printf(
      "soak: t=%5.0fs  %7.1f GT/s  p99 %7.3f ms  errors %lld  store %7.1f MB (free %6.1f MB)  "
      "rows %8llu  tccd_rss %6.1f MB\n",
      interval.end_seconds, interval.per_second, interval.p99_ms,
      static_cast<long long>(interval.errors), interval.store_mb, interval.free_mb,
      static_cast<unsigned long long>(interval.rows), interval.rss_mb);
  std::fflush(stdout);
}

template <typename Field>
std::vector<double> Series(const std::vector<Interval>& intervals, Field field) {
  std::vector<double> values;
  for (const Interval& interval : intervals) values.push_back(field(interval));
  return values;
}

void PrintPlots(const std::vector<Interval>& intervals) {
  std::string first = "0s";
  std::string last = absl::StrFormat("%.0fs", intervals.back().end_seconds);
  auto plot = [&](const char* title, std::vector<double> values) {
    std::printf("\n%s", PlotSeries(values, {.title = title}, first, last).c_str());
  };
  plot("throughput (GT/s)", Series(intervals, [](const Interval& i) { return i.per_second; }));
  plot("p99 latency (ms)", Series(intervals, [](const Interval& i) { return i.p99_ms; }));
  plot("store on disk (MB)", Series(intervals, [](const Interval& i) { return i.store_mb; }));
  plot("rows (transactions stored)",
       Series(intervals, [](const Interval& i) { return static_cast<double>(i.rows); }));
  plot("tccd RSS (MB)", Series(intervals, [](const Interval& i) { return i.rss_mb; }));
}

// How far the values stray from their mean, as a fraction: (max - min) / 2 / mean.
double Spread(const std::vector<double>& values) {
  if (values.empty()) return 0;
  auto [low, high] = std::minmax_element(values.begin(), values.end());
  double mean = 0;
  for (double value : values) mean += value / static_cast<double>(values.size());
  return mean > 0 ? (*high - *low) / 2 / mean : 0;
}

// The verdict: flat after two retention windows, and no slowdown.
bool PrintVerdict(const std::vector<Interval>& intervals, const SoakOptions& soak) {
  double settled = 2.0 * static_cast<double>(soak.retention_seconds);
  std::vector<Interval> after;
  for (const Interval& interval : intervals) {
    if (interval.end_seconds > settled) after.push_back(interval);
  }
  if (after.size() < 2) {
    std::printf("soak: too short to judge (need 2 intervals after %.0f s)\n", settled);
    return true;
  }
  double store = Spread(Series(after, [](const Interval& i) { return i.store_mb; }));
  double rss = Spread(Series(after, [](const Interval& i) { return i.rss_mb; }));
  double rows =
      Spread(Series(after, [](const Interval& i) { return static_cast<double>(i.rows); }));
  double first = intervals.front().per_second;
  double last = intervals.back().per_second;
  double throughput = first > 0 ? last / first : 0;
  bool ok = store <= kTolerance && rss <= kTolerance && std::abs(throughput - 1) <= kTolerance;
  std::printf(
      "soak: after %.0f s (two retention windows), %zu intervals: store within +-%.1f%%, "
      "rows within +-%.1f%%, tccd RSS within +-%.1f%% of their means; last/first throughput "
      "%.3f\n",
      settled, after.size(), store * 100, rows * 100, rss * 100, throughput);
  std::printf("soak: %s (targets: store and RSS within +-10%%, throughput ratio 0.9-1.1)\n",
              ok ? "PASS" : "FAIL");
  return ok;
}

}  // namespace

absl::Status RunSoak(const TccdOptions& tccd_options, const LoadOptions& load,
                     const SoakOptions& soak, bool keep) {
  if (load.rate <= 0) return absl::InvalidArgumentError("soak needs --rate > 0 (open loop)");
  if (!tccd_options.addr.empty()) {
    return absl::InvalidArgumentError(
        "soak starts its own tccd (it sets --retention_s): drop --addr");
  }
  PrintMachine();
  TccdOptions options = tccd_options;
  options.extra_args.push_back(absl::StrCat("--retention_s=", soak.retention_seconds));
  TCC_ASSIGN_OR_RETURN(auto env, BenchEnv::Start(options, load.participants, false, keep));
  auto channels =
      MakeChannels(env->coordinator_address(), load.channels, env->channel_credentials());
  TCC_ASSIGN_OR_RETURN(auto workload,
                       MakeTransactionWorkload(load, channels, env->participant_targets()));
  auto admin = v1::Admin::NewStub(channels[0]);
  std::printf(
      "soak: %s; open loop %.0f/s for %.1f min, a line every %.0f s; tccd --retention_s=%lld "
      "--sync=%s\n",
      workload->Describe().c_str(), load.rate, soak.minutes, soak.interval_seconds,
      static_cast<long long>(soak.retention_seconds), options.sync.c_str());
  std::fflush(stdout);

  std::vector<Interval> intervals;
  const int count = std::max(1, static_cast<int>(soak.minutes * 60 / soak.interval_seconds));
  absl::Time start = absl::Now();
  for (int i = 0; i < count; ++i) {
    DriveOptions drive{.concurrency = load.concurrency,
                       .rate = load.rate,
                       .warmup = absl::ZeroDuration(),
                       .measure = absl::Seconds(soak.interval_seconds),
                       .max_in_flight = load.max_in_flight,
                       .label = "soak"};
    DriveResult result = Drive(*workload, drive);
    Interval interval{.end_seconds = absl::ToDoubleSeconds(absl::Now() - start),
                      .per_second = result.per_second,
                      .p99_ms = result.latency.p99_ms,
                      .errors = result.latency.errors + result.dropped};
    TCC_RETURN_IF_ERROR(Sample(*admin, *env->tccd(), interval));
    PrintInterval(interval);
    intervals.push_back(interval);
  }
  PrintPlots(intervals);
  bool ok = PrintVerdict(intervals, soak);
  std::optional<int> status = env->tccd()->Stop();
  std::printf("tccd: stopped with SIGTERM, %s\n",
              status ? ::tcc::process::DescribeWaitStatus(*status).c_str() : "already stopped");
  std::fflush(stdout);
  int64_t errors = 0;
  for (const Interval& interval : intervals) errors += interval.errors;
  if (errors > 0) return absl::UnavailableError(absl::StrCat(errors, " GTs failed or dropped"));
  return ok ? absl::OkStatus() : absl::FailedPreconditionError("the soak missed its targets");
}

}  // namespace tcc::bench
