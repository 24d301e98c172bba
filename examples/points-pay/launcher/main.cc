// points_pay: runs the whole points-payment example and proves it correct.
// Starts tccd and the three services on free loopback ports, seeds users and
// orders, runs the payment load (with refunds and duplicated requests, and
// with faults if asked), restarts any service that crashes, waits until
// every global transaction is final, stops everything with SIGTERM, runs the
// invariant checker and prints a summary. Exit code 0 only when the checker
// is clean and nothing unexpected failed.
//
//   points_pay                       # 1,000 payments, 100 users, 20 clients
//   points_pay --faults              # the same with every fault switch on
//   points_pay --payments 200 --fault points.crash_after_confirm=0.05
//   points_pay --chaos --payments 2000 --coordinator-kills 5 --seed 42
//                                    # faults on, plus seeded kill -9s (chaos.h)
//   points_pay --chaos --net-faults  # plus network faults through proxies (net_chaos.h)
//   points_pay --store postgres --coordinators 3 --chaos --payments 2000
//                                    # 3 tccd on a private PostgreSQL: kills and
//                                    # pauses pick among them (takeover_watch.h)
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "examples/points-pay/cluster/cluster.h"
#include "examples/points-pay/cluster/seed.h"
#include "examples/points-pay/launcher/chaos.h"
#include "examples/points-pay/launcher/load_generator.h"
#include "examples/points-pay/launcher/net_chaos.h"
#include "examples/points-pay/launcher/progress.h"
#include "examples/points-pay/launcher/summary.h"
#include "examples/points-pay/launcher/takeover_watch.h"
#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

struct Flags {
  int payments = 1000;
  int users = 100;
  int orders = 0;
  int concurrency = 20;
  double refund_ratio = 0.1;
  double duplicate_ratio = 0.05;
  uint64_t seed = 1;
  std::string data_dir;
  std::string tccd;
  bool faults = false;
  bool tls = false;
  std::vector<std::string> fault_overrides;
  bool keep = false;
  int gt_timeout_ms = 5000;
  int settle_timeout_s = 120;
  std::string sync = "full";
  std::string log_level = "info";
  bool chaos = false;
  int coordinator_kills = 3;
  int service_kills = 2;
  int max_downtime_ms = 1000;
  bool net_faults = false;
  NetChaosOptions net;
  std::string store = "sqlite";
  int coordinators = 1;
  int coordinator_pauses = -1;  // -1: 2 with several coordinators, else 0
  int ownership_lease_ms = 2000;
};

void AddFlags(CLI::App& app, Flags& f) {
  app.add_option("--payments", f.payments, "payments to make")->check(CLI::Range(1, 10000000));
  app.add_option("--users", f.users, "users to seed")->check(CLI::Range(1, 1000000));
  app.add_option("--orders", f.orders, "orders to seed (default: --payments)");
  app.add_option("--concurrency", f.concurrency, "concurrent clients")->check(CLI::Range(1, 1000));
  app.add_option("--refund-ratio", f.refund_ratio, "share of paid orders refunded")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--duplicate-ratio", f.duplicate_ratio,
                 "share of payments sent twice at once with the same request id")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", f.seed, "seed of the data, the load and the fault dice");
  app.add_option("--data-dir", f.data_dir,
                 "empty directory for the run (default: a fresh temp dir)");
  app.add_option("--tccd", f.tccd, "tccd binary (default: the one built with this launcher)");
  app.add_flag("--faults", f.faults, "turn on every fault switch with modest probabilities");
  app.add_flag("--tls", f.tls,
               "mutual TLS on every hop, with a throwaway CA and certificates made for the run "
               "(openssl) in DATA_DIR/pki");
  app.add_option("--fault", f.fault_overrides,
                 "set one switch: [points.|paylog.|order.]<switch>=<value>, repeatable");
  app.add_flag("--keep", f.keep, "keep the data directory (always kept when a check fails)");
  app.add_option("--gt-timeout-ms", f.gt_timeout_ms,
                 "how long a GT may stay undecided before tccd asks the order service");
  app.add_option("--settle-timeout-s", f.settle_timeout_s, "bound on the wait for final GTs");
  app.add_option("--sync", f.sync, "SQLite synchronous of every process: full or normal")
      ->check(CLI::IsMember({"full", "normal"}));
  app.add_option("--log-level", f.log_level, "log level of tccd and the services");
  app.add_flag("--chaos", f.chaos,
               "chaos run: every fault switch on, and seeded kill -9s of tccd and each service");
  app.add_option("--coordinator-kills", f.coordinator_kills, "chaos: kill -9s of tccd")
      ->check(CLI::Range(0, 1000));
  app.add_option("--service-kills", f.service_kills,
                 "chaos: kill -9s of each of points, paylog and order service")
      ->check(CLI::Range(0, 1000));
  app.add_option("--max-downtime-ms", f.max_downtime_ms,
                 "chaos: a killed process stays down a seeded time up to this")
      ->check(CLI::Range(0, 60000));
  app.add_flag("--net-faults,--net_faults", f.net_faults,
               "put a TCP fault proxy between tccd and each service and between the order "
               "service and tccd, and toggle seeded network faults on them during the load "
               "(latency, RST, blackhole, half-open)");
  app.add_option("--net-faults-per-route", f.net.faults_per_route,
                 "net faults: faults on each of the 4 proxies")
      ->check(CLI::Range(0, 10000));
  app.add_option("--max-net-fault-ms", f.net.max_fault_ms, "net faults: longest fault")
      ->check(CLI::Range(1, 60000));
  app.add_option("--store", f.store,
                 "tccd's store: sqlite (DIR/tccd.db) or postgres (a private PostgreSQL cluster "
                 "in DIR/postgres, started and stopped by the run)")
      ->check(CLI::IsMember({"sqlite", "postgres"}));
  app.add_option("--coordinators", f.coordinators,
                 "tccd instances sharing the PostgreSQL database (needs --store postgres); the "
                 "order service round-robins its calls over all of them")
      ->check(CLI::Range(1, 16));
  app.add_option("--coordinator-pauses", f.coordinator_pauses,
                 "chaos: SIGSTOPs of a coordinator for 1.5-2.5 leases, then SIGCONT (default 2 "
                 "with several coordinators, else 0)")
      ->check(CLI::Range(-1, 1000));
  app.add_option("--ownership-lease-ms", f.ownership_lease_ms,
                 "postgres: tccd --ownership_lease_ms (a dead or paused instance's transactions "
                 "are taken over after it)")
      ->check(CLI::Range(200, 60000));
}

int Pauses(const Flags& f) {
  if (f.coordinator_pauses >= 0) return f.coordinator_pauses;
  return f.coordinators > 1 ? 2 : 0;
}

absl::StatusOr<std::string> PrepareDataDir(const Flags& f, bool* created) {
  if (!f.data_dir.empty()) {
    std::filesystem::create_directories(f.data_dir);
    *created = false;
    return std::filesystem::absolute(f.data_dir).string();
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "points-pay-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return absl::UnavailableError("mkdtemp failed");
  *created = true;
  return pattern;
}

absl::StatusOr<ServiceFaults> Faults(const Flags& f) {
  ServiceFaults faults = f.chaos    ? ChaosFaultProfile()
                         : f.faults ? DefaultFaultProfile()
                                    : ServiceFaults{};
  for (const std::string& spec : f.fault_overrides)
    TCC_RETURN_IF_ERROR(ApplyFaultOverride(spec, faults));
  return faults;
}

// In the summary's words (summary.h): payments that succeeded or were
// refused, refunds that succeeded, restarts after crashes (chaos kills are
// not counted here), and payments plus refunds finished per second.
std::string ProgressLine(const char* phase, const LoadStats& s, int payments, absl::Duration t,
                         int restarts_after_crash) {
  int64_t finished = s.payments_done + s.refunds_requested;
  return absl::StrFormat(
      "[%5.1fs] %s %d/%d | succeeded %d refused %d | refunds succeeded %d | dup %d | "
      "retries %d | errors %d | restarts after crash %d | %.0f payments+refunds/s",
      absl::ToDoubleSeconds(t), phase, s.payments_done.load(), payments, s.paid.load(),
      s.refused.load(), s.refunded.load(), s.duplicates_sent.load(), s.retries.load(),
      s.errors.load(), restarts_after_crash, finished / std::max(absl::ToDoubleSeconds(t), 1e-3));
}

std::unique_ptr<NetChaos> MakeNetChaos(const Flags& f, const ProxyRoutes& proxies) {
  NetChaosOptions options = f.net;
  options.seed = f.seed;
  options.payments = f.payments;
  std::vector<std::string> routes = CoordinatorNames(f.coordinators);
  routes.insert(routes.end(), {"points_service", "paylog_service", "order_status"});
  std::vector<NetFaultEvent> schedule = MakeNetFaultSchedule(options, routes);
  std::cout << "net fault schedule (seed " << f.seed << "), by finished payments:\n"
            << DescribeNetSchedule(schedule) << std::flush;
  return std::make_unique<NetChaos>(std::move(schedule), proxies);
}

// Runs the load while supervising; then waits for every GT to be final.
// `chaos` (null outside chaos mode) kills processes on its schedule.
absl::Status Drive(const Flags& f, Cluster& cluster, LoadGenerator& load, ChaosMonkey* chaos,
                   NetChaos* net, RunSummary& summary) {
  Progress progress(std::cout, isatty(STDOUT_FILENO) != 0);
  absl::Time start = absl::Now();
  load.Start();
  while (!load.done()) {
    if (net != nullptr) net->Step(load.stats().payments_done);
    if (chaos != nullptr) TCC_RETURN_IF_ERROR(chaos->Step(load.stats().payments_done, cluster));
    TCC_RETURN_IF_ERROR(cluster.Supervise().status());
    progress.Update(ProgressLine("paying", load.stats(), f.payments, absl::Now() - start,
                                 cluster.total_restarts_after_crash()));
    absl::SleepFor(absl::Milliseconds(20));
  }
  load.Join();
  if (net != nullptr) net->EndAll();
  summary.load_time = absl::Now() - start;
  progress.Update(ProgressLine("load done:", load.stats(), f.payments, summary.load_time,
                               cluster.total_restarts_after_crash()),
                  true);
  absl::Time settle_start = absl::Now();
  absl::Time give_up = settle_start + absl::Seconds(f.settle_timeout_s);
  while (true) {
    TCC_RETURN_IF_ERROR(cluster.Supervise().status());
    absl::StatusOr<int64_t> unfinished = cluster.UnfinishedTransactions();
    summary.unfinished = unfinished.ok() ? *unfinished : -1;
    if (summary.unfinished == 0 || absl::Now() > give_up) break;
    progress.Update(absl::StrFormat("[%5.1fs] waiting for %d global transaction(s) to finish",
                                    absl::ToDoubleSeconds(absl::Now() - start),
                                    summary.unfinished));
    absl::SleepFor(absl::Milliseconds(50));
  }
  summary.settle_time = absl::Now() - settle_start;
  progress.Done();
  return absl::OkStatus();
}

std::unique_ptr<ChaosMonkey> MakeChaos(const Flags& f, ChaosObserver* observer) {
  std::vector<ChaosEvent> schedule =
      MakeChaosSchedule({.seed = f.seed,
                         .payments = f.payments,
                         .coordinator_kills = f.coordinator_kills,
                         .service_kills = f.service_kills,
                         .max_downtime_ms = f.max_downtime_ms,
                         .coordinators = CoordinatorNames(f.coordinators),
                         .coordinator_pauses = Pauses(f),
                         .lease = absl::Milliseconds(f.ownership_lease_ms)});
  std::cout << "chaos schedule (seed " << f.seed << "), by finished payments:\n"
            << DescribeSchedule(schedule) << std::flush;
  return std::make_unique<ChaosMonkey>(std::move(schedule), observer);
}

// With several coordinators in chaos mode: the takeover watch over them.
absl::StatusOr<std::unique_ptr<TakeoverWatch>> MakeTakeoverWatch(const Flags& f,
                                                                 const Cluster& cluster) {
  if (!f.chaos || f.coordinators < 2) return nullptr;
  std::map<std::string, std::string> addresses;
  for (const std::string& name : cluster.coordinator_names()) {
    addresses[name] = cluster.coordinator_address(name);
  }
  return TakeoverWatch::Start(cluster.store_uri(), std::move(addresses));
}

std::string DescribeCoordinators(const Flags& f, const Cluster& cluster) {
  if (f.store != "postgres") return "";
  return absl::StrFormat("%d tccd on PostgreSQL (%s), ownership lease %d ms", f.coordinators,
                         cluster.store_uri(), f.ownership_lease_ms);
}

absl::StatusOr<int> Run(const Flags& f) {
  TCC_RETURN_IF_ERROR(
      Cluster::Validate({.postgres = f.store == "postgres", .coordinators = f.coordinators}));
  bool created = false;
  TCC_ASSIGN_OR_RETURN(std::string dir, PrepareDataDir(f, &created));
  std::cout << "seed " << f.seed << "\ndata dir: " << dir << std::endl;
  int orders = f.orders > 0 ? f.orders : f.payments;
  if (orders < f.payments) return absl::InvalidArgumentError("--orders must be >= --payments");
  TCC_ASSIGN_OR_RETURN(SeedResult seeded,
                       SeedDataDir(dir, {.users = f.users, .orders = orders, .seed = f.seed}));
  ClusterOptions options{.data_dir = dir,
                         .fault_seed = f.seed,
                         .gt_timeout_ms = f.gt_timeout_ms,
                         .sync = f.sync,
                         .log_level = f.log_level,
                         .tls = f.tls,
                         .postgres = f.store == "postgres",
                         .coordinators = f.coordinators,
                         .ownership_lease_ms = f.ownership_lease_ms};
  if (!f.tccd.empty()) options.binaries.tccd = f.tccd;
  std::unique_ptr<ProxyRoutes> proxies;
  if (f.net_faults) {
    TCC_ASSIGN_OR_RETURN(proxies, ProxyRoutes::Create(CoordinatorNames(f.coordinators)));
    options.routes = proxies.get();
  }
  TCC_ASSIGN_OR_RETURN(options.faults, Faults(f));
  Cluster cluster(options);
  TCC_RETURN_IF_ERROR(cluster.Start());
  std::string coordinators = DescribeCoordinators(f, cluster);
  std::cout << (coordinators.empty() ? "tccd" : coordinators) << " and 3 services up (logs in "
            << cluster.log_dir() << "); order service at " << cluster.order_address() << std::endl;
  if (f.tls) {
    std::cout << "mutual TLS on every hop (throwaway CA and certificates in " << dir << "/pki)"
              << std::endl;
  }

  TCC_ASSIGN_OR_RETURN(std::unique_ptr<TakeoverWatch> takeovers, MakeTakeoverWatch(f, cluster));
  std::unique_ptr<ChaosMonkey> chaos;
  if (f.chaos) chaos = MakeChaos(f, takeovers.get());

  std::unique_ptr<NetChaos> net;
  if (proxies != nullptr) net = MakeNetChaos(f, *proxies);

  TCC_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                       tcc::MakeChannelCredentials(cluster.client_tls()));
  auto client = std::make_unique<OrderClient>(cluster.order_address(), credentials);
  LoadGenerator load(*client, seeded.orders,
                     {.payments = f.payments,
                      .concurrency = f.concurrency,
                      .refund_ratio = f.refund_ratio,
                      .duplicate_ratio = f.duplicate_ratio,
                      .seed = f.seed});
  RunSummary summary{.payments = f.payments,
                     .concurrency = f.concurrency,
                     .faults = f.faults || f.chaos || !f.fault_overrides.empty(),
                     .stats = &load.stats(),
                     .data_dir = dir,
                     .chaos = f.chaos,
                     .seed = f.seed,
                     .coordinators = coordinators};
  TCC_RETURN_IF_ERROR(Drive(f, cluster, load, chaos.get(), net.get(), summary));
  if (net != nullptr) std::cout << net->Summary() << std::endl;
  if (chaos != nullptr) {
    summary.kills = chaos->kills();
    summary.pauses = chaos->pauses();
    summary.kills_not_fired = chaos->pending();
  }
  if (takeovers != nullptr) {
    // Every GT is final by now, so every takeover is done unless the watch
    // could not read the database.
    takeovers->Finish(absl::Seconds(10));
    summary.takeovers = takeovers->samples();
    summary.takeover_stats = takeovers->stats();
  }
  summary.error_samples = load.error_samples();
  // Close our connection first: the order service's stop waits for it.
  client.reset();
  summary.stop_status = cluster.Stop();
  summary.restarts_after_crash = cluster.restarts_after_crash();
  summary.fault_counts = CountFaults(cluster.log_dir());
  CheckerPaths paths = CheckerPaths::InDataDir(dir);
  paths.tccd_store = cluster.store_uri();
  absl::StatusOr<CheckReport> check = RunChecker(paths);
  if (check.ok()) summary.check = *check;
  summary.check_status = check.status();
  if (absl::Status stopped = cluster.StopStore(); !stopped.ok() && summary.stop_status.ok()) {
    summary.stop_status = stopped;
  }
  bool remove = created && !f.keep && summary.success();
  if (remove) summary.data_dir += " (removed; --keep keeps it)";
  PrintSummary(summary, std::cout);
  if (remove) std::filesystem::remove_all(dir);
  return summary.success() ? 0 : 1;
}

}  // namespace
}  // namespace pointspay

int main(int argc, char** argv) {
  pointspay::Flags flags;
  CLI::App app("Runs the points-payment example end to end and checks its invariants",
               "points_pay");
  pointspay::AddFlags(app, flags);
  CLI11_PARSE(app, argc, argv);
  absl::StatusOr<int> code = pointspay::Run(flags);
  if (!code.ok()) {
    std::cerr << "points_pay: " << code.status().message() << " (seed " << flags.seed << ")"
              << std::endl;
    return 2;
  }
  return *code;
}
