// One figure from a running tccd's /metrics (Prometheus text), read over
// its HTTP port on loopback: the benchmark counts what tccd did (store
// operations, say) instead of assuming it.
// Thread-safe: each call opens its own connection.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tcc::bench {

// The value of the unlabelled sample `name` (e.g. "tcc_store_batch_size_sum")
// in tccd's /metrics on 127.0.0.1:`http_port`. NOT_FOUND if it has none,
// UNAVAILABLE if the page cannot be read.
absl::StatusOr<double> ReadTccdMetric(int http_port, absl::string_view name);

}  // namespace tcc::bench
