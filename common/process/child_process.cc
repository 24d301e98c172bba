#include "common/process/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace tcc::process {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(5);

// argv or envp for exec: the strings stay owned by `owned`.
std::vector<char*> CStrings(std::vector<std::string>& owned) {
  std::vector<char*> pointers;
  for (std::string& s : owned) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// The parent's environment with `overrides` ("NAME=value") added or replaced.
std::vector<std::string> Environment(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string var = *entry;
    bool replaced = false;
    for (const std::string& o : overrides) {
      size_t eq = o.find('=');
      if (o.compare(0, eq, var, 0, var.find('=')) == 0) replaced = true;
    }
    if (!replaced) env.push_back(std::move(var));
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

// Runs in the forked child: only async-signal-safe calls until exec.
[[noreturn]] void ExecChild(pid_t parent, bool die_with_parent, int out_fd, int err_fd,
                            char* const* argv, char* const* envp) {
  if (die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int null_fd = open("/dev/null", O_RDWR);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  dup2(out_fd >= 0 ? out_fd : null_fd, STDOUT_FILENO);
  dup2(err_fd >= 0 ? err_fd : STDOUT_FILENO, STDERR_FILENO);
  execve(argv[0], argv, envp);
  _exit(127);
}

absl::StatusOr<int> OpenOutput(const std::string& path, bool truncate) {
  if (path.empty()) return -1;
  int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND), 0644);
  if (fd < 0)
    return absl::UnavailableError(absl::StrCat("cannot open ", path, ": ", strerror(errno)));
  return fd;
}

// The whole content of an anonymous file the child wrote to.
std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) text.append(buffer, n);
  return text;
}

}  // namespace

ChildProcess::~ChildProcess() { Kill(); }

absl::Status ChildProcess::Start(const std::vector<std::string>& argv) {
  absl::StatusOr<int> out_fd = OpenOutput(options_.output_path, options_.truncate);
  if (!out_fd.ok()) return out_fd.status();
  absl::StatusOr<int> err_fd = OpenOutput(options_.error_path, options_.truncate);
  if (!err_fd.ok()) {
    if (*out_fd >= 0) close(*out_fd);
    return err_fd.status();
  }
  absl::Status started = StartWithFds(argv, *out_fd, *err_fd);
  for (int fd : {*out_fd, *err_fd}) {
    if (fd >= 0) close(fd);
  }
  return started;
}

absl::Status ChildProcess::StartWithFds(const std::vector<std::string>& argv, int out_fd,
                                        int err_fd) {
  if (started()) return absl::FailedPreconditionError("child is already running");
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  if (access(argv[0].c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot execute ", argv[0], ": ", strerror(errno)));
  }
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> owned_argv = argv;
  std::vector<std::string> owned_env = Environment(options_.env);
  std::vector<char*> args = CStrings(owned_argv);
  std::vector<char*> envp = CStrings(owned_env);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    ExecChild(parent, options_.die_with_parent, out_fd, err_fd, args.data(), envp.data());
  }
  if (pid < 0) return absl::UnavailableError(absl::StrCat("fork: ", strerror(errno)));
  pid_ = pid;
  return absl::OkStatus();
}

std::optional<int> ChildProcess::PollExit() {
  if (!started()) return std::nullopt;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
  pid_ = -1;
  return status;
}

std::optional<int> ChildProcess::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (started()) {
    if (std::optional<int> status = PollExit()) return status;
    if (absl::Now() >= deadline) break;
    absl::SleepFor(kPollInterval);
  }
  return std::nullopt;
}

std::optional<int> ChildProcess::Stop(absl::Duration grace) {
  if (!started()) return std::nullopt;
  kill(pid_, SIGTERM);
  if (std::optional<int> status = Wait(grace)) return status;
  return Kill();
}

std::optional<int> ChildProcess::Kill() {
  if (!started()) return std::nullopt;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

// Runs one command with its output in anonymous files (no pipe to drain
// while it runs, so no deadlock on a chatty child).
struct CommandRunner {
  static absl::StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                                           const RunOptions& options) {
    int out_fd = memfd_create("tcc-command-out", MFD_CLOEXEC);
    int err_fd = options.separate_stderr ? memfd_create("tcc-command-err", MFD_CLOEXEC) : -1;
    if (out_fd < 0 || (options.separate_stderr && err_fd < 0)) {
      absl::Status error = absl::UnavailableError(absl::StrCat("memfd_create: ", strerror(errno)));
      Close(out_fd, err_fd);
      return error;
    }
    ChildProcess child(ChildOptions{.env = options.env});
    if (absl::Status started = child.StartWithFds(argv, out_fd, err_fd); !started.ok()) {
      Close(out_fd, err_fd);
      return started;
    }
    CommandResult result;
    std::optional<int> status = child.Wait(options.timeout);
    if (!status.has_value()) {
      result.timed_out = true;
      status = child.Kill();
    }
    result.wait_status = status.value_or(-1);
    result.output = ReadAll(out_fd);
    if (err_fd >= 0) result.error = ReadAll(err_fd);
    Close(out_fd, err_fd);
    return result;
  }

  static void Close(int out_fd, int err_fd) {
    for (int fd : {out_fd, err_fd}) {
      if (fd >= 0) close(fd);
    }
  }
};

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const RunOptions& options) {
  return CommandRunner::Run(argv, options);
}

int CommandResult::exit_code() const {
  if (wait_status < 0) return -1;
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)),
                        ")");
  }
  return absl::StrCat("wait status ", status);
}

}  // namespace tcc::process
