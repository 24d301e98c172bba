#include "tools/bench/process_sample.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

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

}  // namespace tcc::bench
