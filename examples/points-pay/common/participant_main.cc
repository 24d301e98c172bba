#include "examples/points-pay/common/participant_main.h"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "examples/points-pay/common/fault_database.h"
#include "examples/points-pay/common/service_util.h"
#include "tcc/common/logging.h"
#include "tcc/common/status_macros.h"

namespace pointspay {
namespace {

struct Flags {
  std::string listen = "127.0.0.1:0";
  std::string port_file;
  std::string db;
  int workers = 8;
  std::string sync = "full";
  std::string log_level = "info";
  std::string tls_dir;
  FaultConfig faults;
};

absl::Status Serve(const ParticipantSpec& spec, const Flags& flags) {
  tcc::sdk::SqliteOptions options;
  options.synchronous_full = flags.sync == "full";
  options.max_connections = flags.workers + 2;
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<tcc::sdk::Database> db,
                       tcc::sdk::OpenSqliteDatabase(flags.db, options));
  TCC_RETURN_IF_ERROR(spec.create_schema(*db));
  FaultInjector faults(spec.name, flags.faults);
  if (flags.faults.any()) spdlog::warn("fault injection is ON");
  tcc::sdk::ParticipantServer server(std::make_shared<FaultDatabase>(db, faults),
                                     {.worker_threads = flags.workers,
                                      .max_queued_calls = 1024,
                                      .tls = ServerTls(flags.tls_dir, spec.name)});
  TCC_RETURN_IF_ERROR(spec.add_actions(server, faults));
  TCC_RETURN_IF_ERROR(server.Start(flags.listen));
  TCC_RETURN_IF_ERROR(WritePortFile(flags.port_file, server.port()));
  spdlog::info("{} serving on port {} with {}", spec.name, server.port(), flags.db);
  int signal = WaitForStopSignal();
  spdlog::info("signal {}: stopping", signal);
  server.Shutdown();
  return absl::OkStatus();
}

}  // namespace

int RunParticipantMain(const ParticipantSpec& spec, int argc, char** argv) {
  BlockStopSignals();
  DisableMutexDeadlockDetection();
  Flags flags;
  CLI::App app(spec.description, spec.name);
  app.add_option("--listen", flags.listen, "host:port to serve on (port 0: pick one)");
  app.add_option("--port_file", flags.port_file, "write the bound port here once serving");
  app.add_option("--db", flags.db, "SQLite file")->required();
  app.add_option("--workers", flags.workers, "handler threads")->check(CLI::Range(1, 256));
  app.add_option("--sync", flags.sync, "SQLite synchronous: full (durable) or normal")
      ->check(CLI::IsMember({"full", "normal"}));
  app.add_option("--log_level", flags.log_level, "trace, debug, info, warn, error, off");
  app.add_option("--tls_dir", flags.tls_dir,
                 "mutual TLS: DIR/ca.pem and DIR/<service>.pem|.key (the launcher's --tls)");
  AddFaultFlags(app, &flags.faults);
  CLI11_PARSE(app, argc, argv);
  SetUpLogging(spec.name, flags.log_level);
  absl::Status status = Serve(spec, flags);
  if (!status.ok()) {
    spdlog::error("{}: {}", spec.name, status.message());
    return 1;
  }
  return 0;
}

}  // namespace pointspay
