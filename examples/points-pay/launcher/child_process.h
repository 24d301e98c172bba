// One child process of the launcher (tccd or a service): started with fork
// and exec, its stdout and stderr appended to a log file, stopped with
// SIGTERM (then SIGKILL after a grace period) and reaped. A child asks the
// kernel to SIGKILL it if the thread that started it dies (PR_SET_PDEATHSIG),
// so a launcher that is killed leaves no orphans behind; start children from
// a thread that outlives them (the launcher's main thread).
//
// Thread-safety: not thread-safe; one owner thread.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace pointspay {

class ChildProcess {
 public:
  explicit ChildProcess(std::string log_path) : log_path_(std::move(log_path)) {}
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (a path) with `argv`. FAILED_PRECONDITION if running.
  absl::Status Start(const std::vector<std::string>& argv);
  // The wait status if the child has exited (reaping it), else nullopt.
  std::optional<int> PollExit();
  // SIGTERM, up to `grace` to exit, then SIGKILL. The wait status, or
  // nullopt when no child was running.
  std::optional<int> Stop(absl::Duration grace);
  // SIGKILL now (a crash: no cleanup) and reap. The wait status, or nullopt
  // when no child was running.
  std::optional<int> Kill();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

 private:
  const std::string log_path_;
  pid_t pid_ = -1;
};

// "exit 0", "exit 3", "killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int status);

}  // namespace pointspay
