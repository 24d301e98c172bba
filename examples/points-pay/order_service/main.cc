// order_service: the initiator of the points-payment example. Serves
// pointspay.v1.OrderService (PayWithPoints, Refund, GetOrder), the SDK's
// status endpoint for the coordinator's back-query (payments), and, as a
// participant, its own step of the refund saga (order.refund), each on its
// own port, all on the same SQLite file as its orders.
//
//   order_service --listen=127.0.0.1:0 --port_file=order.port
//                 --status_listen=127.0.0.1:0 --status_port_file=status.port
//                 --participant_listen=127.0.0.1:0
//                 --participant_port_file=participant.port
//                 --db=orders.db --coordinator=127.0.0.1:7420
//                 --points=127.0.0.1:P --paylog=127.0.0.1:Q [fault flags]
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "examples/points-pay/common/fault_database.h"
#include "examples/points-pay/common/faults.h"
#include "examples/points-pay/common/schema.h"
#include "examples/points-pay/common/service_util.h"
#include "examples/points-pay/order_service/order_server.h"
#include "examples/points-pay/order_service/order_store.h"
#include "examples/points-pay/order_service/refund_saga.h"
#include "examples/points-pay/order_service/refund_step.h"
#include "examples/points-pay/order_service/transaction_flow.h"
#include "tcc/common/logging.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/hooks.h"
#include "tcc/sdk/initiator_client.h"
#include "tcc/sdk/participant_server.h"
#include "tcc/sdk/status_endpoint.h"

namespace pointspay {
namespace {

struct Flags {
  std::string listen = "127.0.0.1:0";
  std::string port_file;
  std::string status_listen = "127.0.0.1:0";
  std::string status_port_file;
  std::string participant_listen = "127.0.0.1:0";
  std::string participant_port_file;
  std::string status_host = "127.0.0.1";
  std::string status_address;  // overrides status_host for the status endpoint
  std::string db;
  std::string coordinator = "127.0.0.1:7420";
  std::string points;
  std::string paylog;
  int gt_timeout_ms = 10000;
  int workers = 64;
  std::string sync = "full";
  std::string log_level = "info";
  std::string tls_dir;
  FaultConfig faults;
};

constexpr char kName[] = "order_service";

// The faults at the initiator's "confirm" step: after the local commit,
// before Commit reaches the coordinator (the back-query then decides).
void SetCommitFaults(tcc::sdk::HookRegistry& hooks, FaultInjector& faults) {
  hooks.Set(tcc::sdk::kHookAfterLocalCommit, [&faults](std::string_view gid) -> absl::Status {
    if (faults.Fires(Fault::kCrashAfterConfirm)) faults.Crash(Fault::kCrashAfterConfirm, gid);
    if (faults.Roll(Fault::kFailConfirm, gid)) {
      return absl::UnavailableError("injected fault fail_confirm: Commit not sent");
    }
    return absl::OkStatus();
  });
}

std::string Advertised(const Flags& flags, int port) {
  return absl::StrCat(flags.status_host, ":", port);
}

// The refund saga's order step, on its own port: the coordinator must find
// it at the address stored in the saga's steps, across restarts too.
absl::Status StartParticipant(const Flags& flags, tcc::sdk::ParticipantServer& participant,
                              FaultInjector& faults) {
  TCC_RETURN_IF_ERROR(AddOrderRefundStep(participant, faults));
  TCC_RETURN_IF_ERROR(participant.Start(flags.participant_listen));
  return WritePortFile(flags.participant_port_file, participant.port());
}

absl::Status Serve(const Flags& flags) {
  tcc::sdk::SqliteOptions options;
  options.synchronous_full = flags.sync == "full";
  options.max_connections = 16;
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<tcc::sdk::Database> db,
                       tcc::sdk::OpenSqliteDatabase(flags.db, options));
  TCC_RETURN_IF_ERROR(CreateOrdersSchema(*db));

  const tcc::TlsOptions server_tls = ServerTls(flags.tls_dir, kName);
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                       tcc::MakeChannelCredentials(ClientTls(flags.tls_dir, kName)));
  tcc::sdk::StatusEndpoint status(
      db, {.worker_threads = 4, .max_queued_calls = 1024, .tls = server_tls});
  TCC_RETURN_IF_ERROR(status.Start(flags.status_listen));
  TCC_RETURN_IF_ERROR(WritePortFile(flags.status_port_file, status.port()));

  FaultInjector faults("order_service", flags.faults);
  if (flags.faults.any()) spdlog::warn("fault injection is ON");
  tcc::sdk::ParticipantServer participant(
      std::make_shared<FaultDatabase>(db, faults),
      {.worker_threads = 4, .max_queued_calls = 1024, .tls = server_tls});
  TCC_RETURN_IF_ERROR(StartParticipant(flags, participant, faults));
  tcc::sdk::HookRegistry hooks;
  SetCommitFaults(hooks, faults);
  tcc::sdk::InitiatorClient client(MakeChannel(flags.coordinator, credentials),
                                   {.call_timeout = absl::Seconds(5), .hooks = &hooks});
  OrderStore store(db);
  TransactionFlow flow(
      store, client, faults,
      {.points_target = flags.points,
       .paylog_target = flags.paylog,
       .status_endpoint =
           flags.status_address.empty() ? Advertised(flags, status.port()) : flags.status_address,
       .gt_timeout = absl::Milliseconds(flags.gt_timeout_ms)});
  RefundSaga refunds(store, client, faults,
                     {.order_target = Advertised(flags, participant.port()),
                      .points_target = flags.points,
                      .paylog_target = flags.paylog});
  OrderServer server(store, flow, refunds, flags.workers, 4096);
  TCC_RETURN_IF_ERROR(server.Start(flags.listen, server_tls));
  TCC_RETURN_IF_ERROR(WritePortFile(flags.port_file, server.port()));
  spdlog::info("order_service on port {} (status endpoint {}, refund step {}), db {}",
               server.port(), status.port(), participant.port(), flags.db);
  int signal = WaitForStopSignal();
  spdlog::info("signal {}: stopping", signal);
  // The API first: a refund in progress may still wait for its saga.
  server.Shutdown();
  participant.Shutdown();
  status.Shutdown();
  return absl::OkStatus();
}

}  // namespace
}  // namespace pointspay

int main(int argc, char** argv) {
  pointspay::BlockStopSignals();
  pointspay::DisableMutexDeadlockDetection();
  pointspay::Flags flags;
  CLI::App app(
      "Order service: pays orders with points (TCC initiator) and refunds them (saga "
      "initiator and participant)",
      "order_service");
  app.add_option("--listen", flags.listen, "host:port of the order API (port 0: pick one)");
  app.add_option("--port_file", flags.port_file, "write the API port here once serving");
  app.add_option("--status_listen", flags.status_listen, "host:port of the status endpoint");
  app.add_option("--status_port_file", flags.status_port_file, "write its port here");
  app.add_option("--participant_listen", flags.participant_listen,
                 "host:port of the refund saga's order step (keep it across restarts)");
  app.add_option("--participant_port_file", flags.participant_port_file, "write its port here");
  app.add_option("--status_host", flags.status_host,
                 "host the coordinator uses to reach us (status endpoint and refund step)");
  app.add_option("--status_address", flags.status_address,
                 "host:port the coordinator uses for the status endpoint, when it is not "
                 "--status_host and the bound port (e.g. a proxy in between)");
  app.add_option("--db", flags.db, "SQLite file of orders and decisions")->required();
  app.add_option("--coordinator", flags.coordinator, "host:port of tccd");
  app.add_option("--points", flags.points, "host:port of points_service")->required();
  app.add_option("--paylog", flags.paylog, "host:port of paylog_service")->required();
  app.add_option("--gt_timeout_ms", flags.gt_timeout_ms,
                 "how long a transaction may stay undecided before the back-query")
      ->check(CLI::Range(100, 3600000));
  app.add_option("--workers", flags.workers, "requests in progress at once")
      ->check(CLI::Range(1, 1024));
  app.add_option("--sync", flags.sync, "SQLite synchronous: full or normal")
      ->check(CLI::IsMember({"full", "normal"}));
  app.add_option("--log_level", flags.log_level, "trace, debug, info, warn, error, off");
  app.add_option("--tls_dir", flags.tls_dir,
                 "mutual TLS on every port and to tccd: DIR/ca.pem and DIR/order_service.pem|.key "
                 "(the launcher's --tls)");
  pointspay::AddFaultFlags(app, &flags.faults);
  CLI11_PARSE(app, argc, argv);
  pointspay::SetUpLogging("order_service", flags.log_level);
  absl::Status status = pointspay::Serve(flags);
  if (!status.ok()) {
    spdlog::error("order_service: {}", status.message());
    return 1;
  }
  return 0;
}
