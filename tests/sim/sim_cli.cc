#include "tests/sim/sim_cli.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "spdlog/spdlog.h"
#include "tests/sim/sim_world.h"

namespace tcc::sim {
namespace {

struct Flags {
  uint64_t seed = 0;
  uint64_t seeds = 0;
  uint64_t first = 1;
  bool trace = false;
  bool log = false;
  bool write_faults = false;
  bool commit_faults = false;
  bool sagas = false;
  std::vector<std::string> plants;
};

absl::Status ApplyPlants(const std::vector<std::string>& names, Plants& plants) {
  for (const std::string& name : names) {
    if (name == "unfenced_status") {
      plants.unfenced_status = true;
    } else if (name == "naive_cancel") {
      plants.naive_cancel = true;
    } else {
      return absl::InvalidArgumentError("--plant takes unfenced_status or naive_cancel");
    }
  }
  return absl::OkStatus();
}

// The command that replays `report`'s run: its seed and every flag that
// shapes a run.
std::string ReplayCommand(const Flags& flags, uint64_t seed) {
  std::string command = "tcc_sim --seed " + std::to_string(seed);
  if (flags.write_faults) command += " --write_faults";
  if (flags.commit_faults) command += " --commit_faults";
  if (flags.sagas) command += " --sagas";
  for (const std::string& plant : flags.plants) command += " --plant " + plant;
  return command + " --trace";
}

void PrintViolations(const Flags& flags, const SimReport& report) {
  std::printf("FAILED seed %llu: %zu violation(s)\n", static_cast<unsigned long long>(report.seed),
              report.violations.size());
  for (const std::string& violation : report.violations) std::printf("  %s\n", violation.c_str());
  std::printf("replay: %s\n", ReplayCommand(flags, report.seed).c_str());
}

int RunOne(const Flags& flags, const Plants& plants) {
  SimReport report = RunSimulation({.seed = flags.seed,
                                    .keep_trace = flags.trace,
                                    .write_faults = flags.write_faults,
                                    .commit_faults = flags.commit_faults,
                                    .sagas = flags.sagas,
                                    .plants = plants});
  for (const std::string& line : report.trace) std::printf("%s\n", line.c_str());
  std::printf(
      "seed %llu: %d transactions (%d committed, %d rolled back), %d coordinator crashes, "
      "%llu events, %lld ms simulated, trace %016llx\n",
      static_cast<unsigned long long>(report.seed), report.transactions, report.committed,
      report.rolled_back, report.coordinator_crashes,
      static_cast<unsigned long long>(report.events), static_cast<long long>(report.simulated_ms),
      static_cast<unsigned long long>(report.trace_hash));
  if (report.violations.empty()) return 0;
  PrintViolations(flags, report);
  return 1;
}

int RunMany(const Flags& flags, const Plants& plants) {
  auto started = std::chrono::steady_clock::now();
  uint64_t events = 0, transactions = 0, crashes = 0;
  for (uint64_t seed = flags.first; seed < flags.first + flags.seeds; ++seed) {
    SimReport report = RunSimulation({.seed = seed,
                                      .write_faults = flags.write_faults,
                                      .commit_faults = flags.commit_faults,
                                      .sagas = flags.sagas,
                                      .plants = plants});
    events += report.events;
    transactions += static_cast<uint64_t>(report.transactions);
    crashes += static_cast<uint64_t>(report.coordinator_crashes);
    if (!report.violations.empty()) {
      PrintViolations(flags, report);
      return 1;
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "%llu seeds (%llu..%llu) passed: %llu transactions, %llu coordinator crashes, %llu events "
      "in %.1f s\n",
      static_cast<unsigned long long>(flags.seeds), static_cast<unsigned long long>(flags.first),
      static_cast<unsigned long long>(flags.first + flags.seeds - 1),
      static_cast<unsigned long long>(transactions), static_cast<unsigned long long>(crashes),
      static_cast<unsigned long long>(events), seconds);
  return 0;
}

}  // namespace

int SimMain(int argc, char** argv) {
  CLI::App app{"tcc_sim: the coordinator's engine in a deterministic simulation"};
  Flags flags;
  auto* seed = app.add_option("--seed", flags.seed, "replay this one seed");
  auto* seeds = app.add_option("--seeds", flags.seeds, "run this many seeds");
  seed->excludes(seeds);
  app.add_option("--first", flags.first, "with --seeds: the first seed")->capture_default_str();
  app.add_flag("--trace", flags.trace, "with --seed: print the run's schedule");
  app.add_flag("--log", flags.log, "show the engine's own log lines");
  app.add_flag("--write_faults", flags.write_faults, "also fail single store writes");
  app.add_flag("--commit_faults", flags.commit_faults,
               "also fail whole store batches, reads included");
  app.add_flag("--sagas", flags.sagas, "make about a third of the transactions sagas");
  app.add_option("--plant", flags.plants,
                 "switch a guarantee off on purpose: unfenced_status, naive_cancel");
  CLI11_PARSE(app, argc, argv);
  Plants plants;
  if (absl::Status planted = ApplyPlants(flags.plants, plants); !planted.ok()) {
    std::fprintf(stderr, "tcc_sim: %s\n", std::string(planted.message()).c_str());
    return 2;
  }
  if (seed->count() == 0 && seeds->count() == 0) {
    std::fprintf(stderr, "tcc_sim: give --seed S (one run) or --seeds N (many)\n");
    return 2;
  }
  spdlog::set_level(flags.log ? spdlog::level::info : spdlog::level::off);
  return seed->count() > 0 ? RunOne(flags, plants) : RunMany(flags, plants);
}

}  // namespace tcc::sim
