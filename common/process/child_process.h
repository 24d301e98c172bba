// Child processes for the tools, the example's launcher and the tests: the
// one place that forks, execs, signals and reaps.
//
// ChildProcess is a long-lived child (tccd, a service): started with fork and
// exec (argv[0] is a path), its stdout and stderr sent to files, stopped with
// SIGTERM (then SIGKILL after a grace period) or killed with SIGKILL (a
// crash), and reaped. It can be started again after it exited, with the same
// output files (appended by default, so a restarted child keeps one log).
// RunCommand runs a program to completion and returns what it printed.
//
// A child asks the kernel to SIGKILL it when the thread that started it dies
// (PR_SET_PDEATHSIG, unless die_with_parent is false), so a parent that is
// killed leaves no orphans behind; start children from a thread that
// outlives them (the main thread, a test's body).
//
// Thread-safety: a ChildProcess is not thread-safe (one owner thread);
// RunCommand may be called from any thread.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tcc::process {

struct ChildOptions {
  // Where the child's stdout goes (created if missing). Empty: /dev/null.
  std::string output_path;
  // Where its stderr goes. Empty: with stdout.
  std::string error_path;
  // Truncate the files at each start instead of appending to them.
  bool truncate = false;
  // "NAME=value" entries added to the parent's environment (replacing a
  // variable of the same name).
  std::vector<std::string> env;
  // SIGKILL the child when the thread that started it dies.
  bool die_with_parent = true;
};

class ChildProcess {
 public:
  explicit ChildProcess(ChildOptions options = {}) : options_(std::move(options)) {}
  // SIGKILLs and reaps a child that is still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (a path) with `argv`. FAILED_PRECONDITION if a child is
  // running, NOT_FOUND if argv[0] is not executable.
  absl::Status Start(const std::vector<std::string>& argv);
  // The wait status if the child has exited (reaping it), else nullopt.
  std::optional<int> PollExit();
  // Waits up to `timeout` for the child to exit: its wait status, or nullopt
  // if it is still running (or none was started).
  std::optional<int> Wait(absl::Duration timeout);
  // SIGTERM, up to `grace` to exit, then SIGKILL. The wait status, or
  // nullopt when no child was running.
  std::optional<int> Stop(absl::Duration grace);
  // SIGKILL now (a crash: no cleanup) and reap. The wait status, or nullopt
  // when no child was running.
  std::optional<int> Kill();

  // True while the child runs (reaps it once it exited).
  bool Alive() { return started() && !PollExit().has_value(); }
  // True from Start until the child is reaped.
  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const ChildOptions& options() const { return options_; }

 private:
  friend struct CommandRunner;

  // Starts `argv` with stdout and stderr on the given descriptors.
  absl::Status StartWithFds(const std::vector<std::string>& argv, int out_fd, int err_fd);

  const ChildOptions options_;
  pid_t pid_ = -1;
};

struct RunOptions {
  std::vector<std::string> env;  // as in ChildOptions
  // SIGKILL the command after this long (the result says it timed out).
  absl::Duration timeout = absl::InfiniteDuration();
  // Capture stderr apart from stdout (in `error`) instead of interleaved.
  bool separate_stderr = false;
};

struct CommandResult {
  int wait_status = -1;
  bool timed_out = false;
  std::string output;  // stdout, and stderr unless separate_stderr
  std::string error;   // stderr when separate_stderr
  // The exit code, 128 + the signal when killed (as a shell says), or -1.
  int exit_code() const;
};

// Runs argv[0] (a path) with `argv` to completion, its output captured.
// An error only when it could not be started.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const RunOptions& options = {});

// "exit 0", "exit 3", "killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int status);

}  // namespace tcc::process
