// The main() of a participant service of the example (points, pay log): the
// flags every participant takes, its database behind the fault decorator,
// the SDK's ParticipantServer, a port file for the launcher, and a clean
// stop on SIGTERM. Each service supplies its schema and its actions.
//
//   <service> --listen=127.0.0.1:0 --port_file=F --db=FILE [--workers=N]
//             [--sync=full|normal] [--log_level=info] [fault flags, faults.h]
//
// Thread-safety: call once, from main.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "examples/points-pay/common/faults.h"
#include "tcc/sdk/participant_server.h"

namespace pointspay {

struct ParticipantSpec {
  std::string name;         // "points_service"
  std::string description;  // one line for --help
  std::function<absl::Status(tcc::sdk::Database&)> create_schema;
  std::function<absl::Status(tcc::sdk::ParticipantServer&, FaultInjector&)> add_actions;
};

// Returns the process exit code.
int RunParticipantMain(const ParticipantSpec& spec, int argc, char** argv);

}  // namespace pointspay
