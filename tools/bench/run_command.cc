#include "tools/bench/run_command.h"

#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>

#include "absl/strings/str_format.h"
#include "common/process/child_process.h"
#include "tcc/common/status_macros.h"
#include "tools/bench/bench_env.h"
#include "tools/bench/driver.h"
#include "tools/bench/points_pay_command.h"
#include "tools/bench/process_sample.h"
#include "tools/bench/workloads.h"

namespace tcc::bench {
namespace {

std::string Shape(const LoadOptions& load) {
  if (load.rate > 0) return absl::StrFormat("open loop %.0f/s", load.rate);
  return absl::StrFormat("closed loop concurrency %d", load.concurrency);
}

// The ceiling: the same channels settings and concurrency, one echo RPC per
// unit, against the in-process null participant.
double MeasureCeiling(BenchEnv& env, const LoadOptions& load) {
  auto channels =
      MakeChannels(env.participant(0).target(), load.channels, env.channel_credentials());
  auto echo = MakeEchoWorkload(channels);
  DriveOptions drive;
  drive.concurrency = load.concurrency;
  drive.warmup = absl::Milliseconds(500);
  drive.measure = absl::Seconds(load.ceiling_seconds);
  drive.label = "ceiling";
  DriveResult result = Drive(*echo, drive);
  std::printf(
      "ceiling: %.0f RPC/s (echo Participant.Try, closed loop concurrency %d, %d channel(s), "
      "%.1f s, p50 %.3f ms, p99 %.3f ms, %lld errors)\n",
      result.per_second, load.concurrency, load.channels, result.seconds, result.latency.p50_ms,
      result.latency.p99_ms, static_cast<long long>(result.latency.errors));
  return result.per_second;
}

struct TccdWindow {
  ProcessSample before, after;
  bool valid = false;
};

void PrintReport(const Workload& workload, const LoadOptions& load, const DriveResult& result,
                 const TccdWindow& tccd, double ceiling) {
  const LatencySummary& latency = result.latency;
  std::printf("throughput: %.1f GT/s (%lld GTs in %.1f s, %lld errors, %lld dropped)\n",
              result.per_second, static_cast<long long>(latency.count), result.seconds,
              static_cast<long long>(latency.errors), static_cast<long long>(result.dropped));
  for (const auto& [code, count] : latency.error_counts) {
    std::printf("errors: %s x%lld (first: %s)\n", code.c_str(), static_cast<long long>(count),
                latency.first_error.c_str());
  }
  std::printf("latency_ms: p50 %.3f p95 %.3f p99 %.3f max %.3f mean %.3f (%s)\n", latency.p50_ms,
              latency.p95_ms, latency.p99_ms, latency.max_ms, latency.mean_ms,
              load.rate > 0 ? "from the scheduled send time" : "from the first call");
  double cpu_per_1000 = 0, peak_mb = 0;
  if (tccd.valid && latency.count > 0) {
    double cpu = tccd.after.cpu_seconds - tccd.before.cpu_seconds;
    cpu_per_1000 = cpu * 1000.0 / static_cast<double>(latency.count);
    peak_mb = static_cast<double>(tccd.after.peak_rss_kb) / 1024.0;
    std::printf("tccd_cpu: %.3f CPU s per 1000 GTs (%.2f s user+sys over the window)\n",
                cpu_per_1000, cpu);
    std::printf("tccd_peak_rss: %.1f MB (VmHWM)\n", peak_mb);
  } else {
    std::printf("tccd_cpu: n/a (tccd not started by tcc_bench)\n");
  }
  int rpcs = workload.RpcsPerUnit();
  double ratio = ceiling > 0 ? result.per_second / (ceiling / rpcs) : 0;
  if (ceiling > 0) {
    std::printf("ratio: GT/s / (ceiling RPC/s / RPCs per GT) = %.1f / (%.0f / %d) = %.3f\n",
                result.per_second, ceiling, rpcs, ratio);
  }
  // One line for scripts and plots.
  std::printf("csv: %s,%d,%d,%.0f,%.1f,%.3f,%.3f,%.3f,%.3f,%.0f,%d,%.3f,%.3f,%.1f,%lld\n",
              load.mode == Mode::kSaga ? "saga" : "tcc", load.branches, load.concurrency, load.rate,
              result.per_second, latency.p50_ms, latency.p95_ms, latency.p99_ms, latency.max_ms,
              ceiling, rpcs, ratio, cpu_per_1000, peak_mb, static_cast<long long>(latency.errors));
}

}  // namespace

absl::Status RunLoad(const TccdOptions& tccd_options, const LoadOptions& load, bool keep) {
  if (load.mode == Mode::kPointsPay) {
    if (tccd_options.tls) {
      return absl::InvalidArgumentError(
          "--tls is for --mode tcc and saga; the points-pay mode runs the example in plaintext");
    }
    return RunPointsPay(tccd_options, load, keep);
  }
  PrintMachine();
  TCC_ASSIGN_OR_RETURN(auto env, BenchEnv::Start(tccd_options, load.participants, false, keep));
  double ceiling = load.skip_ceiling ? 0 : MeasureCeiling(*env, load);

  auto channels =
      MakeChannels(env->coordinator_address(), load.channels, env->channel_credentials());
  TCC_ASSIGN_OR_RETURN(auto workload,
                       MakeTransactionWorkload(load, channels, env->participant_targets()));
  std::printf(
      "run: %s; %s; %d channel(s), %d null participant(s) in the bench process; "
      "tccd %s, sync=%s, %s; %.1f s after %.1f s warm-up\n",
      workload->Describe().c_str(), Shape(load).c_str(), load.channels, load.participants,
      env->coordinator_address().c_str(), tccd_options.sync.c_str(),
      tccd_options.tls ? "mutual TLS on every hop" : "plaintext", load.seconds,
      load.warmup_seconds);
  std::fflush(stdout);

  TccdWindow window;
  TccdProcess* tccd = env->tccd();
  DriveOptions drive;
  drive.concurrency = load.concurrency;
  drive.rate = load.rate;
  drive.warmup = absl::Seconds(load.warmup_seconds);
  drive.measure = absl::Seconds(load.seconds);
  drive.max_in_flight = load.max_in_flight;
  drive.label = load.mode == Mode::kSaga ? "saga" : "tcc";
  drive.on_window_start = [&] {
    if (tccd == nullptr) return;
    absl::StatusOr<ProcessSample> sample = SampleProcess(tccd->pid());
    if (sample.ok()) window.before = *sample;
  };
  drive.on_window_end = [&] {
    if (tccd == nullptr) return;
    absl::StatusOr<ProcessSample> sample = SampleProcess(tccd->pid());
    window.valid = sample.ok();
    if (sample.ok()) window.after = *sample;
  };
  DriveResult result = Drive(*workload, drive);
  PrintReport(*workload, load, result, window, ceiling);
  if (tccd != nullptr) {
    std::optional<int> status = tccd->Stop();
    std::printf("tccd: stopped with SIGTERM, %s\n",
                status ? ::tcc::process::DescribeWaitStatus(*status).c_str() : "already stopped");
  }
  std::fflush(stdout);
  if (result.latency.count == 0) return absl::UnavailableError("no GT completed");
  return absl::OkStatus();
}

}  // namespace tcc::bench
