// A tccd child process on a loopback port chosen by the kernel: started with
// --listen=127.0.0.1:0 and found through its --port_file, for the benchmark
// and the tests. Its stdout and stderr are appended to a log file next to the
// port file, so a restart on the same data keeps one log.
//
// Thread-safety: not thread-safe; one owner thread (see child_process.h on
// which thread should start it).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/process/child_process.h"

namespace tcc::process {

class TccdProcess {
 public:
  struct Options {
    std::string binary;    // the tccd executable
    std::string data;      // its SQLite file
    std::string store;     // or a PostgreSQL URI (--store), instead of data and sync
    std::string work_dir;  // the port file (tccd.port) and the log (tccd.log)
    std::string sync = "full";
    std::string log_level = "warn";
    std::vector<std::string> extra_args;
    // "NAME=value" entries added to tccd's environment (e.g. an LD_PRELOAD).
    std::vector<std::string> env;
  };

  // Starts tccd and waits (up to `timeout`) until it wrote its port: tccd
  // writes it once serving, after recovery.
  static absl::StatusOr<std::unique_ptr<TccdProcess>> Start(
      const Options& options, absl::Duration timeout = absl::Seconds(30));
  TccdProcess(const TccdProcess&) = delete;
  TccdProcess& operator=(const TccdProcess&) = delete;
  // SIGKILLs tccd if it still runs.
  ~TccdProcess() = default;

  int port() const { return port_; }
  // Its HTTP port (/metrics), or 0 if it serves none.
  int http_port() const { return http_port_; }
  std::string address() const;
  pid_t pid() const { return child_.pid(); }
  std::string log_path() const { return child_.options().output_path; }
  // From the start to the port file appearing.
  absl::Duration startup_time() const { return startup_time_; }

  // SIGTERM, then SIGKILL after `grace`. The wait status, or nullopt when
  // tccd had already been stopped.
  std::optional<int> Stop(absl::Duration grace = absl::Seconds(30)) { return child_.Stop(grace); }
  // SIGKILL (a crash) and reap.
  std::optional<int> Kill() { return child_.Kill(); }

 private:
  TccdProcess(const std::string& log_path, std::vector<std::string> env)
      : child_(ChildOptions{.output_path = log_path, .env = std::move(env)}) {}

  ChildProcess child_;
  int port_ = 0;
  int http_port_ = 0;
  absl::Duration startup_time_;
};

}  // namespace tcc::process
