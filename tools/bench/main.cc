// tcc_bench: load generator and measuring tool for tccd (see
// docs/benchmarks.md). Subcommands: run (default shape: 3-branch TCC, closed
// loop), unfinished (recovery of many unfinished GTs), prefill (a large
// store of finished GTs), soak (a long steady load with a short retention:
// the store and memory must stay flat).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>

#include "absl/synchronization/mutex.h"
#include "tools/bench/options.h"
#include "tools/bench/prefill_command.h"
#include "tools/bench/run_command.h"
#include "tools/bench/shutdown_command.h"
#include "tools/bench/soak_command.h"
#include "tools/bench/unfinished_command.h"

namespace tcc::bench {
namespace {

void AddTccdFlags(CLI::App& command, TccdOptions& tccd) {
  command.add_option("--addr", tccd.addr, "use the tccd at host:port instead of starting one");
  command.add_option("--tccd", tccd.tccd_path, "tccd binary")->capture_default_str();
  command.add_option("--data", tccd.data, "tccd's SQLite file (default: a fresh temp file)");
  command.add_option("--sync", tccd.sync, "tccd --sync (full, normal, off)")->capture_default_str();
  command
      .add_option("--tccd_log_level", tccd.log_level,
                  "tccd --log_level (points-pay: also the services')")
      ->capture_default_str();
  command.add_option("--tccd_arg", tccd.extra_args, "extra flag for tccd (repeatable)");
  command.add_flag("--tls", tccd.tls,
                   "mutual TLS on every hop (bench, tccd, null participants) with a throwaway CA "
                   "made for the run");
}

void AddLoadFlags(CLI::App& command, LoadOptions& load) {
  const std::map<std::string, Mode> modes = {
      {"tcc", Mode::kTcc}, {"saga", Mode::kSaga}, {"points-pay", Mode::kPointsPay}};
  command
      .add_option("--mode", load.mode,
                  "tcc, saga, or points-pay (the points-payment example end to end)")
      ->transform(CLI::CheckedTransformer(modes, CLI::ignore_case));
  command.add_option("--branches", load.branches, "TCC branches or saga steps per GT")
      ->capture_default_str();
  command.add_option("--participants", load.participants, "null participant servers")
      ->capture_default_str();
  command.add_option("--channels", load.channels, "client channels (connections) to each server")
      ->capture_default_str();
  command.add_flag("--begin_in_try", load.begin_in_try,
                   "TCC: Begin folded into the Try (Try -> Commit, as the SDK's RunTransaction)");
  command.add_option("--payload", load.payload_bytes, "payload bytes per branch")
      ->capture_default_str();
  command.add_option("--concurrency", load.concurrency, "GTs in flight (closed loop)")
      ->capture_default_str();
  command.add_option("--rate", load.rate, "GTs started per second (open loop; 0: closed loop)");
  command.add_option("--seconds", load.seconds, "measured seconds")->capture_default_str();
  command.add_option("--warmup", load.warmup_seconds, "unmeasured seconds first")
      ->capture_default_str();
  command.add_option("--ceiling_seconds", load.ceiling_seconds, "seconds of the echo ceiling run")
      ->capture_default_str();
  command.add_flag("--no_ceiling", load.skip_ceiling, "skip the ceiling run");
  command.add_option("--max_in_flight", load.max_in_flight, "open loop: drop sends beyond this")
      ->capture_default_str();
  command.add_option("--orders", load.orders,
                     "points-pay: orders to seed (default: enough for 5000 payments/s)");
}

int Report(const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "tcc_bench: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace
}  // namespace tcc::bench

int main(int argc, char** argv) {
  using namespace tcc::bench;
  CLI::App app{
      "tcc_bench: throughput, latency and cost of tccd (null participants or the points-pay "
      "example)"};
  TccdOptions tccd;
  tccd.tccd_path = TCC_BENCH_TCCD_PATH;
  LoadOptions load;
  UnfinishedOptions unfinished;
  PrefillOptions prefill;
  bool keep = false;
  app.add_flag("--keep", keep, "keep the scratch directory (tccd log and data)");

  CLI::App* run = app.add_subcommand("run", "ceiling, then load; print the figures");
  AddTccdFlags(*run, tccd);
  AddLoadFlags(*run, load);
  run->add_option("--store", tccd.store,
                  "sqlite (tccd on --data) or postgres (a private PostgreSQL cluster for the "
                  "run, with its own commit ceiling and commits per GT)")
      ->check(CLI::IsMember({"sqlite", "postgres"}))
      ->capture_default_str();
  run->add_option("--instances", tccd.instances,
                  "--store postgres: tccd instances sharing the database (GTs round robin)")
      ->capture_default_str();
  run->add_option("--pg_setting", tccd.pg_settings,
                  "--store postgres: extra server setting name=value (repeatable)");

  CLI::App* recover = app.add_subcommand("unfinished", "many unfinished GTs: memory and recovery");
  AddTccdFlags(*recover, tccd);
  recover->add_option("--count", unfinished.count, "unfinished GTs")->capture_default_str();
  recover->add_option("--concurrency", unfinished.concurrency, "GTs in flight while creating")
      ->capture_default_str();
  recover
      ->add_option("--window", unfinished.retry_window_seconds,
                   "seconds after the restart by which each GT must be retried")
      ->capture_default_str();

  SoakOptions soak;
  LoadOptions soak_load;
  soak_load.rate = 500;
  CLI::App* soak_command = app.add_subcommand(
      "soak", "steady load for minutes with a short retention: flat disk and RSS");
  AddTccdFlags(*soak_command, tccd);
  AddLoadFlags(*soak_command, soak_load);
  soak_command->add_option("--minutes", soak.minutes, "length of the run")->capture_default_str();
  soak_command->add_option("--interval", soak.interval_seconds, "seconds per report line")
      ->capture_default_str();
  soak_command->add_option("--retention_s", soak.retention_seconds, "tccd --retention_s")
      ->capture_default_str();

  ShutdownOptions shutdown;
  CLI::App* stop = app.add_subcommand(
      "shutdown", "SIGTERM with idle connections and under load: exit time, nothing lost");
  AddTccdFlags(*stop, tccd);
  stop->add_option("--rounds", shutdown.rounds, "rounds (two stops each)")->capture_default_str();
  stop->add_option("--idle", shutdown.idle_channels, "idle client connections during the stop")
      ->capture_default_str();
  stop->add_option("--silent", shutdown.silent_connections,
                   "connections that never hang up, even after tccd's GOAWAY")
      ->capture_default_str();
  stop->add_option("--concurrency", shutdown.concurrency, "GTs in flight during the loaded stop")
      ->capture_default_str();

  CLI::App* fill = app.add_subcommand("prefill", "fill a tccd data file with finished GTs");
  AddTccdFlags(*fill, tccd);
  fill->add_option("--count", prefill.count, "finished GTs")->capture_default_str();
  fill->add_option("--branches", prefill.branches, "branches per GT")->capture_default_str();
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  // The bench's client and null participants share the two cores with what
  // they measure, so they must not pay for Debian's debug-mode Abseil
  // recording every lock (gRPC's too) in its deadlock graph: tccd's main and
  // the example's services turn it off as well.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  if (run->parsed()) return Report(RunLoad(tccd, load, keep));
  if (recover->parsed()) return Report(RunUnfinished(tccd, unfinished, keep));
  if (stop->parsed()) return Report(RunShutdown(tccd, shutdown, keep));
  if (soak_command->parsed()) return Report(RunSoak(tccd, soak_load, soak, keep));
  prefill.data = tccd.data;
  return Report(RunPrefill(tccd, prefill));
}
