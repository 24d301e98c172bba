#include "tools/bench/run_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/process/child_process.h"
#include "tcc/common/status_macros.h"
#include "tools/bench/bench_env.h"
#include "tools/bench/driver.h"
#include "tools/bench/points_pay_command.h"
#include "tools/bench/postgres_figures.h"
#include "tools/bench/process_sample.h"
#include "tools/bench/tccd_metrics.h"
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

// CPU seconds and peak memory over the measured window: every tccd
// instance (summed; the peak is the largest instance's), and with
// --store postgres the PostgreSQL server and the bench process itself, so
// the report shows where the two cores went.
struct CpuSample {
  double tccd = 0, postgres = 0, bench = 0;
  int64_t tccd_peak_rss_kb = 0;
};

struct TccdWindow {
  CpuSample before, after;
  int instances = 0;
  bool valid = false;
  bool postgres = false;
};

double BenchCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

absl::StatusOr<CpuSample> SampleCpu(BenchEnv& env) {
  CpuSample sample;
  for (TccdProcess* tccd : env.tccds()) {
    TCC_ASSIGN_OR_RETURN(ProcessSample one, SampleProcess(tccd->pid()));
    sample.tccd += one.cpu_seconds;
    sample.tccd_peak_rss_kb = std::max(sample.tccd_peak_rss_kb, one.peak_rss_kb);
  }
  if (pid_t postmaster = env.postgres_pid(); postmaster != 0) {
    TCC_ASSIGN_OR_RETURN(sample.postgres, ProcessTreeCpuSeconds(postmaster));
  }
  sample.bench = BenchCpuSeconds();
  return sample;
}

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
    double per_gt = 1000.0 / static_cast<double>(latency.count);
    double cpu = tccd.after.tccd - tccd.before.tccd;
    cpu_per_1000 = cpu * per_gt;
    peak_mb = static_cast<double>(tccd.after.tccd_peak_rss_kb) / 1024.0;
    std::printf("tccd_cpu: %.3f CPU s per 1000 GTs (%.2f s user+sys over the window%s)\n",
                cpu_per_1000, cpu,
                tccd.instances > 1 ? absl::StrCat(", ", tccd.instances, " instances").c_str() : "");
    std::printf("tccd_peak_rss: %.1f MB (VmHWM%s)\n", peak_mb,
                tccd.instances > 1 ? ", the largest instance" : "");
    if (tccd.postgres) {
      double postgres = tccd.after.postgres - tccd.before.postgres;
      double bench = tccd.after.bench - tccd.before.bench;
      std::printf(
          "other_cpu: postgres %.3f, tcc_bench %.3f CPU s per 1000 GTs (%.2f s and %.2f s over "
          "the window; the machine has %ld CPUs)\n",
          postgres * per_gt, bench * per_gt, postgres, bench, sysconf(_SC_NPROCESSORS_ONLN));
    }
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

// --store postgres: the database's ceiling, and its counters around the
// load (see postgres_figures.h).
struct PgFigures {
  PgCeiling ceiling;
  PgCounters idle_start, load_start, load_end;
  // tccd's store operations (every instance's), at load_start and load_end;
  // negative if they could not be read.
  double operations_start = -1, operations_end = -1;
};

// Every instance's store operations so far: each one an atomic write that
// a store without group commit would commit on its own.
double StoreOperations(BenchEnv& env) {
  double total = 0;
  for (TccdProcess* tccd : env.tccds()) {
    absl::StatusOr<double> operations =
        ReadTccdMetric(tccd->http_port(), "tcc_store_batch_size_sum");
    if (!operations.ok()) {
      std::printf("pg_store_ops: not read (%s)\n", operations.status().ToString().c_str());
      return -1;
    }
    total += *operations;
  }
  return total;
}

absl::Status CheckStore(const TccdOptions& tccd, const LoadOptions& load) {
  if (tccd.store != "sqlite" && tccd.store != "postgres") {
    return absl::InvalidArgumentError(
        absl::StrCat("--store is sqlite or postgres, not \"", tccd.store, "\""));
  }
  if (tccd.instances < 1) {
    return absl::InvalidArgumentError("--instances must be at least 1");
  }
  if (tccd.store == "sqlite" && tccd.instances != 1) {
    return absl::InvalidArgumentError(
        "--instances > 1 needs --store postgres: a SQLite file has one tccd");
  }
  if (tccd.store == "postgres" && !tccd.addr.empty()) {
    return absl::InvalidArgumentError(
        "--store postgres starts its own cluster and tccds; with --addr, leave --store out");
  }
  if (tccd.store == "postgres" && !tccd.data.empty()) {
    return absl::InvalidArgumentError(
        "--data names a SQLite file; --store postgres makes a fresh database, leave --data out");
  }
  if (tccd.store == "postgres" && load.mode == Mode::kPointsPay) {
    return absl::InvalidArgumentError(
        "--store postgres is for --mode tcc and saga; the points-pay mode runs tccd on SQLite");
  }
  return absl::OkStatus();
}

absl::StatusOr<PgCeiling> MeasurePostgresCeiling(BenchEnv& env, const LoadOptions& load) {
  TCC_ASSIGN_OR_RETURN(PgCeiling ceiling, MeasurePgCeiling(env.postgres_uri(), load.concurrency,
                                                           absl::Milliseconds(500),
                                                           absl::Seconds(load.ceiling_seconds)));
  std::printf(
      "pg_ceiling: %.0f commits/s (single-row INSERT + COMMIT, autocommit, %d connection(s), "
      "%.1f s, %lld errors%s%s)\n",
      ceiling.per_second, ceiling.connections, ceiling.seconds,
      static_cast<long long>(ceiling.errors),
      ceiling.first_error.empty() ? "" : "; first: ", ceiling.first_error.c_str());
  std::fflush(stdout);
  return ceiling;
}

// The commits (and WAL flushes) over the load and its drain, divided by the
// GTs that finished; the idle rate (heartbeats, the bench's own readings)
// is measured while tccd waits out the gRPC ceiling run.
void PrintPgReport(const PgFigures& pg, const LoadOptions& load, const DriveResult& result,
                   int instances) {
  auto seconds = [](absl::Time from, absl::Time to) { return absl::ToDoubleSeconds(to - from); };
  double idle_s = seconds(pg.idle_start.at, pg.load_start.at);
  double idle_rate =
      idle_s > 0
          ? static_cast<double>(pg.load_start.xact_commit - pg.idle_start.xact_commit) / idle_s
          : 0;
  double load_s = seconds(pg.load_start.at, pg.load_end.at);
  int64_t commits = pg.load_end.xact_commit - pg.load_start.xact_commit;
  int64_t syncs = pg.load_end.wal_sync - pg.load_start.wal_sync;
  auto gts = static_cast<double>(std::max<int64_t>(1, result.succeeded_total));
  double per_gt = static_cast<double>(commits) / gts;
  std::printf(
      "pg_commits: %.3f per GT (%lld commits for %lld GTs over %.1f s of load and drain; of "
      "them about %.0f at the idle rate, %.2f/s: heartbeats and the bench's readings; "
      "%lld rollbacks)\n",
      per_gt, static_cast<long long>(commits), static_cast<long long>(result.succeeded_total),
      load_s, idle_rate * load_s, idle_rate,
      static_cast<long long>(pg.load_end.xact_rollback - pg.load_start.xact_rollback));
  std::printf("pg_wal_flushes: %.3f per GT (%lld WAL syncs)\n", static_cast<double>(syncs) / gts,
              static_cast<long long>(syncs));
  double gt_limit = per_gt > 0 ? pg.ceiling.per_second / per_gt : 0;
  double ratio = gt_limit > 0 ? result.per_second / gt_limit : 0;
  if (load.skip_ceiling) {
    std::printf("pg_ratio: skipped (--no_ceiling: no PostgreSQL ceiling measured)\n");
  } else {
    std::printf(
        "pg_ratio: GT/s / (PG commits/s / PG commits per GT) = %.1f / (%.0f / %.3f) = %.3f\n",
        result.per_second, pg.ceiling.per_second, per_gt, ratio);
  }
  // Group commit makes commits per GT small, and the ratio above smaller
  // the better it groups. The work-equivalent view: each row the GTs wrote
  // weighed as one of the ceiling's single-row commits.
  double rows_per_gt =
      static_cast<double>(pg.load_end.rows_written - pg.load_start.rows_written) / gts;
  double row_ratio = rows_per_gt > 0 && pg.ceiling.per_second > 0
                         ? result.per_second / (pg.ceiling.per_second / rows_per_gt)
                         : 0;
  std::printf("pg_rows: %.1f written per GT (inserted + updated + deleted)\n", rows_per_gt);
  if (!load.skip_ceiling) {
    std::printf("pg_row_ratio: GT/s / (PG commits/s / rows per GT) = %.1f / (%.0f / %.1f) = %.3f\n",
                result.per_second, pg.ceiling.per_second, rows_per_gt, row_ratio);
  }
  // The commits a store without group commit would make: one per store
  // operation (tccd's own count), each weighed as one of the ceiling's.
  double ops_per_gt = pg.operations_start >= 0 && pg.operations_end >= 0
                          ? (pg.operations_end - pg.operations_start) / gts
                          : 0;
  double op_ratio = ops_per_gt > 0 && pg.ceiling.per_second > 0
                        ? result.per_second / (pg.ceiling.per_second / ops_per_gt)
                        : 0;
  if (ops_per_gt > 0) {
    std::printf(
        "pg_store_ops: %.2f per GT (tccd's store operations, each one atomic write, over the "
        "same span; group commit puts %.1f in one PostgreSQL commit)\n",
        ops_per_gt, per_gt > 0 ? ops_per_gt / per_gt : 0);
    if (!load.skip_ceiling) {
      std::printf(
          "pg_op_ratio: GT/s / (PG commits/s / store operations per GT) = %.1f / (%.0f / %.2f) "
          "= %.3f\n",
          result.per_second, pg.ceiling.per_second, ops_per_gt, op_ratio);
    }
  }
  // One line for scripts: mode, branches, concurrency, instances, GT/s, p99,
  // PG commits/s, commits per GT, WAL flushes per GT, ratio, rows per GT,
  // row ratio, store operations per GT, operation ratio.
  std::printf("pg_csv: %s,%d,%d,%d,%.1f,%.3f,%.0f,%.3f,%.3f,%.3f,%.1f,%.3f,%.2f,%.3f\n",
              load.mode == Mode::kSaga ? "saga" : "tcc", load.branches, load.concurrency, instances,
              result.per_second, result.latency.p99_ms, pg.ceiling.per_second, per_gt,
              static_cast<double>(syncs) / gts, ratio, rows_per_gt, row_ratio, ops_per_gt,
              op_ratio);
}

// Enough connections for the ceiling's clients at the load's concurrency
// besides the tccds' (a writer, a reader and a heartbeat each).
TccdOptions WithConnections(TccdOptions tccd, const LoadOptions& load) {
  if (tccd.store == "postgres") {
    tccd.pg_settings.push_back(
        absl::StrCat("max_connections=", load.concurrency + 8 * tccd.instances + 20));
  }
  return tccd;
}

std::vector<std::shared_ptr<grpc::Channel>> ChannelsToEveryInstance(BenchEnv& env,
                                                                    const LoadOptions& load) {
  // Interleaved (instance 1, 2, 3, 1, 2, 3, ...): the workload's round
  // robin over channels sends consecutive GTs to different instances.
  std::vector<std::vector<std::shared_ptr<grpc::Channel>>> per_instance;
  for (const std::string& address : env.coordinator_addresses()) {
    per_instance.push_back(MakeChannels(address, load.channels, env.channel_credentials()));
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < load.channels; ++i) {
    for (auto& instance : per_instance) channels.push_back(instance[static_cast<size_t>(i)]);
  }
  return channels;
}

absl::StatusOr<PgCounters> ReadCountersIfPostgres(BenchEnv& env) {
  if (env.postgres_uri().empty()) return PgCounters{};
  return ReadPgCounters(env.postgres_uri());
}

}  // namespace

absl::Status RunLoad(const TccdOptions& tccd_options, const LoadOptions& load, bool keep) {
  TCC_RETURN_IF_ERROR(CheckStore(tccd_options, load));
  if (load.mode == Mode::kPointsPay) {
    if (tccd_options.tls) {
      return absl::InvalidArgumentError(
          "--tls is for --mode tcc and saga; the points-pay mode runs the example in plaintext");
    }
    return RunPointsPay(tccd_options, load, keep);
  }
  PrintMachine();
  const bool postgres = tccd_options.store == "postgres";
  TCC_ASSIGN_OR_RETURN(auto env, BenchEnv::Start(WithConnections(tccd_options, load),
                                                 load.participants, false, keep));
  PgFigures pg;
  if (postgres) {
    TCC_ASSIGN_OR_RETURN(pg.ceiling, MeasurePostgresCeiling(*env, load));
  }
  TCC_ASSIGN_OR_RETURN(pg.idle_start, ReadCountersIfPostgres(*env));
  double ceiling = load.skip_ceiling ? 0 : MeasureCeiling(*env, load);
  // At least a second of idle tccd for the idle commit rate.
  if (postgres && absl::Now() - pg.idle_start.at < absl::Seconds(1)) {
    absl::SleepFor(absl::Seconds(1));
  }
  TCC_ASSIGN_OR_RETURN(pg.load_start, ReadCountersIfPostgres(*env));
  if (postgres) pg.operations_start = StoreOperations(*env);

  TCC_ASSIGN_OR_RETURN(auto workload,
                       MakeTransactionWorkload(load, ChannelsToEveryInstance(*env, load),
                                               env->participant_targets()));
  std::printf(
      "run: %s; %s; %d channel(s) per tccd, %d null participant(s) in the bench process; "
      "tccd %s, %s; %s; %.1f s after %.1f s warm-up\n",
      workload->Describe().c_str(), Shape(load).c_str(), load.channels, load.participants,
      absl::StrJoin(env->coordinator_addresses(), " ").c_str(),
      postgres ? absl::StrCat("store=postgres (", env->tccds().size(),
                              " instance(s) on one private cluster, fsync=on, "
                              "synchronous_commit=on)")
                     .c_str()
               : absl::StrCat("sync=", tccd_options.sync).c_str(),
      tccd_options.tls ? "mutual TLS on every hop" : "plaintext", load.seconds,
      load.warmup_seconds);
  std::fflush(stdout);

  TccdWindow window;
  window.instances = static_cast<int>(env->tccds().size());
  window.postgres = postgres;
  bool sampled = !env->tccds().empty();
  DriveOptions drive;
  drive.concurrency = load.concurrency;
  drive.rate = load.rate;
  drive.warmup = absl::Seconds(load.warmup_seconds);
  drive.measure = absl::Seconds(load.seconds);
  drive.max_in_flight = load.max_in_flight;
  drive.label = load.mode == Mode::kSaga ? "saga" : "tcc";
  drive.on_window_start = [&] {
    if (!sampled) return;
    absl::StatusOr<CpuSample> sample = SampleCpu(*env);
    if (sample.ok()) window.before = *sample;
  };
  drive.on_window_end = [&] {
    if (!sampled) return;
    absl::StatusOr<CpuSample> sample = SampleCpu(*env);
    window.valid = sample.ok();
    if (sample.ok()) window.after = *sample;
  };
  DriveResult result = Drive(*workload, drive);
  PrintReport(*workload, load, result, window, ceiling);
  if (postgres) {
    // The Confirms after each acknowledged Commit finish, and every backend
    // publishes its counters (at most a second late).
    absl::SleepFor(absl::Seconds(2.5));
    TCC_ASSIGN_OR_RETURN(pg.load_end, ReadPgCounters(env->postgres_uri()));
    pg.operations_end = StoreOperations(*env);
    PrintPgReport(pg, load, result, window.instances);
    TCC_ASSIGN_OR_RETURN(std::string spread, GtsPerOwner(env->postgres_uri()));
    std::printf("pg_gts_per_instance: %s (GTs in the store by owner)\n", spread.c_str());
  }
  for (TccdProcess* tccd : env->tccds()) {
    std::optional<int> status = tccd->Stop();
    std::printf("tccd: stopped with SIGTERM, %s\n",
                status ? ::tcc::process::DescribeWaitStatus(*status).c_str() : "already stopped");
  }
  std::fflush(stdout);
  if (result.latency.count == 0) return absl::UnavailableError("no GT completed");
  return absl::OkStatus();
}

}  // namespace tcc::bench
