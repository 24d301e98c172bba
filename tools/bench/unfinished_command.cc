#include "tools/bench/unfinished_command.h"

#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tcc/common/status_macros.h"
#include "tools/bench/bench_env.h"
#include "tools/bench/driver.h"
#include "tools/bench/prefill_command.h"
#include "tools/bench/process_sample.h"
#include "tools/bench/workloads.h"

namespace tcc::bench {
namespace {

// No retry while the GTs are being created (their first Confirm fails and
// the next is two minutes away), so creating them measures tccd, not a retry
// storm; before the restart every retry is made due (MakeRetriesDue). No
// stuck flagging: an operator feature, not what is measured.
const std::vector<std::string> kRetryFlags = {
    "--retry_initial_ms=120000", "--retry_max_ms=120000", "--retry_jitter=0.3",
    "--stuck_after_attempts=1000000", "--stuck_after_s=864000"};

void PrintMemory(const char* when, TccdProcess& tccd) {
  absl::StatusOr<ProcessSample> sample = SampleProcess(tccd.pid());
  if (!sample.ok()) return;
  std::printf("tccd_rss %s: %.1f MB (VmRSS), peak %.1f MB (VmHWM)\n", when,
              static_cast<double>(sample->rss_kb) / 1024.0,
              static_cast<double>(sample->peak_rss_kb) / 1024.0);
}

// The count tccd logged in "recovered N unfinished transactions", or -1.
// This runs while the retries are measured, over a log holding a warning
// per failed Confirm: the cheap find keeps the regex (a CPU second over
// such a log) off the lines that cannot match.
int64_t RecoveredCount(const std::string& log_path) {
  std::ifstream in(log_path);
  std::string line;
  std::regex pattern("recovered ([0-9]+) unfinished transactions");
  int64_t count = -1;
  std::smatch match;
  while (std::getline(in, line)) {
    if (line.find("unfinished transactions") == std::string::npos) continue;
    if (std::regex_search(line, match, pattern)) count = std::stoll(match[1].str());
  }
  return count;
}

absl::Status CreateUnfinished(BenchEnv& env, const UnfinishedOptions& options) {
  LoadOptions load;
  load.branches = 1;
  auto channels = MakeChannels(env.coordinator_address(), 2, env.channel_credentials());
  TCC_ASSIGN_OR_RETURN(auto workload,
                       MakeTransactionWorkload(load, channels, env.participant_targets()));
  DriveOptions drive;
  drive.concurrency = options.concurrency;
  drive.max_units = options.count;
  drive.label = "create";
  DriveResult result = Drive(*workload, drive);
  std::printf("created: %lld committed GTs whose Confirm keeps failing, %.1f GT/s, %lld errors\n",
              static_cast<long long>(result.latency.count), result.per_second,
              static_cast<long long>(result.latency.errors));
  if (result.latency.errors > 0)
    std::printf("first error: %s\n", result.latency.first_error.c_str());
  return absl::OkStatus();
}

// How many distinct GTs got a Confirm within the window, and when all had.
void ReportRetries(NullParticipant& participant, const UnfinishedOptions& options,
                   std::chrono::steady_clock::time_point restarted) {
  auto window = std::chrono::duration<double>(options.retry_window_seconds);
  auto window_end = restarted + std::chrono::duration_cast<std::chrono::nanoseconds>(window);
  auto give_up = restarted + std::chrono::seconds(120);
  bool window_reported = false;
  size_t seen = 0;
  while (std::chrono::steady_clock::now() < give_up) {
    seen = participant.tracked_confirms();
    if (!window_reported && std::chrono::steady_clock::now() >= window_end) {
      window_reported = true;
      std::printf("retried: %zu of %lld GTs got a Confirm within %.1f s of the restart\n", seen,
                  static_cast<long long>(options.count), options.retry_window_seconds);
    }
    if (static_cast<int64_t>(seen) >= options.count) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count();
  if (!window_reported) {
    std::printf("retried: %zu of %lld GTs got a Confirm within %.1f s of the restart\n", seen,
                static_cast<long long>(options.count), options.retry_window_seconds);
  }
  std::printf("retried: %zu of %lld GTs had a Confirm %.2f s after the restart%s\n", seen,
              static_cast<long long>(options.count), elapsed,
              static_cast<int64_t>(seen) >= options.count ? "" : " (gave up waiting)");
}

}  // namespace

absl::Status RunUnfinished(const TccdOptions& tccd_options, const UnfinishedOptions& options,
                           bool keep) {
  if (!tccd_options.addr.empty())
    return absl::InvalidArgumentError("unfinished starts tccd itself");
  TccdOptions with_retries = tccd_options;
  with_retries.extra_args.insert(with_retries.extra_args.end(), kRetryFlags.begin(),
                                 kRetryFlags.end());
  TCC_ASSIGN_OR_RETURN(auto env,
                       BenchEnv::Start(with_retries, 1, /*fail_second_phase=*/true, keep));
  TCC_RETURN_IF_ERROR(CreateUnfinished(*env, options));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the last first Confirms fail
  PrintMemory("with the unfinished GTs in memory", *env->tccd());

  env->tccd()->Kill();
  std::printf("tccd: killed with SIGKILL\n");
  TCC_RETURN_IF_ERROR(MakeRetriesDue(env->data_path()));
  std::printf("store: every Confirm retry made due now (as after a long outage)\n");
  NullParticipant& participant = env->participant(0);
  participant.StartTrackingConfirms();
  env->set_tccd_log_level("info");  // for "recovered N unfinished transactions"
  auto restarted = std::chrono::steady_clock::now();
  TCC_RETURN_IF_ERROR(env->StartTccd());
  std::printf("restart: port file after %.3f s; log says recovered %lld unfinished transactions\n",
              absl::ToDoubleSeconds(env->tccd()->startup_time()),
              static_cast<long long>(RecoveredCount(env->tccd()->log_path())));
  std::fflush(stdout);
  ReportRetries(participant, options, restarted);
  PrintMemory("after recovery", *env->tccd());
  env->tccd()->Stop();
  std::fflush(stdout);
  return absl::OkStatus();
}

}  // namespace tcc::bench
