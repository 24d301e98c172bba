#include "tools/bench/process_sample.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
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

// The fields of /proc/<pid>/stat after the command name (which may hold
// spaces): field N of stat(5) is at N - 3.
absl::StatusOr<std::vector<std::string>> StatFields(pid_t pid) {
  std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return absl::NotFoundError(absl::StrCat("no process ", pid));
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
  if (fields.size() < 15) return absl::InternalError("short /proc/<pid>/stat");
  return fields;
}

double Ticks(const std::string& field) {
  return static_cast<double>(std::stoll(field)) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

absl::StatusOr<ProcessSample> SampleProcess(pid_t pid) {
  std::string proc = absl::StrCat("/proc/", pid);
  absl::StatusOr<std::vector<std::string>> fields = StatFields(pid);
  if (!fields.ok()) return fields.status();
  // Fields 14 and 15 of stat(5): utime, stime.
  ProcessSample sample;
  sample.cpu_seconds = Ticks((*fields)[11]) + Ticks((*fields)[12]);
  std::string status = ReadFile(proc + "/status");
  sample.rss_kb = StatusField(status, "VmRSS");
  sample.peak_rss_kb = StatusField(status, "VmHWM");
  return sample;
}

absl::StatusOr<double> ProcessTreeCpuSeconds(pid_t root) {
  absl::StatusOr<std::vector<std::string>> fields = StatFields(root);
  if (!fields.ok()) return fields.status();
  // Fields 14 to 17: utime, stime, cutime, cstime (reaped children).
  double cpu =
      Ticks((*fields)[11]) + Ticks((*fields)[12]) + Ticks((*fields)[13]) + Ticks((*fields)[14]);
  const std::string parent = std::to_string(root);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    absl::StatusOr<std::vector<std::string>> child = StatFields(pid);
    // Field 4: the parent's pid. A process gone meanwhile is skipped.
    if (!child.ok() || (*child)[1] != parent) continue;
    cpu += Ticks((*child)[11]) + Ticks((*child)[12]);
  }
  return cpu;
}

}  // namespace tcc::bench
