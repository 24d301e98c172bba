// `tcc_bench unfinished`: builds up COUNT committed-but-unconfirmed GTs (the
// participant answers Try and then fails every Confirm with UNAVAILABLE, as
// if it were down, so tccd keeps retrying), reports tccd's memory, kills tccd
// with SIGKILL, restarts it on the same file and reports how long recovery
// took and how many distinct GTs got a Confirm retry within the window.
#pragma once

#include "absl/status/status.h"
#include "tools/bench/options.h"

namespace tcc::bench {

absl::Status RunUnfinished(const TccdOptions& tccd, const UnfinishedOptions& options, bool keep);

}  // namespace tcc::bench
