// `tcc_bench shutdown`: how long tccd takes to exit on SIGTERM, and that it
// keeps what it acknowledged. Each round restarts tccd on a fresh data file
// and measures two stops from SIGTERM to the process's exit: with only idle
// client connections open (connections that have carried calls and stay
// connected, as a service's pooled channels do), and with a closed-loop load
// running; both with a few connections that never hang up, as some clients
// and TCP health checkers do. After the loaded stop tccd is started again on the same file and
// its Stats must count at least as many committed GTs as the load saw
// acknowledged. Prints each round and the median and maximum of both times.
#pragma once

#include "absl/status/status.h"
#include "tools/bench/options.h"

namespace tcc::bench {

absl::Status RunShutdown(const TccdOptions& tccd, const ShutdownOptions& options, bool keep);

}  // namespace tcc::bench
