// checkout: the walkthrough's initiator (README "Integrate your own
// service"). One checkout request is one global transaction across the
// inventory (C++), coupon (C++) and loyalty (Python) participants, plus an
// order row in checkout's own database, committed together with the
// decision. The request id is the idempotency key: running the same request
// again answers what the first run answered, without doing anything twice.
//
//   checkout --db=checkout.db --coordinator=127.0.0.1:7420 --status=127.0.0.1:7600 \
//     --inventory=127.0.0.1:7001 --coupon=127.0.0.1:7002 --loyalty=127.0.0.1:7003 \
//     --request_id=r1 --sku=book --quantity=1 --coupon_code=WELCOME --user=alice
//
// It prints one line: "<gid>: COMMITTED", "<gid>: ROLLED_BACK (refused by
// <branch>: <reason>)", with " (replayed)" when an earlier run decided it.
// (A real service keeps its StatusEndpoint up all the time, at the same
// address; this one-shot program serves it while it runs.)
// [snippet initiator]
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/initiator_client.h"
#include "tcc/sdk/status_endpoint.h"

ABSL_FLAG(std::string, db, "checkout.db", "checkout's own SQLite file");
ABSL_FLAG(std::string, coordinator, "127.0.0.1:7420", "tccd's address");
ABSL_FLAG(std::string, status, "127.0.0.1:7600", "where the status endpoint listens");
ABSL_FLAG(std::string, inventory, "127.0.0.1:7001", "the inventory participant");
ABSL_FLAG(std::string, coupon, "127.0.0.1:7002", "the coupon participant");
ABSL_FLAG(std::string, loyalty, "127.0.0.1:7003", "the loyalty participant (Python)");
ABSL_FLAG(std::string, request_id, "", "the client's request id: the idempotency key");
ABSL_FLAG(std::string, sku, "book", "what to buy");
ABSL_FLAG(int64_t, quantity, 1, "how many");
ABSL_FLAG(std::string, coupon_code, "WELCOME", "the coupon to redeem");
ABSL_FLAG(std::string, user, "alice", "who earns the loyalty points");

tcc::v1::BranchSpec Branch(const std::string& id, const std::string& target,
                           const std::string& action, const std::string& payload) {
  tcc::v1::BranchSpec branch;
  branch.set_branch_id(id);  // named: a repeated request re-drives, never adds
  branch.set_target(target);
  branch.set_action(action);
  branch.set_payload(payload);
  return branch;
}

absl::Status Checkout() {
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<tcc::sdk::Database> db,
                       tcc::sdk::OpenSqliteDatabase(absl::GetFlag(FLAGS_db)));
  TCC_RETURN_IF_ERROR(db->RunInTransaction([](tcc::sdk::LocalTx& tx) {
    return tx
        .Exec(
            "CREATE TABLE IF NOT EXISTS orders (gid TEXT PRIMARY KEY, sku TEXT NOT NULL,"
            " quantity INTEGER NOT NULL, user TEXT NOT NULL)")
        .status();
  }));
  // Answers tccd's back-query from the decision rows in the same database.
  tcc::sdk::StatusEndpoint status(db);
  TCC_RETURN_IF_ERROR(status.Start(absl::GetFlag(FLAGS_status)));

  tcc::sdk::InitiatorClient client(
      grpc::CreateChannel(absl::GetFlag(FLAGS_coordinator), grpc::InsecureChannelCredentials()));
  const std::string gid = "checkout-" + absl::GetFlag(FLAGS_request_id);
  const std::string sku = absl::GetFlag(FLAGS_sku), user = absl::GetFlag(FLAGS_user);
  const int64_t quantity = absl::GetFlag(FLAGS_quantity);
  TCC_ASSIGN_OR_RETURN(
      tcc::sdk::TransactionOutcome outcome,
      client.RunTransaction(
          {.begin = {.gid = gid,
                     .timeout = absl::Seconds(10),
                     .status_endpoint = absl::GetFlag(FLAGS_status)},
           .branches = {Branch("inventory", absl::GetFlag(FLAGS_inventory), "inventory.reserve",
                               sku + ":" + std::to_string(quantity)),
                        Branch("coupon", absl::GetFlag(FLAGS_coupon), "coupon.redeem",
                               absl::GetFlag(FLAGS_coupon_code)),
                        Branch("loyalty", absl::GetFlag(FLAGS_loyalty), "loyalty.award",
                               user + ":10")},
           // Committed in one local transaction with the decision row.
           .local_db = db.get(),
           .local_writes = [&](tcc::sdk::LocalTx& tx) {
             return tx.Exec("INSERT INTO orders VALUES (?, ?, ?, ?)", {gid, sku, quantity, user})
                 .status();
           }}));
  std::cout << gid << ": " << (outcome.committed() ? "COMMITTED" : "ROLLED_BACK");
  if (!outcome.refused_branch.empty()) {
    std::cout << " (refused by " << outcome.refused_branch << ": " << outcome.refusal << ")";
  }
  std::cout << (outcome.replayed ? " (replayed)" : "") << std::endl;
  return absl::OkStatus();
}

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_request_id).empty()) {
    std::cerr << "checkout: --request_id is required (the idempotency key)" << std::endl;
    return 2;
  }
  absl::Status status = Checkout();
  if (!status.ok()) std::cerr << "checkout: " << status << std::endl;
  return status.ok() ? 0 : 1;
}
// [end snippet]
