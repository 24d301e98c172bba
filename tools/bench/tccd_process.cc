#include "tools/bench/tccd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace tcc::bench {
namespace {

int64_t StatusField(const std::string& status, absl::string_view name) {
  size_t at = status.find(std::string(name) + ":");
  if (at == std::string::npos) return 0;
  return std::strtoll(status.c_str() + at + name.size() + 1, nullptr, 10);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<ProcessSample> SampleProcess(pid_t pid) {
  std::string proc = absl::StrCat("/proc/", pid);
  std::string stat = ReadFile(proc + "/stat");
  // The command name may hold spaces: fields are counted after its ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return absl::NotFoundError(absl::StrCat("no process ", pid));
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
  if (fields.size() < 13) return absl::InternalError("short /proc/<pid>/stat");
  // Fields 14 and 15 of stat(5) (utime, stime) are 11 and 12 after ')'.
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  ProcessSample sample;
  sample.cpu_seconds = static_cast<double>(std::stoll(fields[11]) + std::stoll(fields[12])) / ticks;
  std::string status = ReadFile(proc + "/status");
  sample.rss_kb = StatusField(status, "VmRSS");
  sample.peak_rss_kb = StatusField(status, "VmHWM");
  return sample;
}

absl::StatusOr<std::unique_ptr<TccdProcess>> TccdProcess::Start(const Options& options,
                                                                absl::Duration timeout) {
  auto process = std::unique_ptr<TccdProcess>(new TccdProcess());
  std::string port_file = options.work_dir + "/tccd.port";
  std::filesystem::remove(port_file);
  process->log_path_ = options.work_dir + "/tccd.log";
  std::vector<std::string> argv = {
      options.binary,           "--listen=127.0.0.1:0",   "--port_file=" + port_file,
      "--data=" + options.data, "--sync=" + options.sync, "--log_level=" + options.log_level};
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // tccd logs to stdout (spdlog) and reports fatal errors on stderr.
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, process->log_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  absl::Time started = absl::Now();
  int spawned = posix_spawn(&process->pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    process->pid_ = -1;
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start ", options.binary, ": ", strerror(spawned)));
  }
  while (absl::Now() - started < timeout) {
    std::ifstream in(port_file);
    if (in >> process->port_ && process->port_ > 0) {
      process->startup_time_ = absl::Now() - started;
      return process;
    }
    if (waitpid(process->pid_, nullptr, WNOHANG) == process->pid_) {
      process->pid_ = -1;
      return absl::UnavailableError(
          absl::StrCat("tccd exited during startup; see ", process->log_path_));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return absl::DeadlineExceededError(absl::StrCat("tccd wrote no port file within ",
                                                  absl::FormatDuration(timeout), "; see ",
                                                  process->log_path_));
}

TccdProcess::~TccdProcess() { Kill(); }

int TccdProcess::Stop(absl::Duration grace) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  return Reap(grace);
}

void TccdProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  Reap(absl::Seconds(10));
}

int TccdProcess::Reap(absl::Duration grace) {
  absl::Time deadline = absl::Now() + grace;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
  return status;
}

}  // namespace tcc::bench
