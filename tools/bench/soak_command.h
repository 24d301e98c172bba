// `tcc_bench soak`: a steady open-loop load for many minutes on a tccd with a
// short retention, to show that the store and tccd's memory stay flat once
// retention deletes as much as the load adds. Every interval it prints the
// throughput and p99 of that interval, the store's size on disk and its
// free (reusable) part, the rows stored (from Admin.Stats, as tccctl stats
// shows them) and tccd's RSS; then text plots of each and a verdict against
// the targets: size and RSS within 10% once two retention windows have
// passed, and the last interval's throughput within 10% of the first's.
#pragma once

#include "absl/status/status.h"
#include "tools/bench/options.h"

namespace tcc::bench {

absl::Status RunSoak(const TccdOptions& tccd, const LoadOptions& load, const SoakOptions& soak,
                     bool keep);

}  // namespace tcc::bench
