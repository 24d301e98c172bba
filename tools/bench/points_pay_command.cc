#include "tools/bench/points_pay_command.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "examples/points-pay/checker/checker.h"
#include "examples/points-pay/cluster/cluster.h"
#include "examples/points-pay/cluster/seed.h"
#include "tcc/common/status_macros.h"
#include "tools/bench/bench_env.h"
#include "tools/bench/driver.h"
#include "tools/bench/points_pay_workload.h"
#include "tools/bench/process_sample.h"

namespace tcc::bench {
namespace {

// Default seeding covers the whole run at this many payments/s (closed
// loop), far above what two cores reach.
constexpr double kSeedRate = 5000;
// Seed users get 1,000 points and orders cost at most 100, so a user with
// at most 10 orders can pay them all: no refusals.
constexpr int kOrdersPerUser = 10;
constexpr absl::Duration kSettleTimeout = absl::Seconds(120);

// The cluster's processes, in the order they are reported.
constexpr std::array<const char*, 4> kProcesses = {"tccd", "points_service", "paylog_service",
                                                   "order_service"};

int OrdersToSeed(const LoadOptions& load) {
  if (load.orders > 0) return load.orders;
  double rate = load.rate > 0 ? load.rate : kSeedRate;
  return static_cast<int>(rate * (load.warmup_seconds + load.seconds)) + load.concurrency + 1000;
}

absl::Status Validate(const TccdOptions& tccd) {
  if (!tccd.addr.empty() || !tccd.data.empty()) {
    return absl::InvalidArgumentError(
        "--mode=points-pay starts its own tccd and services on fresh files: drop --addr/--data");
  }
  if (tccd.sync != "full" && tccd.sync != "normal") {
    return absl::InvalidArgumentError("--mode=points-pay takes --sync=full or --sync=normal");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Seed(const std::string& dir, int orders) {
  int users = (orders + kOrdersPerUser - 1) / kOrdersPerUser;
  absl::Time start = absl::Now();
  TCC_ASSIGN_OR_RETURN(
      pointspay::SeedResult seeded,
      pointspay::SeedDataDir(dir, {.users = users, .orders = orders, .seed = 1, .poor_ratio = 0}));
  std::printf(
      "seed: %d UNPAID orders (10-100 points) for %d users with 1000 points each (%.1f s)\n",
      orders, users, absl::ToDoubleSeconds(absl::Now() - start));
  std::vector<std::string> order_nos;
  for (const pointspay::SeededOrder& order : seeded.orders) order_nos.push_back(order.order_no);
  return order_nos;
}

// CPU time and memory of every process (the four of the cluster, then the
// bench itself) at the window's start and end.
struct Window {
  std::vector<pid_t> pids;
  std::vector<ProcessSample> before, after;
  double seconds = 0;

  void Sample(std::vector<ProcessSample>& into) const {
    into.clear();
    for (pid_t pid : pids) into.push_back(SampleProcess(pid).value_or(ProcessSample{}));
  }
  double Cpu(size_t i) const { return after[i].cpu_seconds - before[i].cpu_seconds; }
};

// One line per process, then the total of the four (the bench's own client
// is shown apart: it is the load, not the system under test).
void PrintCosts(const Window& window, int64_t count, double* total_cpu, double* total_peak_mb) {
  auto per_1000 = [&](double cpu) { return count > 0 ? cpu * 1000.0 / count : 0.0; };
  auto cores = [&](double cpu) { return window.seconds > 0 ? cpu / window.seconds : 0.0; };
  *total_cpu = 0;
  *total_peak_mb = 0;
  for (size_t i = 0; i < kProcesses.size(); ++i) {
    double cpu = window.Cpu(i);
    double peak_mb = static_cast<double>(window.after[i].peak_rss_kb) / 1024.0;
    *total_cpu += cpu;
    *total_peak_mb += peak_mb;
    std::printf(
        "cpu: %-14s %.3f CPU s per 1000 GTs (%.2f s user+sys, %.2f cores), peak RSS %.1f MB\n",
        kProcesses[i], per_1000(cpu), cpu, cores(cpu), peak_mb);
  }
  std::printf(
      "cpu: %-14s %.3f CPU s per 1000 GTs (%.2f s user+sys, %.2f cores), peak RSS %.1f MB\n",
      "total", per_1000(*total_cpu), *total_cpu, cores(*total_cpu), *total_peak_mb);
  double client = window.Cpu(kProcesses.size());
  std::printf(
      "cpu: %-14s %.3f CPU s per 1000 GTs (%.2f s, %.2f cores; the load, not in the total)\n",
      "tcc_bench", per_1000(client), client, cores(client));
}

void PrintReport(const LoadOptions& load, const DriveResult& result, const Window& window) {
  const LatencySummary& latency = result.latency;
  std::printf(
      "throughput: %.1f GT/s = payments/s (%lld payments in %.1f s, %lld errors, %lld dropped)\n",
      result.per_second, static_cast<long long>(latency.count), result.seconds,
      static_cast<long long>(latency.errors), static_cast<long long>(result.dropped));
  for (const auto& [code, count] : latency.error_counts) {
    std::printf("errors: %s x%lld (first: %s)\n", code.c_str(), static_cast<long long>(count),
                latency.first_error.c_str());
  }
  std::printf("latency_ms: p50 %.3f p95 %.3f p99 %.3f max %.3f mean %.3f (%s, PayWithPoints)\n",
              latency.p50_ms, latency.p95_ms, latency.p99_ms, latency.max_ms, latency.mean_ms,
              load.rate > 0 ? "from the scheduled send time" : "from the first call");
  double total_cpu = 0, total_peak_mb = 0;
  PrintCosts(window, latency.count, &total_cpu, &total_peak_mb);
  std::printf(
      "ratio: skipped for --mode points-pay (no ceiling run; the target is absolute: "
      ">= 1000 GT/s end to end)\n");
  double cpu_per_1000 = latency.count > 0 ? total_cpu * 1000.0 / latency.count : 0;
  // The other modes' columns; ceiling and ratio are 0, CPU and RSS are the
  // four processes' totals.
  std::printf("csv: points-pay,2,%d,%.0f,%.1f,%.3f,%.3f,%.3f,%.3f,0,9,0,%.3f,%.1f,%lld\n",
              load.concurrency, load.rate, result.per_second, latency.p50_ms, latency.p95_ms,
              latency.p99_ms, latency.max_ms, cpu_per_1000, total_peak_mb,
              static_cast<long long>(latency.errors));
}

DriveResult DriveLoad(const LoadOptions& load, Workload& workload, Window& window) {
  DriveOptions drive;
  drive.concurrency = load.concurrency;
  drive.rate = load.rate;
  drive.warmup = absl::Seconds(load.warmup_seconds);
  drive.measure = absl::Seconds(load.seconds);
  drive.max_in_flight = load.max_in_flight;
  drive.label = "points-pay";
  absl::Time start, end;
  drive.on_window_start = [&] {
    window.Sample(window.before);
    start = absl::Now();
  };
  drive.on_window_end = [&] {
    window.Sample(window.after);
    end = absl::Now();
  };
  DriveResult result = Drive(workload, drive);
  window.seconds = absl::ToDoubleSeconds(end - start);
  return result;
}

// tccd's Confirms run after the replies: wait until every GT is final so
// that the checker sees a finished run.
absl::Status Settle(const pointspay::Cluster& cluster) {
  absl::Time start = absl::Now();
  while (true) {
    TCC_ASSIGN_OR_RETURN(int64_t unfinished, cluster.UnfinishedTransactions());
    if (unfinished == 0) break;
    if (absl::Now() - start > kSettleTimeout) {
      return absl::DeadlineExceededError(
          absl::StrFormat("%d GT(s) still unfinished %s after the load", unfinished,
                          absl::FormatDuration(kSettleTimeout)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  std::printf("settle: every GT final %.2f s after the load\n",
              absl::ToDoubleSeconds(absl::Now() - start));
  return absl::OkStatus();
}

// Stops the cluster and runs the checker: true when both are clean.
bool StopAndCheck(pointspay::Cluster& cluster, const std::string& dir) {
  absl::Status stopped = cluster.Stop();
  std::printf("stop: tccd and 3 services, SIGTERM: %s\n",
              stopped.ok() ? "all exited 0" : std::string(stopped.message()).c_str());
  std::fflush(stdout);
  absl::StatusOr<pointspay::CheckReport> report =
      pointspay::RunChecker(pointspay::CheckerPaths::InDataDir(dir));
  if (!report.ok()) {
    std::printf("checker: cannot read the databases: %s\n",
                std::string(report.status().message()).c_str());
    return false;
  }
  pointspay::PrintReport(*report, std::cout);
  std::cout.flush();
  return stopped.ok() && report->clean();
}

void PrintCounts(const PointsPayWorkload& workload) {
  PointsPayCounts counts = workload.counts();
  std::printf(
      "payments (whole run, warm-up included): %lld done, %lld refused, %lld aborted, "
      "%lld failed%s\n",
      static_cast<long long>(counts.done), static_cast<long long>(counts.refused),
      static_cast<long long>(counts.aborted), static_cast<long long>(counts.failed),
      workload.Exhausted() ? "; RAN OUT of seeded orders (raise --orders)" : "");
}

std::string Shape(const LoadOptions& load) {
  if (load.rate > 0) return absl::StrFormat("open loop %.0f/s", load.rate);
  return absl::StrFormat("closed loop concurrency %d", load.concurrency);
}

// The load and its report. True when every payment of the run (warm-up
// included) was done, some fell in the window, and the seeded orders
// lasted (otherwise part of the window was idle and the figures lie).
bool Measure(const LoadOptions& load, const TccdOptions& tccd, const pointspay::Cluster& cluster,
             std::vector<std::string> order_nos) {
  PointsPayWorkload workload(MakeChannels(cluster.order_address(), load.channels),
                             std::move(order_nos));
  std::printf(
      "run: %s; %s; %d channel(s) to the order service at %s; sync=%s; data in %s; "
      "%.1f s after %.1f s warm-up\n",
      workload.Describe().c_str(), Shape(load).c_str(), load.channels,
      cluster.order_address().c_str(), tccd.sync.c_str(), cluster.data_dir().c_str(), load.seconds,
      load.warmup_seconds);
  std::fflush(stdout);
  Window window;
  // The pids let a profiler attach during the run (perf record -p).
  std::printf("pids:");
  for (const char* name : kProcesses) {
    window.pids.push_back(cluster.pid(name));
    std::printf(" %s %d", name, static_cast<int>(window.pids.back()));
  }
  window.pids.push_back(getpid());
  std::printf(" tcc_bench %d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  DriveResult result = DriveLoad(load, workload, window);
  PrintReport(load, result, window);
  PrintCounts(workload);
  PointsPayCounts counts = workload.counts();
  return counts.refused + counts.aborted + counts.failed == 0 && result.latency.count > 0 &&
         !workload.Exhausted();
}

}  // namespace

absl::Status RunPointsPay(const TccdOptions& tccd, const LoadOptions& load, bool keep) {
  TCC_RETURN_IF_ERROR(Validate(tccd));
  PrintMachine();
  TCC_ASSIGN_OR_RETURN(auto scratch, ScratchDir::Create(keep));
  TCC_ASSIGN_OR_RETURN(std::vector<std::string> order_nos,
                       Seed(scratch->path(), OrdersToSeed(load)));
  pointspay::ClusterOptions options{
      .data_dir = scratch->path(), .sync = tccd.sync, .log_level = tccd.log_level};
  options.binaries.tccd = tccd.tccd_path;
  pointspay::Cluster cluster(options);
  if (absl::Status started = cluster.Start(); !started.ok()) {
    scratch->Keep();  // the services' logs say why
    return started;
  }
  // Measure closes its connections before the order service is stopped,
  // whose stop would otherwise wait for them.
  bool all_done = Measure(load, tccd, cluster, std::move(order_nos));
  absl::Status settled = Settle(cluster);
  if (!settled.ok()) std::printf("settle: %s\n", std::string(settled.message()).c_str());
  bool clean = StopAndCheck(cluster, scratch->path());
  if (all_done && settled.ok() && clean) {
    std::printf("points-pay: PASS (every payment done, every GT final, checker clean)\n");
    return absl::OkStatus();
  }
  scratch->Keep();
  std::printf("points-pay: FAIL (data kept in %s)\n", scratch->path().c_str());
  return absl::InternalError("points-pay run failed; see above");
}

}  // namespace tcc::bench
