// A tccd child process started by the benchmark: spawned with posix_spawn
// (stderr to a log file), found through its --port_file, sampled through
// /proc (CPU time, RSS, peak RSS) and stopped with SIGTERM (clean) or
// SIGKILL (crash). Not thread-safe: one owner drives it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tcc::bench {

struct ProcessSample {
  double cpu_seconds = 0;   // utime + stime
  int64_t rss_kb = 0;       // VmRSS
  int64_t peak_rss_kb = 0;  // VmHWM
};

// Reads /proc/<pid>/stat and /proc/<pid>/status.
absl::StatusOr<ProcessSample> SampleProcess(pid_t pid);

class TccdProcess {
 public:
  struct Options {
    std::string binary;
    std::string data;
    std::string sync = "full";
    std::string log_level = "warn";
    std::string work_dir;  // port file and log live here
    std::vector<std::string> extra_args;
  };

  // Starts tccd and waits (up to `timeout`) until it wrote its port.
  static absl::StatusOr<std::unique_ptr<TccdProcess>> Start(const Options& options,
                                                            absl::Duration timeout);
  ~TccdProcess();
  TccdProcess(const TccdProcess&) = delete;
  TccdProcess& operator=(const TccdProcess&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  // From spawn to the port file appearing (tccd writes it once serving,
  // after recovery).
  absl::Duration startup_time() const { return startup_time_; }

  // SIGTERM, then SIGKILL after `grace`. Returns the exit status.
  int Stop(absl::Duration grace = absl::Seconds(30));
  void Kill();

 private:
  TccdProcess() = default;
  int Reap(absl::Duration grace);

  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
  absl::Duration startup_time_;
};

}  // namespace tcc::bench
