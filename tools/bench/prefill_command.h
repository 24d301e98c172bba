// `tcc_bench prefill`: fills a tccd data file with COUNT finished GTs
// quickly. tccd itself creates the schema and one real committed GT (with
// --branches branches) as a template; the command then clones that GT's
// rows (transaction, branches, timeline events) under new gids straight
// into SQLite, so the filled store has exactly the rows tccd writes.
// Single-threaded; tccd must not be running on the file.
#pragma once

#include "absl/status/status.h"
#include "tools/bench/options.h"

namespace tcc::bench {

absl::Status RunPrefill(const TccdOptions& tccd, const PrefillOptions& options);

// Makes every pending Confirm / Cancel retry due now, as after a long
// coordinator outage (the worst case for recovery). tccd must be down.
absl::Status MakeRetriesDue(const std::string& data);

}  // namespace tcc::bench
