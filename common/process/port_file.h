// Servers here listen on port 0 and write the port the kernel gave them to a
// file once they serve (tccd --port_file, the example's services): this is
// how a parent learns where its child listens, without racing for a port.
//
// Thread-safety: free functions; `child` has one owner thread.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/process/child_process.h"

namespace tcc::process {

// The port in `path`, or 0 while the file is missing or incomplete.
int ReadPortFile(const std::string& path);

// Waits until `path` holds a port. UNAVAILABLE if `child` exits first (with
// its wait status), DEADLINE_EXCEEDED after `timeout`.
absl::StatusOr<int> WaitForPortFile(const std::string& path, ChildProcess& child,
                                    absl::Duration timeout);

std::string LoopbackAddress(int port);

// A loopback TCP port that was free a moment ago (0 if none could be had),
// for servers that cannot write a port file (PostgreSQL): racy, so retry a
// start that finds it taken.
int FreeLoopbackPort();

}  // namespace tcc::process
