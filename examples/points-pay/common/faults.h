// Fault switches of the example's services: each fault fires with its own
// probability, so that a load run meets every failure the protocol must
// survive (scenario S3): a failed Try or Confirm, added latency, a crash
// (SIGKILL, no cleanup) right after a local commit, and a reply lost after
// the commit (the work is done, the caller sees an error). One switch is a
// business outcome instead, for tests: refuse_refund makes the service's
// step of the refund saga refuse, so that the saga compensates.
//
// Each service takes them as flags (--fail_try=0.05 ...) or environment
// variables (PP_FAIL_TRY=0.05 ...). Every fault that fires writes one line
// "FAULT <name> service=<service> gid=<gid>" to stderr with a single write(2)
// (unbuffered, so it is on disk even when the next instruction is SIGKILL);
// the launcher counts these lines to show which switches fired.
//
// Thread-safety: FaultInjector may be shared by any number of threads.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "tcc/common/mutex.h"

namespace CLI {
class App;
}

namespace pointspay {

// Probabilities in [0, 1]; latency_ms is the upper bound of a uniform delay.
// The meaning of "try" and "confirm" for the order service (an initiator):
// try = after the branches' Tries, confirm = after its local commit.
struct FaultConfig {
  double fail_try = 0;             // answer UNAVAILABLE instead of doing the Try
  double fail_confirm = 0;         // answer UNAVAILABLE instead of confirming
  double fail_cancel = 0;          // answer UNAVAILABLE instead of cancelling
  double crash_after_try = 0;      // SIGKILL right after Try committed locally
  double crash_after_confirm = 0;  // SIGKILL right after Confirm committed locally
  double drop_reply = 0;           // commit, then answer UNAVAILABLE anyway
  double refuse_refund = 0;        // the refund saga's step refuses (a business "no")
  int latency_ms = 0;              // sleep uniformly in [0, latency_ms] per call
  uint64_t seed = 0;               // 0: random

  bool any() const;
};

enum class Fault {
  kFailTry,
  kFailConfirm,
  kFailCancel,
  kCrashAfterTry,
  kCrashAfterConfirm,
  kDropReply,
  kRefuseRefund,
  kLatency,
};

// The switch's name as in flags and log lines ("fail_try", ...).
const char* FaultName(Fault fault);

// Registers --fail_try ... --refuse_refund, --latency_ms and --fault_seed
// (env PP_*).
void AddFaultFlags(CLI::App& app, FaultConfig* config);

class FaultInjector {
 public:
  FaultInjector(std::string service, FaultConfig config);

  // True, and logged, when `fault` fires this time. Never fires for
  // kLatency (use Delay).
  bool Roll(Fault fault, std::string_view gid);
  // As Roll, but not logged: for a fault that takes effect later (after the
  // commit), which logs it with Record when it does.
  bool Fires(Fault fault);
  // Writes the "FAULT ..." line.
  void Record(Fault fault, std::string_view gid) const;
  // Sleeps a random time up to latency_ms (logged when non-zero).
  void Delay(std::string_view gid);
  // Logs the crash and kills the process with SIGKILL: no destructor, no
  // flush, no goodbye, as a power cut or an OOM kill would.
  [[noreturn]] void Crash(Fault fault, std::string_view gid) const;

  const FaultConfig& config() const { return config_; }

 private:
  double Probability(Fault fault) const;
  double Uniform();

  const std::string service_;
  const FaultConfig config_;
  tcc::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pointspay
