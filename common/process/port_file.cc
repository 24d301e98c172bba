#include "common/process/port_file.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tcc::process {

int ReadPortFile(const std::string& path) {
  std::ifstream in(path);
  int port = 0;
  return (in >> port) && port > 0 ? port : 0;
}

absl::StatusOr<int> WaitForPortFile(const std::string& path, ChildProcess& child,
                                    absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (int port = ReadPortFile(path); port > 0) return port;
    if (std::optional<int> status = child.PollExit()) {
      return absl::UnavailableError(
          absl::StrCat("exited before writing ", path, " (", DescribeWaitStatus(*status), ")"));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("no port in ", path, " within ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
}

std::string LoopbackAddress(int port) { return absl::StrCat("127.0.0.1:", port); }

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace tcc::process
