// A child process for crash tests: started with posix_spawn, stopped with a
// real signal (SIGKILL for crashes, SIGTERM for clean stops) and reaped.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace tcc::testing {

class Subprocess {
 public:
  explicit Subprocess(std::vector<std::string> argv) : argv_(std::move(argv)) {}
  ~Subprocess() { Kill(SIGKILL); }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  bool Start() {
    std::vector<char*> args;
    for (std::string& arg : argv_) args.push_back(arg.data());
    args.push_back(nullptr);
    return posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) == 0;
  }

  // Sends `signal` and reaps the child. Returns its wait status.
  int Kill(int signal) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
  pid_t pid() const { return pid_; }

 private:
  std::vector<std::string> argv_;
  pid_t pid_ = -1;
};

// Waits for a file holding a port number (tccd --port_file) and returns it,
// or 0 on timeout.
inline int WaitForPortFile(const std::string& path,
                           std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(path);
    int port = 0;
    if (in >> port && port > 0) return port;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

}  // namespace tcc::testing
