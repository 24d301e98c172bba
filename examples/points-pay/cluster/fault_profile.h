// The fault switches the launcher hands to each service: off by default;
// --faults turns on a modest default profile (every switch of every service
// fires a few times in a 1,000-payment run), and --fault overrides single
// switches: "points.crash_after_confirm=0.02", "order.latency_ms=20", or
// without a service prefix for all three ("drop_reply=0.05").
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "examples/points-pay/common/faults.h"

namespace pointspay {

struct ServiceFaults {
  FaultConfig points;
  FaultConfig paylog;
  FaultConfig order;
};

ServiceFaults DefaultFaultProfile();

// Applies one "[service.]switch=value" override.
absl::Status ApplyFaultOverride(std::string_view spec, ServiceFaults& faults);

// The service's command-line flags for `config` (only switches that are on).
std::vector<std::string> FaultFlags(const FaultConfig& config);

}  // namespace pointspay
