// inventory: a TCC participant of the walkthrough (README "Integrate your
// own service"). Action "inventory.reserve", payload "<sku>:<quantity>":
// Try moves the quantity from available to reserved (refused when short),
// Confirm ships it, Cancel puts it back.
//
//   inventory DB_FILE LISTEN_ADDRESS      e.g. inventory inventory.db 127.0.0.1:7001
// [snippet participant]
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tcc/common/status_macros.h"  // TCC_ASSIGN_OR_RETURN, TCC_RETURN_IF_ERROR
#include "tcc/sdk/participant_server.h"
#include "tcc/sdk/serve.h"  // ServeUntilSignal

using tcc::sdk::BranchRequest;
using tcc::sdk::LocalTx;
using tcc::sdk::TryOutcome;

struct Line {
  std::string sku;
  int64_t quantity = 0;
};

// The payload is yours: the same bytes arrive in Try, Confirm and Cancel.
absl::StatusOr<Line> ParseLine(const BranchRequest& request) {
  std::pair<std::string, std::string> parts = absl::StrSplit(request.payload(), ':');
  Line line{parts.first};
  if (!absl::SimpleAtoi(parts.second, &line.quantity) || line.quantity <= 0) {
    return absl::InvalidArgumentError("payload must be <sku>:<positive quantity>");
  }
  return line;
}

// Your own tables: created at startup, before the server starts.
absl::Status CreateTables(tcc::sdk::Database& db) {
  return db.RunInTransaction([](LocalTx& tx) -> absl::Status {
    TCC_RETURN_IF_ERROR(tx.Exec("CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY,"
                                " available INTEGER NOT NULL, reserved INTEGER NOT NULL)")
                            .status());
    return tx.Exec("INSERT INTO stock VALUES ('book', 10, 0) ON CONFLICT DO NOTHING").status();
  });
}

tcc::sdk::ActionHandlers Reserve() {
  return {.on_try = [](LocalTx& tx, const BranchRequest& r) -> tcc::sdk::TryResult {
            TCC_ASSIGN_OR_RETURN(Line line, ParseLine(r));
            TCC_ASSIGN_OR_RETURN(
                int64_t changed,
                tx.Exec("UPDATE stock SET available = available - ?1,"
                        " reserved = reserved + ?1 WHERE sku = ?2 AND available >= ?1",
                        {line.quantity, line.sku}));
            if (changed == 0) return TryOutcome::Refused("out of stock: " + line.sku);
            return TryOutcome::Reserved();
          },
          .on_confirm = [](LocalTx& tx, const BranchRequest& r) -> absl::Status {
            TCC_ASSIGN_OR_RETURN(Line line, ParseLine(r));
            return tx
                .Exec("UPDATE stock SET reserved = reserved - ?1 WHERE sku = ?2",
                      {line.quantity, line.sku})
                .status();
          },
          .on_cancel = [](LocalTx& tx, const BranchRequest& r) -> absl::Status {
            TCC_ASSIGN_OR_RETURN(Line line, ParseLine(r));
            return tx
                .Exec(
                    "UPDATE stock SET available = available + ?1, reserved = reserved - ?1"
                    " WHERE sku = ?2",
                    {line.quantity, line.sku})
                .status();
          }};
}

absl::Status Serve(const std::string& db_file, const std::string& listen) {
  TCC_ASSIGN_OR_RETURN(std::shared_ptr<tcc::sdk::Database> db,
                       tcc::sdk::OpenSqliteDatabase(db_file));
  TCC_RETURN_IF_ERROR(CreateTables(*db));
  tcc::sdk::ParticipantServer server(db);
  TCC_RETURN_IF_ERROR(server.AddAction("inventory.reserve", Reserve()));
  TCC_RETURN_IF_ERROR(server.Start(listen));  // keep this address: tccd stores it
  std::cout << "inventory listening on " << listen << std::endl;
  tcc::sdk::ServeUntilSignal(server);  // until SIGTERM or Ctrl-C
  return absl::OkStatus();
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: inventory DB_FILE LISTEN_ADDRESS" << std::endl;
    return 2;
  }
  absl::Status status = Serve(argv[1], argv[2]);
  if (!status.ok()) std::cerr << "inventory: " << status << std::endl;
  return status.ok() ? 0 : 1;
}
// [end snippet]
