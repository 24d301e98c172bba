#include "common/process/port_file.h"

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

}  // namespace tcc::process
