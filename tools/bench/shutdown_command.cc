#include "tools/bench/shutdown_command.h"

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/process/silent_connection.h"
#include "tcc/common/status_macros.h"
#include "tcc/v1/admin.grpc.pb.h"
#include "tools/bench/bench_env.h"
#include "tools/bench/driver.h"
#include "tools/bench/workloads.h"

namespace tcc::bench {
namespace {

using ::tcc::process::SilentConnection;

// SIGTERM and wait: seconds until tccd exited; an error if it did not exit
// cleanly on its own.
absl::StatusOr<double> TimedStop(TccdProcess& tccd) {
  auto start = std::chrono::steady_clock::now();
  std::optional<int> status = tccd.Stop(absl::Seconds(30));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(absl::StrCat("tccd did not exit cleanly on SIGTERM (after ", seconds,
                                            " s); see ", tccd.log_path()));
  }
  return seconds;
}

// Channels that have each carried a call and stay connected.
absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> IdleChannels(BenchEnv& env, int count) {
  std::vector<std::shared_ptr<grpc::Channel>> channels =
      MakeChannels(env.coordinator_address(), count, env.channel_credentials());
  for (const std::shared_ptr<grpc::Channel>& channel : channels) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::StatsReply reply;
    grpc::Status status = v1::Admin::NewStub(channel)->Stats(&context, {}, &reply);
    if (!status.ok()) {
      return absl::UnavailableError(
          absl::StrCat("Stats on an idle channel: ", status.error_message()));
    }
  }
  return channels;
}

absl::StatusOr<std::vector<std::unique_ptr<SilentConnection>>> SilentConnections(BenchEnv& env,
                                                                                 int count) {
  std::vector<std::unique_ptr<SilentConnection>> connections;
  for (int i = 0; i < count; ++i) {
    connections.push_back(std::make_unique<SilentConnection>(env.tccd()->port()));
    if (!connections.back()->connected()) {
      return absl::UnavailableError("could not open a silent connection to tccd");
    }
  }
  return connections;
}

// GTs the store holds as committed (decided, whether or not every Confirm
// is done yet).
absl::StatusOr<int64_t> CommittedInStore(BenchEnv& env) {
  auto channel = MakeChannels(env.coordinator_address(), 1, env.channel_credentials()).front();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::StatsReply reply;
  grpc::Status status = v1::Admin::NewStub(channel)->Stats(&context, {}, &reply);
  if (!status.ok()) return absl::UnavailableError(absl::StrCat("Stats: ", status.error_message()));
  int64_t committed = 0;
  for (const auto& [state, count] : reply.transactions_by_state()) {
    if (state == "COMMITTING" || state == "COMMITTED") committed += static_cast<int64_t>(count);
  }
  return committed;
}

struct Round {
  double idle_seconds = 0;
  double loaded_seconds = 0;
  int64_t acknowledged = 0;
  int64_t committed = 0;
};

// tccd is running on a fresh file; stops it twice (idle, loaded) and
// restarts it in between and after.
absl::StatusOr<Round> RunRound(BenchEnv& env, const ShutdownOptions& options) {
  Round round;
  {
    TCC_ASSIGN_OR_RETURN(auto idle, IdleChannels(env, options.idle_channels));
    TCC_ASSIGN_OR_RETURN(auto silent, SilentConnections(env, options.silent_connections));
    TCC_ASSIGN_OR_RETURN(round.idle_seconds, TimedStop(*env.tccd()));
  }
  TCC_RETURN_IF_ERROR(env.StartTccd());
  TCC_ASSIGN_OR_RETURN(auto silent, SilentConnections(env, options.silent_connections));
  LoadOptions load;  // 3-branch TCC
  auto channels = MakeChannels(env.coordinator_address(), 2, env.channel_credentials());
  TCC_ASSIGN_OR_RETURN(auto workload,
                       MakeTransactionWorkload(load, channels, env.participant_targets()));
  DriveOptions drive;
  drive.concurrency = options.concurrency;
  drive.warmup = absl::ZeroDuration();
  drive.measure = absl::Seconds(3);
  drive.label = "load";
  std::future<DriveResult> driven =
      std::async(std::launch::async, [&] { return Drive(*workload, drive); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  absl::StatusOr<double> loaded = TimedStop(*env.tccd());
  DriveResult result = driven.get();
  TCC_RETURN_IF_ERROR(loaded.status());
  round.loaded_seconds = *loaded;
  round.acknowledged = result.succeeded_total;
  TCC_RETURN_IF_ERROR(env.StartTccd());
  TCC_ASSIGN_OR_RETURN(round.committed, CommittedInStore(env));
  return round;
}

void PrintSpread(const char* what, std::vector<double> seconds) {
  std::sort(seconds.begin(), seconds.end());
  std::printf("shutdown %s: median %.3f s, max %.3f s over %zu rounds\n", what,
              seconds[seconds.size() / 2], seconds.back(), seconds.size());
}

}  // namespace

absl::Status RunShutdown(const TccdOptions& tccd_options, const ShutdownOptions& options,
                         bool keep) {
  if (!tccd_options.addr.empty()) return absl::InvalidArgumentError("shutdown starts tccd itself");
  if (tccd_options.store != "sqlite") {
    return absl::InvalidArgumentError("shutdown measures tccd on SQLite (--store sqlite)");
  }
  if (options.rounds < 1) return absl::InvalidArgumentError("--rounds must be at least 1");
  std::vector<double> idle, loaded;
  bool lost = false;
  for (int i = 1; i <= options.rounds; ++i) {
    TccdOptions fresh = tccd_options;
    fresh.data.clear();  // a new file per round
    TCC_ASSIGN_OR_RETURN(auto env, BenchEnv::Start(fresh, 1, /*fail_second_phase=*/false, keep));
    TCC_ASSIGN_OR_RETURN(Round round, RunRound(*env, options));
    std::printf(
        "round %d: exit after SIGTERM %.3f s with %d idle and %d silent connections, %.3f s under "
        "load (%d in flight); %lld commits acknowledged, %lld committed in the store after "
        "restart\n",
        i, round.idle_seconds, options.idle_channels, options.silent_connections,
        round.loaded_seconds, options.concurrency, static_cast<long long>(round.acknowledged),
        static_cast<long long>(round.committed));
    std::fflush(stdout);
    idle.push_back(round.idle_seconds);
    loaded.push_back(round.loaded_seconds);
    if (round.committed < round.acknowledged) lost = true;
  }
  PrintSpread("with idle connections", idle);
  PrintSpread("under load", loaded);
  std::printf("acknowledged commits kept: %s\n", lost ? "NO (some lost)" : "all");
  if (lost) return absl::DataLossError("an acknowledged commit was missing after the restart");
  return absl::OkStatus();
}

}  // namespace tcc::bench
