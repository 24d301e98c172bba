// `tcc_bench run`: the ceiling (raw unary RPCs/s against the in-process
// echo server, same client settings and concurrency), then the load, then
// one report with the throughput, latency, tccd CPU and memory figures and
// the ratio to the ceiling. --mode points-pay runs RunPointsPay instead.
#pragma once

#include "absl/status/status.h"
#include "tools/bench/options.h"

namespace tcc::bench {

absl::Status RunLoad(const TccdOptions& tccd, const LoadOptions& load, bool keep);

}  // namespace tcc::bench
