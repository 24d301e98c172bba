#include "examples/points-pay/common/faults.h"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <thread>

#include "absl/strings/str_cat.h"

namespace pointspay {

bool FaultConfig::any() const {
  return fail_try > 0 || fail_confirm > 0 || fail_cancel > 0 || crash_after_try > 0 ||
         crash_after_confirm > 0 || drop_reply > 0 || refuse_refund > 0 || latency_ms > 0;
}

const char* FaultName(Fault fault) {
  switch (fault) {
    case Fault::kFailTry:
      return "fail_try";
    case Fault::kFailConfirm:
      return "fail_confirm";
    case Fault::kFailCancel:
      return "fail_cancel";
    case Fault::kCrashAfterTry:
      return "crash_after_try";
    case Fault::kCrashAfterConfirm:
      return "crash_after_confirm";
    case Fault::kDropReply:
      return "drop_reply";
    case Fault::kRefuseRefund:
      return "refuse_refund";
    case Fault::kLatency:
      return "latency";
  }
  return "unknown";
}

void AddFaultFlags(CLI::App& app, FaultConfig* config) {
  auto probability = CLI::Range(0.0, 1.0);
  app.add_option("--fail_try", config->fail_try, "P(Try answers UNAVAILABLE, nothing done)")
      ->envname("PP_FAIL_TRY")
      ->check(probability);
  app.add_option("--fail_confirm", config->fail_confirm,
                 "P(Confirm answers UNAVAILABLE, nothing done)")
      ->envname("PP_FAIL_CONFIRM")
      ->check(probability);
  app.add_option("--fail_cancel", config->fail_cancel, "P(Cancel answers UNAVAILABLE)")
      ->envname("PP_FAIL_CANCEL")
      ->check(probability);
  app.add_option("--crash_after_try", config->crash_after_try,
                 "P(SIGKILL right after a Try committed)")
      ->envname("PP_CRASH_AFTER_TRY")
      ->check(probability);
  app.add_option("--crash_after_confirm", config->crash_after_confirm,
                 "P(SIGKILL right after a Confirm committed)")
      ->envname("PP_CRASH_AFTER_CONFIRM")
      ->check(probability);
  app.add_option("--drop_reply", config->drop_reply,
                 "P(commit, then answer UNAVAILABLE: the caller cannot know)")
      ->envname("PP_DROP_REPLY")
      ->check(probability);
  app.add_option("--refuse_refund", config->refuse_refund,
                 "P(the refund saga's step refuses, so that the saga compensates)")
      ->envname("PP_REFUSE_REFUND")
      ->check(probability);
  app.add_option("--latency_ms", config->latency_ms, "add a random delay up to this per call")
      ->envname("PP_LATENCY_MS")
      ->check(CLI::Range(0, 60000));
  app.add_option("--fault_seed", config->seed, "seed of the fault dice (0: random)")
      ->envname("PP_FAULT_SEED");
}

FaultInjector::FaultInjector(std::string service, FaultConfig config)
    : service_(std::move(service)),
      config_(config),
      rng_(config.seed != 0 ? config.seed : std::random_device{}()) {}

double FaultInjector::Probability(Fault fault) const {
  switch (fault) {
    case Fault::kFailTry:
      return config_.fail_try;
    case Fault::kFailConfirm:
      return config_.fail_confirm;
    case Fault::kFailCancel:
      return config_.fail_cancel;
    case Fault::kCrashAfterTry:
      return config_.crash_after_try;
    case Fault::kCrashAfterConfirm:
      return config_.crash_after_confirm;
    case Fault::kDropReply:
      return config_.drop_reply;
    case Fault::kRefuseRefund:
      return config_.refuse_refund;
    case Fault::kLatency:
      return 0;
  }
  return 0;
}

double FaultInjector::Uniform() {
  tcc::MutexLock lock(&mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

bool FaultInjector::Fires(Fault fault) {
  double p = Probability(fault);
  return p > 0 && Uniform() < p;
}

bool FaultInjector::Roll(Fault fault, std::string_view gid) {
  if (!Fires(fault)) return false;
  Record(fault, gid);
  return true;
}

void FaultInjector::Delay(std::string_view gid) {
  if (config_.latency_ms <= 0) return;
  auto delay =
      std::chrono::microseconds(static_cast<int64_t>(Uniform() * config_.latency_ms * 1000.0));
  if (delay.count() == 0) return;
  Record(Fault::kLatency, gid);
  std::this_thread::sleep_for(delay);
}

void FaultInjector::Crash(Fault fault, std::string_view gid) const {
  Record(fault, gid);
  raise(SIGKILL);
  _exit(137);  // Not reached: SIGKILL cannot be caught.
}

void FaultInjector::Record(Fault fault, std::string_view gid) const {
  std::string line = absl::StrCat("FAULT ", FaultName(fault), " service=", service_,
                                  " gid=", absl::string_view(gid.data(), gid.size()), "\n");
  // One write(2): atomic for a line this short, and not buffered.
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace pointspay
