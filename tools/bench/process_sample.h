// CPU time and memory of a process (tccd, the example's services, the bench
// itself), read from /proc: what the benchmark reports per process.
// Thread-safe (reads files only).
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "absl/status/statusor.h"

namespace tcc::bench {

struct ProcessSample {
  double cpu_seconds = 0;   // utime + stime
  int64_t rss_kb = 0;       // VmRSS
  int64_t peak_rss_kb = 0;  // VmHWM
};

// Reads /proc/<pid>/stat and /proc/<pid>/status.
absl::StatusOr<ProcessSample> SampleProcess(pid_t pid);

// CPU seconds of `root` and its children (a PostgreSQL postmaster and its
// backends): the live ones' user+sys plus what the reaped ones used
// (root's cutime+cstime), so a window's difference counts children that
// exited within it.
absl::StatusOr<double> ProcessTreeCpuSeconds(pid_t root);

}  // namespace tcc::bench
