#include "tcc/sdk/serve.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

namespace tcc::sdk {
namespace {

// The write end, for the handler: a plain int, set before the handlers go in.
volatile sig_atomic_t g_wake_fd = -1;

void OnTerminationSignal(int signal) {
  int saved = errno;
  unsigned char byte = static_cast<unsigned char>(signal);
  if (g_wake_fd >= 0) (void)!write(g_wake_fd, &byte, 1);
  errno = saved;
}

// Installs OnTerminationSignal for SIGTERM and SIGINT; the destructor puts
// the previous handlers back.
class ScopedHandlers {
 public:
  ScopedHandlers() {
    struct sigaction action = {};
    action.sa_handler = OnTerminationSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &action, &old_term_);
    sigaction(SIGINT, &action, &old_int_);
    // A signal blocked in this thread would still reach another thread;
    // unblock it here so it can wake us even when no other thread exists.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &set, &old_mask_);
  }
  ~ScopedHandlers() {
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGINT, &old_int_, nullptr);
  }
  ScopedHandlers(const ScopedHandlers&) = delete;
  ScopedHandlers& operator=(const ScopedHandlers&) = delete;

 private:
  struct sigaction old_term_ = {};
  struct sigaction old_int_ = {};
  sigset_t old_mask_;
};

std::mutex g_waiting;

}  // namespace

int WaitForTerminationSignal() {
  std::lock_guard<std::mutex> one_waiter(g_waiting);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  g_wake_fd = fds[1];
  int signal = -1;
  {
    ScopedHandlers handlers;
    unsigned char byte = 0;
    ssize_t n;
    while ((n = read(fds[0], &byte, 1)) < 0 && errno == EINTR) {
    }
    if (n == 1) signal = byte;
  }
  g_wake_fd = -1;
  close(fds[0]);
  close(fds[1]);
  return signal;
}

}  // namespace tcc::sdk
