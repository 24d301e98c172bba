// A complete TCC initiator: pays order "order-1" with 30 of alice's points
// (scenario S1). The points service (participant_minimal) freezes the points
// in Try; this service then marks the order paid and writes a pay log in ONE
// local transaction together with the SDK's decision row, and commits the
// global transaction. Its status endpoint answers the coordinator's
// back-query if this process is slow or dies before Commit. Running it again
// is safe: RunTransaction finds the payment decided and replays its answer
// (the status endpoint must then listen on the same address: tccd stored it).
//
//   participant_minimal --listen=127.0.0.1:50061 &
//   initiator_minimal --coordinator=127.0.0.1:50051 --points=127.0.0.1:50061 \
//                     --status_listen=127.0.0.1:50071 --db=shop.db
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/initiator_client.h"
#include "tcc/sdk/status_endpoint.h"

namespace {

std::string Flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind(name + "=", 0) == 0) return arg.substr(name.size() + 1);
  }
  return fallback;
}

absl::Status CreateShopTables(tcc::sdk::Database& db) {
  return db.RunInTransaction([](tcc::sdk::LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(
        tx.Exec("CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, state TEXT)").status());
    TCC_RETURN_IF_ERROR(tx.Exec("CREATE TABLE IF NOT EXISTS pay_log (order_id TEXT PRIMARY KEY,"
                                " gid TEXT NOT NULL, points INTEGER NOT NULL)")
                            .status());
    return tx.Exec("INSERT INTO orders VALUES ('order-1', 'UNPAID') ON CONFLICT DO NOTHING")
        .status();
  });
}

absl::Status PayOrder(int argc, char** argv) {
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<tcc::sdk::Database> db,
                       tcc::sdk::OpenSqliteDatabase(Flag(argc, argv, "--db", "shop.db")));
  TCC_RETURN_IF_ERROR(CreateShopTables(*db));

  // The back-query lands here; it must share the database with the commit.
  tcc::sdk::StatusEndpoint status_endpoint(db);
  TCC_RETURN_IF_ERROR(
      status_endpoint.Start(Flag(argc, argv, "--status_listen", "127.0.0.1:50071")));
  std::string status_address = absl::StrCat("127.0.0.1:", status_endpoint.port());

  tcc::sdk::InitiatorClient client(grpc::CreateChannel(
      Flag(argc, argv, "--coordinator", "127.0.0.1:50051"), grpc::InsecureChannelCredentials()));
  tcc::v1::BranchSpec freeze;
  freeze.set_branch_id("points");  // Named, so a repeated request re-drives it.
  freeze.set_target(Flag(argc, argv, "--points", "127.0.0.1:50061"));
  freeze.set_action("points.freeze");
  freeze.set_payload("alice:30");
  // The order id makes a good idempotency key: paying twice reuses the GT,
  // and a repeat after it finished gets the first answer back.
  const std::string gid = "pay-order-1";
  TCC_ASSIGN_OR_RETURN(
      tcc::sdk::TransactionOutcome outcome,
      client.RunTransaction(
          {.begin = {.gid = gid, .timeout = absl::Seconds(30), .status_endpoint = status_address},
           .branches = {freeze},
           // The order and the pay log commit with the decision row.
           .local_db = db.get(),
           .local_writes = [&](tcc::sdk::LocalTx& tx) -> absl::Status {
             TCC_RETURN_IF_ERROR(
                 tx.Exec("UPDATE orders SET state = 'PAID' WHERE id = 'order-1'").status());
             return tx.Exec("INSERT INTO pay_log VALUES ('order-1', ?, 30)", {gid}).status();
           }}));
  if (!outcome.committed()) {
    // e.g. not enough points: a business refusal; the GT was rolled back.
    return absl::FailedPreconditionError(absl::StrCat("payment refused: ", outcome.refusal));
  }
  std::cout << "order-1 paid; global transaction " << gid << " is "
            << tcc::v1::TransactionState_Name(outcome.state)
            << (outcome.replayed ? " (paid before: nothing done again)" : "") << std::endl;
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::Status status = PayOrder(argc, argv);
  if (!status.ok()) std::cerr << "initiator_minimal: " << status << std::endl;
  return status.ok() ? 0 : 1;
}
