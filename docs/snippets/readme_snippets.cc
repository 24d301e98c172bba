// The C++ code blocks of README.md and participant-sdk/README.md, as code
// that is compiled with every build: each block is a region between
// "[snippet NAME]" and "[end snippet]" here, and the README block preceded
// by <!-- snippet: docs/snippets/readme_snippets.cc#NAME --> must equal it
// (docs_snippets_test; `python3 tools/doc_snippets.py --write` copies the
// regions into the READMEs). Edit the code here, then run --write.
//
// Nothing calls these functions; they only have to compile.
// [snippet back_query]
#include <grpcpp/create_channel.h>

#include "tcc/common/status_macros.h"  // TCC_ASSIGN_OR_RETURN, TCC_RETURN_IF_ERROR
#include "tcc/sdk/initiator_client.h"
#include "tcc/sdk/status_endpoint.h"

absl::Status PayOrder(const std::string& request_id, const std::string& order_no,
                      std::vector<tcc::v1::BranchSpec> branches) {
  // The initiator's own database, and the endpoint that answers tccd's
  // back-query from it (start both once, at startup, in a real service).
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<tcc::sdk::Database> db,
                       tcc::sdk::OpenSqliteDatabase("shop.db"));
  tcc::sdk::StatusEndpoint status(db);
  TCC_RETURN_IF_ERROR(status.Start("127.0.0.1:7600"));

  tcc::sdk::InitiatorClient client(
      grpc::CreateChannel("tccd-host:7420", grpc::InsecureChannelCredentials()));
  TCC_ASSIGN_OR_RETURN(tcc::sdk::TransactionGuard gt,
                       client.BeginGuarded({.gid = "pay-" + request_id,
                                            .timeout = absl::Seconds(10),
                                            .status_endpoint = "shop-host:7600"}));
  TCC_ASSIGN_OR_RETURN(tcc::v1::TryReply tried, gt.Try(std::move(branches)));
  if (!tcc::sdk::AllTriesSucceeded(tried)) return gt.Rollback().status();
  // The order update and the decision row commit together, then Commit is sent.
  return gt
      .CommitWithLocalTransaction(
          *db,
          [&](tcc::sdk::LocalTx& tx) {
            return tx.Exec("UPDATE orders SET status = 'PAID' WHERE order_no = ?", {order_no})
                .status();
          })
      .status();
}
// [end snippet]

// [snippet sdk_participant]
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/participant_server.h"
#include "tcc/sdk/serve.h"

// Payload "<user>:<points>", the same bytes in Try, Confirm and Cancel.
absl::StatusOr<std::pair<std::string, int64_t>> ParsePoints(const tcc::sdk::BranchRequest& r) {
  std::pair<std::string, std::string> parts = absl::StrSplit(r.payload(), ':');
  int64_t amount = 0;
  if (!absl::SimpleAtoi(parts.second, &amount) || amount <= 0) {
    return absl::InvalidArgumentError("payload must be <user>:<positive points>");
  }
  return std::make_pair(parts.first, amount);
}

absl::Status ServePoints() {
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<tcc::sdk::Database> db,
                       tcc::sdk::OpenSqliteDatabase("points.db"));  // WAL, fsync on commit
  // Your own tables: create them before Start.
  TCC_RETURN_IF_ERROR(db->RunInTransaction([](tcc::sdk::LocalTx& tx) {
    return tx
        .Exec(
            "CREATE TABLE IF NOT EXISTS accounts (user TEXT PRIMARY KEY,"
            " balance INTEGER NOT NULL, frozen INTEGER NOT NULL)")
        .status();
  }));
  tcc::sdk::ParticipantServer server(db);
  TCC_RETURN_IF_ERROR(server.AddAction(
      "points.freeze",
      {.on_try = [](tcc::sdk::LocalTx& tx,
                    const tcc::sdk::BranchRequest& r) -> tcc::sdk::TryResult {
         TCC_ASSIGN_OR_RETURN(auto points, ParsePoints(r));
         auto [user, amount] = points;
         TCC_ASSIGN_OR_RETURN(
             int64_t changed,
             tx.Exec("UPDATE accounts SET frozen = frozen + ?1 WHERE user = ?2 AND balance - "
                     "frozen >= ?1",
                     {amount, user}));
         if (changed == 0) return tcc::sdk::TryOutcome::Refused("not enough points");
         return tcc::sdk::TryOutcome::Reserved();
       },
       .on_confirm = [](tcc::sdk::LocalTx& tx, const tcc::sdk::BranchRequest& r) -> absl::Status {
         TCC_ASSIGN_OR_RETURN(auto points, ParsePoints(r));
         return tx
             .Exec(
                 "UPDATE accounts SET balance = balance - ?1, frozen = frozen - ?1"
                 " WHERE user = ?2",
                 {points.second, points.first})
             .status();
       },
       .on_cancel = [](tcc::sdk::LocalTx& tx, const tcc::sdk::BranchRequest& r) -> absl::Status {
         TCC_ASSIGN_OR_RETURN(auto points, ParsePoints(r));
         return tx
             .Exec("UPDATE accounts SET frozen = frozen - ?1 WHERE user = ?2",
                   {points.second, points.first})
             .status();
       }}));
  // Loopback; another address needs TLS options (README "Security").
  // "127.0.0.1:0" picks a port (server.port()). Keep the address across
  // restarts: tccd stores it with every branch and sends Confirm/Cancel there.
  TCC_RETURN_IF_ERROR(server.Start("127.0.0.1:50061"));
  tcc::sdk::ServeUntilSignal(server);  // serves until SIGTERM or SIGINT, then shuts down
  return absl::OkStatus();
}
// [end snippet]

// [snippet sdk_initiator]
#include <grpcpp/create_channel.h>

#include "tcc/common/status_macros.h"
#include "tcc/sdk/initiator_client.h"
#include "tcc/sdk/status_endpoint.h"

// One request of your API: the client's request id is the idempotency key.
absl::StatusOr<bool> PayOrder(tcc::sdk::InitiatorClient& client, tcc::sdk::Database& db,
                              const std::string& request_id, const std::string& order_id,
                              tcc::v1::BranchSpec points_branch) {
  points_branch.set_branch_id("points");  // every branch named: a repeat re-drives it
  TCC_ASSIGN_OR_RETURN(
      tcc::sdk::TransactionOutcome outcome,
      client.RunTransaction(
          {.begin = {.gid = "pay-" + request_id,
                     .timeout = absl::Seconds(30),
                     .status_endpoint = "shop-host:50071"},
           .branches = {points_branch},
           .local_db = &db,
           .local_writes = [&](tcc::sdk::LocalTx& tx) {
             return tx.Exec("UPDATE orders SET state = 'PAID' WHERE id = ?", {order_id}).status();
           }}));
  // outcome.replayed: an earlier delivery of this request decided it.
  // Not committed: outcome.refused_branch and outcome.refusal say why.
  return outcome.committed();
}

absl::Status Serve() {
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<tcc::sdk::Database> db,
                       tcc::sdk::OpenSqliteDatabase("shop.db"));
  tcc::sdk::StatusEndpoint status(db);  // answers the back-query
  TCC_RETURN_IF_ERROR(status.Start("127.0.0.1:50071"));
  tcc::sdk::InitiatorClient client(
      grpc::CreateChannel("tccd-host:7420", grpc::InsecureChannelCredentials()));
  // ... your API calls PayOrder(client, *db, ...) ...
  return absl::OkStatus();
}
// [end snippet]

// [snippet sdk_guard]
// The same by hand, for flows RunTransaction does not cover.
absl::Status PayOrderByHand(tcc::sdk::InitiatorClient& client, tcc::sdk::Database& db,
                            const std::string& request_id, const std::string& order_id,
                            tcc::v1::BranchSpec points_branch) {
  TCC_ASSIGN_OR_RETURN(tcc::sdk::TransactionGuard gt,
                       client.BeginGuarded({.gid = "pay-" + request_id,
                                            .timeout = absl::Seconds(30),
                                            .status_endpoint = "shop-host:50071"}));
  // A repeated request: Begin found the GT (created() false) and it is decided.
  if (gt.decided()) return absl::OkStatus();  // read the outcome: client.Outcome(gt.gid())
  TCC_ASSIGN_OR_RETURN(tcc::v1::TryReply tried, gt.Try({points_branch}));
  if (!tcc::sdk::AllTriesSucceeded(tried)) return gt.Rollback().status();
  return gt
      .CommitWithLocalTransaction(
          db,
          [&](tcc::sdk::LocalTx& tx) {
            return tx.Exec("UPDATE orders SET state = 'PAID' WHERE id = ?", {order_id}).status();
          })
      .status();
}
// [end snippet]

// [snippet sdk_saga]
absl::Status Refund(tcc::sdk::InitiatorClient& client, const std::string& request_id,
                    tcc::v1::SagaStep order_step, tcc::v1::SagaStep points_step) {
  // Each step: step_id, target, action, payload (SagaStep in coordinator.proto).
  TCC_ASSIGN_OR_RETURN(tcc::sdk::SagaOutcome saga,
                       client.SubmitSaga({.gid = "refund-" + request_id,
                                          .steps = {order_step, points_step},
                                          .wait_for_result = absl::Seconds(3)}));
  if (saga.state == tcc::v1::TRANSACTION_STATE_ROLLED_BACK && !saga.refused_step.empty()) {
    // A business "no": saga.refusal is that step's reason.
    return absl::FailedPreconditionError(saga.refusal);
  }
  return absl::OkStatus();
}
// [end snippet]
