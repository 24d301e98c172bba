// `tcc_bench run --mode points-pay`: the full points-payment flow of
// examples/points-pay/, end to end. Starts tccd and the example's three
// services (points_service, paylog_service, order_service: real processes,
// each with its own fresh SQLite file in a scratch dir, synchronous=FULL
// unless --sync says otherwise) on free loopback ports, seeds enough users
// and orders that no payment is refused, drives PayWithPoints on the order
// service (closed or open loop, warm-up, progress line; see
// points_pay_workload.h), and reports throughput (GT/s = payments/s),
// latency, the CPU seconds per 1,000 GTs and peak RSS of every process and
// their total. No ceiling run and no ratio: the target is absolute.
// Afterwards it waits until every GT is final, stops everything with
// SIGTERM and runs the example's invariant checker (points_pay_check's
// library) on the four databases; the command fails unless the checker is
// clean and no payment failed, so a fast but inconsistent run cannot pass.
#pragma once

#include "absl/status/status.h"
#include "tools/bench/options.h"

namespace tcc::bench {

absl::Status RunPointsPay(const TccdOptions& tccd, const LoadOptions& load, bool keep);

}  // namespace tcc::bench
