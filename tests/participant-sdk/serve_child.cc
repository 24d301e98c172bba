// The child process of serve_until_signal_test: serves a ParticipantServer
// and a StatusEndpoint on loopback port 0 with ServeUntilSignal (no other
// thread of its own), writes the participant's port to argv[2] once it
// serves (one no-op action), and prints "stopped by signal N" once both servers shut down.
// Usage: serve_child <dir for the databases> <port file>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "tcc/sdk/participant_server.h"
#include "tcc/sdk/serve.h"
#include "tcc/sdk/status_endpoint.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  std::string dir = argv[1];
  auto opened = tcc::sdk::OpenSqliteDatabase(dir + "/child.db");
  if (!opened.ok()) return 3;
  std::shared_ptr<tcc::sdk::Database> db = *std::move(opened);
  tcc::sdk::ParticipantServer participant(db);
  tcc::sdk::StatusEndpoint status(db);
  absl::Status started = participant.AddAction(
      "noop",
      {.on_try = [](tcc::sdk::LocalTx&, const tcc::sdk::BranchRequest&) -> tcc::sdk::TryResult {
         return tcc::sdk::TryOutcome::Reserved();
       },
       .on_confirm = [](tcc::sdk::LocalTx&,
                        const tcc::sdk::BranchRequest&) { return absl::OkStatus(); },
       .on_cancel = [](tcc::sdk::LocalTx&,
                       const tcc::sdk::BranchRequest&) { return absl::OkStatus(); }});
  if (started.ok()) started = participant.Start("127.0.0.1:0");
  if (started.ok()) started = status.Start("127.0.0.1:0");
  if (!started.ok()) {
    std::fprintf(stderr, "serve_child: %s\n", started.ToString().c_str());
    return 4;
  }
  {
    std::ofstream port_file(std::string(argv[2]) + ".tmp");
    port_file << participant.port() << "\n";
  }
  std::rename((std::string(argv[2]) + ".tmp").c_str(), argv[2]);
  int signal = tcc::sdk::ServeUntilSignal(participant, status);
  std::printf("stopped by signal %d\n", signal);
  return 0;
}
