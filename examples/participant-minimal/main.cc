// A complete TCC participant: a points service whose action "points.freeze"
// freezes points on Try, deducts them on Confirm and releases them on Cancel.
// The SDK's barrier makes duplicates, retries and a Cancel before its Try
// safe; the handlers only write their business rows through `tx`.
//
//   participant_minimal --listen=127.0.0.1:50061 --db=points.db
// (loopback by default: serving other hosts wants ParticipantServerOptions::tls)
// Branch payload: "<user>:<points>", e.g. "alice:30".
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tcc/common/status_macros.h"
#include "tcc/sdk/participant_server.h"
#include "tcc/sdk/serve.h"

using tcc::sdk::BranchRequest;
using tcc::sdk::LocalTx;
using tcc::sdk::TryOutcome;

struct Points {
  std::string user;
  int64_t amount = 0;
};

absl::StatusOr<Points> ParsePayload(const BranchRequest& request) {
  std::pair<std::string, std::string> parts = absl::StrSplit(request.payload(), ':');
  Points p{parts.first};
  if (!absl::SimpleAtoi(parts.second, &p.amount) || p.amount <= 0) {
    return absl::InvalidArgumentError("payload must be <user>:<positive points>");
  }
  return p;
}

std::string Flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind(name + "=", 0) == 0) return arg.substr(name.size() + 1);
  }
  return fallback;
}

absl::Status Serve(const std::string& listen, const std::string& db_path) {
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<tcc::sdk::Database> db,
                       tcc::sdk::OpenSqliteDatabase(db_path));
  TCC_RETURN_IF_ERROR(db->RunInTransaction([](LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(tx.Exec("CREATE TABLE IF NOT EXISTS accounts (user TEXT PRIMARY KEY,"
                                " balance INTEGER NOT NULL, frozen INTEGER NOT NULL)")
                            .status());
    return tx.Exec("INSERT INTO accounts VALUES ('alice', 100, 0) ON CONFLICT DO NOTHING").status();
  }));

  tcc::sdk::ParticipantServer server(db);
  TCC_RETURN_IF_ERROR(server.AddAction(
      "points.freeze",
      {.on_try = [](LocalTx& tx, const BranchRequest& r) -> tcc::sdk::TryResult {
         TCC_ASSIGN_OR_RETURN(Points p, ParsePayload(r));
         TCC_ASSIGN_OR_RETURN(int64_t changed,
                              tx.Exec("UPDATE accounts SET frozen = frozen + ?1"
                                      " WHERE user = ?2 AND balance - frozen >= ?1",
                                      {p.amount, p.user}));
         if (changed == 0) return TryOutcome::Refused("not enough points for " + p.user);
         return TryOutcome::Reserved();
       },
       .on_confirm = [](LocalTx& tx, const BranchRequest& r) -> absl::Status {
         TCC_ASSIGN_OR_RETURN(Points p, ParsePayload(r));
         return tx
             .Exec(
                 "UPDATE accounts SET balance = balance - ?1, frozen = frozen - ?1"
                 " WHERE user = ?2",
                 {p.amount, p.user})
             .status();
       },
       .on_cancel = [](LocalTx& tx, const BranchRequest& r) -> absl::Status {
         TCC_ASSIGN_OR_RETURN(Points p, ParsePayload(r));
         return tx
             .Exec("UPDATE accounts SET frozen = frozen - ?1 WHERE user = ?2", {p.amount, p.user})
             .status();
       }}));
  TCC_RETURN_IF_ERROR(server.Start(listen));
  std::cout << "points participant listening on port " << server.port() << std::endl;
  tcc::sdk::ServeUntilSignal(server);  // until SIGTERM or Ctrl-C
  return absl::OkStatus();
}

int main(int argc, char** argv) {
  absl::Status status =
      Serve(Flag(argc, argv, "--listen", "127.0.0.1:50061"), Flag(argc, argv, "--db", "points.db"));
  if (!status.ok()) std::cerr << "participant_minimal: " << status << std::endl;
  return status.ok() ? 0 : 1;
}
